"""``landia cycle`` given observation files it cannot use: a half-written netCDF-3 file, a FIFO
and a file declaring absurd dimensions each become an ``observation_rejected`` alert naming the
file, the cycle runs model-only, and the run goes on (in a child process with a time limit: a
FIFO used to block it for ever)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

mpi4py = pytest.importorskip("mpi4py")

from tests.unit.cycling.test_run import (log_lines, toml,  # noqa: E402
                                         truth_observations)
from tests.unit.io.netcdf_files import absurd_field, convert, cut  # noqa: E402


@pytest.fixture(scope="module")
def observations(tmp_path_factory):
    return truth_observations(tmp_path_factory.mktemp("truth"))


def test_unusable_observation_files_are_alerts_and_the_cycle_runs_model_only(tmp_path,
                                                                              observations):
    run = tmp_path / "run"
    obs = run / "obs"
    obs.mkdir(parents=True)
    for f in observations:
        (obs / f.name).write_bytes(f.read_bytes())
    half = obs / "obs_20160501T1200.nc"           # netCDF-3, cut at 60 %
    convert(half, tmp_path / "whole3.nc", "NETCDF3_CLASSIC")
    cut(tmp_path / "whole3.nc", half, 0.6)
    fifo = obs / "obs_20160501T1800.nc"           # a FIFO
    fifo.unlink()
    os.mkfifo(fifo)
    huge = obs / "obs_20160502T0000.nc"           # absurd dimensions
    huge.unlink()
    absurd_field(huge)
    done = subprocess.run([sys.executable, "-m", "landia", "--log-level", "error", "cycle",
                           "--config", str(toml(tmp_path / "c.toml")), "--run-dir", str(run),
                           "--no-progress"], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    alerts = log_lines(run, "alerts.jsonl")
    assert [(a["cycle"], a["alert"]) for a in alerts] == [
        (1, "observation_rejected"), (2, "observation_rejected"), (3, "observation_rejected")]
    assert [a["file"] for a in alerts] == [str(half), str(fifo), str(huge)]
    assert "truncated or still being written" in alerts[0]["message"]
    assert "is a FIFO (named pipe), not a regular file" in alerts[1]["message"]
    assert "expected the model grid, 7 x 10" in alerts[2]["message"]
    lines = log_lines(run)
    assert [r["analysed"] for r in lines] == [True, False, False, False]
    assert all(r["budget_mm"]["assimilation"] == 0.0 for r in lines[1:])
