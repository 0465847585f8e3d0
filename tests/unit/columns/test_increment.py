"""Analysis increments applied to the columns: bounds kept, water accounted."""

import numpy as np

from landia.columns.increment import THETA_LIQ_FLOOR, apply_increment
from landia.columns.soil import SoilParameters
from landia.columns.soilwater import RHO_ICE
from landia.columns.state import ColumnState
from landia.grid import colm_layer_thickness

DZ = colm_layer_thickness()


def _state(n=4):
    soil = SoilParameters.from_sand_clay(np.linspace(20, 80, n), np.full(n, 15.0))
    return soil, ColumnState.default(soil, saturation=0.5)


def test_increment_changes_liquid_water_and_reports_the_source_term():
    soil, s = _state()
    inc = np.full((4, 3), 0.02)
    r = apply_increment(s, soil.porosity, inc)
    np.testing.assert_allclose(r.applied, inc, atol=1e-15)
    np.testing.assert_allclose(r.source, 1000 * DZ[:3].sum() * 0.02, rtol=1e-12)
    total = r.columns.total_water() - s.total_water()
    np.testing.assert_allclose(total, r.source, rtol=0, atol=1e-10)
    np.testing.assert_array_equal(r.columns.w_liq[:, 3:], s.w_liq[:, 3:])
    assert r.clipped == 0


def test_bounds_hold_for_any_increment():
    soil, s = _state()
    w_ice = s.w_ice.copy()
    w_ice[0, :3] = 0.3 * soil.porosity[0, :3] * DZ[:3] * RHO_ICE  # a partly frozen column
    s = s.replace(w_ice=w_ice, w_liq=np.minimum(s.w_liq, (soil.porosity - w_ice / (RHO_ICE * DZ)) * 1000 * DZ))
    rng = np.random.default_rng(0)
    for _ in range(20):
        inc = rng.normal(0, 0.4, (4, 3))
        inc[rng.random((4, 3)) < 0.1] = np.nan
        r = apply_increment(s, soil.porosity, inc)
        theta_liq = r.columns.w_liq / (1000 * DZ)
        theta_ice = r.columns.w_ice / (RHO_ICE * DZ)
        assert np.all(theta_liq + theta_ice <= soil.porosity * (1 + 1e-12))
        assert np.all(theta_liq[:, :3] >= min(THETA_LIQ_FLOOR, (s.w_liq / (1000 * DZ)).min()) - 1e-15)
        np.testing.assert_allclose(r.columns.total_water() - s.total_water(), r.source, atol=1e-10)
        unchanged = np.isnan(inc)
        np.testing.assert_array_equal(r.applied[unchanged], 0.0)
    assert r.clipped > 0


def test_shape_is_checked():
    soil, s = _state()
    import pytest

    with pytest.raises(ValueError, match="increment: expected shape"):
        apply_increment(s, soil.porosity, np.zeros((3, 3)))


def test_a_zero_increment_leaves_the_state_bit_for_bit():
    soil, s = _state()
    r = apply_increment(s, soil.porosity, np.zeros((4, 3)))
    assert np.array_equal(r.columns.w_liq, s.w_liq) and not r.source.any()
