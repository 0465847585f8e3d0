"""Benchmark of the image 3D-Var analysis: time, iterations, memory and where the time goes.

Cases ``paper_32x31`` (23-68 N, 73-117 E at 1.4 deg, the paper's grid), ``global_1deg``
(180 x 360), ``global_025deg`` (720 x 1440) and ``global_01deg`` (1800 x 3600, about 2.1 M land
cells; with ``curvelet.fft_shape``, :data:`CASE_SETTINGS`), prefix ``analysis_{case}_``;
``--quick`` skips the last two. The fields are :func:`landia.experiment.cases.benchmark_case`: land from
``global_land_mask``; synthetic truth, background (truth + smooth error of std 0.05),
observation (truth + white noise of std 0.02), 3 layers, porosity 0.45;
:func:`landia.analysis.run_analysis` with default :class:`~landia.config.Settings`.

Figures
-------
``ny``, ``nx``, ``land_cells``, ``unknowns``
    Grid size and control-vector length (3 layers x land cells).
``build_s``, ``minimise_s``, ``total_s``
    Problem assembly (QC, E, C, P), the TAO minimisation (including J at the
    start point), and the whole ``run_analysis`` call (also scoring).
``iterations``, ``evaluations``, ``reason``
    Minimiser iterations, J-and-gradient evaluations, TAO's converged reason.
``cost_share``
    Fraction of ``minimise_s`` spent evaluating J and its gradient (the rest is
    TAO's own work: line search bookkeeping, L-BFGS updates).
``curvelet_share``, ``embedding_share``
    Fraction of ``total_s`` spent in C/C^T and in E/E^T. They are shares of the
    whole call, not of ``minimise_s``, because the operators' counters also
    include the few applications made while building and scoring.
``pair_s``, ``total_in_pairs``
    Median seconds of one curvelet forward + adjoint at the case's transform
    shape (``transform_ny``, ``transform_nx``), and ``total_s`` expressed in
    such pairs. The gradient of JI costs one pair per layer, so a converged
    analysis costs at least ``3 x evaluations`` pairs.
``peak_mb``, ``import_mb``
    Peak resident memory of the case's process at its end, and after the
    imports only (the floor: Python, numpy, scipy, PETSc, curvelets).
``control_vector_mb``, ``image_mb``, ``peak_in_images``
    Size of one control vector and of one float64 image of the grid, and
    ``peak_mb - import_mb`` in such images: the memory references.
``correlation_build_s``, ``correlation_mb``, ``normalisation``
    With a correlated B (``analysis.correlation_length_km`` > 0): building C (the diffusion
    operator, its LU factors and the normalisation; once per grid and process), the size of
    A's factors, and how N was computed (``exact`` or ``randomised``).
``preconditioner_build_s``, ``preconditioner_mb``, ``transform_share``, ``clipped``
    The factorisation of the control-variable transform's F = A^{m/2} + Gamma^1/2 (every
    analysis), its size, the share of ``total_s`` in the transform's solves and products,
    and the analysis values clipped to the bounds.
``scc_before``, ``scc_after``
    Spatial correlation of the top layer with the observation image, for the
    background and for the analysis.
``error``
    Only when ``run_analysis`` raised (e.g. TAO stopped at
    ``minimiser.max_iterations``): the message, in place of the minimiser
    figures; ``total_s`` and the memory figures are still given.

``fft_shape``
    The case's ``curvelet.fft_shape`` (padding to fast FFT lengths: at 0.1 deg 1920 rather
    than 1808 rows, docs/curvelet-speed.md).

The aims these cases are read against (:mod:`landia.benchmarks.aims`) are printed at the end of
the run.
"""

from __future__ import annotations

import time
from functools import partial

import numpy as np

from landia.benchmarks.measure import pair_seconds, peak_mb
from landia.errors import LandiaError

#: The analysis cases, in the order they run (their grids:
#: :func:`landia.experiment.cases.benchmark_grid`).
CASE_NAMES = ("paper_32x31", "global_1deg", "global_025deg", "global_01deg")
#: Settings a case runs with, other than the defaults: section -> {key: value}. At 0.1 deg the
#: smallest UDCT shape has 1808 = 16 x 113 rows; fast FFT lengths pad them to 1920.
CASE_SETTINGS = {"global_01deg": {"curvelet": {"fft_shape": True}}}


def analysis_case(case: str) -> dict:
    """One default-settings analysis of a case; its figures, prefixed ``analysis_{case}_``.

    An analysis that raises (e.g. TAO stopping at its iteration limit) is a result
    too: its figures then carry ``error`` and what was measured up to it.
    """
    # Imported here, not at the top: every case's process (and the driver, whose peak its
    # children start from) imports this module; the analysis' imports (scipy, curvelets,
    # PETSc: ~120 MB) must count in this case's import_mb and peak_mb only.

    from landia.analysis import run_analysis
    from landia.analysis.minimisers.tao import init_petsc
    from landia.config import Settings
    from landia.experiment.cases import benchmark_case

    init_petsc()  # imports and initialises PETSc: counted here

    import_mb = peak_mb()
    background, observation = benchmark_case(case)
    ny, nx = background.shape
    land_cells = int(np.isfinite(background.values[0]).sum())
    unknowns = 3 * land_cells
    image_mb = ny * nx * 8 / 2**20
    settings = Settings()
    for section, changes in CASE_SETTINGS.get(case, {}).items():
        settings = settings.replace(section, **changes)
    figures = {"ny": ny, "nx": nx, "land_cells": land_cells, "unknowns": unknowns,
               "fft_shape": settings.curvelet.fft_shape}
    t0 = time.perf_counter()
    try:
        result = run_analysis(background, observation, settings)
    except LandiaError as exc:
        result, figures["error"] = None, f"{type(exc).__name__}: {exc}"
    total = time.perf_counter() - t0
    peak = peak_mb()  # before the extra pair timing below
    if result is not None:
        tm, curvelet = result.timings, result.problem.curvelet
        pair = pair_seconds(curvelet)
        figures.update({
            "build_s": tm["build_seconds"], "minimise_s": tm["minimise_seconds"],
            "total_s": total,
            "iterations": result.minimiser.iterations, "evaluations": tm["evaluations"],
            "reason": result.minimiser.reason,
            "cost_share": tm["cost_seconds"] / tm["minimise_seconds"],
            "curvelet_share": tm["curvelet_seconds"] / total,
            "embedding_share": tm["embedding_seconds"] / total,
            "transform_ny": curvelet.image_shape[0], "transform_nx": curvelet.image_shape[1],
            "pair_s": pair, "total_in_pairs": total / pair,
            **_correlation_figures(result, total),
            "scc_before": result.scores["background"]["layer1"]["scc"],
            "scc_after": result.scores["analysis"]["layer1"]["scc"],
        })
    else:
        figures["total_s"] = total
    figures.update({"peak_mb": peak, "import_mb": import_mb,
                    "control_vector_mb": unknowns * 8 / 2**20, "image_mb": image_mb,
                    "peak_in_images": (peak - import_mb) / image_mb})
    return {f"analysis_{case}_{k}": v for k, v in figures.items()}


def _correlation_figures(result, total: float) -> dict:
    """The correlated B's figures (none for the diagonal B)."""
    transform = result.problem.transform
    if transform is None:
        return {}
    tm = result.timings
    return {"correlation_build_s": tm["correlation_build_seconds"],
            "correlation_mb": tm["correlation_mb"],
            "normalisation": transform.correlation.method,
            "preconditioner_build_s": tm["preconditioner_build_seconds"],
            "preconditioner_mb": tm["preconditioner_mb"],
            "transform_share": tm["transform_seconds"] / total,
            "clipped": result.minimiser.clipped}


CASES = {c: partial(analysis_case, c) for c in CASE_NAMES}
