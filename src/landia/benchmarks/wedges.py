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


CASES = {f"wedges_{c}": partial(wedges_case, c) for c in CASE_NAMES}
