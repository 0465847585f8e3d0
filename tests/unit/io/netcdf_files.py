"""netCDF files for the input-size tests: a copy in another format, a copy cut short, a file
declaring absurd dimensions."""

from __future__ import annotations

from pathlib import Path

import netCDF4
import numpy as np

from landia.io.netcdf_size import declared_size

#: The formats landia reads and the tests cover.
FORMATS = ("NETCDF3_CLASSIC", "NETCDF3_64BIT_OFFSET", "NETCDF4")


def convert(src: Path, dst: Path, fmt: str) -> Path:
    """A copy of ``src`` (no groups) in format ``fmt``: dimensions, variables (raw values,
    uncompressed) and attributes."""
    with netCDF4.Dataset(src) as a, netCDF4.Dataset(dst, "w", format=fmt) as b:
        a.set_auto_maskandscale(False)
        b.setncatts({k: a.getncattr(k) for k in a.ncattrs()})
        for name, dim in a.dimensions.items():
            b.createDimension(name, None if dim.isunlimited() else len(dim))
        for name, var in a.variables.items():
            attrs = {k: var.getncattr(k) for k in var.ncattrs()}
            fill = attrs.pop("_FillValue", None)
            out = b.createVariable(name, var.dtype, var.dimensions, fill_value=fill)
            out.setncatts(attrs)
            out.set_auto_maskandscale(False)
            if var.ndim == 0:
                out.assignValue(var.getValue())
            else:
                out[...] = var[...]
    return dst


def cut(src: Path, dst: Path, fraction: float = 0.6) -> Path:
    """The first ``fraction`` of ``src``'s content (``head -c``), as a half-written copy.

    The content ends where the header says: the netCDF-3 library pads small files with
    unused bytes to 4 kB, and cutting into those loses nothing."""
    data = Path(src).read_bytes()
    dst.write_bytes(data[:int(min(len(data), declared_size(src)) * fraction)])
    return dst


def absurd_field(path: Path, ny: int = 2_000_000, nx: int = 2_000_000) -> Path:
    """A netCDF-4 field file whose ``soil_moisture`` declares 10 x ny x nx values (chunked,
    nothing written: the file is small, its values would not fit in any memory)."""
    with netCDF4.Dataset(path, "w", format="NETCDF4") as ds:
        ds.createDimension("layer", 10)
        ds.createDimension("lat", ny)
        ds.createDimension("lon", nx)
        for name, units in (("lat", "degrees_north"), ("lon", "degrees_east")):
            ds.createVariable(name, "f8", (name,), chunksizes=(1024,)).units = units
        v = ds.createVariable("soil_moisture", "f8", ("layer", "lat", "lon"),
                              fill_value=np.nan, chunksizes=(1, 256, 256))
        v.units = "m3 m-3"
    return path
