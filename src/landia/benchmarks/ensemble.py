"""Benchmarks of the ensemble (issue 15): the stacked model step and the LETKF analysis.

Ensemble model step, cases ``ensemble_step_paper`` (991 columns, the demo grid's land cells)
and ``ensemble_step_eastasia_025`` (31,653 columns, the East Asia 0.25 deg grid's; not with
``--quick``), prefix ``ensemble_step_{grid}_``: the whole column step
(:func:`landia.columns.model.step`) of :data:`MEMBERS` members stacked member-major in one state
of 20 n columns (column m n + i is member m of cell i; the layout of the ensemble cycle,
docs/ensemble.md), against the step of the n columns alone, both measured in the same process
as :mod:`landia.benchmarks.columns` measures (random but physical columns, medians over >= 5
steps after a warm-up). The members are the n columns tiled 20 times (numpy), so both steps do
the same arithmetic per column.

``columns``, ``members``
    n and N.
``deterministic_step_s``, ``ensemble_step_s``
    Median seconds of one step of n, and of N n, columns.
``ratio``
    ``ensemble_step_s / (members * deterministic_step_s)`` (issue 15's aim: <= 1.1).
``block_members``, ``blocked_step_s``, ``blocked_ratio``
    The same N n columns stepped in blocks of ``block_members`` members (at most
    :data:`landia.columns.ensemble.BLOCK_COLUMNS` columns a call, the cycle's blocks): with
    633,060 columns in one call every array of the step (50 MB for one of 10 layers) is above
    glibc's largest mmap threshold (32 MB), so each temporary is a fresh mapping whose pages
    the kernel zeroes on first touch (measured: 2.7x the 20 separate steps, most of it system
    time); blocks of about 64k columns keep the temporaries in the heap.
``peak_mb``
    Peak resident memory of the case's process.

LETKF analysis, cases ``letkf_eastasia_025_{40,150}km`` (not with ``--quick``): the driver
:mod:`landia.benchmarks.letkf` under ``mpirun -n 1`` and ``-n 2`` (see its figures there),
prefix ``letkf_eastasia_025_{L}km_{r}rank_``.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from functools import partial

import numpy as np

from landia.benchmarks.columns import step_problem, stepper
from landia.benchmarks.measure import peak_mb, timed_steps
from landia.columns.ensemble import member_blocks
from landia.launch import launch_environment

#: Members of the benchmarked ensemble (CoLM202X's default).
MEMBERS = 20
#: Land cells of the grids: the demo's (32 x 31 at 1.4 deg) and East Asia at 0.25 deg.
GRID_COLUMNS = {"paper": 991, "eastasia_025": 31_653}
#: Localisation half-widths of the LETKF cases, km (CoLM202X's 40 km, and a wider one).
LETKF_LENGTHS_KM = (40.0, 150.0)
#: Ranks of the LETKF cases.
LETKF_RANKS = (1, 2)


def _tiled(a, members: int):
    """``a`` repeated ``members`` times along its first axis (member-major)."""
    a = np.asarray(a)
    return np.tile(a, (members,) + (1,) * (a.ndim - 1))


def tile_problem(state, params, forcings, lai, members: int):
    """The problem of :func:`~landia.benchmarks.columns.step_problem` for ``members`` copies of
    its columns, stacked member-major (state, parameters, forcings and LAI tiled)."""
    # The column model, imported by the case that runs it (the module's imports stay light).
    from landia.columns.model import ModelState
    from landia.columns.state import ColumnParameters

    big = ModelState.from_arrays({k: _tiled(v, members) for k, v in state.arrays().items()})
    soil = params.soil
    soil = dataclasses.replace(soil, **{f.name: _tiled(getattr(soil, f.name), members)
                                        for f in dataclasses.fields(soil)
                                        if isinstance(getattr(soil, f.name), np.ndarray)})
    big_params = ColumnParameters(soil=soil, root_fraction=_tiled(params.root_fraction, members),
                                  land_cover=tuple(params.land_cover) * members)
    big_forcings = [{k: _tiled(v, members) for k, v in f.items()} for f in forcings]
    return big, big_params, big_forcings, _tiled(lai, members)


def ensemble_step_case(name: str, members: int = MEMBERS, columns: int | None = None) -> dict:
    """The step of ``members`` stacked copies of n columns against ``members`` times the
    step of the n columns (module notes)."""
    n = GRID_COLUMNS[name] if columns is None else int(columns)
    problem = step_problem(n)
    det_s, _ = timed_steps(stepper(*problem))
    ens_s, steps = timed_steps(stepper(*tile_problem(*problem, members)))
    spans = member_blocks(members, n)                  # the ensemble cycle's blocks
    block = spans[0][1] - spans[0][0]
    blocks = [stepper(*tile_problem(*problem, stop - first)) for first, stop in spans]
    blocked_s, _ = timed_steps(lambda: [advance() for advance in blocks])
    figures = {"columns": n, "members": members, "deterministic_step_s": det_s,
               "ensemble_step_s": ens_s, "steps": steps,
               "ratio": ens_s / (members * det_s), "block_members": block,
               "blocked_step_s": blocked_s, "blocked_ratio": blocked_s / (members * det_s),
               "peak_mb": peak_mb()}
    return {f"ensemble_step_{name}_{k}": v for k, v in figures.items()}


def letkf_command(ranks: int, length_km: float, resolution: float = 0.25) -> list[str]:
    """``mpirun -n ranks python -m landia bench --letkf-driver KM`` (``-n 1`` runs under mpirun
    too, so both pay the same start-up)."""
    return ["mpirun", "-n", str(ranks), sys.executable, "-m", "landia", "--log-level", "error",
            "bench", "--letkf-driver", str(length_km), "--letkf-resolution", str(resolution)]


def letkf_case(length_km: float, grid: str = "eastasia_025", resolution: float = 0.25) -> dict:
    """The LETKF driver on 1 and 2 ranks; its figures, prefixed by grid, length and ranks, and
    ``speedup_2ranks`` and ``identical_1_2ranks`` (equal ``xa_digest``)."""
    out: dict = {}
    for ranks in LETKF_RANKS:
        proc = subprocess.run(letkf_command(ranks, length_km, resolution), stdout=subprocess.PIPE,
                              text=True, check=True,
                              env=launch_environment(openmpi_defaults=True))
        figures = json.loads(proc.stdout.strip().splitlines()[-1])
        out.update({f"letkf_{grid}_{length_km:g}km_{ranks}rank_{k}": v
                    for k, v in figures.items()})
    one = out[f"letkf_{grid}_{length_km:g}km_1rank_analysis_s"]
    two = out[f"letkf_{grid}_{length_km:g}km_2rank_analysis_s"]
    out[f"letkf_{grid}_{length_km:g}km_speedup_2ranks"] = one / two
    digests = {out[f"letkf_{grid}_{length_km:g}km_{r}rank_xa_digest"] for r in LETKF_RANKS}
    out[f"letkf_{grid}_{length_km:g}km_identical_1_2ranks"] = len(digests) == 1
    return out


CASES = {
    **{f"ensemble_step_{g}": partial(ensemble_step_case, g) for g in GRID_COLUMNS},
    **{f"letkf_eastasia_025_{length:g}km": partial(letkf_case, length)
       for length in LETKF_LENGTHS_KM},
}
