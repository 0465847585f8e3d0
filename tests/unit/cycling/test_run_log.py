"""The run log survives kills: every cycle logged exactly once, with an uninterrupted run's
content (real ``landia cycle`` processes, real SIGKILLs)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

mpi4py = pytest.importorskip("mpi4py")
from mpi4py import MPI  # noqa: E402

from landia.cycling.run import run_cycles  # noqa: E402
from landia.cycling.run_log import JsonLines, record_line  # noqa: E402
from tests.unit.cycling.test_run import (final_state, log_lines, prepared_run,  # noqa: E402
                                         settings, toml, truth_observations)

LONG = {"end": "2016-05-11T00:00"}  # 40 cycles of 6 h, an analysis at each


def test_resume_keeps_earlier_lines_drops_later_ones_and_restores_the_checkpoints(tmp_path):
    log = JsonLines(tmp_path / "run_log.jsonl")
    for k in range(3):
        log.append({"cycle": k, "x": 0.1 * k})
    with open(log.path, "a") as fh:
        fh.write('{"cycle": 3, "x": 0.')  # cut by a kill
    stored = record_line({"cycle": 3, "x": 0.30000000000000004})
    assert log.resume(4, stored)  # checkpoint of cycle 3, its line lost
    assert [r["cycle"] for _, r in log.lines()] == [0, 1, 2, 3]
    assert log.lines()[3][0] == stored
    assert not log.resume(4, stored)  # present: not added twice
    assert not log.resume(2, record_line({"cycle": 1}))  # later lines dropped, 1 kept
    assert [r["cycle"] for _, r in log.lines()] == [0, 1]
    assert not log.resume(2, None)  # a checkpoint without a stored line (older format)


@pytest.fixture(scope="module")
def long_observations(tmp_path_factory):
    return truth_observations(tmp_path_factory.mktemp("long_truth"), **LONG)


def _checkpoints(run: Path) -> set[str]:
    return {p.name for p in (run / "checkpoints").glob("checkpoint-*.h5")}


def _kill_at_a_random_moment(cmd, run: Path, rng, env) -> bool:
    """Start ``cmd``; once it has committed a checkpoint, wait a random delay (the next
    0.25 s of the run, or, more often, the first 4 ms, where the log line is written after the
    checkpoint) and SIGKILL it. True when killed, False when it finished first."""
    before = _checkpoints(run) if (run / "checkpoints").is_dir() else set()
    delay = rng.uniform(0.0, 0.25) if rng.random() < 0.3 else rng.uniform(0.0, 0.004)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline, started = None, time.monotonic()
    while proc.poll() is None and time.monotonic() - started < 300:
        if deadline is None and (run / "checkpoints").is_dir() and _checkpoints(run) - before:
            deadline = time.monotonic() + delay
        if deadline is not None and time.monotonic() >= deadline:
            proc.kill()
            proc.wait()
            return True
        time.sleep(0.001)
    assert proc.wait(timeout=60) == 0
    return False


@pytest.mark.slow
def test_ten_random_sigkills_log_every_cycle_exactly_once_and_end_bit_identical(
        tmp_path, long_observations):
    reference = prepared_run(tmp_path, "reference", long_observations)
    run_cycles(MPI.COMM_SELF, settings(**LONG), reference, progress=False)
    run = prepared_run(tmp_path, "killed", long_observations)
    cmd = [sys.executable, "-m", "landia", "--log-level", "error", "cycle", "--config",
           str(toml(tmp_path / "c.toml", **LONG)), "--run-dir", str(run), "--no-progress"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    rng = np.random.default_rng(1302)
    kills = 0
    while kills < 10 and _kill_at_a_random_moment(cmd, run, rng, env):
        kills += 1
    assert kills == 10, f"the run finished after {kills} kills: lengthen it"
    subprocess.run(cmd, env=env, check=True, timeout=300)

    lines = log_lines(run)
    assert [r["cycle"] for r in lines] == list(range(40))
    expected = log_lines(reference)
    for got, want in zip(lines, expected):
        got.pop("seconds"), want.pop("seconds")  # timings aside
        assert Path(got.pop("observation")).name == Path(want.pop("observation")).name
        assert got == want, got["cycle"]
    a, b = final_state(reference), final_state(run)
    for k in a:
        assert np.array_equal(a[k], b[k]), k
    assert (run / "alerts.jsonl").read_text() == (reference / "alerts.jsonl").read_text()
    # A line put back from its checkpoint lacks the checkpoint's own timing.
    restored = [r["cycle"] for r in log_lines(run) if "checkpoint" not in r["seconds"]]
    print(f"{kills} kills; run-log lines restored from checkpoints: {restored}")
