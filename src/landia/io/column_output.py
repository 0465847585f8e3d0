"""Hourly output of a single-site column run (netCDF4, CF-1.8), and hourly averaging.

Layout (see ``docs/column-files.md``)::

    dimensions:  time (unlimited), layer (10), nv (2)
    variables:   time(time)                 seconds since <first day> 00:00:00 UTC, end of hour
                 time_bnds(time, nv)        start and end of each hour
                 lat, lon                   scalar coordinates, degrees
                 layer(layer), depth(layer) CoLM layer index and node depth (m)
                 soil_moisture(time, layer)     m3 m-3      state at the end of the hour
                 soil_temperature(time, layer)  K           state at the end of the hour
                 evapotranspiration(time)       kg m-2 s-1  mean over the hour
                 runoff(time)                   kg m-2 s-1  mean over the hour (surface)
                 drainage(time)                 kg m-2 s-1  mean over the hour (bottom/base flow)
                 water_budget_residual(time)    kg m-2      sum over the hour's steps

The file is written atomically: a failed write leaves no file (and an older file untouched).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import netCDF4
import numpy as np

from landia.errors import InputError
from landia.grid import colm_node_depths
from landia.io.atomic import atomic_path
from landia.io.netcdf import open_netcdf, write_cf_header, write_layer_coordinates

SECONDS_PER_HOUR = 3600

#: name -> (units, long_name, standard_name or None, cell_methods)
OUTPUT_VARIABLES = {
    "soil_moisture": ("m3 m-3", "volumetric soil moisture (liquid + ice)",
                      "volume_fraction_of_condensed_water_in_soil", "time: point"),
    "soil_temperature": ("K", "soil temperature", "soil_temperature", "time: point"),
    "evapotranspiration": ("kg m-2 s-1", "evapotranspiration (soil evaporation + transpiration"
                           " + interception loss)", "water_evapotranspiration_flux", "time: mean"),
    "runoff": ("kg m-2 s-1", "surface runoff", "surface_runoff_flux", "time: mean"),
    "drainage": ("kg m-2 s-1", "drainage out of the soil column (base flow)",
                 "subsurface_runoff_flux", "time: mean"),
    "water_budget_residual": ("kg m-2", "storage change minus (precipitation - "
                              "evapotranspiration - runoff - drainage), summed over the hour",
                              None, "time: sum"),
}
LAYERED = ("soil_moisture", "soil_temperature")


@dataclass
class ColumnOutput:
    """Hourly records of one column.

    Attributes
    ----------
    time : ndarray of datetime64, shape (nt,)
        End of each hour, UTC.
    soil_moisture, soil_temperature : ndarray, shape (nt, nlayer)
    evapotranspiration, runoff, drainage : ndarray, shape (nt,), kg m-2 s-1
    water_budget_residual : ndarray, shape (nt,), kg m-2
    latitude, longitude : float
    attributes : dict
        Extra global attributes (site name, forcing file, ...).
    """

    time: np.ndarray
    soil_moisture: np.ndarray
    soil_temperature: np.ndarray
    evapotranspiration: np.ndarray
    runoff: np.ndarray
    drainage: np.ndarray
    water_budget_residual: np.ndarray
    latitude: float
    longitude: float
    attributes: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.time = np.asarray(self.time).astype("datetime64[s]")
        nt = self.time.shape[0]
        if self.time.ndim != 1:
            raise ValueError(f"time: expected a 1-D array; got shape {self.time.shape}")
        if nt > 1 and np.any(np.diff(self.time).astype(np.int64) <= 0):
            raise ValueError("time: expected strictly increasing times")
        for name in OUTPUT_VARIABLES:
            arr = np.asarray(getattr(self, name), dtype=float)
            ok = arr.ndim == 2 and arr.shape[0] == nt if name in LAYERED else arr.shape == (nt,)
            if not ok:
                want = "(nt, nlayer)" if name in LAYERED else "(nt,)"
                raise ValueError(f"{name}: expected shape {want} with nt = {nt}; got {arr.shape}")
            setattr(self, name, arr)
        if self.soil_temperature.shape != self.soil_moisture.shape:
            raise ValueError(f"soil_temperature: expected shape {self.soil_moisture.shape} like "
                             f"soil_moisture; got {self.soil_temperature.shape}")


def hourly_means(step_end, dt: float, states: dict, fluxes: dict, sums: dict | None = None):
    """Hourly records from model-step records (e.g. dt = 1800 s).

    Parameters
    ----------
    step_end : array of datetime64, shape (nstep,)
        End time of each step, UTC, regularly spaced by ``dt``.
    dt : float
        Step length (s); must divide 3600.
    states : dict of name -> array (nstep, ...)
        State at the end of each step; the hourly value is the state at the end of the hour.
    fluxes : dict of name -> array (nstep, ...)
        Mean rate over each step; the hourly value is the mean over the hour's steps.
    sums : dict of name -> array (nstep, ...), optional
        Amounts per step (e.g. a budget residual in kg m-2); the hourly value is their sum.

    Returns
    -------
    hour_end : ndarray of datetime64[s], shape (nhour,)
        End of each complete hour (on the hour).
    records : dict of name -> array (nhour, ...)

    Notes
    -----
    A step belongs to the hour in which it ends (end time in (H - 1 h, H]). Hours not fully
    covered by steps (a run starting or ending off the hour) are dropped.
    """
    step_end = np.asarray(step_end).astype("datetime64[s]")
    if step_end.ndim != 1:
        raise ValueError(f"step_end: expected 1-D; got shape {step_end.shape}")
    dt_int = int(round(dt))
    if dt_int <= 0 or SECONDS_PER_HOUR % dt_int or abs(dt - dt_int) > 1e-9:
        raise ValueError(f"dt: expected a whole number of seconds dividing 3600; got {dt}")
    t = step_end.astype(np.int64)
    if t.size > 1 and np.any(np.diff(t) != dt_int):
        raise ValueError(f"step_end: expected regular steps of {dt_int} s")
    per_hour = SECONDS_PER_HOUR // dt_int
    key = -(-t // SECONDS_PER_HOUR)  # ceil: the hour in which each step ends
    hours, first, counts = np.unique(key, return_index=True, return_counts=True)
    keep = counts == per_hour
    hours, first = hours[keep], first[keep]
    idx = first[:, None] + np.arange(per_hour)[None, :]  # (nhour, per_hour) step indices
    records = {}
    groups = (("state", states), ("flux", fluxes), ("sum", sums or {}))
    for kind, group in groups:
        for name, values in group.items():
            arr = np.asarray(values, dtype=float)
            if arr.shape[:1] != t.shape:
                raise ValueError(f"{name}: expected {t.size} step records in the first "
                                 f"dimension; got shape {arr.shape}")
            if name in records:
                raise ValueError(f"{name}: given twice")
            g = arr[idx]
            records[name] = g[:, -1] if kind == "state" else (
                g.mean(axis=1) if kind == "flux" else g.sum(axis=1))
    hour_end = (hours * SECONDS_PER_HOUR).astype("datetime64[s]")
    return hour_end, records


def time_units(first: np.datetime64) -> str:
    """CF time units: seconds since the first record's day at 00:00:00 UTC."""
    day = np.datetime64(first, "D")
    return f"seconds since {day} 00:00:00"


def write_column_output(path: str | Path, out: ColumnOutput,
                        title: str = "landia single-site column run, hourly") -> None:
    """Write ``out`` to ``path`` atomically as CF-1.8 netCDF4."""
    nt, nl = out.soil_moisture.shape
    units = time_units(out.time[0]) if nt else "seconds since 1970-01-01 00:00:00"
    ref = np.datetime64(units.split("since ")[1].replace(" ", "T"), "s")
    seconds = (out.time - ref).astype(np.int64).astype(float)
    with atomic_path(path) as tmp:
        with netCDF4.Dataset(tmp, "w", format="NETCDF4") as ds:
            write_cf_header(ds, title, "CoLM-style soil column")
            ds.featureType = "timeSeries"
            ds.time_coverage_resolution = "PT1H"
            for k, v in out.attributes.items():
                ds.setncattr(k, v)
            ds.createDimension("time", None)
            ds.createDimension("nv", 2)
            v = ds.createVariable("time", "f8", ("time",))
            v.units, v.calendar, v.standard_name, v.axis = units, "standard", "time", "T"
            v.long_name = "end of the hour, UTC"
            v.bounds = "time_bnds"
            v[:] = seconds
            v = ds.createVariable("time_bnds", "f8", ("time", "nv"))
            v[:] = np.stack([seconds - SECONDS_PER_HOUR, seconds], axis=1) if nt else np.zeros((0, 2))
            v = ds.createVariable("lat", "f8", ())
            v.units, v.standard_name, v.long_name = "degrees_north", "latitude", "latitude"
            v[...] = out.latitude
            v = ds.createVariable("lon", "f8", ())
            v.units, v.standard_name, v.long_name = "degrees_east", "longitude", "longitude"
            v[...] = out.longitude
            write_layer_coordinates(ds, colm_node_depths(nl))
            for name, (u, long_name, std, cell) in OUTPUT_VARIABLES.items():
                dims = ("time", "layer") if name in LAYERED else ("time",)
                v = ds.createVariable(name, "f8", dims, fill_value=np.nan, zlib=True)
                v.units, v.long_name, v.cell_methods = u, long_name, cell
                if std:
                    v.standard_name = std
                v.coordinates = "lat lon depth" if name in LAYERED else "lat lon"
                v[:] = getattr(out, name)


def read_column_output(path: str | Path) -> ColumnOutput:
    """Read a file written by :func:`write_column_output` (for tests and analysis)."""
    path = Path(path)
    with open_netcdf(path, "column output") as ds:
        missing = [n for n in ("time", "lat", "lon", *OUTPUT_VARIABLES) if n not in ds.variables]
        if missing:
            raise InputError(f"{path}: variable {missing[0]!r} not found; expected a landia "
                             "column output file")
        tv = ds.variables["time"]
        units = str(getattr(tv, "units", ""))
        if not units.startswith("seconds since "):
            raise InputError(f"{path}: variable 'time' has units {units!r}; expected "
                             "'seconds since YYYY-MM-DD hh:mm:ss'")
        ref = np.datetime64(units.split("since ", 1)[1].strip().replace(" ", "T"), "s")
        time = ref + np.round(np.asarray(tv[:], float)).astype(np.int64).astype("timedelta64[s]")
        data = {n: np.ma.filled(ds.variables[n][:].astype(float), np.nan)
                for n in OUTPUT_VARIABLES}
        attrs = {k: ds.getncattr(k) for k in ds.ncattrs()}
        lat = float(ds.variables["lat"][...])
        lon = float(ds.variables["lon"][...])
    return ColumnOutput(time=time, latitude=lat, longitude=lon, attributes=attrs, **data)
