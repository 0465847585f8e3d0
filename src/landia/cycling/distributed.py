"""The analysis on every rank: the analysed layers solved as independent problems.

When the 3D-Var cost separates into per-layer costs (:func:`landia.analysis.layered.separable`)
the cycle does not leave the other ranks waiting while the root minimises: the root
broadcasts the background and observation fields, rank r solves the layers k with
k mod size = r (:func:`landia.analysis.layered.analyse_layer`, each with its own minimiser on
``COMM_SELF``), and the per-layer analyses are gathered to the root, which combines them
(:func:`landia.analysis.layered.combine_layers`) and scatters the increments as before.

Every rank computes its layers with the same functions on the same inputs as
:func:`landia.analysis.layered.run_layered_analysis` does in one process, so the result does
not depend on the number of ranks (bit for bit; tests/mpi/test_distributed_analysis.py).

Failures are agreed before the gather, so no rank waits forever: a ConfigError on any rank
(a bad PETSc option) is raised on every rank; an unexpected exception on any rank becomes a
RuntimeError on every rank; an input problem of one layer (e.g. a layer without a usable
observation, which the joint analysis accepts) is reported to the root, which then runs the
joint analysis of that cycle itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from landia.analysis.layered import LayerAnalysis, analyse_layer, separable
from landia.cycling.wedge_exchange import wedge_analysis_on_ranks
from landia.errors import ConfigError, LandiaError
from landia.exchange.guards import on_root, wait_for_all


def layers_of_rank(layers: int, size: int, rank: int) -> list[int]:
    """The analysed layers rank ``rank`` of ``size`` solves: k = rank, rank + size, ..."""
    return list(range(rank, layers, size))


@dataclass
class LayeredOutcome:
    """On the root: the layers' analyses (every layer once), or why one layer failed."""

    parts: list[LayerAnalysis] | None
    failure: str | None = None


def analyse_layers_on_ranks(comm, settings, task,
                            normalisation_cache=None) -> LayeredOutcome | None:
    """Solve the analysed layers across the ranks of ``comm``; call on every rank.

    Parameters
    ----------
    comm : MPI communicator
    settings : Settings
        The same on every rank.
    task : tuple or None
        On the root: (background field, observation field, image-error variances or None),
        or None when this cycle has no analysis; ignored elsewhere.
    normalisation_cache : path, optional
        The folder keeping the correlated B's normalisation (:func:`analyse_layer`), the same
        on every rank (atomic writes: ranks may store the same file at once).

    Returns
    -------
    LayeredOutcome on the root (None when ``task`` was None); None on the other ranks.

    Raises
    ------
    ConfigError
        On every rank, when a layer's analysis raised one on any rank.
    RuntimeError
        On every rank, when a layer's analysis raised anything but a LandiaError.
    """
    task = comm.bcast(task, root=0)
    if task is None:
        return None
    background, observation, variances = task
    mine, failure, fatal = [], None, None
    for k in layers_of_rank(settings.analysis.layers, comm.Get_size(), comm.Get_rank()):
        try:
            mine.append(analyse_layer(background, observation, settings, k, variances,
                                      normalisation_cache))
        except ConfigError as exc:
            fatal = ("ConfigError", str(exc))
            break
        except LandiaError as exc:
            failure = f"layer {k + 1}: {type(exc).__name__}: {exc}"
            break
        except Exception as exc:  # noqa: BLE001 -- raised again on every rank below
            fatal = ("RuntimeError", f"{type(exc).__name__}: {exc}")
            break
    wait_for_all(comm)  # sleep-poll while the slowest rank minimises
    fatal_all = [(r, f) for r, f in enumerate(comm.allgather(fatal)) if f]
    if fatal_all:
        message = "; ".join(f"rank {r}: layer analysis: {m}" for r, (_, m) in fatal_all)
        if any(kind == "ConfigError" for _, (kind, _) in fatal_all):
            raise ConfigError(message)
        raise RuntimeError(message)
    gathered = comm.gather((mine, failure), root=0)
    if comm.Get_rank() != 0:
        return None
    failures = [f for _, f in gathered if f]
    if failures:
        return LayeredOutcome(parts=None, failure="; ".join(failures))
    return LayeredOutcome(parts=[p for parts, _ in gathered for p in parts])


def distribution(settings, size: int) -> str | None:
    """How a cycle on ``size`` ranks spreads its analysis: ``"layers"`` (when J separates,
    :func:`landia.analysis.layered.separable`; on any number of ranks), ``"wedges"`` (on 2
    ranks or more, :mod:`landia.cycling.wedge_exchange`), or None (the root alone)."""
    mode = settings.analysis.distribute
    if mode == "wedges":
        return "wedges" if size > 1 else None
    if mode is True and separable(settings) is None:
        return "layers"
    return None


def analysis_on_ranks(runner, background: np.ndarray, window, record: dict):
    """Every rank: a cycle's analysis with its layers solved on different ranks (or, with
    ``runner.distribute == "wedges"``, JI's wedges: :mod:`landia.cycling.wedge_exchange`);
    the increments (n_land, layers) on the root, None elsewhere. ``runner`` is the cycle
    (:class:`landia.cycling.run.CycleRunner`): its root prepares the fields and accepts,
    writes and records the combined analysis as it does a joint one."""
    if runner.distribute == "wedges":
        return wedge_analysis_on_ranks(runner, background, window, record)
    comm = runner.comm
    prepared = on_root(comm, lambda: runner._prepare_analysis(background, window))
    task = None if prepared is None else (prepared[0], prepared[2], runner.image_error.values)
    outcome = analyse_layers_on_ranks(comm, runner.settings, task, runner.run_dir / "cache")

    def finish():
        inc = None
        if prepared is not None and outcome.failure is not None:
            runner.log.info("analysis_joint_fallback", cycle=window.index,
                            reason=outcome.failure)
            inc = runner._solve(prepared, background, window, record)
        elif prepared is not None:
            inc = runner._solve(prepared, background, window, record, outcome.parts)
        record["analysed"] = inc is not None
        return np.zeros((runner.grid.n_land, runner.layers)) if inc is None else inc
    return on_root(comm, finish)
