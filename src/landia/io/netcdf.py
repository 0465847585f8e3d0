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


@contextlib.contextmanager
def create_grid_file(path, lat, lon, depth, title: str) -> Iterator[object]:
    """Create a netCDF4 file with CF coordinates lat, lon, layer and depth."""
    import netCDF4

    ds = netCDF4.Dataset(path, "w", format="NETCDF4")
    try:
        ds.Conventions = "CF-1.8"
        ds.title = title
        ds.institution = "landia"
        ds.source = f"landia {landia.__version__}"
        ds.history = f"{datetime.now(timezone.utc):%Y-%m-%dT%H:%M:%SZ} created by landia"
        ds.references = "Shen et al., Geosci. Model Dev. 17, 3447 (2024), doi:10.5194/gmd-17-3447-2024"
        ds.createDimension("layer", len(depth))
        ds.createDimension("lat", len(lat))
        ds.createDimension("lon", len(lon))
        v = ds.createVariable("lat", "f8", ("lat",))
        v.units, v.standard_name, v.long_name, v.axis = "degrees_north", "latitude", "latitude", "Y"
        v[:] = lat
        v = ds.createVariable("lon", "f8", ("lon",))
        v.units, v.standard_name, v.long_name, v.axis = "degrees_east", "longitude", "longitude", "X"
        v[:] = lon
        v = ds.createVariable("layer", "i4", ("layer",))
        v.long_name = "CoLM soil layer index (1 = top)"
        v.axis = "Z"
        v.positive = "down"
        v[:] = np.arange(1, len(depth) + 1)
        v = ds.createVariable("depth", "f8", ("layer",))
        v.units, v.standard_name, v.long_name, v.positive = "m", "depth", "soil layer node depth", "down"
        v[:] = depth
        yield ds
    finally:
        ds.close()
