"""Model grid: a regular latitude/longitude box, its land mask, and CoLM layers.

The control vector of the analysis lives on the land cells of this grid, in
row-major (lat, lon) order of ``np.flatnonzero(grid.land)``. That order is the
*global order* used everywhere else (exchange, checkpoints).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from landia.errors import InputError


#: Earth radius of the great-circle distance, km.
EARTH_RADIUS_KM = 6371.0


def great_circle_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance (km) between points given in degrees, by the haversine formula.

    The arguments broadcast against each other; the Earth radius is :data:`EARTH_RADIUS_KM`.
    The LETKF's localisation (:mod:`landia.analysis.letkf`) and its observation halo
    (:mod:`landia.exchange.halo`) both use this one function, so the halo always holds what
    the local analysis weighs.
    """
    p1, p2 = np.deg2rad(lat1), np.deg2rad(lat2)
    dlat = p2 - p1
    dlon = np.deg2rad(np.asarray(lon2, dtype=float) - np.asarray(lon1, dtype=float))
    h = np.sin(dlat / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))

#: Number of CoLM2014 soil layers.
N_SOIL_LAYERS = 10


def coordinate_pair(first, second, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Two coordinate vectors (positions lat/lon, depth ranges top/bottom) as float (N,) arrays
    of one non-zero length N; ``what`` names them in the message.

    Raises
    ------
    InputError
        Not 1-D, of different lengths, or empty.
    """
    a = np.atleast_1d(np.asarray(first, dtype=float))
    b = np.atleast_1d(np.asarray(second, dtype=float))
    if a.ndim != 1 or a.shape != b.shape or a.size == 0:
        raise InputError(f"{what}: shapes {a.shape} and {b.shape}; expected two 1-D arrays "
                         f"of the same non-zero length")
    return a, b


def colm_node_depths(n: int = N_SOIL_LAYERS) -> np.ndarray:
    """CoLM soil layer node depths (m).

    Notes
    -----
    .. math:: z_j = 0.025\\,(\\exp(0.5 (j - 0.5)) - 1), \\quad j = 1..10

    giving 0.0071, 0.0279, 0.0623, 0.1189, 0.2122, 0.3661, 0.6198, 1.038, 1.728,
    2.865 m.
    """
    j = np.arange(1, n + 1, dtype=float)
    return 0.025 * (np.exp(0.5 * (j - 0.5)) - 1.0)


def colm_layer_thickness(n: int = N_SOIL_LAYERS) -> np.ndarray:
    """CoLM layer thicknesses dz (m): (z2+z1)/2 first, z10-z9 last, half-differences else."""
    z = colm_node_depths(n)
    dz = np.empty(n)
    dz[0] = 0.5 * (z[0] + z[1])
    dz[1:-1] = 0.5 * (z[2:] - z[:-2])
    dz[-1] = z[-1] - z[-2]
    return dz


def colm_interface_depths(n: int = N_SOIL_LAYERS) -> np.ndarray:
    """Depths (m) of the bottom interface of each layer: node midpoints, last z10 + dz10/2."""
    z = colm_node_depths(n)
    zi = np.empty(n)
    zi[:-1] = 0.5 * (z[:-1] + z[1:])
    zi[-1] = z[-1] + 0.5 * colm_layer_thickness(n)[-1]
    return zi


def depth_weights(top: float, bottom: float, n: int = N_SOIL_LAYERS) -> np.ndarray:
    r"""Weights of the CoLM layers in the mean over the depth range [top, bottom] (m).

    Notes
    -----
    The weight of layer j is the fraction of the range it covers,

    .. math:: w_j = \frac{\max(0, \min(z_{i,j}, b) - \max(z_{i,j-1}, t))}{b - t}

    with the interface depths :func:`colm_interface_depths` (:math:`z_{i,0} = 0`). They sum
    to 1 when the range lies within the column; ``depth_weights(0, 0.07)`` gives the 0-7 cm
    mean of the paper's surface layer.
    """
    zi = np.r_[0.0, colm_interface_depths(n)]
    overlap = np.clip(np.minimum(zi[1:], bottom) - np.maximum(zi[:-1], top), 0.0, None)
    return overlap / (bottom - top)


@dataclass(frozen=True)
class LatLonGrid:
    """A rectilinear latitude/longitude grid with a land mask.

    Spacings may vary along each axis (:meth:`from_cells`: the EASE-Grid 2.0 lattice);
    :meth:`from_box` builds the regular grid of a box. Code that needs distances uses the
    per-row/per-column spacings (``np.diff(lat)``, ``np.diff(lon)``), never one resolution.

    Parameters
    ----------
    lat : ndarray, shape (ny,)
        Cell-centre latitudes, degrees_north, strictly monotonic.
    lon : ndarray, shape (nx,)
        Cell-centre longitudes, degrees_east, strictly increasing.
    land : ndarray of bool, shape (ny, nx)
        True where the cell is land (part of the control vector).
    """

    lat: np.ndarray
    lon: np.ndarray
    land: np.ndarray

    def __post_init__(self) -> None:
        lat = np.asarray(self.lat, dtype=float)
        lon = np.asarray(self.lon, dtype=float)
        land = np.asarray(self.land, dtype=bool)
        if lat.ndim != 1 or lon.ndim != 1:
            raise InputError(f"grid: lat and lon must be 1-D, got shapes {lat.shape}, {lon.shape}")
        if land.shape != (lat.size, lon.size):
            raise InputError(f"grid: land mask shape {land.shape} does not match "
                             f"(lat, lon) = ({lat.size}, {lon.size})")
        for name, c in (("lat", lat), ("lon", lon)):
            if not np.all(np.isfinite(c)):
                raise InputError(f"grid: coordinate {name} has non-finite values")
            if c.size > 1 and not (np.all(np.diff(c) > 0) or (name == "lat" and np.all(np.diff(c) < 0))):
                raise InputError(f"grid: coordinate {name} must be strictly monotonic")
        if np.any(np.abs(lat) > 90):
            raise InputError("grid: latitudes must lie within [-90, 90] degrees_north")
        object.__setattr__(self, "lat", lat)
        object.__setattr__(self, "lon", lon)
        object.__setattr__(self, "land", land)

    @classmethod
    def from_box(cls, south: float, north: float, west: float, east: float,
                 resolution: float, land: np.ndarray | None = None) -> "LatLonGrid":
        """Grid of cells of ``resolution`` degrees covering [south, north] x [west, east].

        The paper's domain ``from_box(23, 68, 73, 117, 1.4)`` has 32 x 31 cells. The
        number of cells is ``round((north - south) / resolution)``, centres start half
        a cell inside the south-west corner.
        """
        ny = max(1, int(round((north - south) / resolution)))
        nx = max(1, int(round((east - west) / resolution)))
        lat = south + resolution * (np.arange(ny) + 0.5)
        lon = west + resolution * (np.arange(nx) + 0.5)
        if land is None:
            land = np.ones((ny, nx), dtype=bool)
        return cls(lat, lon, land)

    @classmethod
    def from_cells(cls, lat, lon, source: str = "cells", atol: float = 1e-4,
                   min_fraction: float = 0.05) -> "LatLonGrid":
        """The rectilinear grid whose lattice holds the cells ``(lat[k], lon[k])``; land = the
        cells present.

        Parameters
        ----------
        lat, lon : array_like (n,)
            Cell-centre latitudes and longitudes, degrees. The cells must lie on a lattice: the
            sorted unique latitudes (within ``atol``) are the rows, the sorted unique
            longitudes the columns. Spacings need not be uniform (EASE-Grid 2.0 rows are
            1.25-1.65 deg apart).
        source : str
            Names the file (and variables) in error messages.
        atol : float
            Degrees within which two coordinates are the same lattice line.
        min_fraction : float
            The cells must fill at least this fraction of the lattice their unique
            coordinates span (any n scattered points span an n x n "lattice" with n cells:
            fraction 1/n); the CONUS set fills 412 / (18 x 38) = 60 %.

        Returns
        -------
        LatLonGrid
            Latitudes and longitudes increasing; ``land[i, j]`` True where a cell lies at
            (lat_i, lon_j). The cells' positions in the grid's global land order are
            :meth:`cell_order`.

        Raises
        ------
        InputError
            Not 1-D / different lengths / non-finite, two cells on one lattice point, or the
            cells filling less than ``min_fraction`` of their lattice (not a rectilinear
            lattice); the message names ``source``.
        """
        rows, cols, lat_u, lon_u = _lattice(lat, lon, source, atol, min_fraction)
        land = np.zeros((lat_u.size, lon_u.size), dtype=bool)
        land[rows, cols] = True
        return cls(lat_u, lon_u, land)

    def cell_order(self, lat, lon, source: str = "cells", atol: float = 1e-4) -> np.ndarray:
        """Index into the global land order of each cell ``(lat[k], lon[k])``, shape (n,).

        ``values_on_land = values_per_cell[argsort(order)]``; equivalently
        ``out[order] = values_per_cell``.

        Raises
        ------
        InputError
            A cell not within ``atol`` degrees of a land point of the grid.
        """
        lat, lon = coordinate_pair(lat, lon, f"{source}: lat, lon")
        i = np.searchsorted(self.lat, lat - atol) \
            if self.lat.size == 1 or self.lat[-1] > self.lat[0] else None
        if i is None:
            raise InputError(f"{source}: cell_order needs a grid with increasing latitudes")
        j = np.searchsorted(self.lon, lon - atol)
        i, j = np.minimum(i, self.lat.size - 1), np.minimum(j, self.lon.size - 1)
        off = (np.abs(self.lat[i] - lat) > atol) | (np.abs(self.lon[j] - lon) > atol)
        off |= ~self.land[i, j]
        if np.any(off):
            k = int(np.flatnonzero(off)[0])
            raise InputError(f"{source}: {int(off.sum())} cells are not land points of the "
                             f"grid, the first at lat {lat[k]:g}, lon {lon[k]:g}")
        index = np.full(self.shape, -1, dtype=np.int64)
        index[self.land] = np.arange(self.n_land)
        return index[i, j]

    @property
    def is_uniform(self) -> bool:
        """True when latitudes and longitudes each have one spacing (relative 1e-4)."""
        return all(c.size < 3 or np.allclose(np.diff(c), c[1] - c[0], rtol=1e-4, atol=0)
                   for c in (self.lat, self.lon))

    @property
    def shape(self) -> tuple[int, int]:
        """(ny, nx)."""
        return self.land.shape

    @property
    def n_land(self) -> int:
        """Number of land cells (length of one layer of the control vector)."""
        return int(self.land.sum())

    @property
    def land_index(self) -> np.ndarray:
        """Flat (row-major) indices of land cells: the global order."""
        return np.flatnonzero(self.land)

    @property
    def is_global(self) -> bool:
        """True when the longitudes wrap around the sphere (periodic in x)."""
        if self.lon.size < 2:
            return False
        d = self.lon[1] - self.lon[0]
        return bool(np.isclose(d * self.lon.size, 360.0, rtol=1e-6))

    def to_land(self, field: np.ndarray) -> np.ndarray:
        """Values of a (..., ny, nx) field on the land cells, shape (..., n_land)."""
        return np.asarray(field)[..., self.land]

    def to_field(self, values: np.ndarray, fill: float = np.nan) -> np.ndarray:
        """Scatter (..., n_land) land values into a (..., ny, nx) field, ``fill`` elsewhere."""
        values = np.asarray(values)
        out = np.full(values.shape[:-1] + self.shape, fill, dtype=float)
        out[..., self.land] = values
        return out


def _lattice(lat, lon, source: str, atol: float, min_fraction: float):
    """(row, column) of each cell and the sorted unique lattice lines (see
    :meth:`LatLonGrid.from_cells`)."""
    lat, lon = coordinate_pair(lat, lon, f"{source}: lat, lon")
    if not (np.all(np.isfinite(lat)) and np.all(np.isfinite(lon))):
        raise InputError(f"{source}: lat, lon have non-finite values")
    lines = []
    for name, c in (("lat", lat), ("lon", lon)):
        order = np.argsort(c, kind="stable")
        s = c[order]
        label = np.cumsum(np.r_[True, np.diff(s) > atol]) - 1
        u = np.bincount(label, weights=s) / np.bincount(label)
        idx = np.empty(c.size, dtype=np.int64)
        idx[order] = label
        if np.any(np.abs(u[idx] - c) > atol):
            raise InputError(f"{source}: variable {name!r} does not fall on lattice lines "
                             f"within {atol:g} deg; expected cells of a rectilinear lattice")
        lines.append((idx, u))
    (rows, lat_u), (cols, lon_u) = lines
    flat = rows * lon_u.size + cols
    if np.unique(flat).size != flat.size:
        dup = flat.size - np.unique(flat).size
        raise InputError(f"{source}: {dup} cells share a lattice point with another (lat, lon); "
                         f"the cells are not the points of a rectilinear lattice")
    if flat.size < min_fraction * lat_u.size * lon_u.size:
        raise InputError(f"{source}: the {flat.size} cells span {lat_u.size} distinct "
                         f"latitudes x {lon_u.size} longitudes, so they fill only "
                         f"{flat.size / (lat_u.size * lon_u.size):.1%} of that lattice "
                         f"(< {min_fraction:.0%}); expected the points of a rectilinear "
                         f"lattice (scattered stations are not)")
    return rows, cols, lat_u, lon_u
