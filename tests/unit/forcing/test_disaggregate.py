"""Daily-mean forcing -> sub-daily steps, budgets kept (landia.forcing.disaggregate)."""

from __future__ import annotations

import numpy as np
import pytest

from landia.errors import InputError
from landia.forcing.disaggregate import (disaggregate_daily, humidity_cycle,
                                         precipitation_weights, saturation_specific_humidity)
from landia.forcing.interpolate import interpolate_forcing
from landia.forcing.solar import cos_solar_zenith

#: Mid-latitudes both sides, the tropics, and both polar regions (polar day and night in June).
LAT = (40.0, -33.0, 5.0, 85.0, -85.0, 38.5)
LON = (-100.0, 151.0, 20.0, 0.0, 60.0, -75.0)
VARIABLES = ("tair", "qair", "swdown", "lwdown", "precip", "wind", "psurf")


def daily(start="2015-06-19", n_days=5, lat=LAT, lon=LON, seed=0):
    rng = np.random.default_rng(seed)
    shape = (n_days, len(lat))
    days = np.datetime64(start, "D") + np.arange(n_days)
    values = dict(tair=270.0 + 30.0 * rng.random(shape), qair=0.3 + 0.5 * rng.random(shape),
                  swdown=20.0 + 250.0 * rng.random(shape), lwdown=250.0 + 100.0 * rng.random(shape),
                  precip=np.where(rng.random(shape) < 0.4, 0.0, 2e-4 * rng.random(shape)),
                  wind=0.5 + 6.0 * rng.random(shape), psurf=8.5e4 + 1.5e4 * rng.random(shape))
    # relative humidity 30-80 % of the daily mean's saturation: a consistent day
    values["qair"] *= saturation_specific_humidity(values["tair"], values["psurf"])
    return days, np.asarray(lat), np.asarray(lon), values


def day_means(forcing, name, n_days):
    a = getattr(forcing, name)
    return a.reshape(n_days, -1, a.shape[1]).mean(axis=1)


# ---------------------------------------------------------------- conservation

@pytest.mark.parametrize("step_s, precip_hours", [(1800, None), (3600, None), (1800, 5.0),
                                                  (10800, 2.0), (600, 24.0)])
def test_every_daily_mean_is_kept(step_s, precip_hours):
    days, lat, lon, v = daily()
    f = disaggregate_daily(days, lat, lon, step_s=step_s, precip_hours=precip_hours, **v)
    assert f.n_times == days.size * 86400 // step_s
    assert f.times[0] == days[0].astype("datetime64[s]")
    assert np.all(np.diff(f.times) == np.timedelta64(step_s, "s"))
    for name in VARIABLES:
        np.testing.assert_allclose(day_means(f, name, days.size), v[name], rtol=1e-12,
                                   atol=0, err_msg=name)
    # precipitation totals in kg m-2, the quantity a water budget sees
    np.testing.assert_allclose(f.precip.reshape(days.size, -1, lat.size).sum(axis=1) * step_s,
                               v["precip"] * 86400.0, rtol=1e-12, atol=0)


def test_values_are_physical_and_the_cycle_is_real():
    days, lat, lon, v = daily()
    f = disaggregate_daily(days, lat, lon, **v)
    assert np.all(f.swdown >= 0) and np.all(f.precip >= 0) and np.all(f.lwdown > 0)
    q_sat = saturation_specific_humidity(f.tair, f.psurf)
    assert np.all(f.qair <= q_sat * (1 + 1e-12))
    t = f.tair.reshape(days.size, 48, -1)
    dtr = t.max(axis=1) - t.min(axis=1)
    assert np.all(dtr > 2.0) and np.all(dtr < 17.0)


# ---------------------------------------------------------------- shortwave and the sun

@pytest.mark.parametrize("lon", [-120.0, -75.0, 0.0, 100.0, 170.0])
def test_shortwave_peaks_at_local_solar_noon_and_is_dark_at_night(lon):
    days, lat, _, v = daily(n_days=2, lat=(35.0,), lon=(lon,))
    f = disaggregate_daily(days, lat, [lon], step_s=900, **v)
    sw = f.swdown[:, 0].reshape(2, 96)
    noon_utc = np.mod(12.0 - lon / 15.0, 24.0)                     # +- equation of time
    peak = (np.argmax(sw, axis=1) + 0.5) * 0.25                    # step midpoint, h UTC
    gap = np.abs(np.mod(peak - noon_utc + 12.0, 24.0) - 12.0)
    assert np.all(gap < 0.5)
    cz = cos_solar_zenith(f.times + np.timedelta64(450, "s"), lat, [lon])[:, 0].reshape(2, 96)
    # dark steps: the sun below the horizon over the whole step (both ends)
    cz_end = cos_solar_zenith(f.times + np.timedelta64(900, "s"), lat, [lon])[:, 0]
    cz_start = cos_solar_zenith(f.times, lat, [lon])[:, 0]
    dark = ((cz_start < 0) & (cz_end < 0)).reshape(2, 96) & (cz < 0)
    assert dark.sum() > 30 and np.all(sw[dark] == 0)


def test_polar_night_spreads_shortwave_evenly_and_polar_day_never_stops():
    days, lat, lon, v = daily(start="2015-12-20", n_days=2, lat=(85.0, -85.0), lon=(0.0, 0.0))
    v["swdown"][:] = [[3.0, 400.0], [0.5, 420.0]]     # a little diffuse light in the night
    f = disaggregate_daily(days, lat, lon, **v)
    night = f.swdown[:, 0].reshape(2, 48)
    np.testing.assert_allclose(night, np.repeat(v["swdown"][:, :1], 48, axis=1), rtol=1e-14)
    day = f.swdown[:, 1].reshape(2, 48)
    assert np.all(day > 0)
    np.testing.assert_allclose(day.mean(axis=1), v["swdown"][:, 1], rtol=1e-12)
    # the midnight sun at 85 S: elevation 18.4 deg at midnight, 28.4 deg at noon
    ratio = day.max(axis=1) / day.min(axis=1)
    assert np.all(ratio > 1.4) and np.all(ratio < 1.6)


# ---------------------------------------------------------------- temperature, humidity, longwave

def test_temperature_minimum_near_sunrise_maximum_in_the_afternoon():
    lon = np.array([-100.0, 0.0, 90.0])
    days, lat, _, v = daily(n_days=1, lat=(40.0, 40.0, 40.0), lon=lon)
    v["swdown"][:] = 380.0                  # clear (TOA mean about 480 W m-2): the largest range
    f = disaggregate_daily(days, lat, lon, step_s=600, **v)
    solar_hour = np.mod((np.arange(144)[:, None] + 0.5) / 6.0 + lon / 15.0, 24.0)
    h_min = solar_hour[np.argmin(f.tair, axis=0), range(3)]
    h_max = solar_hour[np.argmax(f.tair, axis=0), range(3)]
    # sunrise at 40 N on 19 June is about 04:35 local solar time
    np.testing.assert_allclose(h_min, 4.6, atol=0.3)
    np.testing.assert_allclose(h_max, 14.0, atol=0.2)
    np.testing.assert_allclose(f.tair.max(axis=0) - f.tair.min(axis=0), 16.0, atol=0.05)


def test_overcast_days_have_a_small_temperature_range():
    days, lat, lon, v = daily(n_days=1, lat=(40.0,), lon=(0.0,))
    v["swdown"][:] = 40.0
    f = disaggregate_daily(days, lat, lon, **v)
    np.testing.assert_allclose(np.ptp(f.tair), 4.0, atol=0.05)


def test_cold_day_cycle_is_damped_to_stay_physical():
    days, lat, lon, v = daily(n_days=1, lat=(40.0,), lon=(0.0,))
    v["tair"][:] = 192.0
    f = disaggregate_daily(days, lat, lon, **v)
    assert f.tair.min() >= 190.0 - 1e-9
    np.testing.assert_allclose(f.tair.mean(), 192.0, rtol=1e-12)


def test_humidity_moved_from_the_cold_night_to_the_warm_day():
    days, lat, lon, v = daily(n_days=1, lat=(40.0,), lon=(0.0,))
    v.update(tair=np.array([[283.0]]), psurf=np.array([[1e5]]), swdown=np.array([[320.0]]))
    q_sat_mean = saturation_specific_humidity(283.0, 1e5)
    v["qair"] = np.array([[0.98 * q_sat_mean]])          # saturated at night
    f = disaggregate_daily(days, lat, lon, **v)
    q_sat = saturation_specific_humidity(f.tair, f.psurf)
    assert np.any(f.qair < v["qair"][0, 0]) and np.any(f.qair > v["qair"][0, 0])
    assert np.all(f.qair <= q_sat * (1 + 1e-12))
    np.testing.assert_allclose(f.qair.mean(), v["qair"][0, 0], rtol=1e-12)


def test_humidity_above_every_saturation_is_saturated_and_reported():
    q_sat = np.array([[[0.004], [0.005], [0.006]], [[0.004], [0.006], [0.008]]])
    q, kept = humidity_cycle(np.array([[0.007], [0.005]]), q_sat)
    np.testing.assert_array_equal(kept, [[False], [True]])
    np.testing.assert_allclose(q[0, :, 0], q_sat[0, :, 0])
    np.testing.assert_allclose(q[1].mean(), 0.005, rtol=1e-14)
    assert np.all(q <= q_sat)


def test_longwave_follows_the_fourth_power_of_temperature():
    days, lat, lon, v = daily()
    f = disaggregate_daily(days, lat, lon, **v)
    ratio = (f.lwdown / f.tair**4).reshape(days.size, 48, -1)
    np.testing.assert_allclose(ratio, np.repeat(ratio[:, :1], 48, axis=1), rtol=1e-12)


# ---------------------------------------------------------------- precipitation

def test_precipitation_window_at_a_fixed_local_hour_wraps_inside_the_utc_day():
    lon = np.array([0.0, -90.0])
    g = precipitation_weights(lon, 1800, hours=4.0, centre_hour=16.0)
    np.testing.assert_allclose(g.mean(axis=0), 1.0, rtol=1e-14)
    wet_hours = (np.nonzero(g[:, 0])[0] * 0.5)
    np.testing.assert_array_equal(wet_hours, np.arange(14.0, 18.0, 0.5))
    # at 90 W 16 h local solar time is 22 UTC: 20-24 UTC, no wrap
    np.testing.assert_array_equal(np.nonzero(g[:, 1])[0] * 0.5, np.arange(20.0, 24.0, 0.5))
    wrapped = precipitation_weights(np.array([-120.0]), 1800, hours=4.0, centre_hour=16.0)
    # at 120 W: 22-26 UTC -> 22-24 UTC and 00-02 UTC of the same day
    np.testing.assert_array_equal(np.nonzero(wrapped[:, 0])[0] * 0.5,
                                  [0.0, 0.5, 1.0, 1.5, 22.0, 22.5, 23.0, 23.5])
    assert np.all(g >= 0) and set(np.unique(g[:, 0])) == {0.0, 6.0}


# ---------------------------------------------------------------- with CoLM's interpolation

def test_interpolation_at_the_same_step_passes_the_budgets_through():
    days, lat, lon, v = daily(n_days=3)
    f = disaggregate_daily(days, lat, lon, step_s=1800, **v)
    end = days[-1].astype("datetime64[s]") + np.timedelta64(1, "D")
    g = interpolate_forcing(f, f.times[0], end, dt=1800)
    for name in VARIABLES + ("lwdown",):
        np.testing.assert_allclose(getattr(g, name), getattr(f, name), rtol=1e-14,
                                   atol=0, err_msg=name)
        np.testing.assert_allclose(day_means(g, name, 3), v[name], rtol=1e-12, err_msg=name)


def test_interpolating_a_coarser_step_keeps_fluxes_but_not_the_states_means():
    days, lat, lon, v = daily(n_days=3)
    f = disaggregate_daily(days, lat, lon, step_s=3600, **v)
    end = days[-1].astype("datetime64[s]") + np.timedelta64(1, "D")
    g = interpolate_forcing(f, f.times[0], end, dt=1800)
    for name in ("precip", "swdown"):
        np.testing.assert_allclose(day_means(g, name, 3), v[name], rtol=1e-12, err_msg=name)
    error = np.abs(day_means(g, "tair", 3) - v["tair"])
    assert error.max() > 1e-6 and error.max() < 0.5      # why the model step is the rule


# ---------------------------------------------------------------- errors

def test_bad_inputs_name_the_source_and_variable():
    days, lat, lon, v = daily(n_days=3)
    bad = dict(v, precip=v["precip"].copy())
    bad["precip"][1, 2] = -1e-5
    with pytest.raises(InputError, match=r"nldas.nc: daily precip .* day 1, cell 2"):
        disaggregate_daily(days, lat, lon, source="nldas.nc", **bad)
    with pytest.raises(InputError, match="consecutive"):
        disaggregate_daily(days[[0, 2, 1]], lat, lon, **v)
    with pytest.raises(InputError, match="divides 86400"):
        disaggregate_daily(days, lat, lon, step_s=7000, **v)
    with pytest.raises(InputError, match="daily wind has shape"):
        disaggregate_daily(days, lat, lon, **dict(v, wind=v["wind"][:2]))


# ---------------------------------------------------------------- the real set

def test_three_weeks_of_nldas_daily_means(shared_data):
    import netCDF4   # the module under test does no I/O; the test reads the set directly

    path = shared_data / "conus_nldas_smap" / "nldas2_daily_2015-2018.nc"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    cells = slice(0, 412, 20)
    with netCDF4.Dataset(path) as ds:
        days = np.datetime64("1970-01-01", "D") + np.asarray(ds["time"][:21]).astype(int)
        lat, lon = ds["lat"][cells], ds["lon"][cells]

        def read(name):
            return np.asarray(ds[name][:21, cells], dtype=float)

        v = dict(tair=read("TMP_2_FORA"), qair=read("SPFH_2_FORA"),
                 swdown=read("DSWRF_FORA"), lwdown=read("DLWRF_FORA"),
                 precip=read("APCP_FORA") / 3600.0,
                 wind=np.hypot(read("UGRD_10_FORA"), read("VGRD_10_FORA")), psurf=9.7e4)
    assert days[0] == np.datetime64("2015-04-01")
    f = disaggregate_daily(days, lat, lon, source=str(path), **v)
    for name in ("tair", "swdown", "lwdown", "precip", "wind"):
        np.testing.assert_allclose(day_means(f, name, 21), v[name], rtol=1e-12, err_msg=name)
    kept = np.isclose(day_means(f, "qair", 21), v["qair"], rtol=1e-12, atol=0)
    assert kept.mean() > 0.95
    # the clear-sky peak is far below the solar constant; nights are dark
    assert 600.0 < f.swdown.max() < 1361.0 and (f.swdown == 0).mean() > 0.3
