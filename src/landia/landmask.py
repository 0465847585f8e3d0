"""The model grid with a real land mask and land fraction (from ``global_land_mask``).

Every command that needs the model grid of a configuration (``landia cycle``, ``prepare-obs``)
builds it here (:func:`grid_from_settings`), as do the benchmarks' global grids
(:func:`land_points`).

The land fraction of a cell is the area-weighted fraction of land among ``k x k`` sample
points placed at the centres of a regular ``k x k`` subdivision of the cell,

.. math:: f = \\frac{\\sum_{p} \\cos\\varphi_p \\, L(\\varphi_p, \\lambda_p)}
                 {\\sum_{p} \\cos\\varphi_p},

with :math:`L` the 1 km land mask of the ``global_land_mask`` package (GLOBE DEM based;
Antarctica is land). A cell is land when :math:`f \\ge` ``land_threshold``.

That package loads (decompresses) a 0.9 GB array when imported, so it is queried in a child
process (4-10 s). Land fractions are cached in memory for the life of the process and on disk
(``$LANDIA_CACHE_DIR``, else ``$XDG_CACHE_HOME/landia``, else ``~/.cache/landia``; one small
``.npy`` per box, resolution, sample count and package version; set ``LANDIA_CACHE_DIR`` to
an empty string to disable it). A cache that cannot be written is silently skipped.
"""

from __future__ import annotations

import functools
import hashlib
import os
import subprocess
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

import numpy as np

from landia.errors import InputError
from landia.grid import LatLonGrid

#: The paper's domain: 23-68 N, 73-117 E at 1.4 degrees (32 x 31 cells).
PAPER_BOX = (23.0, 68.0, 73.0, 117.0, 1.4)

_LAND_CHILD = """
import sys
import numpy as np
from global_land_mask import globe
n = np.frombuffer(sys.stdin.buffer.read(16), dtype=np.int64)
rest = np.frombuffer(sys.stdin.buffer.read(), dtype=np.float64)
lat, lon = rest[: n[0]], rest[n[0]: n[0] + n[1]]
land = globe.is_land(*np.meshgrid(lat, lon, indexing="ij"))
sys.stdout.buffer.write(np.packbits(land).tobytes())
"""


def wrap_lon(lon: np.ndarray) -> np.ndarray:
    """Longitudes wrapped to [-180, 180) degrees: :math:`((\\lambda + 180) \\bmod 360) - 180`."""
    return (np.asarray(lon, dtype=float) + 180.0) % 360.0 - 180.0


def land_points(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Land (True) at the points of the (lat x lon) mesh, from ``global_land_mask``.

    Parameters
    ----------
    lat : ndarray (ny,)
        Latitudes, degrees_north, within [-90, 90].
    lon : ndarray (nx,)
        Longitudes, degrees_east, any convention (wrapped to -180..180 for the query).

    Returns
    -------
    ndarray of bool (ny, nx)
    """
    lat = np.asarray(lat, dtype=float).ravel()
    lon = wrap_lon(np.asarray(lon, dtype=float).ravel())
    if np.any(np.abs(lat) > 90):
        raise InputError(f"model grid: sample latitudes must lie within [-90, 90]; found "
                         f"{lat.min():g}..{lat.max():g}")
    payload = (np.array([lat.size, lon.size], dtype=np.int64).tobytes()
               + lat.tobytes() + lon.tobytes())
    proc = subprocess.run([sys.executable, "-c", _LAND_CHILD], input=payload,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        lines = proc.stderr.decode(errors="replace").strip().splitlines()
        raise InputError("model grid: the global_land_mask query failed (is the package "
                         f"global-land-mask installed?): {lines[-1] if lines else 'no message'}")
    bits = np.unpackbits(np.frombuffer(proc.stdout, dtype=np.uint8))[: lat.size * lon.size]
    return bits.reshape(lat.size, lon.size).astype(bool)


def _cache_dir() -> Path | None:
    env = os.environ.get("LANDIA_CACHE_DIR")
    if env is not None:
        return Path(env) if env else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "landia"


def _package_version() -> str:
    try:
        return version("global-land-mask")
    except Exception:  # noqa: BLE001  (not installed: the query itself will say so)
        return "unknown"


@functools.lru_cache(maxsize=16)
def _fraction(south, north, west, east, resolution, samples) -> np.ndarray:
    key = repr((south, north, west, east, resolution, samples, _package_version(), 1))
    name = f"land_fraction_{hashlib.sha256(key.encode()).hexdigest()[:20]}.npy"
    cache = _cache_dir()
    if cache is not None and (cache / name).is_file():
        try:
            frac = np.load(cache / name)
            frac.setflags(write=False)
            return frac
        except (OSError, ValueError):
            pass
    frac = _compute_fraction(south, north, west, east, resolution, samples)
    if cache is not None:
        try:
            cache.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=cache, suffix=".tmp", delete=False) as fh:
                np.save(fh, frac)
            os.replace(fh.name, cache / name)
        except OSError:
            pass
    frac.setflags(write=False)
    return frac


def _compute_fraction(south, north, west, east, resolution, samples) -> np.ndarray:
    grid = LatLonGrid.from_box(south, north, west, east, resolution)
    k = samples
    off = (np.arange(k) + 0.5) / k - 0.5                      # in cells
    slat = np.clip((grid.lat[:, None] + resolution * off[None, :]).ravel(), -90.0, 90.0)
    slon = (grid.lon[:, None] + resolution * off[None, :]).ravel()
    land = land_points(slat, slon).reshape(grid.lat.size, k, grid.lon.size, k)
    w = np.cos(np.deg2rad(slat)).reshape(grid.lat.size, k)
    frac = np.clip(np.einsum("ikjl,ik->ij", land.astype(float), w)
                   / (k * w.sum(axis=1))[:, None], 0.0, 1.0)
    return frac


def model_grid(south: float, north: float, west: float, east: float, resolution: float,
               land_threshold: float = 0.5, samples: int = 8
               ) -> tuple[LatLonGrid, np.ndarray]:
    """Model grid of a box with its land mask and land fraction.

    Parameters
    ----------
    south, north, west, east : float
        Box edges, degrees (cells as :meth:`LatLonGrid.from_box`: ``round(extent /
        resolution)`` cells, centres half a cell in from the south-west corner).
    resolution : float
        Cell size, degrees.
    land_threshold : float
        A cell is land when its land fraction >= this (default 0.5), in (0, 1].
    samples : int
        k: the land fraction uses k x k sample points per cell (default 8).

    Returns
    -------
    grid : LatLonGrid
    land_fraction : ndarray (ny, nx)
        Area fraction of land in each cell, 0..1.
    """
    if not (np.isfinite([south, north, west, east, resolution]).all()):
        raise InputError("model grid: box edges and resolution must be finite")
    if resolution <= 0:
        raise InputError(f"model grid: resolution must be > 0 degrees; got {resolution}")
    if not (-90 <= south < north <= 90):
        raise InputError(f"model grid: need -90 <= south < north <= 90; got south {south}, "
                         f"north {north} (an empty box)")
    if not (west < east <= west + 360):
        raise InputError(f"model grid: need west < east <= west + 360; got west {west}, "
                         f"east {east} (an empty box)")
    if not 0 < land_threshold <= 1:
        raise InputError(f"model grid: land_threshold must be in (0, 1]; got {land_threshold}")
    if int(samples) != samples or samples < 1:
        raise InputError(f"model grid: samples must be a positive integer; got {samples}")
    frac = _fraction(float(south), float(north), float(west), float(east), float(resolution),
                     int(samples)).copy()
    land = frac >= land_threshold
    grid = LatLonGrid.from_box(south, north, west, east, resolution, land=land)
    return grid, frac


def grid_from_settings(grid) -> tuple[LatLonGrid, np.ndarray]:
    """The model grid of a configuration's ``[grid]`` section
    (:class:`landia.config.GridSettings`) with its land mask and land fraction."""
    return model_grid(grid.south, grid.north, grid.west, grid.east, grid.resolution,
                      land_threshold=grid.land_threshold, samples=grid.land_samples)


def global_grid(resolution: float, **kwargs) -> tuple[LatLonGrid, np.ndarray]:
    """Global model grid (-90..90, -180..180) of ``resolution`` degrees; see
    :func:`model_grid`."""
    return model_grid(-90.0, 90.0, -180.0, 180.0, resolution, **kwargs)


def paper_grid(**kwargs) -> tuple[LatLonGrid, np.ndarray]:
    """The paper's grid, 23-68 N, 73-117 E at 1.4 degrees: 32 x 31 cells."""
    return model_grid(*PAPER_BOX, **kwargs)
