"""Common CF-1.8 scaffolding of landia's netCDF outputs."""

from __future__ import annotations

import contextlib
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import numpy as np

import landia


def open_netcdf(path, role: str):
    """Open an input netCDF file for reading, or raise InputError naming it and its role.

    ``role`` says what the file is for in messages ("background", "forcing", ...).
    """
    import netCDF4

    from landia.errors import InputError

    if not Path(path).exists():
        raise InputError(f"{path}: {role} file not found")
    try:
        return netCDF4.Dataset(path, "r")
    except OSError as exc:
        raise InputError(f"{path}: cannot open {role} file as netCDF (truncated or not "
                         f"netCDF?): {exc}") from None


def missing_variable(path, name: str, ds) -> str:
    """The message for a variable that is not in a file, listing what the file has."""
    return (f"{path}: variable {name!r} not found; the file has "
            f"{', '.join(sorted(ds.variables)) or 'no variables'}")


def read_values(ds, path, name: str, required: bool = True):
    """A variable as float64 with masked/fill values as NaN; None if absent and optional.

    Raises InputError naming the file when the variable is missing (and required) or
    cannot be read.
    """
    from landia.errors import InputError

    if name not in ds.variables:
        if required:
            raise InputError(missing_variable(path, name, ds))
        return None
    var = ds.variables[name]
    var.set_auto_maskandscale(True)
    try:
        data = var[...]
    except (RuntimeError, OSError, IndexError) as exc:
        raise InputError(f"{path}: variable {name!r} cannot be read (truncated or corrupt "
                         f"file?): {exc}") from None
    return np.ma.filled(np.ma.asarray(data, dtype=float), np.nan)


def write_cf_header(ds, title: str, source: str = "") -> None:
    """Global attributes every landia output carries (CF-1.8, provenance)."""
    ds.Conventions = "CF-1.8"
    ds.title = title
    ds.institution = "landia"
    ds.source = f"landia {landia.__version__}{(' ' + source) if source else ''}"
    ds.history = f"{datetime.now(timezone.utc):%Y-%m-%dT%H:%M:%SZ} created by landia"


def write_layer_coordinates(ds, depth) -> None:
    """Dimension ``layer`` with the 1-based ``layer`` index and the node ``depth`` (m)."""
    n = len(depth)
    ds.createDimension("layer", n)
    v = ds.createVariable("layer", "i4", ("layer",))
    v.long_name = "CoLM soil layer index (1 = top)"
    v.axis, v.positive = "Z", "down"
    v[:] = np.arange(1, n + 1)
    v = ds.createVariable("depth", "f8", ("layer",))
    v.units, v.standard_name, v.positive = "m", "depth", "down"
    v.long_name = "soil layer node depth"
    v[:] = depth


def write_valid_time(ds, valid_time, variables=()) -> None:
    """A scalar CF ``time`` coordinate (seconds since 1970-01-01) named in the ``coordinates``
    of ``variables``, and the global attribute ``valid_time`` (ISO 8601 UTC, ``...Z``)."""
    t = ds.createVariable("time", "f8", ())
    t.standard_name, t.long_name = "time", "valid time"
    t.units, t.calendar = "seconds since 1970-01-01 00:00:00", "standard"
    t.assignValue(float((np.datetime64(valid_time, "s")
                         - np.datetime64("1970-01-01T00:00:00", "s")).astype(np.int64)))
    for name in variables:
        ds.variables[name].coordinates = "time"
    ds.valid_time = str(np.datetime64(valid_time, "s")) + "Z"


@contextlib.contextmanager
def create_grid_file(path, lat, lon, depth, title: str) -> Iterator[object]:
    """Create a netCDF4 file with CF coordinates lat, lon, layer and depth."""
    import netCDF4

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
        yield ds
    finally:
        ds.close()
