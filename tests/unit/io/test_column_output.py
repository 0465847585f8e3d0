"""Hourly column output: averaging, CF writer, round trip, atomicity."""

from __future__ import annotations

import numpy as np
import pytest

from landia.io.column_output import (
    ColumnOutput,
    hourly_means,
    read_column_output,
    write_column_output,
)


def _output(nt=5, nl=10):
    rng = np.random.default_rng(1)
    t0 = np.datetime64("2008-01-01T01:00:00")
    return ColumnOutput(
        time=t0 + np.arange(nt) * np.timedelta64(3600, "s"),
        soil_moisture=rng.uniform(0.1, 0.4, (nt, nl)),
        soil_temperature=rng.uniform(260, 290, (nt, nl)),
        evapotranspiration=rng.uniform(0, 1e-4, nt),
        runoff=rng.uniform(0, 1e-5, nt), drainage=rng.uniform(0, 1e-6, nt),
        water_budget_residual=rng.normal(0, 1e-12, nt),
        latitude=44.5933, longitude=123.5092, attributes={"site": "CN-Cng"},
    )


def test_hourly_means():
    # 30-min steps from 00:00 (first step ends 00:30), 3 hours + one odd step
    ends = np.datetime64("2008-01-01T00:30:00") + np.arange(7) * np.timedelta64(1800, "s")
    state = np.arange(7.0)[:, None] * np.ones((1, 3))
    flux = np.arange(7.0)
    hours, rec = hourly_means(ends, 1800, {"sm": state}, {"et": flux}, {"res": flux})
    np.testing.assert_array_equal(
        hours, np.array(["2008-01-01T01:00", "2008-01-01T02:00", "2008-01-01T03:00"],
                        dtype="datetime64[s]"))
    np.testing.assert_array_equal(rec["sm"][:, 0], [1, 3, 5])  # state at end of hour
    np.testing.assert_array_equal(rec["et"], [0.5, 2.5, 4.5])
    np.testing.assert_array_equal(rec["res"], [1, 5, 9])
    # starting off the hour: the first incomplete hour is dropped
    hours, rec = hourly_means(ends[1:], 1800, {}, {"et": flux[1:]})
    np.testing.assert_array_equal(rec["et"], [2.5, 4.5])


def test_hourly_means_errors():
    ends = np.datetime64("2008-01-01T00:30:00") + np.arange(4) * np.timedelta64(1800, "s")
    with pytest.raises(ValueError, match="dt"):
        hourly_means(ends, 1700, {}, {})
    with pytest.raises(ValueError, match="regular"):
        hourly_means(ends, 900, {}, {})
    with pytest.raises(ValueError, match="et"):
        hourly_means(ends, 1800, {}, {"et": np.zeros(3)})


def test_round_trip(tmp_path):
    out = _output()
    write_column_output(tmp_path / "o.nc", out)
    back = read_column_output(tmp_path / "o.nc")
    np.testing.assert_array_equal(back.time, out.time)
    for name in ("soil_moisture", "soil_temperature", "evapotranspiration", "runoff",
                 "drainage", "water_budget_residual"):
        np.testing.assert_array_equal(getattr(back, name), getattr(out, name))
    assert back.latitude == out.latitude
    assert back.attributes["site"] == "CN-Cng"
    assert back.attributes["Conventions"] == "CF-1.8"


def test_cf_attributes(tmp_path):
    import netCDF4

    write_column_output(tmp_path / "o.nc", _output())
    with netCDF4.Dataset(tmp_path / "o.nc") as ds:
        t = ds.variables["time"]
        assert t.units == "seconds since 2008-01-01 00:00:00"
        assert t.calendar == "standard"
        assert t[0] == 3600.0
        np.testing.assert_array_equal(ds.variables["time_bnds"][0], [0.0, 3600.0])
        assert ds.variables["soil_moisture"].dimensions == ("time", "layer")
        assert ds.variables["soil_moisture"].units == "m3 m-3"
        assert ds.variables["evapotranspiration"].units == "kg m-2 s-1"
        assert ds.variables["water_budget_residual"].units == "kg m-2"
        assert ds.variables["depth"][0] == pytest.approx(0.0071, abs=1e-4)


def test_readable_by_xarray(tmp_path):
    xr = pytest.importorskip("xarray")
    write_column_output(tmp_path / "o.nc", _output())
    with xr.open_dataset(tmp_path / "o.nc") as ds:
        assert ds["time"].values[0] == np.datetime64("2008-01-01T01:00:00")
        assert ds["soil_moisture"].shape == (5, 10)
        assert float(ds["lat"]) == pytest.approx(44.5933)


def test_failed_write_leaves_no_file(tmp_path, monkeypatch):
    import landia.io.column_output as mod

    out = _output()
    out.attributes = {"bad": object()}  # netCDF4 cannot store it: the write fails midway
    with pytest.raises(Exception):
        mod.write_column_output(tmp_path / "o.nc", out)
    assert list(tmp_path.iterdir()) == []
    # an existing file is left untouched
    write_column_output(tmp_path / "o.nc", _output())
    before = (tmp_path / "o.nc").read_bytes()
    with pytest.raises(Exception):
        mod.write_column_output(tmp_path / "o.nc", out)
    assert (tmp_path / "o.nc").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["o.nc"]


def test_shape_checks():
    out = _output()
    with pytest.raises(ValueError, match="runoff"):
        ColumnOutput(time=out.time, soil_moisture=out.soil_moisture,
                     soil_temperature=out.soil_temperature,
                     evapotranspiration=out.evapotranspiration, runoff=np.zeros(3),
                     drainage=out.drainage, water_budget_residual=out.water_budget_residual,
                     latitude=0.0, longitude=0.0)
