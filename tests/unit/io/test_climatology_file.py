"""Climatology files: round trip, CF layout, and clear errors for bad files."""

from __future__ import annotations

import netCDF4
import numpy as np
import pytest

from landia.errors import InputError
from landia.io.climatology_file import read_climatology, write_climatology
from landia.observations.rescaling import climatology_statistics


@pytest.fixture
def clim():
    rng = np.random.default_rng(4)
    model = 0.1 + 0.3 * rng.random((30, 2, 4, 5))
    obs = 0.05 + 0.4 * rng.random((30, 2, 4, 5))
    model[:, :, 0, 0] = np.nan                   # sea: no sample
    obs[:29, 1, 2, 2] = np.nan                   # one sample only: no standard deviation
    return climatology_statistics(model, obs, 5, lat=np.linspace(40.7, 44.9, 4),
                                  lon=np.linspace(110.7, 116.3, 5), depth=[0.0071, 0.0279],
                                  start="2016-05-01T06:00", end="2016-05-08T12:00")


def test_round_trip_and_cf_layout(tmp_path, clim):
    path = tmp_path / "clim.nc"
    write_climatology(path, clim, attributes={"model_run": "runs/ctrl", "pairs": 30})
    back = read_climatology(path)
    for name in ("lat", "lon", "depth", "levels", "model_quantiles", "observation_quantiles",
                 "model_mean", "observation_mean", "model_std", "observation_std", "count"):
        np.testing.assert_array_equal(getattr(back, name), getattr(clim, name), err_msg=name)
    assert back.start == np.datetime64("2016-05-01T06:00") and back.end == clim.end
    assert back.count[0, 0, 0] == 0 and np.isnan(back.model_mean[0, 0, 0])
    assert back.count[1, 2, 2] == 1 and np.isnan(back.observation_std[1, 2, 2])
    with netCDF4.Dataset(path) as ds:
        assert ds.Conventions == "CF-1.8"
        assert ds["model_quantile"].dimensions == ("quantile", "layer", "lat", "lon")
        assert ds["model_quantile"].units == "m3 m-3"
        assert ds["model_mean"].cell_methods == "time: mean"
        assert ds["time"].bounds == "time_bnds"
        assert ds.training_start == "2016-05-01T06:00:00Z"
        assert ds.training_end == "2016-05-08T12:00:00Z"
        np.testing.assert_allclose(netCDF4.num2date(ds["time_bnds"][:], ds["time"].units)
                                   .astype("datetime64[s]").astype(float),
                                   np.array([clim.start, clim.end]).astype(float))
        assert ds.model_run == "runs/ctrl" and "nearest rank" in ds.quantile_method
    assert not list(tmp_path.glob(".*tmp"))


def _edit(path, edit):
    with netCDF4.Dataset(path, "a") as ds:
        edit(ds)


@pytest.mark.parametrize("edit, match", [
    (lambda ds: ds["quantile"].__setitem__(slice(None), [0, 0.5, 0.4, 0.75, 1]),
     "'quantile'.*strictly increasing"),
    (lambda ds: ds["sample_count"].__setitem__((0, 1, 1), -3), "'sample_count'.*>= 0"),
    (lambda ds: ds["model_quantile"].__setitem__((1, 0, 1, 1), 0.9),
     "'model_quantile' decreases"),
    (lambda ds: ds["observation_mean"].__setitem__((0, 1, 1), np.nan),
     "'observation_mean' is missing at 1"),
    (lambda ds: ds["model_std"].__setitem__((0, 1, 1), -0.1), "'model_std' is negative"),
    (lambda ds: setattr(ds["model_mean"], "units", "kg m-2"), "'model_mean' has units"),
    (lambda ds: ds.delncattr("training_end"), "'training_end' missing"),
    (lambda ds: setattr(ds, "training_start", "May 2016"), "'training_start' = 'May 2016'"),
])
def test_bad_files_are_refused_with_the_variable_named(tmp_path, clim, edit, match):
    path = tmp_path / "clim.nc"
    write_climatology(path, clim)
    _edit(path, edit)
    with pytest.raises(InputError, match=match):
        read_climatology(path)


def test_a_foreign_or_missing_file_is_refused(tmp_path, clim):
    with pytest.raises(InputError, match="climatology file not found"):
        read_climatology(tmp_path / "absent.nc")
    (tmp_path / "text.nc").write_text("not netCDF")
    with pytest.raises(InputError, match="cannot open climatology file"):
        read_climatology(tmp_path / "text.nc")
    with netCDF4.Dataset(tmp_path / "field.nc", "w") as ds:
        ds.createDimension("lat", 2)
        ds.createVariable("lat", "f8", ("lat",))[:] = [1.0, 2.0]
    with pytest.raises(InputError, match="variable 'lon' not found.*landia climatology"):
        read_climatology(tmp_path / "field.nc")
    path = tmp_path / "dims.nc"
    write_climatology(path, clim)
    with netCDF4.Dataset(path, "a") as ds:
        ds.renameVariable("model_mean", "old")
        ds.createVariable("model_mean", "f8", ("lat", "lon"))
    with pytest.raises(InputError, match="'model_mean' has dimensions \\('lat', 'lon'\\)"):
        read_climatology(path)
