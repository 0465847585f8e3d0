"""Benchmark of the image term split by curvelet wedges: the work of each rank, in one process.

Cases ``wedges_paper_32x31`` and ``wedges_global_025deg`` (the fields of
:mod:`landia.benchmarks.analysis`; the global case is skipped with ``--quick``), prefix
``wedges_{case}_``. The problem is built once (default settings); then JI (value and
gradient) is evaluated at the background, ``REPEATS`` times each way, and the median taken:

``serial_ji_s``
    The serial :class:`~landia.analysis.terms.ImageTerm`.
``cost_s``
    J = JB + JO + JI at x (``problem.cost``; a correlated B's minimiser adds its
    control-variable transform's solves to every evaluation).
``root_of{P}_s``
    The root's share of the split term: the fills and their adjoints, one ``rfft2`` and one
    ``irfft2`` per layer (:class:`~landia.analysis.wedge_split.SplitImageTerm`).
``part{p}_of{P}_s``
    Part p's :meth:`~landia.analysis.wedge_split.ImagePart.contribute` with P parts: the
    work of rank p besides the root's share.
``coefficients_part{p}_of{P}``
    Its complex coefficients (the balance the split aims at).
``projected_ji_speedup_{P}ranks``
    serial_ji_s / (root_s + max part): JI's speed-up on P ranks with free cores, no
    communication.
``projected_cost_speedup_{P}ranks``
    The same for the whole J (the rest of J stays on the root).
"""

from __future__ import annotations

import time
from functools import partial

import numpy as np

REPEATS = 5
CASE_NAMES = ("paper_32x31", "global_025deg")


def _median_seconds(work, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        work()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def wedges_case(case: str) -> dict:
    """The per-rank work of JI split by wedges on 2 and 3 ranks, measured in one process."""
    from landia.analysis import build_problem
    from landia.analysis.terms import ImageTerm
    from landia.analysis.wedge_split import InProcessWedges, SplitImageTerm, part_specs
    from landia.config import Settings
    from landia.experiment.cases import benchmark_case

    background, observation = benchmark_case(case)
    problem = build_problem(background, observation, Settings())
    term = next(t for t in problem.cost.terms if isinstance(t, ImageTerm))
    x = np.clip(problem.background, problem.lower, problem.upper)
    prefix = f"wedges_{case}_"
    out = {"land_cells": problem.grid.n_land, "image_layers": len(term.layers),
           "transform_ny": problem.curvelet.transform_shape[0],
           "transform_nx": problem.curvelet.transform_shape[1]}
    serial = _median_seconds(lambda: term.value_and_gradient(x))
    cost = _median_seconds(lambda: problem.cost.value_and_gradient(x))
    out.update(serial_ji_s=serial, cost_s=cost)
    for parts in (2, 3):
        exchange = InProcessWedges(parts)
        exchange.start(part_specs(term, problem.curvelet, parts), problem.curvelet)
        split = SplitImageTerm(term, problem.curvelet, exchange)
        split.value_and_gradient(x)  # warm the parts' work arrays
        samples = []  # per evaluation: root, part 0, part 1, ...
        for _ in range(REPEATS):
            for part in exchange.members:
                part.seconds = 0.0
            split.seconds["root"] = 0.0
            split.value_and_gradient(x)
            samples.append([split.seconds["root"]] + [p.seconds for p in exchange.members])
        root, *shares = np.median(np.array(samples), axis=0).tolist()
        out[f"root_of{parts}_s"] = root
        for p, (share, part) in enumerate(zip(shares, exchange.members)):
            out[f"part{p}_of{parts}_s"] = share
            out[f"coefficients_part{p}_of{parts}"] = part.spec.hi - part.spec.lo
        projected = root + max(shares)
        out[f"projected_ji_speedup_{parts}ranks"] = serial / projected
        out[f"projected_cost_speedup_{parts}ranks"] = cost / (cost - serial + projected)
    return {prefix + k: v for k, v in out.items()}


def _time(line: dict):
    """The timestamp of a JSON log line."""
    from datetime import datetime

    return datetime.fromisoformat(line["timestamp"].replace("Z", "+00:00"))


def analysis_on_ranks_case(case: str = "global_025deg") -> dict:
    """``landia analyse`` of a case on 1 rank (the root's analysis) and on 2 ranks with JI's
    wedges split (``analysis.distribute = "wedges"``), each a child process, prefix
    ``analysis_{case}_``: ``1rank_s`` and ``2ranks_s``, the ``seconds`` of the root's
    ``analysis_done`` line (problem build and minimisation, as ``total_s`` of
    :mod:`landia.benchmarks.analysis` without the scoring), ``2ranks_speedup`` their ratio;
    ``1rank_minimise_s``, ``2ranks_minimise_s`` and ``2ranks_minimise_speedup`` the same for
    the minimisation alone (``analysis_start`` to ``analysis_done``: in a fresh process the
    build holds one-off costs that a cycle pays once); ``2ranks_max_diff`` max |x_2 - x_1|
    (m3 m-3, the stated tolerance is 1e-10)."""
    import json
    import subprocess
    import tempfile
    from pathlib import Path

    from landia.experiment.cases import benchmark_case
    from landia.io.analysis_file import read_analysis
    from landia.io.fields import write_field
    from landia.launch import landia_command, launch_environment

    out = {}
    with tempfile.TemporaryDirectory(prefix="landia-bench-wedges-") as tmp:
        tmp = Path(tmp)
        background, observation = benchmark_case(case)
        write_field(tmp / "bg.nc", background, "background")
        write_field(tmp / "obs.nc", observation, "observation")
        (tmp / "root.toml").write_text("[analysis]\n")
        (tmp / "wedges.toml").write_text('[analysis]\ndistribute = "wedges"\n')
        fields = {}
        for ranks, config in ((1, "root"), (2, "wedges")):
            cmd = landia_command(["--log-format", "json", "analyse", "--config",
                                  str(tmp / f"{config}.toml"), "--background", str(tmp / "bg.nc"),
                                  "--obs", str(tmp / "obs.nc"), "--output",
                                  str(tmp / f"{config}.nc")], ranks, "info")
            done = subprocess.run(cmd, env=launch_environment(openmpi_defaults=True), check=True,
                                  capture_output=True, text=True)
            lines = [json.loads(x) for x in (done.stdout + done.stderr).splitlines()
                     if x.startswith("{")]
            done_line = next(x for x in lines if x.get("event") == "analysis_done")
            start_line = next(x for x in lines if x.get("event") == "analysis_start")
            name = f"{ranks}rank{'s' if ranks > 1 else ''}"
            out[f"{name}_s"] = float(done_line["seconds"])
            out[f"{name}_minimise_s"] = (_time(done_line) - _time(start_line)).total_seconds()
            fields[ranks] = read_analysis(tmp / f"{config}.nc").analysis
        land = np.isfinite(fields[1])
        out["2ranks_max_diff"] = float(np.abs(fields[2][land] - fields[1][land]).max())
    out["2ranks_speedup"] = out["1rank_s"] / out["2ranks_s"]
    out["2ranks_minimise_speedup"] = out["1rank_minimise_s"] / out["2ranks_minimise_s"]
    return {f"analysis_{case}_{k}": v for k, v in out.items()}


CASES = {**{f"wedges_{c}": partial(wedges_case, c) for c in CASE_NAMES},
         "global_025deg_2ranks": analysis_on_ranks_case}
