"""``landia analyse`` given a half-written netCDF-3 observation file, a field file declaring
absurd dimensions or a FIFO: exit status 2 and one line naming the file, before any work."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from landia.io.fields import write_field
from tests.conftest import make_case
from tests.unit.io.netcdf_files import absurd_field, convert, cut

CONFIG = """
[analysis]
layers = 2
terms = ["background", "image"]
"""


@pytest.fixture
def files(tmp_path):
    bg, obs = make_case(shape=(32, 31))
    write_field(tmp_path / "bg.nc", bg, "background")
    write_field(tmp_path / "obs4.nc", obs, "observation")
    convert(tmp_path / "obs4.nc", tmp_path / "obs.nc", "NETCDF3_CLASSIC")
    (tmp_path / "c.toml").write_text(CONFIG)
    return tmp_path


def analyse(d, background, obs):
    """``landia analyse`` in a child process: (exit status, non-empty output lines)."""
    done = subprocess.run(
        [sys.executable, "-m", "landia", "analyse", "--config", str(d / "c.toml"),
         "--background", str(background), "--obs", str(obs), "--output", str(d / "a.nc")],
        capture_output=True, text=True, timeout=120)
    lines = [x for x in (done.stdout + done.stderr).splitlines() if x.strip()]
    return done.returncode, lines


def test_the_whole_netcdf3_observation_is_analysed(files):
    status, lines = analyse(files, files / "bg.nc", files / "obs.nc")
    assert status == 0 and (files / "a.nc").exists(), lines


def test_a_netcdf3_observation_cut_short_is_one_line_and_status_2(files):
    bad = cut(files / "obs.nc", files / "obs_cut.nc", 0.6)
    status, lines = analyse(files, files / "bg.nc", bad)
    assert status == 2 and len(lines) == 1, lines
    assert "obs_cut.nc: observation file is truncated or still being written" in lines[0]
    assert not (files / "a.nc").exists()


def test_a_field_file_with_absurd_dimensions_is_one_line_and_status_2(files):
    huge = absurd_field(files / "huge.nc")
    status, lines = analyse(files, huge, files / "obs.nc")
    assert status == 2 and len(lines) == 1, lines
    assert "huge.nc: variable 'soil_moisture' has dimensions (layer=10, lat=2000000" in lines[0]
    assert "MemoryError" not in lines[0]


def test_a_fifo_as_observation_file_is_one_line_and_status_2(files):
    os.mkfifo(files / "fifo.nc")
    status, lines = analyse(files, files / "bg.nc", files / "fifo.nc")
    assert status == 2 and len(lines) == 1, lines
    assert "fifo.nc: observation file is a FIFO (named pipe), not a regular file" in lines[0]
