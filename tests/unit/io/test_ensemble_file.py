"""The ensemble file: round trip and CF attributes."""

from __future__ import annotations

import netCDF4
import numpy as np
import pytest

from landia.errors import InputError
from landia.grid import colm_node_depths
from landia.io.ensemble_file import EnsembleFile, read_ensemble_file, write_ensemble_file


def content():
    rng = np.random.default_rng(0)
    mean = rng.uniform(0.1, 0.4, (10, 3, 4))
    mean[:, 0, 0] = np.nan  # a sea cell
    return EnsembleFile(lat=np.array([40.0, 41.0, 42.0]), lon=np.array([110.0, 111.0, 112.0,
                                                                          113.0]),
                        depth=colm_node_depths(), mean=mean, spread=np.abs(mean) * 0.1,
                        members=6, valid_time=np.datetime64("2016-05-01T06:00", "s"))


def test_round_trip_and_cf_attributes(tmp_path):
    path = tmp_path / "ens_20160501T0600.nc"
    c = content()
    write_ensemble_file(path, c, attributes={"cycle": 3})
    back = read_ensemble_file(path)
    assert np.array_equal(back.mean, c.mean, equal_nan=True)
    assert np.array_equal(back.spread, c.spread, equal_nan=True)
    assert back.members == 6 and back.valid_time == c.valid_time
    with netCDF4.Dataset(path) as ds:
        assert ds.Conventions == "CF-1.8" and ds.cycle == 3
        assert ds["soil_moisture"].dimensions == ("time", "layer", "lat", "lon")
        assert ds["soil_moisture"].cell_methods == "realization: mean"
        assert ds["soil_moisture_spread"].cell_methods == "realization: standard_deviation"
        # the name the cell methods use is a scalar coordinate of CF standard name realization
        assert ds["realization"].standard_name == "realization"
        assert ds["realization"].dimensions == ()
        assert "realization" in ds["soil_moisture"].coordinates.split()
        assert ds["soil_moisture"].standard_name == \
            "volume_fraction_of_condensed_water_in_soil"
        assert ds["soil_moisture_spread"].units == "m3 m-3"
        assert ds["time"].units.startswith("seconds since 1970")


def test_a_file_without_the_member_count_is_refused(tmp_path):
    path = tmp_path / "ens.nc"
    write_ensemble_file(path, content())
    with netCDF4.Dataset(path, "a") as ds:
        ds.delncattr("ensemble_members")
    with pytest.raises(InputError, match="ensemble_members"):
        read_ensemble_file(path)


def test_the_background_mean_is_optional_and_read_back(tmp_path):
    c = content()
    old = tmp_path / "old.nc"
    write_ensemble_file(old, c)  # as before the variable existed
    assert read_ensemble_file(old).background is None
    with netCDF4.Dataset(old) as ds:
        assert "soil_moisture_background" not in ds.variables
    path = tmp_path / "ens.nc"
    background = c.mean + 0.01
    write_ensemble_file(path, EnsembleFile(**{**c.__dict__, "background": background}))
    back = read_ensemble_file(path)
    assert np.array_equal(back.background, background, equal_nan=True)
    assert np.array_equal(back.mean, c.mean, equal_nan=True)
    with netCDF4.Dataset(path) as ds:
        v = ds["soil_moisture_background"]
        assert v.dimensions == ("time", "layer", "lat", "lon")
        assert v.units == "m3 m-3" and v.cell_methods == "realization: mean"
        assert "realization" in v.coordinates.split()


def test_the_adaptive_inflation_map_is_optional_and_read_back(tmp_path):
    c = content()
    assert read_ensemble_file(_write(tmp_path / "none.nc", c)).inflation is None
    inflation = np.full((3, 4), 1.25)
    inflation[0, 0] = np.nan  # the sea cell
    back = read_ensemble_file(_write(tmp_path / "ens.nc", EnsembleFile(
        **{**c.__dict__, "inflation": inflation})))
    assert np.array_equal(back.inflation, inflation, equal_nan=True)
    with netCDF4.Dataset(tmp_path / "ens.nc") as ds:
        v = ds["prior_inflation"]
        assert v.dimensions == ("time", "lat", "lon") and v.units == "1"
        assert "inflation" in v.long_name


def _write(path, c):
    write_ensemble_file(path, c)
    return path
