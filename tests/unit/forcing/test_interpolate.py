"""CoLM's time interpolation of forcing to model steps (landia.forcing.interpolate)."""

from __future__ import annotations

import numpy as np
import pytest

from landia.errors import InputError
from landia.forcing.interpolate import (interpolate_forcing, longwave_from_emissivity,
                                        vapour_pressure)
from landia.forcing.solar import cos_solar_zenith
from tests.unit.forcing.records import synthetic


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
