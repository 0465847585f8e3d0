"""A PETSc option that TAO refuses is a one-line ConfigError naming it (issue 13, item 10).

Run in a child process: PETSc's options database is global to a process, and a bad option
left in it would reach every later analysis of the test session."""

from __future__ import annotations

import subprocess
import sys

import pytest

from landia.io.fields import write_field
from tests.conftest import make_case

pytest.importorskip("petsc4py")

CONFIG = """
[analysis]
layers = 2
terms = ["background", "image"]
upper_bound = "porosity"
"""


@pytest.mark.parametrize("option, value, reason", [
    ("-tao_type", "nonexistent", "Unable to find requested Tao type nonexistent"),
    ("-tao_max_it", "many", "has no integer value"),
])
def test_a_bad_petsc_option_is_one_line_naming_it(tmp_path, option, value, reason):
    bg, obs = make_case(shape=(32, 31))
    write_field(tmp_path / "bg.nc", bg, "background")
    write_field(tmp_path / "obs.nc", obs, "observation")
    (tmp_path / "c.toml").write_text(CONFIG)
    out = subprocess.run(
        [sys.executable, "-m", "landia", "--log-level", "error", "analyse", "--config",
         str(tmp_path / "c.toml"), "--background", str(tmp_path / "bg.nc"), "--obs",
         str(tmp_path / "obs.nc"), "--output", str(tmp_path / "an.nc"), option, value],
        capture_output=True, text=True, timeout=300)
    assert out.returncode == 2, out.stderr
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    failed = [line for line in lines if "failed" in line]
    assert len(failed) == 1 and "Traceback" not in out.stderr
    assert f"PETSc option {option} {value}" in failed[0] and reason in failed[0]
    assert "kind=ConfigError" in failed[0]
    assert not (tmp_path / "an.nc").exists()
