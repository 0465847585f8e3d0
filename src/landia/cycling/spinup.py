"""Spin-up: the configured period cycled in CTRL mode until the state stops drifting.

``spin_up(comm, settings, run_dir)`` is what ``landia spinup --config C --run-dir D`` runs on
every rank. Pass ``k`` (1, 2, ...) is a complete CTRL run (``cycle.mode = "ctrl"``: no
analysis) of the period ``[cycle.start, cycle.end)`` in its own run directory ``D/pass-<k>/``
(:func:`landia.cycling.run.run_cycles`, with its checkpoints, states and run log). Pass 1
starts from the usual cold start (``cycle.initial_saturation``); pass ``k > 1`` starts from
the final state of pass ``k - 1`` (the newest checkpoint of ``D/pass-<k-1>/``, handed to
``run_cycles`` as its ``initial_state``).

After every pass from the second on, the **drift** between the final states of the two
latest passes is computed over the land cells: per layer, the domain-mean and the maximum
absolute change of the volumetric soil moisture (liquid + ice, m3 m-3), and the same of the
total column water (soil, pond, snow and aquifer, mm). The spin-up has converged when the
maximum absolute change of soil moisture in every layer that reaches into the top metre
(layers 1-8 of CoLM's 10; the 8th spans 0.83-1.38 m) is at most ``tolerance`` (default
:data:`DEFAULT_TOLERANCE`). It stops there, or after ``max_passes`` passes (not converged: exit status 1 from the command).

The drift of every pass is logged (``spinup_pass``) and appended to ``D/spinup_log.jsonl``.
At the end ``D/spun_up_state.nc`` (the landia state file of the final state: volumetric soil
moisture of every layer, the same format as a cycle's ``states/state_*.nc``) and
``D/spun_up_checkpoint.h5`` (the complete model state, a landia checkpoint) are written,
atomically. A spin-up that was stopped resumes: complete passes are not run again, an
incomplete one resumes from its newest checkpoint. See ``docs/spinup.md``.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np

from landia.checkpoint import latest_valid
from landia.config import Settings
from landia.cycling.run import config_hash, run_cycles
from landia.cycling.run_log import JsonLines
from landia.errors import InputError
from landia.exchange.guards import on_root
from landia.grid import depth_weights
from landia.io.atomic import atomic_path
from landia.io.naming import state_name
from landia.log import get_logger

#: Default convergence threshold: max |change| of soil moisture in the top metre, m3 m-3.
DEFAULT_TOLERANCE = 1.0e-3
#: Default largest number of passes.
DEFAULT_MAX_PASSES = 10
#: Depth (m) of the soil whose layers the criterion looks at.
CRITERION_DEPTH_M = 1.0


def ctrl_settings(settings: Settings) -> Settings:
    """The settings of one spin-up pass: ``settings`` in CTRL mode."""
    return dataclasses.replace(settings, cycle=dataclasses.replace(settings.cycle, mode="ctrl"))


def criterion_layers(n_layers: int) -> np.ndarray:
    """Indices of the layers that reach into the top :data:`CRITERION_DEPTH_M`."""
    return np.flatnonzero(depth_weights(0.0, CRITERION_DEPTH_M, n_layers) > 0.0)


def drift(previous, current) -> dict:
    """Drift between two full model states (global order of the land cells).

    Returns
    -------
    dict
        ``theta_mean_abs`` and ``theta_max_abs``: per layer, the domain mean and the maximum
        of ``|theta_current - theta_previous|`` (m3 m-3); ``water_mean_abs_mm`` and
        ``water_max_abs_mm``: the same of the total column water (mm); ``criterion``: the
        largest ``theta_max_abs`` of the layers of the top metre.
    """
    d_theta = np.abs(current.columns.volumetric() - previous.columns.volumetric())
    d_water = np.abs(current.columns.total_water() - previous.columns.total_water())
    top = criterion_layers(d_theta.shape[1])
    n = d_theta.shape[0]
    theta_max = d_theta.max(axis=0) if n else np.zeros(d_theta.shape[1])
    return {"theta_mean_abs": [float(x) for x in (d_theta.mean(axis=0) if n else theta_max)],
            "theta_max_abs": [float(x) for x in theta_max],
            "water_mean_abs_mm": float(d_water.mean()) if n else 0.0,
            "water_max_abs_mm": float(d_water.max()) if n else 0.0,
            "criterion": float(theta_max[top].max()) if n else 0.0}


def _copy_atomic(source: Path, target: Path) -> None:
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)


def spin_up(comm, settings: Settings, run_dir, max_passes: int = DEFAULT_MAX_PASSES,
            tolerance: float = DEFAULT_TOLERANCE, progress: bool = True) -> dict:
    """Cycle the configured period in CTRL mode until it stops drifting (module notes).

    Parameters
    ----------
    comm
        The communicator (every rank calls this).
    settings : Settings
        The run configuration; ``cycle.mode`` is overridden to ``"ctrl"``.
    run_dir : path
        The spin-up folder ``D`` (created).
    max_passes : int
        At most this many passes (>= 1).
    tolerance : float
        Convergence threshold on the top-metre max |change| of soil moisture, m3 m-3 (> 0).
    progress : bool
        Progress line of every pass on stderr.

    Returns
    -------
    dict
        ``passes`` (run), ``converged`` (bool), ``criterion`` (the last drift's, None after a
        single pass), ``state_file`` and ``checkpoint_file`` (paths), the same on every rank.
    """
    if max_passes < 1:
        raise InputError(f"--max-cycles {max_passes}: expected at least 1 pass")
    if not tolerance > 0:
        raise InputError(f"--tolerance {tolerance}: expected a positive threshold (m3 m-3)")
    run_dir = Path(run_dir)
    ctrl = ctrl_settings(settings)
    chash = config_hash(ctrl)
    log = get_logger("landia.spinup")
    on_root(comm, lambda: run_dir.mkdir(parents=True, exist_ok=True))
    spin_log = JsonLines(run_dir / "spinup_log.jsonl")
    on_root(comm, lambda: spin_log.truncate_to_cycles_before(1))  # rewritten pass by pass
    previous = None  # root: the final checkpoint of the previous pass
    converged, criterion, k = False, None, 0
    for k in range(1, max_passes + 1):
        pass_dir = run_dir / f"pass-{k}"
        status = run_cycles(comm, ctrl, pass_dir, progress=progress,
                            initial_state=None if previous is None else previous.state)
        if status != 0:  # interrupted: rerun to resume
            raise InputError(f"{pass_dir}: the pass stopped (exit status {status}); rerun "
                             f"landia spinup to resume")

        def measure():
            final = latest_valid(pass_dir / "checkpoints", chash)
            if final is None:
                raise InputError(f"{pass_dir / 'checkpoints'}: no valid checkpoint after the "
                                 f"pass")
            record = {"cycle": k, "pass": k, "run_dir": str(pass_dir),
                      "valid_time": str(final.valid_time) + "Z"}
            if previous is not None:
                record.update(drift(previous.state, final.state), tolerance=tolerance)
                record["converged"] = record["criterion"] <= tolerance
            log.info("spinup_pass", **{key: record[key] for key in
                                       ("pass", "criterion", "tolerance", "converged",
                                        "water_max_abs_mm") if key in record},
                     criterion_is="max |d theta| (m3 m-3) in the layers of the top "
                                  f"{CRITERION_DEPTH_M:g} m")
            spin_log.append(record)
            return final, record.get("criterion")

        final, criterion = on_root(comm, measure) or (None, None)
        criterion = comm.bcast(criterion, root=0)
        previous = final
        if criterion is not None and criterion <= tolerance:
            converged = True
            break

    state_file, checkpoint_file = run_dir / "spun_up_state.nc", run_dir / "spun_up_checkpoint.h5"

    def finish():
        last = run_dir / f"pass-{k}"
        _copy_atomic(last / "states" / state_name(previous.valid_time), state_file)
        _copy_atomic(previous.path, checkpoint_file)
        log.info("spinup_done", passes=k, converged=converged, criterion=criterion,
                 tolerance=tolerance, state_file=str(state_file))

    on_root(comm, finish)
    comm.Barrier()
    return {"passes": k, "converged": converged, "criterion": criterion,
            "state_file": state_file, "checkpoint_file": checkpoint_file}
