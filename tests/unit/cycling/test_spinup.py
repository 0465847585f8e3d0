"""landia spinup (serial): passes of the period in CTRL mode, the drift, the spun-up state."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

mpi4py = pytest.importorskip("mpi4py")
from mpi4py import MPI  # noqa: E402

from landia.checkpoint import load_checkpoint  # noqa: E402
from landia.cycling.spinup import criterion_layers, spin_up  # noqa: E402
from landia.io.fields import read_field  # noqa: E402
from tests.unit.cycling.test_run import settings, toml  # noqa: E402


def test_criterion_layers_are_those_of_the_top_metre():
    assert list(criterion_layers(10)) == [0, 1, 2, 3, 4, 5, 6, 7]


@pytest.fixture(scope="module")
def spun(tmp_path_factory):
    """A 3-pass spin-up of the tests' 1-day period (7x10 box), never converging."""
    run = tmp_path_factory.mktemp("spinup") / "spin"
    result = spin_up(MPI.COMM_SELF, settings(), run, max_passes=3, tolerance=1e-12,
                     progress=False)
    return run, result


def test_each_pass_starts_from_the_previous_final_state_and_the_drift_shrinks(spun):
    run, result = spun
    assert result["passes"] == 3 and not result["converged"]
    lines = [json.loads(x) for x in (run / "spinup_log.jsonl").read_text().splitlines()]
    assert [r["pass"] for r in lines] == [1, 2, 3]
    assert "criterion" not in lines[0]
    assert lines[2]["criterion"] < lines[1]["criterion"]  # drift decreases
    assert lines[1]["criterion"] == max(lines[1]["theta_max_abs"][:8])
    for k in (1, 2, 3):  # CTRL: no analysis in any pass
        log = [json.loads(x) for x in (run / f"pass-{k}" / "run_log.jsonl").read_text()
               .splitlines()]
        assert [r["cycle"] for r in log] == [0, 1, 2, 3] and not any(r["analysed"] for r in log)
    # Pass 2 starts from pass 1's final state: its first window is not the cold start's.
    first = [read_field(run / f"pass-{k}" / "states" / "state_20160501T0600.nc").values
             for k in (1, 2)]
    assert not np.array_equal(first[0], first[1], equal_nan=True)


def test_the_spun_up_state_reads_back_as_the_final_state(spun):
    run, result = spun
    final = load_checkpoint(run / "spun_up_checkpoint.h5")
    assert str(final.valid_time) == "2016-05-02T00:00:00"
    field = read_field(result["state_file"])
    theta = final.state.columns.volumetric()
    values = np.asarray(field.values)
    land = np.isfinite(values[0])
    assert land.sum() == theta.shape[0]
    np.testing.assert_array_equal(np.sort(values[:, land].ravel()), np.sort(theta.T.ravel()))


def test_a_spin_up_is_deterministic_and_stops_when_converged(tmp_path, spun):
    run, _ = spun
    again = spin_up(MPI.COMM_SELF, settings(), tmp_path / "again", max_passes=3,
                    tolerance=1e-12, progress=False)
    assert not again["converged"]
    a = (run / "spinup_log.jsonl").read_text()
    b = (tmp_path / "again" / "spinup_log.jsonl").read_text().replace(str(tmp_path / "again"),
                                                                      str(run))
    assert a == b
    rerun = spin_up(MPI.COMM_SELF, settings(), tmp_path / "again", max_passes=3,
                    tolerance=1e-12, progress=False)  # complete passes are not run again
    assert rerun["criterion"] == again["criterion"]
    assert (tmp_path / "again" / "spinup_log.jsonl").read_text().replace(
        str(tmp_path / "again"), str(run)) == a
    loose = spin_up(MPI.COMM_SELF, settings(), tmp_path / "loose", max_passes=5,
                    tolerance=1.0, progress=False)
    assert loose["converged"] and loose["passes"] == 2


def test_the_command_prints_the_criterion_and_exits_1_when_not_converged(tmp_path):
    cfg = toml(tmp_path / "c.toml")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3] / "src")}
    p = subprocess.run([sys.executable, "-m", "landia", "spinup", "--config", str(cfg),
                        "--run-dir", str(tmp_path / "d"), "--max-cycles", "2",
                        "--tolerance", "1e-12", "--no-progress"],
                       capture_output=True, text=True, env=env, timeout=600)
    assert p.returncode == 1, p.stderr
    assert "criterion max |d theta| top 1 m" in p.stdout and "NOT converged" in p.stdout
    assert (tmp_path / "d" / "spun_up_state.nc").exists()
