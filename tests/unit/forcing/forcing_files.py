"""Small gridded forcing files for the reader tests (netCDF4 written into tmp_path)."""

from __future__ import annotations

import netCDF4
import numpy as np


def hours(start: str, n: int, step_h: float = 1.0) -> np.ndarray:
    return (np.datetime64(start, "s")
            + (np.arange(n) * step_h * 3600).astype("timedelta64[s]"))


def write_grid(path, lat, lon, times, variables: dict, *, time_name="time",
               time_units="hours since 1900-01-01 00:00:00", lat_name="lat", lon_name="lon",
               coords_2d=False, extra_dim=None, fmt="NETCDF4", time_bounds=None):
    """Write ``variables`` {name: (values (T, ny, nx), attrs)} on a lat/lon grid.

    attrs may hold ``pack=(scale, offset)`` (stored as int16), ``_FillValue``, ``units``.
    ``extra_dim=(name, position)`` adds a size-1 dimension to every variable at that position.
    ``time_bounds``: (T, 2) datetimes written as ``time_bnds``.
    """
    lat, lon = np.asarray(lat, float), np.asarray(lon, float)
    ref = np.datetime64(time_units.split(" since ")[1].strip()[:19].replace(" ", "T"), "s")
    unit_s = {"hours": 3600, "seconds": 1, "minutes": 60, "days": 86400}[time_units.split()[0]]
    with netCDF4.Dataset(path, "w", format=fmt) as ds:
        ds.createDimension(time_name, None)
        ds.createDimension("lat" if coords_2d else lat_name, lat.size)
        ds.createDimension("lon" if coords_2d else lon_name, lon.size)
        t = ds.createVariable(time_name, "f8", (time_name,))
        t.units = time_units
        t.calendar = "gregorian"
        t[:] = (np.asarray(times, "datetime64[s]") - ref).astype(np.int64) / unit_s
        if time_bounds is not None:
            ds.createDimension("bnds", 2)
            t.bounds = "time_bnds"
            b = ds.createVariable("time_bnds", "f8", (time_name, "bnds"))
            b[:] = (np.asarray(time_bounds, "datetime64[s]") - ref).astype(np.int64) / unit_s
        if coords_2d:
            v = ds.createVariable("LATIXY", "f8", ("lat", "lon"))
            v.units = "degrees_north"
            v[:] = np.repeat(lat[:, None], lon.size, axis=1)
            v = ds.createVariable("LONGXY", "f8", ("lat", "lon"))
            v.units = "degrees_east"
            v[:] = np.repeat(lon[None, :], lat.size, axis=0)
            dims = (time_name, "lat", "lon")
        else:
            v = ds.createVariable(lat_name, "f8", (lat_name,))
            v.units = "degrees_north"
            v[:] = lat
            v = ds.createVariable(lon_name, "f8", (lon_name,))
            v.units = "degrees_east"
            v[:] = lon
            dims = (time_name, lat_name, lon_name)
        if extra_dim is not None:
            name, position = extra_dim
            ds.createDimension(name, 1)
            dims = dims[:position] + (name,) + dims[position:]
        for name, (values, attrs) in variables.items():
            attrs = dict(attrs)
            pack = attrs.pop("pack", None)
            fill = attrs.pop("_FillValue", None)
            values = np.asarray(values, float)
            if extra_dim is not None:
                values = np.expand_dims(values, extra_dim[1])
            if pack is not None:
                v = ds.createVariable(name, "i2", dims, fill_value=-32767)
                v.scale_factor, v.add_offset = pack
            else:
                v = ds.createVariable(name, "f4", dims, fill_value=fill)
            for k, a in attrs.items():
                setattr(v, k, a)
            v[:] = np.ma.masked_invalid(values)
    return path


def field(rng, shape, lo, hi):
    return lo + (hi - lo) * rng.random(shape)
