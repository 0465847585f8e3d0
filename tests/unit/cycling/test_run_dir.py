"""The run directory: one ``landia cycle`` at a time, no silent fresh start, ``--end`` past
``cycle.end`` (real processes and files)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

mpi4py = pytest.importorskip("mpi4py")
from mpi4py import MPI  # noqa: E402

from landia.cycling.run import run_cycles  # noqa: E402
from landia.cycling.run_dir import EXIT_LOCKED, LOCK_NAME, RunDirectoryLocked  # noqa: E402
from landia.errors import InputError  # noqa: E402
from landia.io.lock import FileLock  # noqa: E402
from tests.unit.cycling.test_run import (da_run, final_state, log_lines,  # noqa: E402
                                         prepared_run, settings, toml,
                                         truth_observations)


@pytest.fixture(scope="module")
def observations(tmp_path_factory):
    return truth_observations(tmp_path_factory.mktemp("truth"))


def _command(cfg: Path, run: Path, *extra) -> list[str]:
    return [sys.executable, "-m", "landia", "--log-level", "warning", "cycle", "--config",
            str(cfg), "--run-dir", str(run), "--no-progress", *extra]


def _same_states(a: Path, b: Path) -> None:
    x, y = final_state(a), final_state(b)
    for k in x:
        assert np.array_equal(x[k], y[k]), k


# -- the lock (issue 13, case 5) ----------------------------------------------------------

def test_a_second_cycle_on_the_same_run_directory_exits_75_and_the_first_is_unaffected(
        tmp_path, observations):
    alone = da_run(tmp_path, observations, "alone")
    run = prepared_run(tmp_path, "shared", observations)
    cmd = _command(toml(tmp_path / "c.toml"), run)
    first = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lock = run / LOCK_NAME
    deadline = time.monotonic() + 120
    while first.poll() is None and time.monotonic() < deadline:  # until it holds the lock
        if lock.exists() and lock.read_text().startswith(f"pid {first.pid} "):
            break
        time.sleep(0.002)
    first.send_signal(signal.SIGSTOP)  # holds the lock, does nothing while the second tries
    try:
        assert first.poll() is None, "the first run ended before the second started"
        t0 = time.monotonic()
        second = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        took = time.monotonic() - t0
    finally:
        first.send_signal(signal.SIGCONT)
    assert second.returncode == EXIT_LOCKED, second.stderr
    refusal = [line for line in second.stderr.splitlines() if "cycle_locked" in line]
    assert len(refusal) == 1 and f"pid {first.pid} on {socket.gethostname()} since" in \
        refusal[0] and str(lock) in refusal[0], second.stderr
    assert took < 60
    assert first.wait(timeout=300) == 0
    _same_states(alone, run)
    assert [r["cycle"] for r in log_lines(run)] == [0, 1, 2, 3]
    assert log_lines(run, "alerts.jsonl") == []


def test_the_lock_is_taken_before_the_run_directory_is_touched(tmp_path):
    run = tmp_path / "held"
    holder = FileLock(run / LOCK_NAME, "test")
    holder.acquire()
    try:
        with pytest.raises(RunDirectoryLocked, match=f"pid {os.getpid()} "):
            run_cycles(MPI.COMM_SELF, settings(mode="ctrl"), run, progress=False)
    finally:
        holder.release()
    assert sorted(p.name for p in run.iterdir()) == [LOCK_NAME]  # no logs, no folders


def test_a_lock_file_left_by_a_dead_run_does_not_block(tmp_path):
    run = tmp_path / "stale"
    run.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    (run / LOCK_NAME).write_text(f"pid {dead} on {socket.gethostname()} since "
                                 f"2016-05-01T00:00:00Z\n")
    assert run_cycles(MPI.COMM_SELF, settings(mode="ctrl"), run, progress=False) == 0
    assert (run / LOCK_NAME).read_text().startswith(f"pid {os.getpid()} ")
    assert [r["cycle"] for r in log_lines(run)] == [0, 1, 2, 3]


# -- no silent fresh start (case 3) --------------------------------------------------------

def _corrupt_every_checkpoint(run: Path) -> None:
    for p in (run / "checkpoints").glob("checkpoint-*.h5"):
        raw = p.read_bytes()
        p.write_bytes(raw[: len(raw) // 2])  # truncated


def test_outputs_without_a_valid_checkpoint_stop_the_run_unless_cold_start(tmp_path,
                                                                          observations):
    alone = da_run(tmp_path, observations, "alone")
    run = da_run(tmp_path, observations, "lost")
    _corrupt_every_checkpoint(run)
    before = {p: p.read_bytes() for p in (run / "states").iterdir()}
    cfg = toml(tmp_path / "c.toml")
    refused = subprocess.run(_command(cfg, run), capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2, refused.stderr
    failed = [line for line in refused.stderr.splitlines() if "failed" in line]
    assert len(failed) == 1 and "no valid checkpoint" in failed[0] and \
        "--cold-start" in failed[0] and "run_log.jsonl with 4 line(s)" in failed[0]
    assert {p: p.read_bytes() for p in (run / "states").iterdir()} == before  # untouched
    assert [r["cycle"] for r in log_lines(run)] == [0, 1, 2, 3]

    done = subprocess.run(_command(cfg, run, "--cold-start"), capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    previous = [p for p in run.iterdir() if p.name.startswith("previous-")]
    assert len(previous) == 1
    assert [r["cycle"] for r in log_lines(previous[0])] == [0, 1, 2, 3]
    assert {p.name for p in (previous[0] / "states").iterdir()} == {p.name for p in before}
    _same_states(alone, run)
    assert [r["cycle"] for r in log_lines(run)] == [0, 1, 2, 3]
    again = subprocess.run(_command(cfg, run, "--cold-start"), capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 2 and "has a valid checkpoint" in again.stderr


def test_a_run_killed_in_its_first_cycle_starts_again_without_cold_start(tmp_path,
                                                                         observations):
    """The first window's state, analysis and alerts may exist before the first checkpoint."""
    alone = da_run(tmp_path, observations, "alone")
    run = prepared_run(tmp_path, "first", observations)
    for folder in ("states", "cycles"):
        (run / folder).mkdir()
    shutil.copy(alone / "states" / "state_20160501T0600.nc", run / "states")
    shutil.copy(alone / "cycles" / "analysis_20160501T0600.nc", run / "cycles")
    (run / "alerts.jsonl").write_text('{"cycle": 0, "alert": "observation_missing"}\n')
    (run / "checkpoints").mkdir()
    (run / "checkpoints" / ".checkpoint-20160501T0600.h5.x.tmp").write_bytes(b"half")
    assert run_cycles(MPI.COMM_SELF, settings(), run, progress=False) == 0
    _same_states(alone, run)
    assert log_lines(run, "alerts.jsonl") == []


def test_a_later_state_file_without_any_checkpoint_is_refused(tmp_path, observations):
    alone = da_run(tmp_path, observations, "alone")
    run = prepared_run(tmp_path, "orphans", observations)
    (run / "states").mkdir()
    shutil.copy(alone / "states" / "state_20160501T1800.nc", run / "states")
    with pytest.raises(InputError, match=r"1 file\(s\) in states/, e.g. state_20160501T1800"):
        run_cycles(MPI.COMM_SELF, settings(), run, progress=False)


# -- --end past cycle.end (case 11) --------------------------------------------------------

def test_end_may_go_past_cycle_end_and_a_run_goes_on_from_cycle_end(tmp_path, observations):
    longer = tmp_path / "longer"
    run_cycles(MPI.COMM_SELF, settings(mode="ctrl", end="2016-05-02T12:00"), longer,
               progress=False)
    run = tmp_path / "extended"
    cfg = toml(tmp_path / "c.toml", mode="ctrl")  # cycle.end 2016-05-02T00:00
    assert subprocess.run(_command(cfg, run), timeout=300).returncode == 0
    assert subprocess.run(_command(cfg, run, "--end", "2016-05-02T06:00"),
                          timeout=300).returncode == 0
    assert subprocess.run(_command(cfg, run, "--end", "2016-05-02T12:00"),
                          timeout=300).returncode == 0
    assert [r["cycle"] for r in log_lines(run)] == [0, 1, 2, 3, 4, 5]
    _same_states(longer, run)
    with h5py.File(run / "checkpoints" / "checkpoint-20160502T1200.h5", "r") as f:
        assert int(f.attrs["next_cycle"]) == 6
    off_grid = subprocess.run(_command(cfg, run, "--end", "2016-05-02T13:00"),
                              capture_output=True, text=True, timeout=300)
    assert off_grid.returncode == 2 and "expected the end of a window" in off_grid.stderr
