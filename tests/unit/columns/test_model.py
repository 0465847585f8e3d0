"""The full column step: Penman-Monteith demand, snow, soil temperature and water, budget closed."""

from __future__ import annotations

import numpy as np
import pytest

from landia.columns.model import ModelState, StepFluxes, split_precipitation, step
from landia.columns.soil import SoilParameters
from landia.columns.soilwater import T_FREEZE
from landia.columns.state import ColumnParameters
from landia.columns.surface import (
    LATENT_HEAT_SUBLIMATION,
    LATENT_HEAT_VAPORISATION,
    saturation_vapour_pressure,
    specific_humidity,
    surface_demand,
)
from landia.grid import colm_layer_thickness

COVERS = ("grassland", "cropland", "shrubland", "deciduous_forest", "evergreen_forest", "bare_soil")


def _demand(tair=298.0, rh=0.3, wind=3.0, sw=800.0, lw=350.0, tg=None, psi=-1000.0, lai=2.0,
            cover="grassland", p=100000.0):
    q = rh * specific_humidity(saturation_vapour_pressure(tair), p)
    return surface_demand(
        np.array([tair]), np.array([q]), np.array([p]), np.array([wind]), np.array([sw]),
        np.array([lw]), np.array([tair if tg is None else tg]), np.array([psi]), lai, (cover,),
    )


def test_demand_zero_at_night_with_saturated_air():
    d = _demand(tair=285.0, rh=1.0, sw=0.0, lw=300.0, wind=2.0)
    assert d.net_radiation[0] < 0
    assert d.potential_evaporation[0] == 0.0
    assert d.soil_evaporation[0] == 0.0 and d.transpiration[0] == 0.0


def test_demand_positive_on_sunny_dry_day_and_grows_with_temperature_and_wind():
    d = _demand()
    assert d.potential_evaporation[0] > 1e-4  # > 0.36 mm/h at noon
    assert d.transpiration[0] > 0 and d.soil_evaporation[0] > 0
    warm = _demand(tair=303.0)
    windy = _demand(wind=6.0)
    assert warm.potential_evaporation[0] > d.potential_evaporation[0]
    assert windy.potential_evaporation[0] > d.potential_evaporation[0]
    assert warm.transpiration[0] > d.transpiration[0]
    assert windy.transpiration[0] > d.transpiration[0]


def test_dry_top_layer_stops_soil_evaporation():
    wet = _demand(psi=-100.0)
    dry = _demand(psi=-1e8)  # CoLM floor: q_g ~ 0.1 % of q_sat
    assert wet.soil_beta[0] > 0.9
    assert dry.soil_beta[0] == 0.0 and dry.soil_evaporation[0] == 0.0


def _params(rng, n, covers=None):
    sand = rng.uniform(10, 90, n)
    clay = rng.uniform(5, 100 - sand - 1e-9)
    clay = np.minimum(clay, 60)
    soil = SoilParameters.from_sand_clay(sand, clay)
    cover = covers if covers is not None else tuple(rng.choice(COVERS, n))
    return ColumnParameters.from_land_cover(soil, cover)


def _forcing(rng, n, k, dt=1800.0):
    """Random but physical forcing at step k: diurnal SW, T 250-310 K, RH 0.2-1, showers."""
    hour = (k * dt / 3600.0) % 24
    sun = max(0.0, np.sin(np.pi * (hour - 6) / 12))
    tair = rng.uniform(250, 310, n)
    rh = rng.uniform(0.2, 1.0, n)
    p = rng.uniform(70000, 103000, n)
    q = rh * specific_humidity(saturation_vapour_pressure(tair), p)
    rain_on = rng.random(n) < 0.15
    return {
        "tair": tair, "qair": q, "psurf": p, "wind": rng.uniform(0, 12, n),
        "swdown": sun * rng.uniform(0, 1000, n), "lwdown": rng.uniform(150, 450, n),
        "precip": np.where(rain_on, rng.exponential(2e-3, n), 0.0),
    }


def test_budget_closure_and_bounds_over_random_columns():
    rng = np.random.default_rng(42)
    n = 500
    params = _params(rng, n)
    soil = params.soil
    state = ModelState.default(soil, saturation=0.0)  # replaced below
    dz = colm_layer_thickness(10)
    sat = rng.uniform(0.05, 1.0, (n, 10))
    frozen = rng.random(n) < 0.2
    t0 = np.where(frozen, 268.0, 285.0)[:, None] + rng.normal(0, 2, (n, 10))
    ice_share = np.where(frozen[:, None] & (t0 < T_FREEZE), rng.uniform(0, 1, (n, 10)), 0.0)
    w_tot = sat * soil.porosity * dz * 1000.0
    cols = state.columns.replace(
        w_liq=w_tot * (1 - ice_share), w_ice=w_tot * ice_share * 0.917, t_soil=t0,
        snow=np.where(rng.random(n) < 0.2, rng.uniform(0, 50, n), 0.0),
        pond=rng.uniform(0, 10, n),
    )
    state = ModelState(columns=cols, t_snow=np.full(n, T_FREEZE - 2.0))
    lai = rng.uniform(0, 6, n)
    worst = 0.0
    for k in range(96):
        start_total = state.columns.total_water()
        state, fx = step(state, params, _forcing(rng, n, k), lai)
        total = state.columns.total_water()
        direct = (total - start_total) - 1800.0 * (
            fx.precipitation - fx.evapotranspiration - fx.total_runoff)
        worst = max(worst, np.abs(fx.residual).max(), np.abs(direct).max())
        theta = state.columns.w_liq / (1000 * dz) + state.columns.w_ice / (917 * dz)
        assert state.columns.w_liq.min() >= 0 and state.columns.w_ice.min() >= 0
        assert np.all(theta <= soil.porosity * (1 + 1e-12) + 1e-15)
        assert np.all(np.isfinite(state.columns.t_soil))
        assert fx.evapotranspiration.min() >= 0
        np.testing.assert_allclose(
            fx.latent_heat,
            LATENT_HEAT_VAPORISATION * (fx.evaporation + fx.transpiration)
            + LATENT_HEAT_SUBLIMATION * fx.sublimation, rtol=1e-12, atol=1e-12)
    assert worst < 1e-9, worst


def test_latent_heat_matches_et_on_a_snow_free_day():
    rng = np.random.default_rng(1)
    params = _params(rng, 4, covers=("grassland",) * 4)
    state = ModelState.default(params.soil, saturation=0.7)
    state, fx = step(state, params, {"tair": 300.0, "qair": 0.008, "psurf": 1e5, "wind": 3.0,
                                     "swdown": 800.0, "lwdown": 380.0, "precip": 0.0}, 3.0)
    assert isinstance(fx, StepFluxes)
    assert np.all(fx.evapotranspiration > 0) and np.all(fx.sublimation == 0)
    np.testing.assert_allclose(fx.latent_heat, LATENT_HEAT_VAPORISATION * fx.evapotranspiration)
    assert np.all(fx.latent_heat < fx.net_radiation)  # PM with a canopy resistance


def test_snowfall_accumulates_below_freezing_then_melts_when_warm():
    rng = np.random.default_rng(3)
    params = _params(rng, 3, covers=("grassland",) * 3)
    state = ModelState.default(params.soil, saturation=0.5, t_soil=272.0)
    cold = {"tair": 265.0, "qair": 0.001, "psurf": 1e5, "wind": 2.0, "swdown": 0.0,
            "lwdown": 220.0, "precip": 1e-3}
    for _ in range(24):  # 12 h of snow at 1e-3 mm/s: 43 mm
        state, fx = step(state, params, cold, 0.5)
        assert np.all(fx.rain == 0) and np.all(fx.melt == 0)
    assert np.all(state.columns.snow > 40)
    assert np.all(state.t_snow < T_FREEZE)
    warm = {"tair": 285.0, "qair": 0.006, "psurf": 1e5, "wind": 4.0, "swdown": 600.0,
            "lwdown": 330.0, "precip": 0.0}
    melted = 0.0
    for _ in range(96 * 2):
        state, fx = step(state, params, warm, 0.5)
        melted += fx.melt * 1800.0
        assert np.abs(fx.residual).max() < 1e-9
    assert np.all(melted > 40)
    assert np.all(state.columns.snow == 0)


def test_bare_soil_transpires_nothing():
    rng = np.random.default_rng(5)
    params = _params(rng, 5, covers=("bare_soil",) * 5)
    state = ModelState.default(params.soil, saturation=0.8)
    total_e = 0.0
    for k in range(48):
        state, fx = step(state, params, {"tair": 300.0, "qair": 0.006, "psurf": 1e5, "wind": 3.0,
                                         "swdown": 700.0 * (12 <= k < 36), "lwdown": 350.0,
                                         "precip": 0.0}, 4.0)
        assert np.all(fx.transpiration == 0)
        total_e += fx.evaporation.sum()
    assert total_e > 0


def test_precipitation_split_ramp():
    rain, snow = split_precipitation(np.full(3, 1.0), np.array([T_FREEZE - 1, T_FREEZE + 0.5, T_FREEZE + 2]))
    np.testing.assert_allclose(snow, [1.0, 0.5, 0.0])
    np.testing.assert_allclose(rain + snow, 1.0)
    r, s = split_precipitation(2.0, 300.0, rain=np.array([0.5]), snow=np.array([1.5]))
    assert r[0] == 0.5 and s[0] == 1.5


@pytest.mark.parametrize("cover", COVERS)
def test_every_land_cover_gives_finite_demands(cover):
    d = _demand(cover=cover, lai=0.0 if cover == "bare_soil" else 3.0)
    assert np.isfinite(d.potential_evaporation).all() and d.potential_evaporation[0] > 0


def test_soil_surface_follows_the_air_under_strong_coupling():
    """Ground-air coupling is stable (implicit) and pulls a hot top layer towards the air."""
    rng = np.random.default_rng(7)
    params = _params(rng, 2, covers=("evergreen_forest", "bare_soil"))
    state = ModelState.default(params.soil, saturation=0.6, t_soil=300.0)
    air = {"tair": 290.0, "qair": 0.009, "psurf": 1e5, "wind": 12.0, "swdown": 0.0,
           "lwdown": 5.670374419e-8 * 290.0**4, "precip": 0.0}
    for _ in range(48):
        state, fx = step(state, params, air, np.array([5.0, 0.0]))
        assert np.all(np.abs(fx.ground_heat_flux) < 2000.0)
    top = state.columns.t_soil[:, 0]
    assert np.all(top < 293.0) and np.all(top > 285.0)
