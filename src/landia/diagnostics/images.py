"""Soil-moisture images for the diagnostics: read from landia field files or ERA-layout
netCDF, and cut to a region."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from landia.errors import InputError
from landia.io.fields import read_field
from landia.io.netcdf import open_netcdf
from landia.observations.products.era5 import read_era5_soil_moisture


def _normalise_lon(lon: np.ndarray, west: float) -> np.ndarray:
    return (np.asarray(lon, float) - west) % 360.0


def cut_box(image: np.ndarray, lat: np.ndarray, lon: np.ndarray, box) -> tuple:
    """Cut ``image`` to ``box = (south, north, west, east)`` degrees (inclusive).

    Longitudes are compared modulo 360, so a box given in -180..180 works on a 0..360
    grid and a box may cross the grid's longitude seam (its columns are reordered
    eastwards from ``west``). Rows keep their order.
    """
    south, north, west, east = (float(v) for v in box)
    if not south < north:
        raise InputError(f"--box: south ({south}) must be smaller than north ({north})")
    lat = np.asarray(lat, float)
    eps = 1e-6
    iy = np.flatnonzero((lat >= south - eps) & (lat <= north + eps))
    width = (east - west) % 360.0 or 360.0
    rel = _normalise_lon(lon, west)
    ix = np.flatnonzero(rel <= width + eps)
    ix = ix[np.argsort(rel[ix], kind="stable")]
    if iy.size < 2 or ix.size < 2:
        raise InputError(f"--box {south} {north} {west} {east}: selects {iy.size} x {ix.size} "
                         f"cells of a grid spanning lat {lat.min():g}..{lat.max():g}, lon "
                         f"{np.min(lon):g}..{np.max(lon):g}; expected at least 2 x 2")
    return image[np.ix_(iy, ix)], lat[iy], np.asarray(lon, float)[ix]


def read_image(path, layer: int = 1, variable: str | None = None):
    """One soil-moisture image: ``(values (ny, nx) with NaN off land, lat, lon, label)``.

    Accepted files:

    * landia field files (``soil_moisture(layer, lat, lon)``, docs/field-files.md):
      layer ``layer`` (1-based);
    * ERA-Interim / ERA5 netCDF as ECMWF's grib_to_netcdf and the CDS write it
      (``latitude``, ``longitude``, ``lsm`` and ``swvl1`` ... ``swvl4``), one time, read by
      :func:`landia.observations.products.era5.read_era5_soil_moisture`: variable
      ``variable`` (default ``swvl<layer>``), land where ``lsm >= 0.5``, negative values
      clipped to 0.
    """
    path = Path(path)
    with open_netcdf(path, "image") as ds:
        names = set(ds.variables)
        era = "lsm" in names and "latitude" in names and "longitude" in names
    if "soil_moisture" in names and not era:
        f = read_field(path, "field")
        if not 1 <= layer <= f.n_layers:
            raise InputError(f"{path}: variable 'soil_moisture' has {f.n_layers} layer(s); "
                             f"layer {layer} was asked for")
        return (np.array(f.values[layer - 1], float), np.asarray(f.lat, float),
                np.asarray(f.lon, float), f"{path.stem}_L{layer}")
    if not era:
        raise InputError(f"{path}: neither a landia field file (variable 'soil_moisture') nor an "
                         f"ERA-layout file ('latitude', 'longitude', 'lsm', 'swvl1'); found "
                         f"{sorted(names)}")
    name = variable or f"swvl{layer}"
    if not (name.startswith("swvl") and name[4:].isdigit()):
        raise InputError(f"{path}: variable {name!r}: expected an ERA soil-moisture layer "
                         f"swvl1..swvl4")
    # The ERA5 product reader, with its sea mask at lsm >= 0.5 and every negative value
    # clipped to 0 (a diagnostic image keeps all land cells).
    fields = read_era5_soil_moisture(path, lsm_threshold=0.5, negative_tolerance=np.inf,
                                     layers=[int(name[4:])])
    if len(fields) != 1:
        raise InputError(f"{path}: {len(fields)} times; expected one image per file")
    f = fields[0]
    return f.values[0], np.asarray(f.lat, float), np.asarray(f.lon, float), f"{path.stem}_{name}"
