"""Names of time-stamped files (landia.io.naming)."""

import numpy as np
import pytest

from landia.errors import InputError
from landia.io.naming import (analysis_name, input_files, observation_name, parse_stamp, stamp,
                              stamp_of, state_name)


def test_names_and_stamps_round_trip():
    t = np.datetime64("2016-05-01T06:00:00")
    assert stamp(t) == "20160501T0600"
    assert observation_name(t) == "obs_20160501T0600.nc"
    assert analysis_name(t) == "analysis_20160501T0600.nc"
    assert state_name(t) == "state_20160501T0600.nc"
    assert parse_stamp(stamp(t)) == t
    assert str(parse_stamp("20161231T1800")) == "2016-12-31T18:00"
    assert stamp_of(f"/runs/truth/states/{state_name(t)}") == "20160501T0600"


@pytest.mark.parametrize("text", ["2016-05-01T06:00", "20160501T060", "20160501X0600", "x" * 13])
def test_a_bad_stamp_is_refused(text):
    with pytest.raises(ValueError, match="YYYYMMDDTHHMM"):
        parse_stamp(text)


def test_input_files_from_files_folders_and_patterns(tmp_path):
    for name in ("obs_20160501T0600.nc", "obs_20160501T0000.nc", "b.nc4", "notes.txt"):
        (tmp_path / name).write_text("x")
    assert [p.name for p in input_files([tmp_path], "--obs")] == [
        "obs_20160501T0000.nc", "obs_20160501T0600.nc", "b.nc4"]
    assert [p.name for p in input_files([tmp_path], "--obs", ("obs_*.nc",))] == [
        "obs_20160501T0000.nc", "obs_20160501T0600.nc"]
    assert [p.name for p in input_files([str(tmp_path / "obs_*T06*.nc"),
                                         tmp_path / "b.nc4"], "--obs")] == [
        "obs_20160501T0600.nc", "b.nc4"]
    with pytest.raises(InputError, match="--obs .*: folder holds no x_\\*.nc file"):
        input_files([tmp_path], "--obs", ("x_*.nc",))
    with pytest.raises(InputError, match="pattern matches no file"):
        input_files([str(tmp_path / "none_*.nc")], "--obs")
    with pytest.raises(InputError, match="--background .*missing.nc: no such file or folder"):
        input_files([tmp_path / "missing.nc"], "--background")
