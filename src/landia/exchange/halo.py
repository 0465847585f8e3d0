"""The observation halo of each rank for the LETKF, and its exchange (one Alltoallv).

A rank analyses its own land cells (a contiguous block of the global order, see
:mod:`landia.exchange.decomposition`); the local analysis of a cell uses the observations
within the localisation support around it, some of them at cells of other ranks. The *halo* of
a rank is the set of land cells within ``radius_km`` of any of its cells, its own cells
included:

.. math::

    H_r = \\{ j : \\min_{i \\in B_r} d(i, j) \\le R \\}, \\qquad
    d(i, j) = 2 a \\arcsin \\sqrt{\\sin^2 \\tfrac{\\phi_j - \\phi_i}{2}
              + \\cos\\phi_i \\cos\\phi_j \\sin^2 \\tfrac{\\lambda_j - \\lambda_i}{2}}

(great-circle distance between cell centres by the haversine formula, km, ``a = 6371`` km;
:math:`B_r` the block of rank ``r``). ``R = inf`` (or ``R`` at least half the circumference)
gives every land cell.

:class:`HaloPlan` is pure arithmetic, the same on every rank (no MPI): the halos of all ranks
and who sends what to whom. :func:`exchange_halo` moves the members' values with one
``Alltoallv`` (mpi4py buffer interface; the communicator is an argument).

How the halo is found, without an ``n x n`` distance matrix: the cell centres become 3-D unit
vectors; per rank, a k-d tree (:class:`scipy.spatial.cKDTree`) of its own cells answers, for
every land cell in the latitude band that can reach them (``|phi_j - phi_i| <= R / a``), the
chord to the nearest own cell. The chord :math:`c = 2 \\sin(d / 2a)` grows with ``d``, so
``c <= 2 sin(R / 2a)`` is the test; the few cells within a relative ``1e-7`` of that limit
are decided by the haversine distance itself. Cost ``O(n log n)`` per rank whatever the radius;
longitude wrap-around and the poles need no special case.

Measured 2026-12-02 (2-core development machine, scipy 1.17, best of 3 builds; peak memory:
tracemalloc's peak during the build, which the process's peak RSS growth, 3.2-3.7 MiB,
confirms). 0.25 deg East Asia (23-68 N, 73-117 E, 180 x 176, 31,653 land cells):

=====  =========  =========  ===========  ===========  ========================
ranks  radius km  build (s)  peak (MiB)   plan (MiB)   halo cells per rank
=====  =========  =========  ===========  ===========  ========================
2      80         0.024      2.9          0.25         16,180 - 16,181
4      80         0.023      2.9          0.26         8,268 - 8,622
8      80         0.023      2.9          0.28         4,311 - 4,667
16     80         0.029      2.9          0.32         2,333 - 2,690
2      500        0.025      2.9          0.29         18,826 - 18,827
16     500        0.064      2.9          0.91         4,977 - 7,985
=====  =========  =========  ===========  ===========  ========================

(80 km: the support 2c of a 40 km Gaspari-Cohn half-width.) 1 deg global (180 x 360, 21,458
land cells), 16 ranks: 0.011 s at 80 km, 0.056 s at 2,000 km. The plan holds every rank's
halo as int64 (8 bytes per halo cell, summed over ranks); ``radius_km = inf`` on 16 ranks:
3.9 MiB. :func:`exchange_halo` of 20 members at 0.25 deg East Asia, 2 ranks: 0.5 ms (80 km)
and 0.6 ms (500 km). See ``docs/ensemble.md``, "Halo exchange".
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import cKDTree

from landia.exchange.decomposition import Decomposition
from landia.grid import EARTH_RADIUS_KM, great_circle_km

#: Relative width of the chord band whose cells are decided by the haversine distance.
_BORDER = 1e-7
#: ... and its absolute width, Earth radii (6 micrometres: centres that coincide, at a pole).
_BORDER_ABS = 1e-12


def _unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    phi, lam = np.deg2rad(lat), np.deg2rad(lon)
    return np.column_stack((np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)))


def _radius(value) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(f"radius_km: expected a number >= 0 (km) or inf; got {value!r}")
    value = float(value)
    if math.isnan(value) or value < 0:
        raise ValueError(f"radius_km: expected a number >= 0 (km) or inf; got {value}")
    return value


def _halo(own: slice, lat: np.ndarray, lon: np.ndarray, xyz: np.ndarray,
          radius_km: float) -> np.ndarray:
    """Ascending global indices of the land cells within ``radius_km`` of the cells ``own``."""
    if own.stop == own.start:
        return np.empty(0, dtype=np.int64)
    theta = radius_km / EARTH_RADIUS_KM               # angular radius, rad
    if theta >= math.pi:
        return np.arange(lat.size, dtype=np.int64)
    # A cell within distance d has |dlat| <= d: only the latitude band can be reached
    # (widened like the chord below, so that rounding cannot drop a cell at the radius).
    reach = math.degrees(theta) * (1 + _BORDER) + 1e-9
    own_lat = lat[own]
    band = np.flatnonzero((lat >= own_lat.min() - reach) & (lat <= own_lat.max() + reach))
    limit = 2 * math.sin(theta / 2)                   # the chord of radius_km, Earth radii
    low, high = limit * (1 - _BORDER) - _BORDER_ABS, limit * (1 + _BORDER) + _BORDER_ABS
    tree = cKDTree(xyz[own])
    chord, _ = tree.query(xyz[band], k=1, distance_upper_bound=high)
    inside = chord <= low
    for j in np.flatnonzero(np.isfinite(chord) & ~inside):   # at the limit: the haversine decides
        near = np.asarray(tree.query_ball_point(xyz[band[j]], high), dtype=np.int64) + own.start
        # (own cell, candidate) in the order of landia.analysis.letkf.localise's
        # (target, observation): the same haversine gives the same bits.
        d = great_circle_km(lat[near], lon[near], lat[band[j]], lon[band[j]])
        inside[j] = bool(np.any(d <= radius_km))
    return band[inside].astype(np.int64)


@dataclass(frozen=True)
class HaloPlan:
    """The halo of every rank and the routes of its exchange (pure arithmetic, no MPI).

    Build with :meth:`build`; every rank builds the same plan from the same grid,
    decomposition and radius.

    Attributes
    ----------
    decomposition : Decomposition
        Which land cells each rank owns.
    radius_km : float
        The halo radius R, km (the localisation support, ``2 c`` for a Gaspari-Cohn
        half-width ``c``); ``inf`` for every land cell.
    """

    decomposition: Decomposition
    radius_km: float
    _halos: tuple = field(repr=False)

    @classmethod
    def build(cls, grid, decomposition: Decomposition, radius_km: float) -> HaloPlan:
        """The halos of all ranks of ``decomposition`` on ``grid``.

        Parameters
        ----------
        grid : landia.grid.LatLonGrid
            The model grid; its land cells in :attr:`~landia.grid.LatLonGrid.land_index`
            order are the global order of ``decomposition``.
        decomposition : Decomposition
            ``decomposition.n_cells == grid.n_land``.
        radius_km : float
            R >= 0, km, or ``inf``.

        Raises
        ------
        ValueError
            When the decomposition does not cover the grid's land cells, or the radius is
            negative or NaN.
        """
        radius = _radius(radius_km)
        n = int(grid.n_land)
        if decomposition.n_cells != n:
            raise ValueError(f"decomposition: has {decomposition.n_cells} cells; the grid has "
                             f"{n} land cells")
        rows, cols = np.divmod(grid.land_index, grid.shape[1])
        lat, lon = grid.lat[rows], grid.lon[cols]
        if math.isinf(radius):
            every = np.arange(n, dtype=np.int64)
            halos = [every if decomposition.counts[r] else np.empty(0, dtype=np.int64)
                     for r in range(decomposition.size)]
        else:
            xyz = _unit_vectors(lat, lon)
            halos = [_halo(decomposition.block(r), lat, lon, xyz, radius)
                     for r in range(decomposition.size)]
        for h in halos:
            h.setflags(write=False)
        return cls(decomposition, radius, tuple(halos))

    @property
    def size(self) -> int:
        """Number of ranks."""
        return self.decomposition.size

    def _index(self, rank) -> int:
        self.decomposition.count(rank)                # ValueError naming a bad rank
        return int(rank)

    def halo_cells(self, rank: int) -> np.ndarray:
        """Ascending global indices of the land cells within R of any cell of ``rank``, its
        own cells included (empty for a rank without cells); read-only int64."""
        return self._halos[self._index(rank)]

    def _from(self, rank: int) -> np.ndarray:
        """Bounds of each source rank's part of ``halo_cells(rank)``: shape (size + 1,)."""
        ends = np.concatenate(([0], np.cumsum(self.decomposition.counts)))
        return np.searchsorted(self.halo_cells(rank), ends)

    def receives(self, rank: int) -> dict[int, np.ndarray]:
        """``{source: global indices}`` that ``rank`` receives from each other rank (its own
        cells and the ranks it receives nothing from are left out); ascending int64."""
        halo, bounds = self.halo_cells(rank), self._from(rank)
        return {src: halo[bounds[src]:bounds[src + 1]] for src in range(self.size)
                if src != rank and bounds[src + 1] > bounds[src]}

    def sends(self, rank: int) -> dict[int, np.ndarray]:
        """``{destination: global indices}`` of its own cells that ``rank`` sends to each other
        rank (``sends(a)[b]`` is ``receives(b)[a]``); ascending int64."""
        self._index(rank)
        out = {}
        for dest in range(self.size):
            if dest != rank:
                bounds = self._from(dest)
                if bounds[rank + 1] > bounds[rank]:
                    out[dest] = self.halo_cells(dest)[bounds[rank]:bounds[rank + 1]]
        return out

    def routes(self, rank: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What ``rank`` does in the exchange, itself included as a destination and source.

        Returns
        -------
        send_rows : ndarray of int64
            Rows of the rank's local array to send, destination by destination (rank order).
        send_counts : ndarray of int64, shape (size,)
            Cells sent to each rank.
        recv_counts : ndarray of int64, shape (size,)
            Cells received from each rank; they arrive in rank order, which is the ascending
            order of ``halo_cells(rank)``.
        """
        r = self._index(rank)
        start = self.decomposition.displacements[r]
        parts = []
        for dest in range(self.size):
            bounds = self._from(dest)
            parts.append(self.halo_cells(dest)[bounds[r]:bounds[r + 1]] - start)
        send_counts = np.array([p.size for p in parts], dtype=np.int64)
        send_rows = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
        return send_rows.astype(np.int64), send_counts, np.diff(self._from(r))


def _displacements(counts: np.ndarray) -> np.ndarray:
    return np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)


def exchange_halo(comm, plan: HaloPlan, local_values: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Give every rank the values at its halo cells (one ``Alltoallv``).

    Parameters
    ----------
    comm : mpi4py.MPI.Comm
        The run's communicator (``comm.size == plan.size``).
    plan : HaloPlan
        The same plan on every rank.
    local_values : ndarray of float64, shape (n_local, k)
        Values (any unit; e.g. the N members' model equivalents, k = N) at the rank's own
        cells in the global order (``n_local == plan.decomposition.count(comm.rank)``, may be
        0). ``k >= 0`` must be the same on every rank; it may change from call to call.

    Returns
    -------
    cells : ndarray of int64, shape (n_halo,)
        ``plan.halo_cells(comm.rank)``: ascending global indices.
    values : ndarray of float64, shape (n_halo, k)
        The values at those cells, the rank's own included; bit-identical to the rows
        ``cells`` of the global array.

    Raises
    ------
    ValueError
        On every rank, when the communicator does not match the plan or any rank's array has
        the wrong dtype, shape or a ``k`` different from the others' (checked with one
        allgather before any data moves, so no rank waits forever).
    """
    if comm.Get_size() != plan.size:
        raise ValueError(f"communicator has {comm.Get_size()} ranks; the halo plan expects "
                         f"{plan.size}")
    rank = comm.Get_rank()
    arr = np.asarray(local_values)
    n_local = plan.decomposition.count(rank)
    error = None
    if arr.dtype != np.float64:
        error = f"local values: expected dtype float64; got {arr.dtype}"
    elif arr.ndim != 2 or arr.shape[0] != n_local:
        error = f"local values: expected shape ({n_local}, k); got {arr.shape}"
    k = int(arr.shape[1]) if arr.ndim == 2 else None
    info = comm.allgather((error, k))
    bad = [f"rank {r}: {e}" for r, (e, _) in enumerate(info) if e is not None]
    if bad:
        raise ValueError("; ".join(bad))
    if len({kk for _, kk in info}) != 1:
        raise ValueError("local values: expected the same k (values per cell) on every rank; "
                         "got " + ", ".join(f"rank {r}: {kk}" for r, (_, kk) in enumerate(info)))
    send_rows, send_counts, recv_counts = plan.routes(rank)
    send = np.ascontiguousarray(arr[send_rows])
    cells = plan.halo_cells(rank)
    values = np.empty((cells.size, k), dtype=np.float64)
    # Counts in doubles; the datatype comes from the float64 buffers (no mpi4py import here).
    comm.Alltoallv([send, (send_counts * k, _displacements(send_counts) * k)],
                   [values, (recv_counts * k, _displacements(recv_counts) * k)])
    return cells, values
