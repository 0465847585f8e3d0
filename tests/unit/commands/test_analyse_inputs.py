"""``landia analyse`` refuses a mis-timed observation, an impossible background and radian
coordinates with one line each, writing nothing (issue 13, items 2 and 4)."""

from __future__ import annotations

import dataclasses

import netCDF4
import numpy as np
import pytest

from landia.cli import main
from landia.io.fields import write_field
from tests.conftest import make_case

CONFIG = """
[analysis]
layers = 2
terms = ["background", "image"]
upper_bound = "porosity"
"""
T = np.datetime64("2016-05-01T12:00", "s")


def case(tmp_path, bg_time=T, obs_time=T, bad_value=None, radians=False):
    bg, obs = make_case(shape=(32, 31))
    bg = dataclasses.replace(bg, valid_time=bg_time)
    obs = dataclasses.replace(obs, valid_time=obs_time)
    if bad_value is not None:
        j, i = np.argwhere(np.isfinite(bg.values[0]))[5]
        bg.values[0, j, i] = bad_value
    if radians:
        bg = dataclasses.replace(bg, lat=np.deg2rad(bg.lat), lon=np.deg2rad(bg.lon))
    write_field(tmp_path / "bg.nc", bg, "background")
    write_field(tmp_path / "obs.nc", obs, "observation")
    if radians:
        with netCDF4.Dataset(tmp_path / "bg.nc", "a") as ds:
            ds["lat"].units = ds["lon"].units = "radians"
    (tmp_path / "c.toml").write_text(CONFIG)
    return main(["analyse", "--config", str(tmp_path / "c.toml"), "--background",
                 str(tmp_path / "bg.nc"), "--obs", str(tmp_path / "obs.nc"), "--output",
                 str(tmp_path / "an.nc")])


@pytest.mark.parametrize("kwargs, expect", [
    (dict(obs_time=np.datetime64("2016-05-03T00:00")),
     "obs.nc: observation valid at 2016-05-03T00:00:00Z, but used for the background "),
    (dict(bad_value=1.7), "bg.nc: 'soil_moisture' is physically impossible at 1 land cell"),
    (dict(bad_value=-0.3), "layer 1: -0.3"),
    (dict(radians=True), "bg.nc: coordinate 'lat' has units 'radians'"),
])
def test_refused_with_one_line_and_nothing_written(tmp_path, capsys, kwargs, expect):
    assert case(tmp_path, **kwargs) == 2
    err = capsys.readouterr().err
    assert expect in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "an.nc").exists()


@pytest.mark.parametrize("kwargs", [dict(obs_time=T + np.timedelta64(20, "m")),
                                    dict(obs_time=None), dict(bg_time=None)])
def test_within_the_tolerance_or_without_both_times_it_is_analysed(tmp_path, kwargs):
    assert case(tmp_path, **kwargs) == 0
    assert (tmp_path / "an.nc").exists()
