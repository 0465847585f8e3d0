"""The run directory of ``landia cycle``: one run at a time, and no silent fresh start.

* :func:`locked` -- the root holds an exclusive lock on ``<run_dir>/cycle.lock``
  (:class:`landia.io.lock.FileLock`) for the whole run, taken before anything else in the
  directory is touched. A second run on the same directory gets
  :class:`RunDirectoryLocked` on every rank, with the holder's pid, host and start time;
  ``landia cycle`` exits :data:`EXIT_LOCKED` (75, EX_TEMPFAIL). The kernel drops the lock
  when its holder dies, so a killed run never blocks the next one.
* :func:`check_start` -- decides, on the root, whether a run may start from the checkpoint it
  found, or from cycle 0 without one. A directory whose outputs show a completed cycle
  (a checkpoint file, a run-log line, a state or analysis file after the first window, an
  alert of a later cycle) but has no valid checkpoint of this configuration is refused: its
  checkpoints were lost or corrupted, and starting again from cycle 0 would overwrite the
  run's history silently. ``landia cycle --cold-start`` moves those outputs aside into
  ``<run_dir>/previous-<UTC stamp>/`` (renames, nothing deleted) and starts from cycle 0.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from landia.checkpoint import CheckpointError, list_checkpoints, load_checkpoint
from landia.cycling.run_log import JsonLines
from landia.errors import InputError, LandiaError
from landia.exchange.guards import wait_for_all
from landia.io.lock import FileLock, LockHeld
from landia.io.naming import analysis_name, state_name
from landia.log import get_logger

#: The lock file of a run directory.
LOCK_NAME = "cycle.lock"
#: Exit status of a run refused because another one holds the run directory (EX_TEMPFAIL).
EXIT_LOCKED = 75
#: What a run writes (moved aside together by a cold start); obs/ and logs/ stay.
OUTPUTS = ("run_log.jsonl", "alerts.jsonl", "checkpoints", "states", "cycles")
#: The folders a run writes into (made again after a cold start moved them).
FOLDERS = ("checkpoints", "cycles", "states")


class RunDirectoryLocked(LandiaError):
    """Another ``landia cycle`` holds the run directory's lock (exit status 75)."""


@contextmanager
def locked(comm, run_dir):
    """Hold the lock of ``run_dir`` (on the root) while the body runs.

    Every rank learns the root's outcome, so all raise together.

    Raises
    ------
    RunDirectoryLocked
        On every rank, when another process holds the lock; the message names it.
    InputError
        On every rank, when the lock file cannot be made or locked (permissions, ...).
    """
    lock, failure = None, None
    if comm.Get_rank() == 0:
        lock = FileLock(Path(run_dir) / LOCK_NAME,
                        "another landia cycle is running in this run directory")
        try:
            lock.acquire()
        except LockHeld as exc:
            failure = ("locked", str(exc))
        except OSError as exc:
            failure = ("error", f"{lock.path}: cannot lock the run directory: {exc}")
    wait_for_all(comm)
    failure = comm.bcast(failure, root=0)
    if failure:
        raise (RunDirectoryLocked if failure[0] == "locked" else InputError)(failure[1])
    try:
        yield
    finally:
        if lock is not None:
            lock.release()


def check_start(run_dir, found, config_hash: str, first_end, cold_start: bool) -> str | None:
    """Root only: why the run may not start as it stands (None: it may).

    Parameters
    ----------
    run_dir : path-like
    found : Checkpoint or None
        The newest valid checkpoint of this configuration.
    config_hash : str
        This configuration's hash.
    first_end : datetime64
        End of the run's first window (its outputs may exist before the first checkpoint).
    cold_start : bool
        ``--cold-start``: with no valid checkpoint, move the outputs aside and start again.
    """
    run_dir = Path(run_dir)
    if found is not None:
        if cold_start:
            return (f"--cold-start: {run_dir} has a valid checkpoint ({found.path.name}, next "
                    f"cycle {found.next_cycle}); rerun without --cold-start to resume from it, "
                    f"or use a new --run-dir to start again from cycle 0")
        return None
    if cold_start:
        moved = move_aside(run_dir)
        if moved is not None:
            get_logger("landia.cycle").warning("cold_start_outputs_moved", run_dir=str(run_dir),
                                               moved_to=str(moved))
        return None
    foreign = foreign_checkpoints(run_dir, config_hash)
    if foreign:
        return foreign
    outputs = completed_outputs(run_dir, first_end)
    if outputs:
        return (f"{run_dir}: holds the outputs of completed cycles ({'; '.join(outputs)}) but "
                f"no valid checkpoint to resume from (corrupt or removed); refusing to start "
                f"again from cycle 0 over them. Restore a checkpoint, or rerun with "
                f"--cold-start to move these outputs aside into {run_dir}/previous-<time>/ and "
                f"start from cycle 0, or use a new --run-dir")
    return None


def foreign_checkpoints(run_dir, config_hash: str) -> str | None:
    """A message when the run directory's checkpoints belong to another configuration."""
    for path in list_checkpoints(Path(run_dir) / "checkpoints"):
        try:
            other = load_checkpoint(path, allow_config_change=True)
        except CheckpointError:
            continue
        return (f"{run_dir}: its checkpoints were written under another configuration "
                f"(newest valid: {path.name}, hash {other.config_hash}; this configuration: "
                f"{config_hash}); continue that run with its own configuration, or use a new "
                f"--run-dir")
    return None


def completed_outputs(run_dir, first_end) -> list[str]:
    """What in ``run_dir`` only a completed cycle writes, one phrase per kind (empty: none).

    A run killed in its first cycle, before the first checkpoint, may leave that window's
    state and analysis files and its alerts; these do not count.
    """
    run_dir = Path(run_dir)
    found = []
    checkpoints = list_checkpoints(run_dir / "checkpoints")
    if checkpoints:
        found.append(f"{len(checkpoints)} checkpoint file(s), newest {checkpoints[0].name}, "
                     f"none valid")
    lines = [r for _, r in JsonLines(run_dir / "run_log.jsonl").lines()]
    if lines:
        found.append(f"run_log.jsonl with {len(lines)} line(s)")
    if any(r.get("cycle", 0) > 0 for _, r in JsonLines(run_dir / "alerts.jsonl").lines()):
        found.append("alerts.jsonl with alerts after the first cycle")
    first = np.datetime64(first_end, "s")
    for folder, name in (("states", state_name(first)), ("cycles", analysis_name(first))):
        later = sorted(p.name for p in (run_dir / folder).glob("*.nc") if p.name != name) \
            if (run_dir / folder).is_dir() else []
        if later:
            found.append(f"{len(later)} file(s) in {folder}/, e.g. {later[-1]}")
    return found


def move_aside(run_dir) -> Path | None:
    """Move the run's outputs (:data:`OUTPUTS`) into ``run_dir/previous-<UTC stamp>/`` and make
    the output folders again; the folder moved into, or None when there was nothing."""
    run_dir = Path(run_dir)
    present = [name for name in OUTPUTS if (run_dir / name).exists()]
    if not present:
        return None
    target = run_dir / f"previous-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"
    n = 1
    while target.exists():
        n += 1
        target = target.with_name(f"{target.name.split('.')[0]}.{n}")
    target.mkdir()
    for name in present:
        (run_dir / name).rename(target / name)
    for name in FOLDERS:
        (run_dir / name).mkdir(exist_ok=True)
    return target
