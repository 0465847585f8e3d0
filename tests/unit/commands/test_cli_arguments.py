"""``landia``'s argument handling: negative numbers are arguments, PETSc gets its own options
(or everything after ``--``), global options after the command, usage without a command."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest

from landia.cli import _split_petsc_args, main
from landia.io.fields import write_field
from tests.conftest import make_case
from tests.unit.commands.test_column import PREFIX, SITE


def run_cli(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "landia", *map(str, args)],
                          capture_output=True, text=True, timeout=300, **kwargs)


@pytest.mark.parametrize("argv, ours, petsc", [
    (["threshold-diagnostics", "--box", "-40", "-10", "-75", "-35"],
     ["threshold-diagnostics", "--box", "-40", "-10", "-75", "-35"], []),
    (["column", "--utc-offset", "-5.5", "-tao_monitor"],
     ["column", "--utc-offset", "-5.5"], ["-tao_monitor"]),
    (["analyse", "-tao_fmin", "-1e30", "-tao_type", "lmvm", "--output", "o"],
     ["analyse", "--output", "o"], ["-tao_fmin", "-1e30", "-tao_type", "lmvm"]),
    (["analyse", "--output", "o", "--", "-my_option", "-3", "x"],
     ["analyse", "--output", "o"], ["-my_option", "-3", "x"]),
    (["-h"], ["-h"], []),
])
def test_negative_numbers_are_arguments_and_petsc_gets_option_names(argv, ours, petsc):
    assert _split_petsc_args(argv) == (ours, petsc)


def test_threshold_diagnostics_takes_a_southern_western_box(tmp_path):
    """Issue 14: ``--box -40 -10 -75 -35`` failed with 'expected 4 arguments'."""
    bg, _ = make_case(shape=(32, 32))
    south_america = dataclasses.replace(bg, lat=np.linspace(-50.0, 0.0, 32),
                                        lon=np.linspace(-80.0, -30.0, 32))
    write_field(tmp_path / "sa.nc", south_america, "background")
    out = tmp_path / "new" / "diag"
    status = main(["threshold-diagnostics", "--image", str(tmp_path / "sa.nc"), "--box", "-40",
                   "-10", "-75", "-35", "--output-dir", str(out), "--no-plots",
                   "--thresholds", "0.5"])
    assert status == 0
    summary = json.loads(next(out.glob("*_box.json")).read_text())
    assert summary["box"] == [-40.0, -10.0, -75.0, -35.0]


@pytest.mark.shared_data
def test_column_takes_a_negative_utc_offset(shared_data, tmp_path):
    """Issue 14: ``--utc-offset -5.5`` failed with 'expected one argument'."""
    met, site = (shared_data / SITE / f"{PREFIX}{kind}.nc" for kind in ("Met", "site"))
    if not met.exists():
        pytest.skip(f"{met} is absent")
    out = tmp_path / "col.nc"
    status = main(["column", "--forcing", str(met), "--site", str(site), "--start",
                   "2008-05-01", "--end", "2008-05-02", "--output", str(out), "--utc-offset",
                   "-5.5", "--no-progress"])
    assert status == 0 and out.exists()


def test_global_options_after_the_command(tmp_path):
    (tmp_path / "c.toml").write_text("[analysis]\nlayers = 2\n")
    out = run_cli("validate", str(tmp_path / "absent.toml"), "--log-format", "json",
                  "--log-level", "info")
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert lines and all(json.loads(line)["event"] for line in lines), out.stderr


def test_global_option_before_the_command_still_counts(tmp_path):
    out = run_cli("--log-format", "json", "validate", str(tmp_path / "absent.toml"))
    assert out.returncode == 2
    assert json.loads(out.stderr.strip().splitlines()[-1])["event"]


def test_no_command_prints_usage_and_exits_2():
    out = run_cli()
    assert out.returncode == 2
    assert out.stderr.startswith("usage: landia") and "a command is required" in out.stderr


def test_importing_landia_leaves_the_thread_variables_alone():
    env = {k: v for k, v in __import__("os").environ.items()
           if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    code = ("import os, landia; a = os.environ.get('OMP_NUM_THREADS'); import landia.cli; "
            "print(a, os.environ.get('OMP_NUM_THREADS'), os.environ.get('OPENBLAS_NUM_THREADS'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, env=env)
    assert out.stdout.split() == ["None", "1", "1"], out.stderr
