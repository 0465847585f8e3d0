"""Soil-moisture field files on the model grid (netCDF4, CF-1.8).

Layout (see ``docs/field-files.md``)::

    dimensions:  time (unlimited, 1), layer, lat, lon, nv (2)
    variables:   time(time)   seconds since 1970-01-01 00:00:00, the valid time
                 lat(lat)     degrees_north
                 lon(lon)     degrees_east
                 layer(layer) 1-based CoLM layer index, units 1
                 depth(layer) node depth, m (axis Z), bounds depth_bnds(layer, nv)
                 soil_moisture(time, layer, lat, lon)              m3 m-3, NaN off land
                 background_error_variance(time, layer, lat, lon)  (m3 m-3)^2, optional
                 observation_error_variance(time, layer, lat, lon) (m3 m-3)^2, optional
                 porosity(layer, lat, lon) or (lat, lon)           m3 m-3, optional, static

A field without a valid time has no ``time`` dimension: its fields are (layer, lat, lon). So
were the files written before 2026-12 (with a scalar ``time`` coordinate): both are read.

Every problem found while reading is an :class:`~landia.errors.InputError` that
names the file and the variable.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from landia.errors import InputError
from landia.grid import colm_node_depths
from landia.io.atomic import atomic_path
from landia.io.netcdf import (FIELD_COORDINATES, FIELD_DIMS, create_grid_file, field_dimensions,
                              missing_variable, open_netcdf, read_record, read_valid_time,
                              read_values, record_layout, write_record)
from landia.io.netcdf_size import check_fits_in_memory

VOLUMETRIC_UNITS = {"m3 m-3", "m3/m3", "m^3 m^-3", "m3.m-3", "m**3 m**-3", "1", "m3 m**-3"}
#: The variables :func:`read_field` may read.
FIELD_VARIABLES = ("soil_moisture", "lat", "lon", "depth", "background_error_variance",
                   "observation_error_variance", "porosity")
VARIANCE_UNITS = {"m6 m-6", "(m3 m-3)2", "(m3 m-3)^2", "m6/m6", "1", "(m3/m3)^2", "(m3/m3)2"}


@dataclass
class SoilMoistureField:
    """Soil moisture of some layers on a lat/lon grid, with optional error and bound data.

    Attributes
    ----------
    lat, lon : ndarray
        Cell centres, degrees.
    depth : ndarray (nlayer,)
        Node depth of each layer, m.
    values : ndarray (nlayer, ny, nx)
        Volumetric soil moisture, m3 m-3; NaN where not land or missing.
    error_variance : ndarray (nlayer, ny, nx) or None
        Background or observation error variance, (m3 m-3)^2.
    porosity : ndarray (nlayer, ny, nx) or None
        Upper physical bound, m3 m-3.
    source : str
        Where it came from (file path), for messages.
    valid_time : numpy.datetime64 or None
        UTC time the field is valid at (the file's ``time`` coordinate; in the older layout,
        its ``valid_time`` attribute).
    """

    lat: np.ndarray
    lon: np.ndarray
    depth: np.ndarray
    values: np.ndarray
    error_variance: np.ndarray | None = None
    porosity: np.ndarray | None = None
    source: str = "<memory>"
    valid_time: np.datetime64 | None = None

    @property
    def n_layers(self) -> int:
        return self.values.shape[0]

    @property
    def shape(self) -> tuple[int, int]:
        return self.values.shape[1:]


def _read_var(ds, path: Path, name: str, units_ok: set[str] | None, required: bool = True,
              record: bool = False):
    """A variable checked for units; ``record``: a field read from either layout
    (:func:`~landia.io.netcdf.read_record`)."""
    data = (read_record(ds, path, name, required=required) if record
            else read_values(ds, path, name, required))
    if data is None:
        return None
    var = ds.variables[name]
    if units_ok is not None:
        units = getattr(var, "units", None)
        if units is None:
            raise InputError(f"{path}: variable {name!r} has no 'units' attribute; expected "
                             f"one of {sorted(units_ok)}")
        if units.strip() not in units_ok:
            hint = ""
            if "kg" in units:
                hint = (" (a mass per area such as GLDAS kg m-2 must be divided by 1000 x "
                        "layer thickness in m first)")
            raise InputError(f"{path}: variable {name!r} has units {units!r}; expected "
                             f"volumetric soil moisture in one of {sorted(units_ok)}{hint}")
    return data


def _check_degrees(ds, path: Path, lat: np.ndarray, lon: np.ndarray) -> None:
    """Refuse coordinates that are not cell centres in degrees, naming the file: units in
    radians; no degree units with every latitude and longitude within [-pi, pi] (radians,
    most likely: in degrees, a box of a few cells at 0 N 0 E); latitudes outside [-90, 90]; a
    latitude axis that is not strictly monotonic or a longitude axis that is not strictly
    increasing (the analysis grid's rules, :class:`~landia.grid.LatLonGrid`)."""
    if lat.size == 0 or lon.size == 0:
        raise InputError(f"{path}: coordinates 'lat' ({lat.size}) and 'lon' ({lon.size}): "
                         f"expected at least one cell each")
    units = {name: str(getattr(ds.variables[name], "units", "")).strip() for name in ("lat", "lon")}
    for name, text in units.items():
        if "rad" in text.lower():
            raise InputError(f"{path}: coordinate {name!r} has units {text!r}; expected "
                             f"{'degrees_north' if name == 'lat' else 'degrees_east'} "
                             f"(multiply radians by 180/pi)")
    in_degrees = any("deg" in text.lower() for text in units.values())
    if not in_degrees and max(np.max(np.abs(lat)), np.max(np.abs(lon))) <= np.pi:
        raise InputError(f"{path}: coordinates 'lat' and 'lon' have no degree units (units "
                         f"{units['lat'] or 'absent'!r}, {units['lon'] or 'absent'!r}) and every "
                         f"value within [-pi, pi]: radians? expected degrees_north and "
                         f"degrees_east (convert by 180/pi and set the 'units' attributes)")
    if np.any(np.abs(lat) > 90.0):
        raise InputError(f"{path}: coordinate 'lat' reaches {np.max(np.abs(lat)):g}; expected "
                         f"degrees_north within [-90, 90]")
    d_lat, d_lon = np.diff(lat), np.diff(lon)
    if not (np.all(d_lat > 0) or np.all(d_lat < 0)):
        raise InputError(f"{path}: coordinate 'lat' is not strictly monotonic; expected the cell "
                         f"centres of a regular grid")
    if not np.all(d_lon > 0):
        raise InputError(f"{path}: coordinate 'lon' is not strictly increasing; expected the "
                         f"cell centres of a regular grid, west to east")


def _check_dimensions(ds, path: Path, grid: tuple[int, int] | None) -> None:
    """Refuse, before any value is read, a ``soil_moisture`` not on (layer, lat, lon) or one
    record of (time, layer, lat, lon), not on
    ``grid`` (when given), or whose variables could not be held in memory."""
    sm_var = ds.variables.get("soil_moisture")
    if sm_var is None:
        raise InputError(missing_variable(path, "soil_moisture", ds))
    shape = sm_var.shape[1:] if record_layout(ds, path, "soil_moisture") else sm_var.shape
    if grid is not None and tuple(shape[1:]) != tuple(grid):
        raise InputError(f"{path}: variable 'soil_moisture' is on a grid of {shape[1]} "
                         f"x {shape[2]} (lat x lon) cells; expected the model grid, "
                         f"{grid[0]} x {grid[1]} (regrid first)")
    check_fits_in_memory(ds, path, FIELD_VARIABLES)


def _is_record(ds, name: str) -> bool:
    """Whether an optional variable is stored with a leading ``time`` (read as a record)."""
    var = ds.variables.get(name)
    return var is not None and var.dimensions[:1] == ("time",)


def read_field(path: str | Path, role: str = "field",
               grid: tuple[int, int] | None = None) -> SoilMoistureField:
    """Read a field file, checking dimensions, units and values.

    Parameters
    ----------
    path : path-like
        netCDF file in the layout of the module docstring.
    role : {"background", "observation", "field"}
        Which error-variance variable to read (``background_error_variance`` or
        ``observation_error_variance``).
    grid : (int, int), optional
        The model grid's (lat, lon) size: a file on another grid is refused before its values
        are read. Without it, only variables too large for memory are refused beforehand.
    """
    path = Path(path)
    with open_netcdf(path, role) as ds:
        _check_dimensions(ds, path, grid)
        values = _read_var(ds, path, "soil_moisture", VOLUMETRIC_UNITS, record=True)
        lat = _read_var(ds, path, "lat", None)
        lon = _read_var(ds, path, "lon", None)
        for name, c in (("lat", lat), ("lon", lon)):
            if c.ndim != 1 or not np.all(np.isfinite(c)):
                raise InputError(f"{path}: coordinate {name!r} must be 1-D and finite")
        _check_degrees(ds, path, lat, lon)
        if "depth" in ds.variables:
            depth = _read_var(ds, path, "depth", None)
        else:
            depth = colm_node_depths()[: values.shape[0]]
        variance_name = {"background": "background_error_variance",
                         "observation": "observation_error_variance"}.get(role)
        variance = (_read_var(ds, path, variance_name, VARIANCE_UNITS, required=False,
                              record=_is_record(ds, variance_name)) if variance_name else None)
        porosity = _read_var(ds, path, "porosity", VOLUMETRIC_UNITS, required=False)
        valid_time = read_valid_time(ds, path)
    if np.any(np.isinf(values)):
        raise InputError(f"{path}: variable 'soil_moisture' contains infinite values")
    if variance is not None and variance.shape != values.shape:
        raise InputError(f"{path}: variable {variance_name!r} has shape {variance.shape}; "
                         f"expected {values.shape} like 'soil_moisture'")
    if porosity is not None:
        if porosity.shape == values.shape[1:]:
            porosity = np.broadcast_to(porosity, values.shape).copy()
        if porosity.shape != values.shape:
            raise InputError(f"{path}: variable 'porosity' has shape {porosity.shape}; "
                             f"expected (lat, lon) or (layer, lat, lon) = {values.shape}")
    if depth.shape != (values.shape[0],):
        raise InputError(f"{path}: variable 'depth' has shape {depth.shape}; expected "
                         f"({values.shape[0]},) for the layer dimension")
    return SoilMoistureField(lat=lat, lon=lon, depth=depth, values=values,
                             error_variance=variance, porosity=porosity, source=str(path),
                             valid_time=valid_time)


def write_field(path: str | Path, field: SoilMoistureField, role: str = "field",
                title: str = "landia soil moisture field",
                attributes: dict | None = None) -> None:
    """Write a field file atomically.

    With ``field.valid_time`` set, the file gets the record dimension ``time`` (unlimited,
    length 1) and its CF coordinate (seconds since 1970-01-01), the fields are
    (time, layer, lat, lon); without it, the fields are (layer, lat, lon). ``porosity`` is static
    (layer, lat, lon). ``attributes`` are added as global attributes (strings or numbers).
    """
    with atomic_path(path) as tmp:
        with create_grid_file(tmp, field.lat, field.lon, field.depth, title,
                              valid_time=field.valid_time) as ds:
            dims = field_dimensions(ds)
            var = ds.createVariable("soil_moisture", "f8", dims, fill_value=np.nan, zlib=True)
            var.units = "m3 m-3"
            var.standard_name = "volume_fraction_of_condensed_water_in_soil"
            var.long_name = "volumetric soil moisture"
            var.coordinates = FIELD_COORDINATES
            write_record(var, field.values)
            for key, value in (attributes or {}).items():
                ds.setncattr(key, value)
            if field.error_variance is not None:
                name = {"background": "background_error_variance",
                        "observation": "observation_error_variance"}[role]
                v = ds.createVariable(name, "f8", dims, fill_value=np.nan, zlib=True)
                v.units = "m6 m-6"
                v.long_name = f"{role} error variance of volumetric soil moisture"
                v.coordinates = FIELD_COORDINATES
                write_record(v, field.error_variance)
            if field.porosity is not None:
                v = ds.createVariable("porosity", "f8", FIELD_DIMS, fill_value=np.nan,
                                      zlib=True)
                v.units = "m3 m-3"
                v.long_name = "soil porosity (upper bound of soil moisture)"
                v.coordinates = FIELD_COORDINATES
                v[...] = field.porosity
