"""Static-input files: soil texture, land cover and monthly LAI on the model grid (netCDF).

The file that ``[landscape] file`` names (``landia landscape`` writes one from the synthetic
landscape). CF-1.8, on the model grid's 1-D ``lat``/``lon`` (degrees), ocean cells missing:

========================  ===========================  =========  ==========================
variable                  dimensions                   units      values on the land cells
========================  ===========================  =========  ==========================
``sand``, ``clay``        ``(lat, lon)`` or            ``%``      in [0, 100], sand + clay
                          ``(layer, lat, lon)`` (10)              <= 100
``land_cover``            ``(lat, lon)`` integer       --         one of ``flag_values``,
                          with ``flag_values`` and                whose ``flag_meanings`` are
                          ``flag_meanings``                       :data:`LAND_COVER_CLASSES`
``lai``                   ``(month, lat, lon)``, 12    ``m2 m-2`` in [0, :data:`LAI_MAX`]
``elevation`` (optional)  ``(lat, lon)``               ``m``      finite
========================  ===========================  =========  ==========================

Values are stored as float64, so a file written from a landscape reads back bit for bit.
Every check raises :class:`~landia.errors.InputError` naming the file and the variable.
"""

from __future__ import annotations

from dataclasses import dataclass

import netCDF4
import numpy as np

from landia.columns.roots import LAND_COVER_ROOTS
from landia.errors import InputError
from landia.grid import N_SOIL_LAYERS, LatLonGrid
from landia.io.atomic import atomic_path
from landia.io.netcdf import (check_units, open_netcdf, read_grid, read_values,
                              write_cf_header)

#: Land-cover classes, in the order of the codes ``landia landscape`` writes (0..5).
LAND_COVER_CLASSES = ("bare_soil", "shrubland", "grassland", "cropland", "deciduous_forest",
                      "evergreen_forest")
#: Largest monthly LAI accepted, m2 m-2.
LAI_MAX = 15.0
PERCENT_UNITS = ("%", "percent")
LAI_UNITS = ("m2 m-2", "m2/m2", "m^2 m^-2", "1")
_MISSING_CODE = -1


@dataclass(frozen=True)
class StaticFields:
    """The static inputs of a grid's land cells (global land order), as read from a file.

    Attributes
    ----------
    sand, clay : ndarray (N,) or (N, 10)
        Texture, %.
    land_cover : tuple of str (N,)
    lai_monthly : ndarray (12, N)
        m2 m-2.
    elevation : ndarray (N,) or None
        m; None when the file has none.
    """

    sand: np.ndarray
    clay: np.ndarray
    land_cover: tuple
    lai_monthly: np.ndarray
    elevation: np.ndarray | None


def write_static_file(path, grid: LatLonGrid, fields: StaticFields) -> None:
    """Write ``fields`` (land cells of ``grid``) as a static-input file, atomically."""
    codes = {name: i for i, name in enumerate(LAND_COVER_CLASSES)}
    unknown = sorted(set(fields.land_cover) - set(codes))
    if unknown:
        raise InputError(f"{path}: land_cover: classes {unknown} have no code; known "
                         f"{list(LAND_COVER_CLASSES)}")
    with atomic_path(path) as tmp:
        with netCDF4.Dataset(tmp, "w", format="NETCDF4") as ds:
            write_cf_header(ds, "landia static input (soil texture, land cover, monthly LAI)")
            ds.createDimension("lat", grid.shape[0])
            ds.createDimension("lon", grid.shape[1])
            ds.createDimension("month", 12)
            v = ds.createVariable("lat", "f8", ("lat",))
            v.units, v.standard_name, v.axis = "degrees_north", "latitude", "Y"
            v[:] = grid.lat
            v = ds.createVariable("lon", "f8", ("lon",))
            v.units, v.standard_name, v.axis = "degrees_east", "longitude", "X"
            v[:] = grid.lon
            v = ds.createVariable("month", "i4", ("month",))
            v.long_name = "month of the year (mid-month values)"
            v[:] = np.arange(1, 13)
            texture_dims = ("lat", "lon")
            if np.ndim(fields.sand) == 2:
                ds.createDimension("layer", N_SOIL_LAYERS)
                texture_dims = ("layer", "lat", "lon")
            for name, values, long_name in (("sand", fields.sand, "sand content"),
                                            ("clay", fields.clay, "clay content")):
                v = ds.createVariable(name, "f8", texture_dims, fill_value=np.nan)
                v.units, v.long_name = "%", long_name
                v[:] = grid.to_field(np.asarray(values, float).T)
            v = ds.createVariable("land_cover", "i1", ("lat", "lon"), fill_value=_MISSING_CODE)
            v.long_name = "land cover class"
            v.flag_values = np.arange(len(LAND_COVER_CLASSES), dtype="i1")
            v.flag_meanings = " ".join(LAND_COVER_CLASSES)
            cover = np.full(grid.shape, _MISSING_CODE, dtype="i1")
            cover[grid.land] = [codes[c] for c in fields.land_cover]
            v[:] = cover
            v = ds.createVariable("lai", "f8", ("month", "lat", "lon"), fill_value=np.nan)
            v.units, v.standard_name = "m2 m-2", "leaf_area_index"
            v.long_name = "mid-month leaf area index"
            v[:] = grid.to_field(fields.lai_monthly)
            if fields.elevation is not None:
                v = ds.createVariable("elevation", "f8", ("lat", "lon"), fill_value=np.nan)
                v.units, v.standard_name = "m", "surface_altitude"
                v[:] = grid.to_field(fields.elevation)


def _land_values(path, grid: LatLonGrid, ds, name: str, leads: list, units, expected: str,
                 required: bool = True):
    """A variable's values on the land cells, shape (*lead, N), for one of the leading
    shapes ``leads``; checks the dimensions, the units and that no land cell is missing."""
    if name not in ds.variables and not required:
        return None
    values = read_values(ds, path, name)
    if values.shape not in [lead + grid.shape for lead in leads]:
        raise InputError(f"{path}: variable {name!r} has shape {values.shape}; expected "
                         f"{' or '.join(str(lead + grid.shape) for lead in leads)} on the "
                         f"model grid")
    if units is not None:
        check_units(path, name, ds.variables[name], units, expected)
    land = grid.to_land(values)
    if not np.all(np.isfinite(land)):
        bad = int(np.sum((~np.isfinite(land)).reshape(-1, grid.n_land).any(axis=0)))
        raise InputError(f"{path}: variable {name!r} is missing (or not finite) at {bad} land "
                         f"cells of the model grid")
    return land


def _check_range(path, name: str, values: np.ndarray, low: float, high: float, unit: str):
    if values.size and (np.min(values) < low or np.max(values) > high):
        raise InputError(f"{path}: variable {name!r} has values in [{np.min(values):g}, "
                         f"{np.max(values):g}] {unit}; expected [{low:g}, {high:g}]")


def _land_cover(path, grid: LatLonGrid, ds) -> tuple:
    codes = _land_values(path, grid, ds, "land_cover", [()], None, "")
    var = ds.variables["land_cover"]
    values = np.atleast_1d(getattr(var, "flag_values", []))
    meanings = str(getattr(var, "flag_meanings", "")).split()
    if len(values) == 0 or len(values) != len(meanings):
        raise InputError(f"{path}: variable 'land_cover' needs 'flag_values' and "
                         f"'flag_meanings' attributes of the same length (the class names)")
    unknown = sorted(set(meanings) - set(LAND_COVER_ROOTS))
    if unknown:
        raise InputError(f"{path}: variable 'land_cover': flag_meanings {unknown} are not "
                         f"known classes; expected some of {sorted(LAND_COVER_ROOTS)}")
    lookup = {float(v): m for v, m in zip(values, meanings)}
    bad = sorted({float(c) for c in codes} - set(lookup))
    if bad:
        raise InputError(f"{path}: variable 'land_cover' has codes {bad[:5]} at land cells "
                         f"that are not among its flag_values {sorted(lookup)}")
    return tuple(lookup[float(c)] for c in codes)


def read_static_file(path, grid: LatLonGrid) -> StaticFields:
    """Read and check a static-input file on ``grid`` (see the module notes).

    Raises
    ------
    InputError
        Not netCDF, another grid, a missing variable, wrong units, a land cell without a
        value, a value out of range or an unknown land-cover class; the message names the
        file and the variable.
    """
    with open_netcdf(path, "static input") as ds:
        file_grid = read_grid(ds, path)
        if (file_grid.lat.shape + file_grid.lon.shape != grid.shape
                or not np.allclose(file_grid.lat, grid.lat, atol=1e-5)
                or not np.allclose(file_grid.lon, grid.lon, atol=1e-5)):
            raise InputError(
                f"{path}: grid {file_grid.lat.size} x {file_grid.lon.size} (lat "
                f"{file_grid.lat[0]:g}..{file_grid.lat[-1]:g}, lon {file_grid.lon[0]:g}.."
                f"{file_grid.lon[-1]:g}) is not the model grid {grid.shape[0]} x "
                f"{grid.shape[1]} (lat {grid.lat[0]:g}..{grid.lat[-1]:g}, lon "
                f"{grid.lon[0]:g}..{grid.lon[-1]:g}); regrid it first")
        texture = {}
        for name in ("sand", "clay"):
            land = _land_values(path, grid, ds, name, [(), (N_SOIL_LAYERS,)], PERCENT_UNITS,
                                "%")
            _check_range(path, name, land, 0.0, 100.0, "%")
            texture[name] = land.T  # (N,) or (N, layers)
        if texture["sand"].shape != texture["clay"].shape:
            raise InputError(f"{path}: variables 'sand' and 'clay' must have the same "
                             f"dimensions (both per cell or both per layer)")
        total = texture["sand"] + texture["clay"]
        if np.max(total, initial=0.0) > 100.0:
            raise InputError(f"{path}: variables 'sand' + 'clay' reach {np.max(total):g} %; "
                             f"expected at most 100 %")
        cover = _land_cover(path, grid, ds)
        lai = _land_values(path, grid, ds, "lai", [(12,)], LAI_UNITS, "m2 m-2")
        _check_range(path, "lai", lai, 0.0, LAI_MAX, "m2 m-2")
        elevation = _land_values(path, grid, ds, "elevation", [()], ("m",), "m",
                                 required=False)
    return StaticFields(sand=texture["sand"], clay=texture["clay"], land_cover=cover,
                        lai_monthly=lai, elevation=elevation)
