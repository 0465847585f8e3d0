"""Roots, aquifer, column state and the water half of the CoLM step (water_step)."""

import numpy as np
import pytest

from landia.columns.aquifer import (
    AQUIFER_INITIAL,
    AQUIFER_MAX,
    SPECIFIC_YIELD,
    aquifer_step,
    water_table_depth,
)
from landia.columns.hydrology import water_step
from landia.columns.roots import LAND_COVER_ROOTS, land_cover_root_fractions, root_fractions
from landia.columns.runoff import base_flow
from landia.columns.soil import SoilParameters
from landia.columns.soilwater import POND_MAX, RHO_ICE
from landia.columns.state import ColumnParameters, ColumnState, layer_sum
from landia.grid import colm_interface_depths, colm_layer_thickness, colm_node_depths

DT = 1800.0
DZ_MM = 1000.0 * colm_layer_thickness()
ZB = colm_interface_depths()[-1]


# --- roots -------------------------------------------------------------------------------

def test_root_fractions_sum_to_one_and_bare_soil_has_none():
    names = list(LAND_COVER_ROOTS)
    r = land_cover_root_fractions(names)
    assert r.shape == (len(names), 10)
    assert np.all(r >= 0)
    for name, row in zip(names, r):
        expected = 0.0 if name == "bare_soil" else 1.0
        assert row.sum() == pytest.approx(expected, abs=1e-12), name


def test_root_fractions_follow_the_logistic_profile():
    d50, beta = 15.0, 1.7
    r = root_fractions(d50, beta)[0]
    zi_cm = 100.0 * np.concatenate(([0.0], colm_interface_depths()))
    below = 1.0 / (1.0 + (zi_cm / d50) ** beta)
    raw = below[:-1] - below[1:]
    np.testing.assert_allclose(r, raw / raw.sum(), rtol=1e-13)
    # half of the (truncated) roots above ~d50
    mean_depth = (r * colm_node_depths()).sum()
    assert 0.1 < mean_depth < 0.6


def test_deeper_d50_gives_deeper_roots():
    r = root_fractions(np.array([5.0, 10.0, 20.0, 40.0]), 1.8)
    z = colm_node_depths()
    mean_depth = r @ z
    assert np.all(np.diff(mean_depth) > 0)
    top3 = r[:, :3].sum(axis=1)
    assert np.all(np.diff(top3) < 0)


def test_root_fractions_reject_bad_input():
    with pytest.raises(ValueError, match="d50"):
        root_fractions(-1.0, 1.5)
    with pytest.raises(ValueError, match="beta"):
        root_fractions(10.0, 0.0)
    with pytest.raises(ValueError, match="unknown"):
        land_cover_root_fractions(["tundra_moss"])


# --- aquifer -----------------------------------------------------------------------------

def test_water_table_depth_relation_and_clipping():
    assert water_table_depth(AQUIFER_INITIAL) == pytest.approx(25.0 + ZB - 4800.0 / 200.0)
    assert water_table_depth(AQUIFER_MAX) == pytest.approx(ZB)
    np.testing.assert_allclose(water_table_depth(np.array([1e7, -1e7])), [0.0, 80.0])
    wa = np.linspace(0.0, AQUIFER_MAX, 11)
    assert np.all(np.diff(water_table_depth(wa)) < 0)  # more water, shallower table
    assert SPECIFIC_YIELD == 0.2


def test_aquifer_without_recharge_loses_its_base_flow_and_the_table_falls():
    wa = np.array([AQUIFER_INITIAL, AQUIFER_MAX, 100.0, 0.0])
    r = aquifer_step(wa, np.zeros(4), DT)
    expected = np.minimum(base_flow(water_table_depth(wa)), wa / DT)
    np.testing.assert_allclose(r.base_flow, expected, rtol=1e-14)
    np.testing.assert_allclose(r.wa, wa - expected * DT, rtol=1e-14)
    assert np.all(r.wa[:2] < wa[:2]) and np.all(r.wa <= wa) and r.wa[3] == 0.0
    assert np.all(r.z_wt[:2] > water_table_depth(wa[:2]))  # deeper table
    assert np.all(r.z_wt >= water_table_depth(wa))
    assert np.all(r.overflow == 0.0)


def test_aquifer_recharge_raises_the_table_and_overflows_at_the_cap():
    wa = np.array([AQUIFER_INITIAL, AQUIFER_MAX - 1.0])
    recharge = np.array([1e-3, 1e-2])  # 1.8 mm and 18 mm per step
    r = aquifer_step(wa, recharge, DT)
    assert r.wa[0] > wa[0] and r.z_wt[0] < water_table_depth(wa[0])
    assert r.wa[1] == AQUIFER_MAX and r.z_wt[1] == pytest.approx(ZB)
    assert r.overflow[0] == 0.0 and r.overflow[1] > 0.0
    np.testing.assert_allclose(
        r.wa - wa, (recharge - r.base_flow - r.overflow) * DT, rtol=0, atol=1e-9
    )
    with pytest.raises(ValueError, match="recharge"):
        aquifer_step(wa, -recharge, DT)
    with pytest.raises(ValueError, match="wa"):
        aquifer_step(np.array([6000.0, 0.0]), recharge, DT)


# --- state -------------------------------------------------------------------------------

def _params(n, rng, covers=("grassland", "cropland", "shrubland", "deciduous_forest",
                            "evergreen_forest", "bare_soil")):
    sand = rng.uniform(3.0, 95.0, size=(n, 10))
    clay = rng.uniform(0.0, 1.0, size=(n, 10)) * (100.0 - sand)
    soil = SoilParameters.from_sand_clay(sand, clay)
    return ColumnParameters.from_land_cover(soil, list(rng.choice(covers, size=n)))


def test_default_state_and_total_water():
    rng = np.random.default_rng(1)
    p = _params(5, rng)
    s = ColumnState.default(p.soil)
    np.testing.assert_allclose(s.w_liq, 0.5 * p.soil.porosity * DZ_MM)
    assert np.all(s.wa == AQUIFER_INITIAL)
    np.testing.assert_allclose(s.z_wt, 25.0 + ZB - 24.0)
    np.testing.assert_allclose(s.total_water(), s.w_liq.sum(axis=1) + 4800.0)
    s2 = s.replace(pond=np.full(5, 2.0), snow=np.full(5, 3.0), w_ice=np.full((5, 10), 0.1))
    np.testing.assert_allclose(s2.total_water(), s.total_water() + 5.0 + 1.0)
    s.check_soil_bounds(p.soil)


def test_state_and_parameters_are_validated():
    rng = np.random.default_rng(2)
    p = _params(3, rng)
    s = ColumnState.default(p.soil)
    with pytest.raises(ValueError, match="w_liq"):
        s.replace(w_liq=-s.w_liq)
    with pytest.raises(ValueError, match="pond"):
        s.replace(pond=np.full(3, 11.0))
    with pytest.raises(ValueError, match="wa"):
        s.replace(wa=np.full(3, 6000.0))
    with pytest.raises(ValueError, match="snow"):
        s.replace(snow=np.full(2, 1.0))
    with pytest.raises(ValueError, match="t_soil"):
        s.replace(t_soil=np.full((3, 10), np.nan))
    with pytest.raises(ValueError, match="porosity"):
        s.replace(w_liq=2.0 * s.w_liq + 1.0).check_soil_bounds(p.soil)
    with pytest.raises(ValueError, match="root_fraction"):
        ColumnParameters(p.soil, np.full((3, 10), 0.2))


@pytest.mark.parametrize("field", ["w_liq", "w_ice", "t_soil", "pond", "snow", "wa", "z_wt"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_state_refuses_nan_and_infinities_in_every_field(field, bad):
    """Found from each field's least and greatest value (NaN propagates to both)."""
    p = _params(3, np.random.default_rng(3))
    s = ColumnState.default(p.soil)
    value = getattr(s, field).copy()
    value.flat[-1] = bad
    with pytest.raises(ValueError, match=f"{field}: expected finite values"):
        s.replace(**{field: value})


@pytest.mark.parametrize("nl", [1, 3, 7, 8, 9, 10, 15, 16, 17, 25, 128, 129])
def test_layer_sum_is_numpys_row_sum_bit_for_bit(nl):
    """The budget's total water is the same bits as ``sum(axis=1)`` (values over 7 decades,
    signed zeros included)."""
    rng = np.random.default_rng(nl)
    a = rng.random((500, nl)) * 10.0 ** rng.uniform(-3, 4, (500, nl))
    a[::5] *= -1.0
    a[::11] = -0.0
    assert np.array_equal(layer_sum(a), a.sum(axis=1))
    assert np.array_equal(np.signbit(layer_sum(a)), np.signbit(a.sum(axis=1)))
    for other in (np.asfortranarray(a), a[::2], np.hstack([a, a])[:, :nl]):  # other orders
        assert np.array_equal(layer_sum(other), other.sum(axis=1))


def test_has_roots_is_made_once_and_read_only():
    p = _params(50, np.random.default_rng(4))
    np.testing.assert_array_equal(p.has_roots, p.root_fraction.sum(axis=1) > 0.0)
    assert p.has_roots is p.has_roots and not p.has_roots.flags.writeable
    assert (~p.has_roots).any()  # bare soil among the covers


# --- water_step --------------------------------------------------------------------------

def test_water_budget_closes_and_bounds_hold_over_random_forcing():
    """1000 random columns x 200 steps: rain, snowmelt, evaporation and transpiration demand."""
    rng = np.random.default_rng(20261125)
    n, steps = 1000, 200
    p = _params(n, rng)
    s = ColumnState.default(p.soil)
    frozen = rng.uniform(size=(n, 10)) < 0.05
    theta_ice = np.where(frozen, rng.uniform(0.0, 0.5, size=(n, 10)) * p.soil.porosity, 0.0)
    w_ice = theta_ice * RHO_ICE * DZ_MM / 1000.0
    capacity = (p.soil.porosity - theta_ice) * DZ_MM
    s = s.replace(
        w_liq=rng.uniform(0.0, 1.0, size=(n, 10)) * capacity,
        w_ice=w_ice,
        t_soil=np.where(frozen, rng.uniform(260.0, 273.0, size=(n, 10)), 285.0),
        snow=rng.uniform(0.0, 50.0, size=n),
        wa=rng.uniform(0.0, AQUIFER_MAX, size=n),
    )
    s = s.replace(z_wt=water_table_depth(s.wa))
    worst = 0.0
    for _ in range(steps):
        heavy = rng.uniform(size=n) < 0.1
        rain = np.where(heavy, rng.uniform(0.0, 0.05, size=n), rng.uniform(0.0, 2e-4, size=n))
        rain[rng.uniform(size=n) < 0.5] = 0.0
        melt = np.minimum(rng.uniform(0.0, 1e-3, size=n), s.snow / DT)
        e_dem = rng.uniform(0.0, 3e-4, size=n)
        t_dem = rng.uniform(0.0, 3e-4, size=n)
        new, f = water_step(s, p, rain, melt, e_dem, t_dem, DT)
        worst = max(worst, np.abs(f.residual).max())
        # bounds
        theta = new.w_liq / DZ_MM + new.w_ice / (RHO_ICE * DZ_MM / 1000.0)
        assert np.all(new.w_liq >= 0.0)
        assert np.all(theta <= p.soil.porosity * (1 + 1e-12))
        assert np.all((new.pond >= 0) & (new.pond <= POND_MAX))
        assert np.all((new.wa >= 0) & (new.wa <= AQUIFER_MAX))
        assert np.all((new.z_wt >= 0) & (new.z_wt <= 80.0))
        assert np.all(new.snow >= 0)
        for name in ("evaporation", "transpiration", "runoff", "drainage", "base_flow", "correction"):
            assert np.all(getattr(f, name) >= 0.0), name
        assert np.all(f.evaporation <= e_dem) and np.all(f.transpiration <= np.minimum(t_dem, 2e-4))
        assert np.all(f.transpiration[~p.has_roots] == 0.0)
        s = new
    assert worst < 1e-9


def _uniform(n, sand=40.0, clay=20.0, cover="grassland"):
    soil = SoilParameters.from_sand_clay(np.full(n, sand), np.full(n, clay))
    return ColumnParameters.from_land_cover(soil, cover)


def test_dry_column_with_demand_transpires_next_to_nothing():
    p = _uniform(2)
    s = ColumnState.default(p.soil)
    dry = s.replace(w_liq=np.vstack([0.02 * p.soil.porosity[0] * DZ_MM, s.w_liq[1]]))
    new, f = water_step(dry, p, 0.0, 0.0, 0.0, 1e-4)
    assert f.stress[0] < 1e-6 and f.transpiration[0] < 1e-10
    assert f.stress[1] > 0.5 and f.transpiration[1] > 5e-5
    assert abs(f.residual).max() < 1e-9


def test_bare_soil_does_not_transpire():
    p = _uniform(3, cover="bare_soil")
    s = ColumnState.default(p.soil)
    new, f = water_step(s, p, 1e-4, 0.0, 1e-4, 2e-4)
    assert np.all(f.transpiration == 0.0) and np.all(f.stress == 0.0)
    assert np.all(f.evaporation == 1e-4)
    assert abs(f.residual).max() < 1e-9


def test_evaporation_is_limited_by_the_water_of_the_top_layer():
    p = _uniform(1, cover="bare_soil")
    s = ColumnState.default(p.soil)
    w = s.w_liq.copy()
    w[0, 0] = 0.01  # 0.01 mm in layer 1
    s = s.replace(w_liq=w)
    new, f = water_step(s, p, 0.0, 0.0, 1e-3, 0.0)
    assert f.evaporation[0] == pytest.approx(0.01 / DT)
    assert np.all(new.w_liq >= 0.0) and abs(f.residual).max() < 1e-9


def test_heavy_rain_on_saturated_soil_runs_off():
    p = _uniform(1)
    s = ColumnState.default(p.soil, saturation=1.0)
    s = s.replace(wa=np.array([AQUIFER_MAX]), z_wt=water_table_depth(np.array([AQUIFER_MAX])))
    rain = 0.05  # 90 mm in the step
    new, f = water_step(s, p, rain, 0.0, 0.0, 0.0)
    # (almost) nothing can enter a saturated column draining at k_sat
    assert f.runoff[0] * DT > 0.8 * rain * DT
    assert f.surface_runoff[0] > 0.8 * rain
    assert f.infiltration[0] <= p.soil.k_sat[0, :3].min() * (1 + 1e-12)
    assert 0.0 <= new.pond[0] <= POND_MAX
    assert np.all(new.w_liq <= p.soil.porosity * DZ_MM * (1 + 1e-12))
    assert abs(f.residual).max() < 1e-9


def test_snowmelt_comes_from_the_snow_store():
    p = _uniform(1)
    s = ColumnState.default(p.soil).replace(snow=np.array([10.0]))
    new, f = water_step(s, p, 0.0, 2e-3, 0.0, 0.0)
    assert new.snow[0] == pytest.approx(10.0 - 3.6)
    assert abs(f.residual).max() < 1e-9
    with pytest.raises(ValueError, match="snowmelt"):
        water_step(s, p, 0.0, 1.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="rain"):
        water_step(s, p, -1.0, 0.0, 0.0, 0.0)


def test_snowmelt_already_taken_from_the_snow_counts_as_an_input():
    p = _uniform(1)
    s = ColumnState.default(p.soil).replace(snow=np.array([1.0]))
    new, f = water_step(s, p, 0.0, 2e-3, 0.0, 0.0, snowmelt_from_store=False)
    assert new.snow[0] == 1.0  # left alone: the energy half's snow_step already melted it
    assert f.snowmelt[0] == 2e-3 and abs(f.residual).max() < 1e-9


# --- infiltration excess held in the pond -------------------------------------------------

def test_pond_infiltration_excess_splits_the_runoff_and_respects_the_room():
    from landia.columns.runoff import pond_infiltration_excess, surface_runoff

    g = np.array([0.02, 0.02, 0.02, -1e-4, 1e-4])
    f_sat = np.array([0.1, 0.1, 0.1, 0.1, 0.1])
    q_max = np.array([1e-3, 1e-3, 1e-3, 1e-3, 1e-3])
    pond = np.array([0.0, 9.0, 10.0, 0.0, 0.0])
    r, i = surface_runoff(g, f_sat, q_max)
    kept_r, ponded = pond_infiltration_excess(r, g, f_sat, pond, DT, POND_MAX)
    np.testing.assert_allclose(kept_r + ponded, r, rtol=0, atol=1e-18)
    assert np.all(ponded >= 0)
    # room: 10 mm, 1 mm, none; no excess for negative or slow input
    np.testing.assert_allclose(ponded[:3], [10.0 / DT, 1.0 / DT, 0.0], rtol=1e-14)
    assert ponded[3] == 0.0 and ponded[4] == 0.0
    # the saturation excess always leaves
    assert np.all(kept_r[:3] >= f_sat[:3] * g[:3] * (1 - 1e-14))
    same_r, none = pond_infiltration_excess(r, g, f_sat, pond, DT, 0.0)
    np.testing.assert_array_equal(same_r, r)
    assert not none.any()


def test_a_storm_on_dry_soil_ponds_its_excess_and_the_budget_closes():
    p = _uniform(1)
    s = ColumnState.default(p.soil, saturation=0.3)
    rain = 10.0 * p.soil.k_sat[0, :3].min()  # far above the infiltration capacity
    colm, f0 = water_step(s, p, rain, 0.0, 0.0, 0.0, pond_excess=False)
    new, f1 = water_step(s, p, rain, 0.0, 0.0, 0.0)
    assert f0.ponded[0] == 0.0
    assert f1.ponded[0] > 0.0
    assert f1.runoff[0] < f0.runoff[0]
    assert f1.infiltration[0] == pytest.approx(f0.infiltration[0], rel=1e-15)
    # the ponded water entered the soil or waits in the pond; nothing is lost
    assert new.total_water()[0] > colm.total_water()[0]
    assert 0.0 <= new.pond[0] <= POND_MAX
    assert abs(f0.residual).max() < 1e-9 and abs(f1.residual).max() < 1e-9
    # a rain-free step afterwards: the pond drains into the soil
    later, f2 = water_step(new, p, 0.0, 0.0, 0.0, 0.0)
    assert later.pond[0] <= new.pond[0]
    assert abs(f2.residual).max() < 1e-9
