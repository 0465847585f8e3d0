"""CF time series per cell: variables on ``(time, cell)`` found by their ``standard_name``.

The layout is the CF discrete sampling geometry ``featureType = "timeSeries"`` without station
names (CF 1.8, H.2.1, "orthogonal multidimensional array"), as many users hold station or cell
data and as ``conus_nldas_smap/*.nc`` stores it::

    dimensions:  cell = N ; time = T
    variables:   lat(cell)   standard_name latitude,  degrees_north
                 lon(cell)   standard_name longitude, degrees_east
                 time(time)  "<unit> since <date>", calendar
                 X(time, cell) or X(cell, time)   with a standard_name, units, _FillValue

Variables are looked up by ``standard_name``, never by their name in the file (``APCP_FORA``
and ``precip`` are the same quantity when both say ``precipitation_flux``). A few standard
names stand for the same quantity (:data:`ALIASES`): asking for ``precipitation_flux`` also
finds ``precipitation_rate`` (non-CF, used by the NLDAS-2 set) and ``lwe_precipitation_rate``.

Units. For the quantities landia has a convention for (:data:`CONVERSIONS`, the units of
:class:`landia.forcing.record.Forcing` and of volumetric soil moisture) the file's units are
checked and converted, :math:`x_\\mathrm{landia} = a\\,x_\\mathrm{file} + b`; e.g.
precipitation in kg m-2 h-1 is divided by 3600 to kg m-2 s-1, degC gets 273.15 added. Other
standard names are read as they are, their units reported in :attr:`CellSeries.units`.

Missing values (``_FillValue``, ``missing_value``, ``valid_range``, NaN) become NaN. Time
slicing finds the records ``start <= t < end`` on the time coordinate and reads only those
(one contiguous hyperslab, also over the cells' span when ``cells`` is given).

Every problem is an :class:`~landia.errors.InputError` naming the file and the variable or
standard name: a standard name not in the file (listing those it has), two variables with
the same one, dimensions other than (time, cell), lat/lon on different dimensions, units
that cannot be converted, times that do not increase strictly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from landia.errors import InputError
from landia.io.netcdf import decode_times, normalise_units, open_netcdf, read_slice, time_span

#: requested standard name -> the standard names that also stand for it, in order of preference
ALIASES = {
    "precipitation_flux": ("precipitation_flux", "precipitation_rate", "lwe_precipitation_rate"),
}

_FLUX = {"kg m-2 s-1": (1.0, 0.0), "kg/m2/s": (1.0, 0.0), "kg m^-2 s^-1": (1.0, 0.0),
         "mm s-1": (1.0, 0.0), "mm/s": (1.0, 0.0),
         "kg m-2 h-1": (1 / 3600, 0.0), "kg/m2/h": (1 / 3600, 0.0), "mm h-1": (1 / 3600, 0.0),
         "mm/h": (1 / 3600, 0.0), "mm hr-1": (1 / 3600, 0.0),
         "kg m-2 d-1": (1 / 86400, 0.0), "kg m-2 day-1": (1 / 86400, 0.0),
         "mm d-1": (1 / 86400, 0.0), "mm day-1": (1 / 86400, 0.0), "mm/day": (1 / 86400, 0.0)}
# liquid water equivalent: 1 m s-1 of water = 1000 kg m-2 s-1 (density 1000 kg m-3)
_LWE = {"m s-1": (1000.0, 0.0), "m/s": (1000.0, 0.0), "mm s-1": (1.0, 0.0), "mm/s": (1.0, 0.0),
        "mm h-1": (1 / 3600, 0.0), "mm/h": (1 / 3600, 0.0), "mm d-1": (1 / 86400, 0.0),
        "mm day-1": (1 / 86400, 0.0)}
_RAD = {"w m-2": (1.0, 0.0), "w/m2": (1.0, 0.0), "w m^-2": (1.0, 0.0), "w/m^2": (1.0, 0.0)}
_SPEED = {"m s-1": (1.0, 0.0), "m/s": (1.0, 0.0), "m s^-1": (1.0, 0.0)}

#: standard name -> (landia's units, {accepted file units (normalised): (a, b)}):
#: value in landia's units = a * value in the file's units + b
CONVERSIONS: dict[str, tuple[str, dict[str, tuple[float, float]]]] = {
    "precipitation_flux": ("kg m-2 s-1", _FLUX),
    "precipitation_rate": ("kg m-2 s-1", _FLUX),
    "lwe_precipitation_rate": ("kg m-2 s-1", _LWE),
    "air_temperature": ("K", {"k": (1.0, 0.0), "kelvin": (1.0, 0.0), "degk": (1.0, 0.0),
                              "degc": (1.0, 273.15), "celsius": (1.0, 273.15),
                              "degree_celsius": (1.0, 273.15), "deg_c": (1.0, 273.15)}),
    "specific_humidity": ("kg kg-1", {"kg kg-1": (1.0, 0.0), "kg/kg": (1.0, 0.0),
                                      "1": (1.0, 0.0), "kg kg^-1": (1.0, 0.0),
                                      "g kg-1": (1e-3, 0.0), "g/kg": (1e-3, 0.0)}),
    "surface_air_pressure": ("Pa", {"pa": (1.0, 0.0), "pascal": (1.0, 0.0),
                                    "hpa": (100.0, 0.0), "mbar": (100.0, 0.0),
                                    "kpa": (1000.0, 0.0)}),
    "surface_downwelling_shortwave_flux_in_air": ("W m-2", _RAD),
    "surface_downwelling_longwave_flux_in_air": ("W m-2", _RAD),
    "eastward_wind": ("m s-1", _SPEED),
    "northward_wind": ("m s-1", _SPEED),
    "wind_speed": ("m s-1", _SPEED),
    "volume_fraction_of_condensed_water_in_soil": (
        "m3 m-3", {"m3 m-3": (1.0, 0.0), "m3/m3": (1.0, 0.0), "m^3 m^-3": (1.0, 0.0),
                   "1": (1.0, 0.0), "percent": (0.01, 0.0), "%": (0.01, 0.0)}),
}


@dataclass
class CellSeries:
    """Time series of named quantities at ``N`` cells.

    Attributes
    ----------
    lat, lon : ndarray (N,)
        Cell centres, degrees north / east, in the order of ``cells``.
    times : ndarray (T,) of datetime64[s]
        UTC, strictly increasing (the file's time stamps; see ``time_bounds``).
    values : dict[str, ndarray (T, N)]
        float64 per requested standard name (the key is the name asked for, also when an
        alias was found), NaN where the file holds a fill or missing value.
    units : dict[str, str]
        The units of each entry of ``values``: landia's when converted, else the file's.
    variables : dict[str, str]
        The file's variable name of each entry of ``values``.
    cells : ndarray (N,) of int
        Indices into the file's cell dimension.
    time_bounds : ndarray (T, 2) of datetime64[s] or None
        The CF ``bounds`` of the time coordinate when the file has them.
    source : str
        The file, for messages.
    """

    lat: np.ndarray
    lon: np.ndarray
    times: np.ndarray
    values: dict[str, np.ndarray] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)
    cells: np.ndarray | None = None
    time_bounds: np.ndarray | None = None
    source: str = "<memory>"


def standard_names(ds) -> dict[str, list[str]]:
    """standard_name -> the variables of an open dataset that carry it."""
    out: dict[str, list[str]] = {}
    for name, var in ds.variables.items():
        sn = getattr(var, "standard_name", None)
        if sn is not None:
            out.setdefault(str(sn).strip(), []).append(name)
    return out


def find_standard_name(ds, path, wanted: str, required: bool = True) -> tuple[str, str] | None:
    """(file variable name, matched standard name) of ``wanted`` or one of its
    :data:`ALIASES`; None when absent and not required.

    Raises
    ------
    InputError
        Absent and required (listing the file's standard names), or carried by two variables.
    """
    names = standard_names(ds)
    for sn in ALIASES.get(wanted, (wanted,)):
        found = names.get(sn, [])
        if len(found) > 1:
            raise InputError(f"{path}: standard_name {sn!r} is carried by {len(found)} "
                             f"variables ({', '.join(sorted(found))}); expected one")
        if found:
            return found[0], sn
    if not required:
        return None
    also = ALIASES.get(wanted, (wanted,))[1:]
    raise InputError(f"{path}: no variable with standard_name {wanted!r}"
                     f"{' (or ' + ', '.join(map(repr, also)) + ')' if also else ''}; the "
                     f"file has {', '.join(sorted(names)) or 'no standard names'}")


def _coordinate(ds, path, standard: str, fallbacks: Sequence[str]) -> tuple[str, object]:
    for name, var in ds.variables.items():
        if getattr(var, "standard_name", None) == standard and var.ndim == 1:
            return name, var
    for name in fallbacks:
        if name in ds.variables and ds.variables[name].ndim == 1:
            return name, ds.variables[name]
    raise InputError(f"{path}: no 1-D coordinate with standard_name {standard!r} (or named "
                     f"{' / '.join(fallbacks)}); expected {standard}(cell) of a CF timeSeries; "
                     f"the file has {', '.join(sorted(ds.variables))}")


def cell_positions(path, role: str = "cell time series") -> tuple[np.ndarray, np.ndarray]:
    """The cells' ``(lat, lon)`` of a CF timeSeries file on a ``cell`` dimension, degrees."""
    with open_netcdf(path, role) as ds:
        _, lat = _coordinate(ds, path, "latitude", ("lat", "latitude"))
        _, lon = _coordinate(ds, path, "longitude", ("lon", "longitude"))
        return (np.asarray(lat[:], dtype=np.float64).ravel(),
                np.asarray(lon[:], dtype=np.float64).ravel())


def convert_units(path, name: str, standard: str, units, values: np.ndarray
                  ) -> tuple[np.ndarray, str]:
    """``values`` in landia's units for ``standard`` (:data:`CONVERSIONS`) and those units;
    unchanged with the file's units for a standard name without a convention.

    Raises
    ------
    InputError
        Units absent or not convertible, naming the file, the variable and the standard name.
    """
    if standard not in CONVERSIONS:
        return values, "" if units is None else str(units)
    target, accepted = CONVERSIONS[standard]
    if units is None:
        raise InputError(f"{path}: variable {name!r} (standard_name {standard!r}) has no "
                         f"'units' attribute; expected {target}")
    key = normalise_units(units)
    if key not in accepted:
        raise InputError(f"{path}: variable {name!r} (standard_name {standard!r}) has units "
                         f"{units!r}; expected {target} or one of {sorted(accepted)}")
    a, b = accepted[key]
    return (values if (a, b) == (1.0, 0.0) else a * values + b), target


def _cell_index(cells, n_cell: int, path) -> np.ndarray:
    if cells is None:
        return np.arange(n_cell)
    idx = np.asarray(cells)
    if idx.dtype == bool:
        if idx.shape != (n_cell,):
            raise InputError(f"{path}: a boolean cell selection has shape {idx.shape}; "
                             f"expected ({n_cell},)")
        idx = np.nonzero(idx)[0]
    idx = np.atleast_1d(idx)
    if idx.ndim != 1 or idx.size == 0 or not np.issubdtype(idx.dtype, np.integer):
        raise InputError(f"{path}: cells must be a non-empty 1-D sequence of cell indices, "
                         f"got {cells!r}")
    if idx.min() < 0 or idx.max() >= n_cell:
        raise InputError(f"{path}: cell index {int(idx.max() if idx.max() >= n_cell else idx.min())} "
                         f"is outside the file's {n_cell} cells (0..{n_cell - 1})")
    return idx.astype(np.int64)


def _time_bounds(ds, path, tvar, sel: slice) -> np.ndarray | None:
    bname = getattr(tvar, "bounds", None)
    if bname is None or bname not in ds.variables:
        return None
    b = read_slice(ds.variables[bname], path, bname, sel)
    if b.ndim != 2 or b.shape[1] != 2:
        raise InputError(f"{path}: time bounds {bname!r} have shape {b.shape}; expected "
                         f"(time, 2)")
    return decode_times(b, getattr(tvar, "units", None), getattr(tvar, "calendar", None),
                        path, bname).reshape(-1, 2)


def read_cell_series(path, standard_names: Iterable[str], start=None, end=None, cells=None,
                     optional: Iterable[str] = (), role: str = "cell time series"
                     ) -> CellSeries:
    """Read quantities by standard name from a CF timeSeries file on a ``cell`` dimension.

    Parameters
    ----------
    path : path-like
        The netCDF file (layout in the module docstring).
    standard_names : iterable of str
        The quantities to read; each must be in the file (or an alias, :data:`ALIASES`).
    start, end : datetime64 or str, optional
        Keep the UTC times ``start <= t < end``; only those records are read.
    cells : sequence of int or boolean mask, optional
        Indices into the file's cell dimension (in the order wanted); None: all cells.
    optional : iterable of str
        Quantities read when the file has them, left out of ``values`` otherwise.
    role : str
        What the file is for, in messages.

    Returns
    -------
    CellSeries
        ``values[name]`` of shape (T, N), float64, NaN where missing, converted to landia's
        units where it has a convention (:data:`CONVERSIONS`).

    Raises
    ------
    InputError
        The file is missing or not netCDF; a standard name is missing or ambiguous;
        lat/lon are not on one dimension; a variable's dimensions are not (time, cell) or
        (cell, time); units cannot be converted; the time is not CF or does not increase
        strictly; no time falls in ``[start, end)``. Each names the file and the variable or
        standard name.
    """
    path = Path(path)
    wanted = list(dict.fromkeys(standard_names))
    maybe = [s for s in dict.fromkeys(optional) if s not in wanted]
    with open_netcdf(path, role) as ds:
        lat_name, lat_var = _coordinate(ds, path, "latitude", ("lat", "latitude"))
        lon_name, lon_var = _coordinate(ds, path, "longitude", ("lon", "longitude"))
        cell_dim = lat_var.dimensions[0]
        if lon_var.dimensions[0] != cell_dim:
            raise InputError(f"{path}: {lat_name!r} is on dimension {cell_dim!r} but "
                             f"{lon_name!r} on {lon_var.dimensions[0]!r}; expected both on the "
                             f"cell dimension")
        n_cell = len(ds.dimensions[cell_dim])
        idx = _cell_index(cells, n_cell, path)
        span = slice(int(idx.min()), int(idx.max()) + 1)
        local = idx - span.start

        time_name, tvar = _coordinate(ds, path, "time", ("time",))
        time_dim = tvar.dimensions[0]
        if time_dim == cell_dim:
            raise InputError(f"{path}: time coordinate {time_name!r} is on the cell dimension "
                             f"{cell_dim!r}; expected time(time) and lat/lon(cell)")
        times = decode_times(read_slice(tvar, path, time_name, slice(None)),
                             getattr(tvar, "units", None), getattr(tvar, "calendar", None),
                             path, time_name)
        if times.size > 1 and not np.all(np.diff(times) > np.timedelta64(0, "s")):
            k = int(np.argmin(np.diff(times) > np.timedelta64(0, "s")))
            raise InputError(f"{path}: time coordinate {time_name!r} does not increase "
                             f"strictly: {times[k]} (record {k}) is followed by "
                             f"{times[k + 1]}; expected times in increasing order without "
                             f"repeats")
        tsel = time_span(times, start, end, path)

        out = CellSeries(lat=read_slice(lat_var, path, lat_name, span)[local],
                         lon=read_slice(lon_var, path, lon_name, span)[local],
                         times=times[tsel], cells=idx, source=str(path),
                         time_bounds=_time_bounds(ds, path, tvar, tsel))
        if not np.all(np.isfinite(out.lat) & np.isfinite(out.lon)) \
                or np.any(np.abs(out.lat) > 90):
            raise InputError(f"{path}: {lat_name!r}/{lon_name!r} hold missing values or "
                             f"latitudes outside [-90, 90] at the selected cells")
        for wanted_name in wanted + maybe:
            found = find_standard_name(ds, path, wanted_name, required=wanted_name in wanted)
            if found is None:
                continue
            name, standard = found
            var = ds.variables[name]
            dims = var.dimensions
            if dims == (time_dim, cell_dim):
                data = read_slice(var, path, name, (tsel, span))[:, local]
            elif dims == (cell_dim, time_dim):
                data = read_slice(var, path, name, (span, tsel))[local, :].T
            else:
                raise InputError(f"{path}: variable {name!r} (standard_name {standard!r}) has "
                                 f"dimensions {dims} of shape {var.shape}; expected "
                                 f"({time_dim!r}, {cell_dim!r}) or ({cell_dim!r}, "
                                 f"{time_dim!r})")
            data, units = convert_units(path, name, standard, getattr(var, "units", None),
                                        data)
            out.values[wanted_name] = np.ascontiguousarray(data, dtype=np.float64)
            out.units[wanted_name] = units
            out.variables[wanted_name] = name
    return out
