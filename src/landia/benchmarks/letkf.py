"""The LETKF benchmark's driver: one analysis on every rank, as the ensemble cycle runs it.

Run under mpirun through the command line, which takes the communicator
(``mpirun -n 2 python -m landia bench --letkf-driver 40``; :mod:`landia.benchmarks.ensemble`
launches it on 1 and 2 ranks). On the East Asia box at 0.25 deg (23-68 N, 73-117 E, the real
land mask: 31,653 land cells; ``--letkf-resolution`` for another grid) it builds, from whole-grid
draws of a fixed seed (the same on any number of ranks):

- a synthetic ensemble of :data:`MEMBERS` members of :data:`LAYERS` layers (volumetric soil
  moisture, a smooth mean plus white member noise of 0.03 m3 m-3);
- an observation image of the top layer on :data:`OBSERVED_FRACTION` of the land cells
  (random cells, in ascending global order), error variance 4e-4 (m3 m-3)^2.

Each rank then times, for its own cells (:class:`~landia.exchange.decomposition.Decomposition`):
the halo exchange of the members' top layer (:func:`landia.exchange.halo.exchange_halo`, a plan
of radius 2c, the localisation's support), the localisation of its cells' observations in the
halo (:func:`landia.analysis.letkf.localise`, half-width c) and
:func:`landia.analysis.letkf.letkf_analysis` (RTPS 0.7). The figures are the maxima over the
ranks, medians over :data:`REPEATS` analyses (after one untimed):

``land_cells``, ``members``, ``observations``, ``ranks``
``plan_s``
    Building the halo plan (once per run in a cycle, not per analysis).
``halo_s``, ``localise_s``, ``letkf_s``, ``analysis_s``
    The three parts and their sum per rank (issue 15's aim: ``analysis_s`` <= 1 s on 2 ranks).
``halo_cells``, ``obs_per_cell``
    The largest halo of a rank; the mean number of observations in a cell's support.
``xa_digest``
    The first 16 hex digits of the SHA-256 of the analysis members in the global order
    (gathered after the timing): equal on 1 and 2 ranks when the LETKF is bit-identical.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import time

import numpy as np

from landia.analysis.letkf import letkf_analysis, localise
from landia.benchmarks.measure import peak_mb
from landia.exchange.decomposition import Decomposition
from landia.exchange.halo import HaloPlan, exchange_halo
from landia.grid import LatLonGrid
from landia.landmask import model_grid

#: The East Asia box, (south, north, west, east), degrees.
BOX = (23.0, 68.0, 73.0, 117.0)
MEMBERS = 20
LAYERS = 3
OBSERVED_FRACTION = 0.4
OBSERVATION_VARIANCE = 4.0e-4
MEMBER_STD = 0.03
INFLATION = ("rtps", 0.7)
REPEATS = 3
SEED = 20071115


def synthetic_case(grid: LatLonGrid, members: int = MEMBERS, layers: int = LAYERS,
                   seed: int = SEED):
    """(xb (N, n_land, layers), obs_cells (ascending), yo, r_var): the module notes' ensemble
    and observations, from whole-grid draws (rank independent)."""
    rng = np.random.default_rng(seed)
    n = grid.n_land
    jj, ii = np.nonzero(grid.land)
    mean = 0.25 + 0.08 * np.sin(ii / 17.0)[:, None] * np.cos(jj / 23.0)[:, None] \
        + 0.01 * np.arange(layers)[None, :]
    xb = mean[None] + MEMBER_STD * rng.standard_normal((members, n, layers))
    obs_cells = np.flatnonzero(rng.random(n) < OBSERVED_FRACTION)
    truth = mean[obs_cells, 0] + MEMBER_STD * rng.standard_normal(obs_cells.size)
    yo = truth + np.sqrt(OBSERVATION_VARIANCE) * rng.standard_normal(obs_cells.size)
    return xb, obs_cells, yo, np.full(obs_cells.size, OBSERVATION_VARIANCE)


def _analysis(comm, plan, grid, own: slice, lat, lon, xb, is_obs, obs_pos, yo, r_var,
              length_km: float):
    """One timed analysis of this rank's cells: (seconds per part, xa, obs per cell)."""
    comm.Barrier()
    t0 = time.perf_counter()
    cells, values = exchange_halo(comm, plan, np.ascontiguousarray(xb[:, own, 0].T))
    t1 = time.perf_counter()
    seen = is_obs[cells]
    obs_global = cells[seen]                       # ascending global land index
    yb = values[seen].T                            # (N, n_obs in the halo)
    loc = localise(lat[own], lon[own], lat[obs_global], lon[obs_global], length_km)
    t2 = time.perf_counter()
    k = obs_pos[obs_global]
    result = letkf_analysis(xb[:, own, :], yb, yo[k], r_var[k], loc, *INFLATION)
    t3 = time.perf_counter()
    times = {"halo_s": t1 - t0, "localise_s": t2 - t1, "letkf_s": t3 - t2, "analysis_s": t3 - t0}
    return times, result.xa, loc.counts, cells.size


def run_driver(comm, length_km: float, resolution: float = 0.25) -> dict | None:
    """The benchmark on this communicator (module notes); the figures on rank 0, else None."""
    rank, size = comm.Get_rank(), comm.Get_size()
    grid = comm.bcast(model_grid(*BOX, resolution)[0] if rank == 0 else None)
    xb, obs_cells, yo, r_var = synthetic_case(grid)
    decomposition = Decomposition.for_grid(grid, size)
    start = decomposition.displacements[rank]
    own = slice(start, start + decomposition.counts[rank])
    jj, ii = np.nonzero(grid.land)
    lat, lon = grid.lat[jj], grid.lon[ii]
    is_obs = np.zeros(grid.n_land, dtype=bool)
    is_obs[obs_cells] = True
    obs_pos = np.full(grid.n_land, -1, dtype=np.int64)
    obs_pos[obs_cells] = np.arange(obs_cells.size)

    comm.Barrier()
    t0 = time.perf_counter()
    plan = HaloPlan.build(grid, decomposition, 2.0 * length_km)
    plan_s = time.perf_counter() - t0
    runs = [_analysis(comm, plan, grid, own, lat, lon, xb, is_obs, obs_pos, yo, r_var,
                      length_km) for _ in range(REPEATS + 1)][1:]
    local = {name: [r[0][name] for r in runs] for name in runs[0][0]}
    _, xa, counts, halo_cells = runs[-1]
    gathered = comm.gather({"times": local, "plan_s": plan_s, "xa": xa, "counts": counts,
                            "halo_cells": halo_cells, "peak_mb": peak_mb()})
    if rank != 0:
        return None
    figures = {"land_cells": grid.n_land, "members": MEMBERS, "observations": int(yo.size),
               "ranks": size, "plan_s": max(g["plan_s"] for g in gathered)}
    for name in local:  # per repeat the slowest rank, then the median over the repeats
        figures[name] = statistics.median(max(g["times"][name][i] for g in gathered)
                                          for i in range(REPEATS))
    figures["halo_cells"] = max(g["halo_cells"] for g in gathered)
    figures["obs_per_cell"] = float(np.mean(np.concatenate([g["counts"] for g in gathered])))
    xa_all = np.concatenate([g["xa"] for g in gathered], axis=1)
    figures["xa_digest"] = hashlib.sha256(np.ascontiguousarray(xa_all).tobytes()).hexdigest()[:16]
    figures["peak_mb"] = max(g["peak_mb"] for g in gathered)
    return figures


def print_figures(comm, length_km: float, resolution: float = 0.25) -> int:
    """Run the driver; rank 0 prints its figures as one JSON line. Returns 0."""
    figures = run_driver(comm, length_km, resolution)
    if figures is not None:
        print(json.dumps(figures), flush=True)
    return 0
