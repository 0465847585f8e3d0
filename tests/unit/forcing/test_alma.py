"""The ALMA/PLUMBER2 site forcing reader (landia.forcing.alma)."""

from __future__ import annotations

import numpy as np
import pytest

from landia.errors import InputError
from landia.forcing.alma import read_alma
from landia.forcing.interpolate import (interpolate_forcing)
from landia.forcing.solar import cos_solar_zenith
from tests.unit.forcing.conftest import MET


# ---------------------------------------------------------------- the real CN-Cng file

def test_cng_shapes_units_ranges(cng):
    assert cng.n_times == 35089 and cng.n_columns == 1
    assert cng.tair.shape == cng.precip.shape == cng.lwdown.shape == (35089, 1)
    assert cng.lat[0] == pytest.approx(44.593, abs=1e-3)
    assert cng.lon[0] == pytest.approx(123.509, abs=1e-3)
    assert cng.utc_offset_hours == 8.0            # China standard time from 123.5 E
    assert cng.times[0] == np.datetime64("2007-12-31T16:00:00")   # 2008-01-01 00:00 local
    assert np.all(np.diff(cng.times) == np.timedelta64(1800, "s"))
    assert 230 < cng.tair.min() and cng.tair.max() < 315
    assert 9e4 < cng.psurf.min() and cng.psurf.max() < 1.05e5
    assert cng.qair.max() < 0.03 and cng.swdown.max() < 1400


def test_cng_precipitation_2008(cng):
    local = cng.times + np.timedelta64(8, "h")
    in_2008 = (local >= np.datetime64("2008-01-01")) & (local < np.datetime64("2009-01-01"))
    total_mm = cng.precip[in_2008].sum() * 1800.0
    assert total_mm == pytest.approx(384.0, rel=0.01)


def test_cng_shortwave_peaks_near_local_solar_noon(cng):
    """The UTC conversion is right if the mean diurnal cycle of SW peaks with cos Z."""
    n = 48 * 365
    sw = cng.swdown[:n, 0].reshape(-1, 48).mean(axis=0)
    cz = cos_solar_zenith(cng.times[:n], cng.lat, cng.lon)[:, 0].reshape(-1, 48).mean(axis=0)
    assert abs(int(np.argmax(sw)) - int(np.argmax(cz))) <= 2     # within an hour


def test_cng_selection_and_interpolation(shared_data):
    f = read_alma(shared_data / MET, start="2008-07-01", end="2008-07-03")
    assert f.n_times == 96 and f.times[0] == np.datetime64("2008-07-01T00:00")
    g = interpolate_forcing(f, "2008-07-01", "2008-07-03", dt=1800)
    np.testing.assert_allclose(g.precip, f.precip, rtol=0, atol=1e-15)
    np.testing.assert_allclose(g.swdown, f.swdown, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(g.tair, f.tair)


# ---------------------------------------------------------------- reader errors

def write_alma(path, n=8, drop=(), units=None, fill_at=None, nan_at=None, zone="",
               time_units=None):
    import netCDF4

    units = units or {}
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("time", n)
        ds.createDimension("y", 1)
        ds.createDimension("x", 1)
        t = ds.createVariable("time", "f8", ("time",))
        t.units = time_units or "seconds since 2008-01-01 00:00:00" + zone
        t.calendar = "standard"
        t[:] = np.arange(n) * 1800.0
        for name, value in (("latitude", 44.6), ("longitude", 123.5)):
            v = ds.createVariable(name, "f4", ("y", "x"))
            v[:] = value
        values = {"Tair": (280.0, "K"), "Qair": (0.005, "kg/kg"), "Psurf": (1e5, "Pa"),
                  "Wind": (3.0, "m/s"), "SWdown": (100.0, "W/m2"), "LWdown": (300.0, "W/m2"),
                  "Precip": (1e-4, "kg/m2/s")}
        if "Precip" in drop and "split" in drop:
            values.update(Rainf=(6e-5, "kg m-2 s-1"), Snowf=(4e-5, "mm/s"))
        for name, (value, unit) in values.items():
            if name in drop:
                continue
            v = ds.createVariable(name, "f4", ("time", "y", "x"), fill_value=-9999.0)
            v.units = units.get(name, unit)
            data = np.full((n, 1, 1), value, dtype="f4")
            if nan_at and nan_at[0] == name:
                data[nan_at[1]] = np.nan
            v[:] = data
            if fill_at and fill_at[0] == name:
                v[fill_at[1]] = np.ma.masked
    return path


def test_small_file_reads(tmp_path):
    f = read_alma(write_alma(tmp_path / "ok.nc"), utc_offset_hours=0)
    assert f.tair.shape == (8, 1) and f.times[0] == np.datetime64("2008-01-01T00:00")
    assert f.utc_offset_hours == 0.0


def test_zone_in_units_is_applied(tmp_path):
    f = read_alma(write_alma(tmp_path / "z.nc", zone=" +08:00"))
    assert f.times[0] == np.datetime64("2007-12-31T16:00") and f.utc_offset_hours == 0.0


def test_utc_units_and_date_only_units(tmp_path):
    f = read_alma(write_alma(tmp_path / "utc.nc", zone=" UTC"))
    assert f.times[0] == np.datetime64("2008-01-01T00:00") and f.utc_offset_hours == 0.0
    # "-01" of a bare date is no zone: local time, offset from the longitude (123.5 E: +8)
    f = read_alma(write_alma(tmp_path / "d.nc", time_units="days since 2008-01-01"))
    assert f.utc_offset_hours == 8.0 and f.times[0] == np.datetime64("2007-12-31T16:00")


def test_missing_variable(tmp_path):
    with pytest.raises(InputError, match=r"z\.nc.*'Qair' not found"):
        read_alma(write_alma(tmp_path / "z.nc", drop=("Qair",)))


def test_rain_and_snow(tmp_path):
    f = read_alma(write_alma(tmp_path / "rs.nc", drop=("Precip", "split")))
    np.testing.assert_allclose(f.precip, f.rain + f.snow)
    np.testing.assert_allclose(f.precip, 1e-4, rtol=1e-6)
    g = interpolate_forcing(f, f.times[0], f.times[-1])
    np.testing.assert_allclose(g.rain.sum() + g.snow.sum(), g.precip.sum(), rtol=1e-12)


def test_missing_precipitation(tmp_path):
    with pytest.raises(InputError, match=r"no precipitation.*'Precip'.*'Rainf'"):
        read_alma(write_alma(tmp_path / "p.nc", drop=("Precip",)))


@pytest.mark.parametrize("name, unit, hint", [("Tair", "degC", "273.15"),
                                              ("Psurf", "hPa", "hPa"),
                                              ("Precip", "mm", "rate"),
                                              ("SWdown", "J m-2", "W/m2")])
def test_wrong_units(tmp_path, name, unit, hint):
    with pytest.raises(InputError, match=rf"'{name}' has units '{unit}'; expected .*{hint}"):
        read_alma(write_alma(tmp_path / "u.nc", units={name: unit}))


def test_common_unit_spellings_accepted(tmp_path):
    path = write_alma(tmp_path / "s.nc", units={"SWdown": "W m-2", "Precip": "kg m-2 s-1",
                                               "Wind": "m s-1", "Qair": "kg kg-1"})
    assert read_alma(path).n_times == 8


def test_fill_value_refused_with_time(tmp_path):
    with pytest.raises(InputError, match=r"'SWdown' has 1 missing .* 2008-01-01T01:30"):
        read_alma(write_alma(tmp_path / "f.nc", fill_at=("SWdown", 3)), utc_offset_hours=0)


def test_nan_refused_with_time(tmp_path):
    with pytest.raises(InputError, match=r"'Tair' has 1 missing .* 2008-01-01T00:30"):
        read_alma(write_alma(tmp_path / "n.nc", nan_at=("Tair", 1)), utc_offset_hours=0)


def test_truncated_file(tmp_path):
    good = write_alma(tmp_path / "good.nc", n=2000)
    data = good.read_bytes()
    bad = tmp_path / "truncated.nc"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"truncated\.nc.*truncated"):
        read_alma(bad)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_alma(tmp_path / "absent.nc")


def test_empty_selection(tmp_path):
    with pytest.raises(InputError, match=r"no time in"):
        read_alma(write_alma(tmp_path / "e.nc"), start="2010-01-01", utc_offset_hours=0)
