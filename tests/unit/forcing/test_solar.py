"""The cosine of the solar zenith angle (landia.forcing.solar)."""

from __future__ import annotations

import numpy as np
import pytest

from landia.forcing.solar import cos_solar_zenith
from tests.unit.forcing.records import times


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
