"""netCDF in and out: opening inputs, reading variables, grids and CF times, and the CF-1.8
scaffolding of landia's outputs.

Every reader of a netCDF input (fields, forcing, products, site and state files) goes through
here, so that a missing, foreign or truncated file, a variable that is absent or unreadable, a
coordinate that is not a regular lat/lon axis and a time that is not CF give the same clear
:class:`~landia.errors.InputError`, naming the file and the variable:

* files: :func:`check_signature` (netCDF-3 / HDF5 by their first bytes), :func:`open_netcdf`
  (regular files only, refusing one shorter than its header declares:
  :mod:`landia.io.netcdf_size`);
* variables: :func:`read_values` (masked and fill values as NaN), :func:`missing_variable`,
  :func:`check_units`;
* grids: :func:`read_grid` (1-D ``lat``/``lon`` or regular 2-D ``LATIXY``/``LONGXY``);
* times: :func:`decode_times` (CF ``<unit> since <date>`` -> UTC ``datetime64[s]``),
  :func:`read_times` (a file's time coordinate);
* outputs: :func:`write_cf_header`, :func:`create_grid_file`, :func:`write_layer_coordinates`
  (``layer``, ``depth`` and its bounds), :func:`write_valid_time` (a length-1 unlimited
  ``time`` record) with :func:`field_dimensions` and :func:`write_record`;
* time records read back: :func:`read_valid_time`, :func:`record_layout` and
  :func:`read_record` (the current ``(time, layer, lat, lon)`` layout and the older one with a
  scalar ``time``).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import netCDF4
import numpy as np

import landia
from landia.errors import InputError
from landia.grid import N_SOIL_LAYERS, colm_interface_depths, colm_node_depths
from landia.io.netcdf_size import (CLASSIC_SIGNATURE, HDF5_SIGNATURE, check_complete,
                                    check_regular)

LAT_NAMES = ("lat", "latitude")
LON_NAMES = ("lon", "longitude")
LAT2D_NAMES = ("LATIXY",)
LON2D_NAMES = ("LONGXY",)
TIME_NAMES = ("time", "valid_time")

_READ_ERRORS = (RuntimeError, OSError, IndexError, ValueError)


def check_signature(path, role: str, known: str = "") -> Path:
    """The path as a Path, refused with an InputError if absent, not a regular file (a folder,
    a FIFO), empty, or neither netCDF-3 nor HDF5 (netCDF-4) by its first bytes; ``known`` is
    appended to that message (the formats the caller reads)."""
    path = check_regular(path, role)
    if path.stat().st_size == 0:
        raise InputError(f"{path}: {role} file is empty (0 bytes); expected a netCDF or HDF5 "
                         f"file (interrupted download?)")
    with open(path, "rb") as fh:
        head = fh.read(8)
    if not (head.startswith(HDF5_SIGNATURE) or head.startswith(CLASSIC_SIGNATURE)):
        hint = " (GRIB is not supported: convert to netCDF)" if head.startswith(b"GRIB") else ""
        raise InputError(f"{path}: {role} file is neither netCDF nor HDF5 (first bytes "
                         f"{head!r}){hint}{'; known formats: ' + known if known else ''}")
    return path


def open_netcdf(path, role: str):
    """Open an input netCDF file for reading, or raise InputError naming it and its role.

    ``role`` says what the file is for in messages ("background", "forcing", ...). A path
    that is not a regular file (a FIFO would block the reader) and a file shorter than its
    header declares (truncated, or still being written: netCDF-3 would read the missing data
    as zeros) are refused before the library opens them
    (:func:`landia.io.netcdf_size.check_complete`).
    """
    check_complete(path, role)
    try:
        return netCDF4.Dataset(path, "r")
    except OSError as exc:
        raise InputError(f"{path}: cannot open {role} file as netCDF (truncated or not "
                         f"netCDF?): {exc}") from None


def missing_variable(path, name: str, ds) -> str:
    """The message for a variable that is not in a file, listing what the file has."""
    return (f"{path}: variable {name!r} not found; the file has "
            f"{', '.join(sorted(ds.variables)) or 'no variables'}")


def read_slice(var, path, name: str, index=...) -> np.ndarray:
    """``var[index]`` as float64 with masked/fill values as NaN (CF masking and scaling on).

    Raises InputError naming the file and variable when the read fails (a truncated or
    corrupt file).
    """
    var.set_auto_maskandscale(True)
    try:
        data = var[index]
    except _READ_ERRORS as exc:
        raise InputError(f"{path}: variable {name!r} cannot be read (truncated or corrupt "
                         f"file?): {exc}") from None
    return np.ma.filled(np.ma.asarray(data, dtype=float), np.nan)


def read_values(ds, path, name: str, required: bool = True):
    """A variable as float64 with masked/fill values as NaN; None if absent and optional.

    Raises InputError naming the file when the variable is missing (and required), cannot
    be read or does not fit in memory.
    """
    if name not in ds.variables:
        if required:
            raise InputError(missing_variable(path, name, ds))
        return None
    var = ds.variables[name]
    try:
        return read_slice(var, path, name)
    except MemoryError:
        raise InputError(f"{path}: variable {name!r} of shape {var.shape} does not fit in "
                         f"memory") from None


# ---------------------------------------------------------------- units, grids, times

def normalise_units(units: str | None) -> str:
    """Units as compared by the readers: single spaces, lower case."""
    return " ".join(str(units).split()).lower()


def check_units(path, name: str, var, accepted: Iterable[str], expected: str,
                hint: str = "", convention: str = "") -> None:
    """Refuse a variable whose ``units`` attribute is absent or not one of ``accepted``.

    Parameters
    ----------
    path : path-like
        The file, for the message.
    name : str
        The variable's name in the file.
    var : netCDF4.Variable
    accepted : iterable of str
        Accepted spellings (compared after :func:`normalise_units`).
    expected : str
        The canonical units, for the message.
    hint, convention : str
        Appended to the message (how to convert; which product's convention).
    """
    units = getattr(var, "units", None)
    tag = f" ({convention})" if convention else ""
    if units is None:
        raise InputError(f"{path}: variable {name!r} has no 'units' attribute; expected "
                         f"{expected}{tag}")
    accepted = {normalise_units(u) for u in accepted}
    if normalise_units(units) not in accepted:
        raise InputError(f"{path}: variable {name!r} has units {units!r}; expected "
                         f"{expected}{tag}, one of {sorted(accepted)}{hint}")


@dataclass(frozen=True)
class FileGrid:
    """The 1-D coordinates of a regular lat/lon grid as stored in a file.

    Attributes
    ----------
    lat, lon : ndarray
        Cell centres in file order, degrees north / east (any orientation, any longitude
        origin).
    lat_dim, lon_dim : str
        The names of the file dimensions they index.
    """

    lat: np.ndarray
    lon: np.ndarray
    lat_dim: str
    lon_dim: str

    def same_as(self, other: "FileGrid") -> bool:
        return (self.lat.shape == other.lat.shape and self.lon.shape == other.lon.shape
                and np.allclose(self.lat, other.lat, atol=1e-5)
                and np.allclose(self.lon, other.lon, atol=1e-5))


def _check_axis(path, name: str, values: np.ndarray) -> None:
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise InputError(f"{path}: coordinate {name!r} is empty or has missing values; "
                         f"expected finite cell centres in degrees")
    if values.size > 1:
        d = np.diff(values)
        if not (np.all(d > 0) or np.all(d < 0)):
            raise InputError(f"{path}: coordinate {name!r} is not strictly monotonic; "
                             f"expected the cell centres of a regular grid")


def read_grid(ds, path) -> FileGrid:
    """The grid of an open dataset: 1-D ``lat``/``latitude``, ``lon``/``longitude``, or
    regular 2-D ``LATIXY``/``LONGXY`` (lat, lon) reduced to 1-D.

    Raises
    ------
    InputError
        No coordinate, missing values, not monotonic, or 2-D coordinates that do not describe
        a regular lat/lon grid.
    """
    found = {}
    for axis, names1, names2 in (("lat", LAT_NAMES, LAT2D_NAMES), ("lon", LON_NAMES, LON2D_NAMES)):
        for name in names1:
            if name in ds.variables and ds.variables[name].ndim == 1:
                values = read_values(ds, path, name)
                _check_axis(path, name, values)
                found[axis] = (values, ds.variables[name].dimensions[0])
                break
        else:
            for name in names2:
                if name in ds.variables and ds.variables[name].ndim == 2:
                    var = ds.variables[name]
                    values = read_values(ds, path, name)
                    keep = 0 if axis == "lat" else 1  # lat varies along dim 0, lon along dim 1
                    line = values[:, 0] if axis == "lat" else values[0, :]
                    spread = np.nanmax(np.abs(values - (line[:, None] if axis == "lat"
                                                         else line[None, :])))
                    if not np.isfinite(spread) or spread > 1e-4:
                        raise InputError(
                            f"{path}: coordinate {name!r}{var.dimensions} varies along "
                            f"{var.dimensions[1 - keep]!r} (by up to {spread:g} deg) or has "
                            f"missing values; expected a regular lat/lon grid")
                    _check_axis(path, name, line)
                    found[axis] = (line, var.dimensions[keep])
                    break
            else:
                raise InputError(
                    f"{path}: no {axis} coordinate; expected a 1-D "
                    f"{' or '.join(repr(n) for n in names1)} or a 2-D "
                    f"{' or '.join(repr(n) for n in names2)}; the file has "
                    f"{', '.join(sorted(ds.variables))}")
    (lat, lat_dim), (lon, lon_dim) = found["lat"], found["lon"]
    if np.any(np.abs(lat) > 90 + 1e-6):
        raise InputError(f"{path}: latitudes reach {np.max(np.abs(lat)):g} deg; expected "
                         f"values in [-90, 90]")
    return FileGrid(lat=lat, lon=lon, lat_dim=lat_dim, lon_dim=lon_dim)


def decode_times(values, units, calendar, path, name: str) -> np.ndarray:
    """CF times ``<unit> since <date>`` as UTC ``datetime64[s]`` (1-D).

    Parameters
    ----------
    values : array_like
        The raw time values (any shape; flattened).
    units, calendar : str or None
        The variable's CF ``units`` and ``calendar`` (None: ``standard``). A zone in the units
        (``... +08:00``) is applied by cftime.
    path, name : for messages: the file and the variable.

    Raises
    ------
    InputError
        Units missing or not ``<unit> since <date>``, no value or a missing value, or values
        that the units and calendar cannot decode; naming the file and the variable.
    """
    if units is None or " since " not in units:
        raise InputError(f"{path}: variable {name!r} has units {units!r}; expected "
                         f"'<unit> since <date>' (CF)")
    calendar = calendar or "standard"
    raw = np.asarray(values, dtype=float).ravel()
    if raw.size == 0 or not np.all(np.isfinite(raw)):
        raise InputError(f"{path}: variable {name!r} is empty or has missing values")
    try:
        decoded = netCDF4.num2date(raw, units.strip(), calendar,
                                   only_use_cftime_datetimes=False,
                                   only_use_python_datetimes=True)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{path}: variable {name!r} cannot be decoded with units {units!r} "
                         f"and calendar {calendar!r}: {exc}") from None
    return np.array(decoded, dtype="datetime64[s]").reshape(-1)


def time_span(times: np.ndarray, start, end, path) -> slice:
    """The records of ``times`` (datetime64, increasing, UTC) in ``[start, end)`` as one slice
    (None: open end).

    Raises
    ------
    InputError
        No record in the window, naming the file and the times it covers.
    """
    keep = np.ones(times.size, dtype=bool)
    if start is not None:
        keep &= times >= np.datetime64(start, "s")
    if end is not None:
        keep &= times < np.datetime64(end, "s")
    if not keep.any():
        raise InputError(f"{path}: no time in [{start}, {end}) UTC; the file covers "
                         f"{times[0]} to {times[-1]} UTC")
    k = np.nonzero(keep)[0]
    return slice(int(k[0]), int(k[-1]) + 1)


def read_times(ds, path, names: Sequence[str] = TIME_NAMES) -> tuple[str, np.ndarray]:
    """The CF time coordinate of an open dataset: its name and UTC datetime64[s] values.

    The first of ``names`` the file has is used; its values are decoded by
    :func:`decode_times`.
    """
    for name in names:
        if name in ds.variables:
            break
    else:
        raise InputError(f"{path}: no time coordinate ({' / '.join(names)}); expected a CF "
                         f"time with units '<unit> since <date>'; the file has "
                         f"{', '.join(sorted(ds.variables))}")
    tvar = ds.variables[name]
    return name, decode_times(read_values(ds, path, name), getattr(tvar, "units", None),
                              getattr(tvar, "calendar", "standard"), path, name)


# ---------------------------------------------------------------- outputs

def write_cf_header(ds, title: str, source: str = "") -> None:
    """Global attributes every landia output carries (CF-1.8, provenance)."""
    ds.Conventions = "CF-1.8"
    ds.title = title
    ds.institution = "landia"
    ds.source = f"landia {landia.__version__}{(' ' + source) if source else ''}"
    ds.history = f"{datetime.now(timezone.utc):%Y-%m-%dT%H:%M:%SZ} created by landia"


def layer_bounds(depth) -> np.ndarray:
    """Top and bottom (m) of each soil layer, shape (nlayer, 2), from the node depths.

    The CoLM node depths of the top layers get the CoLM interfaces
    (:func:`landia.grid.colm_interface_depths`); other nodes get the midpoints between
    nodes, a top at 0 m and a last layer as deep below its node as the one before it.
    """
    depth = np.asarray(depth, dtype=float)
    n = depth.size
    if n and n <= N_SOIL_LAYERS and np.allclose(depth, colm_node_depths(N_SOIL_LAYERS)[:n],
                                                rtol=0, atol=1e-9):
        bottom = colm_interface_depths(N_SOIL_LAYERS)[:n]
    else:
        bottom = np.empty(n)
        bottom[:-1] = 0.5 * (depth[:-1] + depth[1:])
        if n:
            bottom[-1] = depth[-1] + (depth[-1] - (bottom[-2] if n > 1 else 0.0))
    top = np.r_[0.0, bottom[:-1]] if n else bottom
    return np.stack([top, bottom], axis=1)


def write_layer_coordinates(ds, depth) -> None:
    """Dimension ``layer`` with the 1-based ``layer`` index (units ``1``) and the node
    ``depth`` (m, positive down, the vertical axis Z), bounded by ``depth_bnds`` (layer, nv):
    the top and bottom of each layer (:func:`layer_bounds`).

    CF 4.3.1 asks a coordinate with ``axis = "Z"`` for dimensional units: the axis is the
    depth in m; the index carries units ``1`` and names the ``depth`` it stands for. Data
    variables name ``depth`` in their ``coordinates`` (:data:`FIELD_COORDINATES`).
    """
    n = len(depth)
    ds.createDimension("layer", n)
    if "nv" not in ds.dimensions:
        ds.createDimension("nv", 2)
    v = ds.createVariable("layer", "i4", ("layer",))
    v.long_name = "CoLM soil layer index (1 = top)"
    v.units = "1"
    v.comment = "the depth of each layer is the auxiliary coordinate 'depth' (m)"
    v[:] = np.arange(1, n + 1)
    v = ds.createVariable("depth", "f8", ("layer",))
    v.units, v.standard_name, v.positive, v.axis = "m", "depth", "down", "Z"
    v.long_name = "soil layer node depth"
    v.bounds = "depth_bnds"
    v[:] = depth
    # CF 7.1: bounds take their units from 'depth'; a long_name must agree with its own.
    v = ds.createVariable("depth_bnds", "f8", ("layer", "nv"))
    v.long_name = "soil layer node depth"
    v[:] = layer_bounds(depth)


#: The ``coordinates`` attribute of every gridded data variable: the auxiliary ``depth``
#: (``time``, ``layer``, ``lat`` and ``lon`` are dimension coordinates).
FIELD_COORDINATES = "depth"
#: The dimensions of a gridded field without and with a time record.
FIELD_DIMS = ("layer", "lat", "lon")
RECORD_DIMS = ("time",) + FIELD_DIMS
TIME_UNITS = "seconds since 1970-01-01 00:00:00"
_EPOCH = np.datetime64("1970-01-01T00:00:00", "s")


def write_valid_time(ds, valid_time) -> None:
    """The record dimension ``time`` (unlimited, length 1) with its CF coordinate
    ``time(time)`` (seconds since 1970-01-01, standard calendar, axis T) holding
    ``valid_time``.

    Written before the data variables, which then take ``time`` as their first dimension
    (:func:`field_dimensions`): CDO ``mergetime``, NCO ``ncrcat`` and
    ``xarray.open_mfdataset`` join such files along time, as LIS and DART outputs. The
    global attribute ``valid_time`` of the older layout is no longer written: a merged or
    split file would carry its first file's time in it.
    """
    ds.createDimension("time", None)
    t = ds.createVariable("time", "f8", ("time",))
    t.standard_name, t.long_name, t.axis = "time", "valid time", "T"
    t.units, t.calendar = TIME_UNITS, "standard"
    t[0] = float((np.datetime64(valid_time, "s") - _EPOCH).astype(np.int64))


def field_dimensions(ds, dims=FIELD_DIMS) -> tuple:
    """``dims`` with the record dimension ``time`` first when the file has one."""
    return (("time",) + tuple(dims)) if "time" in ds.dimensions else tuple(dims)


def write_record(var, values) -> None:
    """Write one time record's ``values`` into ``var`` (with or without a ``time``
    dimension first)."""
    values = np.asarray(values)
    if var.dimensions[:1] == ("time",):
        var[0, ...] = values
    else:
        var[...] = values


def record_layout(ds, path, name: str, dims=FIELD_DIMS) -> bool:
    """Whether variable ``name`` is stored as one time record, ``("time",) + dims`` with a
    time length of 1 (the current layout), rather than ``dims`` (the layout before
    2026-12, with a scalar ``time``): both are read.

    Raises
    ------
    InputError
        Other dimensions, or several time records (a merged series: select one first);
        naming the file and the variable.
    """
    var = ds.variables[name]
    dims = tuple(dims)
    if var.dimensions == dims:
        return False
    if var.dimensions == ("time",) + dims:
        n = var.shape[0]
        if n != 1:
            raise InputError(f"{path}: variable {name!r} holds {n} time records; expected "
                             f"one (select one first, e.g. 'cdo seltimestep,1' or "
                             f"'ncks -d time,0')")
        return True
    raise InputError(f"{path}: variable {name!r} has dimensions {var.dimensions}; expected "
                     f"{dims} or {('time',) + dims}")


def read_record(ds, path, name: str, dims=FIELD_DIMS, required: bool = True):
    """A gridded variable as float64 on ``dims`` (NaN where masked), from either layout of
    :func:`record_layout`; None if absent and not required."""
    if name not in ds.variables:
        return read_values(ds, path, name, required)
    timed = record_layout(ds, path, name, dims)
    values = read_values(ds, path, name)
    return values[0] if timed else values


def read_valid_time(ds, path) -> np.datetime64 | None:
    """The valid time of an open dataset, or None when it has none.

    In the current layout (a ``time`` dimension and coordinate ``time(time)``), the one value
    of the coordinate; otherwise (the scalar-``time`` layout) the global attribute
    ``valid_time`` (ISO 8601 UTC, ``2016-05-01T06:00:00Z``).

    Raises
    ------
    InputError
        The attribute is not an ISO date-time, the coordinate has no CF units or not exactly
        one value; naming the file.
    """
    if "time" in ds.dimensions and "time" in ds.variables \
            and ds.variables["time"].dimensions == ("time",):
        var = ds.variables["time"]
        if var.shape[0] != 1:
            raise InputError(f"{path}: coordinate 'time' holds {var.shape[0]} times; expected "
                             f"one (select one first, e.g. 'cdo seltimestep,1' or "
                             f"'ncks -d time,0')")
        return decode_times(read_values(ds, path, "time"), getattr(var, "units", None),
                            getattr(var, "calendar", "standard"), path, "time")[0]
    if "valid_time" not in ds.ncattrs():
        return None
    text = str(ds.getncattr("valid_time"))
    try:
        return np.datetime64(text.rstrip("Z"), "s")
    except ValueError:
        raise InputError(f"{path}: global attribute 'valid_time' = {text!r}; expected an ISO "
                         "8601 UTC time such as 2016-05-01T06:00:00Z") from None


@contextlib.contextmanager
def create_grid_file(path, lat, lon, depth, title: str,
                     valid_time=None) -> Iterator[object]:
    """Create a netCDF4 file with CF coordinates lat, lon, layer and depth, and with
    ``valid_time`` the record dimension and coordinate ``time`` (:func:`write_valid_time`):
    create its fields on :func:`field_dimensions`."""
    ds = netCDF4.Dataset(path, "w", format="NETCDF4")
    try:
        write_cf_header(ds, title)
        ds.references = "Shen et al., Geosci. Model Dev. 17, 3447 (2024), doi:10.5194/gmd-17-3447-2024"
        ds.createDimension("lat", len(lat))
        ds.createDimension("lon", len(lon))
        v = ds.createVariable("lat", "f8", ("lat",))
        v.units, v.standard_name, v.long_name, v.axis = "degrees_north", "latitude", "latitude", "Y"
        v[:] = lat
        v = ds.createVariable("lon", "f8", ("lon",))
        v.units, v.standard_name, v.long_name, v.axis = "degrees_east", "longitude", "longitude", "X"
        v[:] = lon
        write_layer_coordinates(ds, depth)
        if valid_time is not None:
            write_valid_time(ds, valid_time)
        yield ds
    finally:
        ds.close()
