"""Forcing: ALMA/PLUMBER2 reader, record validation, solar zenith, CoLM time interpolation."""

from __future__ import annotations

import numpy as np
import pytest

from landia.errors import InputError
from landia.forcing import Forcing
from landia.forcing.alma import read_alma
from landia.forcing.interpolate import (interpolate_forcing, longwave_from_emissivity,
                                        vapour_pressure)
from landia.forcing.solar import cos_solar_zenith

MET = "plumber2_CN-Cng/CN-Cng_2008-2009_FLUXNET2015_Met.nc"


def times(start, n, step_s):
    return np.datetime64(start, "s") + np.arange(n) * np.timedelta64(step_s, "s")


def synthetic(n_times=16, step_s=6 * 3600, lat=(44.6, -10.0, 70.0), lon=(123.5, 20.0, -60.0),
              seed=0, lw=True, start="2008-06-01T00:00"):
    rng = np.random.default_rng(seed)
    shape = (n_times, len(lat))
    return Forcing(times=times(start, n_times, step_s), lat=lat, lon=lon,
                   tair=280 + 10 * rng.random(shape), qair=0.002 + 0.01 * rng.random(shape),
                   psurf=9e4 + 1e4 * rng.random(shape), wind=5 * rng.random(shape),
                   swdown=400 * rng.random(shape),
                   lwdown=300 + 50 * rng.random(shape) if lw else None,
                   precip=np.where(rng.random(shape) < 0.5, 0.0, 1e-3 * rng.random(shape)))


# ---------------------------------------------------------------- the real CN-Cng file

@pytest.fixture(scope="module")
def cng(shared_data):
    return read_alma(shared_data / MET)


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


# ---------------------------------------------------------------- record validation

@pytest.mark.parametrize("name, value, expected", [("tair", 400.0, r"\(150, 350\) K"),
                                                   ("qair", -0.01, r"\[0, 0.1\)"),
                                                   ("psurf", 1e3, "30000"),
                                                   ("swdown", -1.0, "W m-2"),
                                                   ("precip", np.nan, "kg m-2 s-1")])
def test_validation_names_variable_and_range(name, value, expected):
    f = synthetic()
    getattr(f, name)[3, 1] = value
    with pytest.raises(InputError, match=rf"{name} .*2008-06-01T18:00.*column 1.*{expected}"):
        f.validate()


def test_select():
    f = synthetic(n_times=8, step_s=3600)
    g = f.select("2008-06-01T02:00", "2008-06-01T05:00")
    assert g.n_times == 3 and g.tair.shape == (3, 3) and g.lwdown.shape == (3, 3)
    np.testing.assert_array_equal(g.precip, f.precip[2:5])
    with pytest.raises(InputError, match="no forcing time"):
        f.select("2009-01-01")


def test_validation_passes_and_shapes():
    f = synthetic().validate()
    f.wind = f.wind[:, :2]
    with pytest.raises(InputError, match=r"wind .*shape"):
        f.validate()


# ---------------------------------------------------------------- solar

def test_equinox_noon_equator():
    t = np.array(["2008-03-20T12:07"], dtype="datetime64[s]")
    assert cos_solar_zenith(t, [0.0], [0.0])[0, 0] > 0.999


def test_polar_night():
    t = times("2008-12-21T00:00", 48, 1800)
    assert np.all(cos_solar_zenith(t, [80.0, 70.0], [0.0, 123.5]) <= 0.0)
    assert np.all(cos_solar_zenith(t + np.timedelta64(182, "D"), [-80.0], [0.0]) <= 0.0)


def test_solar_symmetries():
    t = times("2008-03-20T00:00", 48, 1800)
    c = cos_solar_zenith(t, [30.0, -30.0], [0.0, 0.0])
    np.testing.assert_allclose(c[:, 0], c[:, 1], atol=0.01)     # declination ~ 0
    # 15 degrees east is one hour earlier in solar time
    east = cos_solar_zenith(t, [45.0], [15.0])[:-2]
    west = cos_solar_zenith(t[2:], [45.0], [0.0])
    np.testing.assert_allclose(east, west, atol=1e-3)
    # daily maximum at the solstices: summer > equinox > winter in the north
    sol = [cos_solar_zenith(times(d, 48, 1800), [45.0], [0.0]).max()
           for d in ("2008-06-21", "2008-03-20", "2008-12-21")]
    assert sol[0] > sol[1] > sol[2] > 0
    assert np.degrees(np.arccos(sol[0])) == pytest.approx(45 - 23.44, abs=0.3)


# ---------------------------------------------------------------- interpolation

def test_precipitation_step_conserves_total():
    f = synthetic(n_times=12, step_s=6 * 3600)
    g = interpolate_forcing(f, f.times[0], f.times[0] + np.timedelta64(72, "h"), dt=1800)
    assert g.n_times == 144
    np.testing.assert_allclose(g.precip.sum(axis=0) * 1800, f.precip.sum(axis=0) * 6 * 3600,
                               rtol=1e-13)
    # a step, held over its interval
    np.testing.assert_array_equal(g.precip.reshape(12, 12, 3), np.repeat(f.precip[:, None], 12, 1))


def test_precipitation_conserved_when_coarsening_and_misaligned():
    f = synthetic(n_times=40, step_s=1800)
    start = f.times[0] + np.timedelta64(600, "s")      # steps straddle forcing intervals
    g = interpolate_forcing(f, start, start + np.timedelta64(3 * 3600 * 6, "s"), dt=3 * 3600)
    total_f = (f.precip[1:36].sum(axis=0) + f.precip[0] * 2 / 3 + f.precip[36] / 3) * 1800
    np.testing.assert_allclose(g.precip.sum(axis=0) * 3 * 3600, total_f, rtol=1e-13)


def test_shortwave_interval_mean_conserved_and_follows_sun():
    f = synthetic(n_times=8, step_s=6 * 3600)
    g = interpolate_forcing(f, f.times[0], f.times[0] + np.timedelta64(48, "h"), dt=1800)
    means = g.swdown.reshape(8, 12, 3).mean(axis=1)
    cz = cos_solar_zenith(g.times + np.timedelta64(900, "s"), f.lat, f.lon)
    sunlit = (cz.reshape(8, 12, 3) > 0).any(axis=1)
    np.testing.assert_allclose(means, f.swdown, rtol=1e-12)
    # zero at night inside intervals with some sun
    night = (cz <= 0) & np.repeat(sunlit, 12, axis=0)
    assert np.all(g.swdown[night] == 0)
    assert np.all(g.swdown >= 0)


def test_shortwave_falls_back_to_mean_in_polar_night():
    f = synthetic(n_times=4, step_s=6 * 3600, lat=(85.0,), lon=(0.0,), start="2008-12-21")
    g = interpolate_forcing(f, f.times[0], f.times[0] + np.timedelta64(24, "h"), dt=1800)
    np.testing.assert_allclose(g.swdown.reshape(4, 12), np.repeat(f.swdown, 12, axis=1))


def test_linear_states():
    f = synthetic(n_times=3, step_s=3 * 3600, lat=(0.0,), lon=(0.0,))
    g = interpolate_forcing(f, f.times[0], f.times[0] + np.timedelta64(6, "h"), dt=1800)
    expected = np.interp(np.arange(12) * 1800.0, [0, 10800, 21600], f.tair[:, 0])
    np.testing.assert_allclose(g.tair[:, 0], expected)
    np.testing.assert_allclose(g.lwdown[6, 0], f.lwdown[1, 0])


def test_period_outside_forcing_refused():
    f = synthetic(n_times=4, step_s=3600)
    with pytest.raises(InputError, match="not covered"):
        interpolate_forcing(f, f.times[0], f.times[0] + np.timedelta64(5, "h"))


def test_longwave_value_and_derivation():
    # T = 280 K, q = 0.005 kg/kg, p = 1e5 Pa: e = 801.42 Pa, eps = 0.80115, L = 279.23 W m-2
    e = vapour_pressure(0.005, 1e5)
    assert e == pytest.approx(801.42, abs=0.01)
    assert longwave_from_emissivity(280.0, 0.005, 1e5) == pytest.approx(279.23, abs=0.01)
    f = synthetic(n_times=4, step_s=3 * 3600, lw=False)
    g = interpolate_forcing(f, f.times[0], f.times[0] + np.timedelta64(9, "h"))
    np.testing.assert_allclose(g.lwdown, longwave_from_emissivity(g.tair, g.qair, g.psurf))
    assert np.all((g.lwdown > 200) & (g.lwdown < 450))


def test_derived_longwave_matches_cng_observations(cng):
    """e in Pa: the clear-sky law gives 279 W m-2 against 283 observed over 2008-2009
    (with e in hPa the vapour term vanishes and it would give 246)."""
    derived = longwave_from_emissivity(cng.tair, cng.qair, cng.psurf)
    assert derived.mean() == pytest.approx(cng.lwdown.mean(), rel=0.03)
    assert np.corrcoef(derived[:, 0], cng.lwdown[:, 0])[0, 1] > 0.9
