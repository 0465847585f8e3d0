"""Soil thermal properties, soil temperature with phase change, and the snow bucket."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import solve_banded

from landia.columns.energy import (
    column_heat_content,
    conduction_matrix,
    phase_change,
    soil_temperature_step,
)
from landia.columns.snow import snow_step
from landia.columns.soil import SoilParameters
from landia.columns.soilwater import LATENT_HEAT_FUSION, RHO_ICE, T_FREEZE
from landia.columns.thermal import (
    C_ICE,
    C_LIQ,
    K_ICE,
    K_MINERAL_DEFAULT,
    K_WATER,
    SoilThermalParameters,
    heat_capacity,
    interface_conductivity,
    thermal_conductivity,
)
from landia.grid import colm_interface_depths, colm_layer_thickness, colm_node_depths

DZ = colm_layer_thickness()
Z = colm_node_depths()
ZI = colm_interface_depths()


def _random_state(rng, n, frozen_share=0.5):
    sand = rng.uniform(5, 90, n)
    clay = rng.uniform(5, 100 - sand)
    soil = SoilParameters.from_sand_clay(sand, clay)
    thermal = SoilThermalParameters.from_porosity(soil.porosity, sand, clay)
    theta = rng.uniform(0.02, 1.0, (n, 10)) * soil.porosity
    f_ice = np.where(rng.random((n, 10)) < frozen_share, rng.uniform(0, 1, (n, 10)), 0.0)
    w_liq = theta * (1 - f_ice) * DZ * 1000.0
    w_ice = theta * f_ice * DZ * RHO_ICE
    t = T_FREEZE + rng.uniform(-8, 8, (n, 10))
    return thermal, t, w_liq, w_ice


# --- thermal properties against hand computations ---------------------------------------


def test_heat_capacity_by_hand():
    por = np.full((1, 10), 0.4)
    th = SoilThermalParameters.from_porosity(por, np.array([40.0]), np.array([20.0]))
    c_sol = (2.128 * 40 + 2.385 * 20) / 60 * 1e6
    assert th.c_solids[0, 0] == pytest.approx(c_sol)
    w_liq = np.full((1, 10), 30.0)
    w_ice = np.full((1, 10), 10.0)
    c = heat_capacity(w_liq, w_ice, th, DZ)
    expect = c_sol * 0.6 * DZ + 4188.0 * 30 + 2117.27 * 10
    np.testing.assert_allclose(c[0], expect, rtol=1e-14)
    # Per volume: water 4.188e6, ice ~1.94e6 J m-3 K-1.
    assert C_LIQ * 1000 == pytest.approx(4.188e6)
    assert C_ICE * RHO_ICE == pytest.approx(1.94e6, rel=1e-3)


def test_conductivity_by_hand():
    por = np.full((1, 10), 0.45)
    th = SoilThermalParameters.from_porosity(por)  # default mineral conductivity
    rho_d = 2700 * 0.55
    k_dry = (0.135 * rho_d + 64.7) / (2700 - 0.947 * rho_d)
    assert th.k_dry[0, 0] == pytest.approx(k_dry)
    assert 0.1 < k_dry < 0.3
    dz = DZ[3]
    # Half saturated, unfrozen: Ke = log10(0.5) + 1.
    w_liq = np.full((1, 10), 0.5 * 0.45 * 1000.0) * DZ
    k = thermal_conductivity(np.full((1, 10), 280.0), w_liq, np.zeros((1, 10)), th, DZ)
    k_sat = K_MINERAL_DEFAULT ** 0.55 * K_WATER ** 0.45
    ke = np.log10(0.5) + 1
    assert k[0, 3] == pytest.approx(ke * k_sat + (1 - ke) * k_dry, rel=1e-12)
    # Saturated with ice, frozen: Ke = 1, k = k_min^(1-por) k_ice^por.
    w_ice = np.full((1, 10), 0.45 * RHO_ICE) * DZ
    k = thermal_conductivity(np.full((1, 10), 260.0), np.zeros((1, 10)), w_ice, th, DZ)
    assert k[0, 3] == pytest.approx(K_MINERAL_DEFAULT ** 0.55 * K_ICE ** 0.45, rel=1e-12)
    # Frozen, quarter saturated with ice: Ke = S_r.
    k = thermal_conductivity(np.full((1, 10), 260.0), np.zeros((1, 10)), 0.25 * w_ice, th, DZ)
    k_sat_i = K_MINERAL_DEFAULT ** 0.55 * K_ICE ** 0.45
    assert k[0, 3] == pytest.approx(0.25 * k_sat_i + 0.75 * k_dry, rel=1e-12)
    # Dry: k_dry.
    k = thermal_conductivity(np.full((1, 10), 280.0), np.zeros((1, 10)), np.zeros((1, 10)), th, DZ)
    np.testing.assert_allclose(k, k_dry)
    assert dz > 0


def test_interface_conductivity_uniform_and_harmonic():
    k = np.full((2, 10), 1.7)
    np.testing.assert_allclose(interface_conductivity(k, Z, ZI), 1.7)
    k = np.array([[1.0, 3.0] + [1.0] * 8])
    # Series resistance of the two half-spans.
    r = (ZI[0] - Z[0]) / 1.0 + (Z[1] - ZI[0]) / 3.0
    assert interface_conductivity(k, Z, ZI)[0, 0] == pytest.approx((Z[1] - Z[0]) / r)


# --- conduction step ----------------------------------------------------------------------


@pytest.mark.parametrize("weight", [1.0, 0.5])
def test_conduction_against_banded_solve(weight):
    rng = np.random.default_rng(1)
    n = 7
    thermal, _, w_liq, _ = _random_state(rng, n, frozen_share=0.0)
    w_ice = np.zeros_like(w_liq)
    t = 280.0 + rng.uniform(-5, 5, (n, 10))  # all unfrozen: no phase change
    g = rng.uniform(-150, 150, n)
    r = soil_temperature_step(t, w_liq, w_ice, thermal, g, 1800.0, implicit_weight=weight)
    lower, diag, upper, rhs = conduction_matrix(
        t, w_liq, w_ice, thermal, g, 1800.0, weight, Z, DZ, ZI
    )
    for i in range(n):
        ab = np.zeros((3, 10))
        ab[0, 1:] = upper[i, :-1]
        ab[1] = diag[i]
        ab[2, :-1] = lower[i, 1:]
        x = solve_banded((1, 1), ab, rhs[i])
        if np.all(x > T_FREEZE):
            np.testing.assert_allclose(r.t_soil[i], x, rtol=0, atol=1e-10)
    # The matrix encodes C dT/dt = flux divergence: check against a hand-built dense matrix.
    c = heat_capacity(w_liq, w_ice, thermal, DZ)
    k = thermal_conductivity(t, w_liq, w_ice, thermal, DZ)
    gi = interface_conductivity(k, Z, ZI) / np.diff(Z)
    i = 0
    a = np.diag(c[i] / 1800.0)
    for j in range(9):
        a[j, j] += weight * gi[i, j]
        a[j + 1, j + 1] += weight * gi[i, j]
        a[j, j + 1] -= weight * gi[i, j]
        a[j + 1, j] -= weight * gi[i, j]
    b = c[i] / 1800.0 * t[i]
    b[0] += g[i]
    flux = gi[i] * (t[i, :-1] - t[i, 1:])
    b[1:] += (1 - weight) * flux
    b[:-1] -= (1 - weight) * flux
    np.testing.assert_allclose(r.t_soil[i], np.linalg.solve(a, b), atol=1e-10)


def test_uniform_zero_flux_stays_put():
    rng = np.random.default_rng(2)
    thermal, _, w_liq, w_ice = _random_state(rng, 20)
    water = w_liq + w_ice * 1000.0 / RHO_ICE
    for t0, frozen in ((265.0, True), (285.0, False)):
        # Phases consistent with the temperature: all ice below, all liquid above freezing.
        wl = np.zeros_like(water) if frozen else water
        wi = water * RHO_ICE / 1000.0 if frozen else np.zeros_like(water)
        t = np.full((20, 10), t0)
        r = soil_temperature_step(t, wl, wi, thermal, 0.0)
        np.testing.assert_allclose(r.t_soil, t0, rtol=0, atol=1e-9)
        np.testing.assert_array_equal(r.w_ice, wi)
        np.testing.assert_array_equal(r.w_liq, wl)


def test_converges_to_linear_profile_under_constant_flux():
    """Uniform properties, heat in at the top, equal heat out at the bottom (as an extra sink):
    compare with the steady linear profile T = T_b + G (z_b - z) / k."""
    n = 1
    por = np.full((n, 10), 0.4)
    thermal = SoilThermalParameters.from_porosity(por)
    w_liq = 0.2 * DZ[None, :] * 1000.0 * np.ones((n, 10))
    w_ice = np.zeros((n, 10))
    t = np.full((n, 10), 290.0)
    k = thermal_conductivity(t, w_liq, w_ice, thermal, DZ)[0, 0]
    g = 10.0
    # Start on the linear profile through the nodes; one step with G in at the top and the
    # same G removed from the bottom layer keeps it (within the harmonic-mean interface error,
    # zero for uniform k).
    t_lin = 290.0 - g * Z / k
    t0 = np.tile(t_lin, (n, 1))
    lower, diag, upper, rhs = conduction_matrix(t0, w_liq, w_ice, thermal, np.array([g]), 1800.0, 1.0, Z, DZ, ZI)
    rhs[:, -1] -= g
    from landia.columns.tridiagonal import solve_tridiagonal

    x = solve_tridiagonal(lower, diag, upper, rhs)
    np.testing.assert_allclose(x, t0, atol=1e-9)


def test_heating_from_top_warms_top_first_and_conserves():
    thermal = SoilThermalParameters.from_porosity(np.full((1, 10), 0.4))
    w_liq = 0.25 * DZ[None, :] * 1000.0
    w_ice = np.zeros((1, 10))
    t = np.full((1, 10), 285.0)
    h0 = column_heat_content(t, w_liq, w_ice, thermal)
    for _ in range(48):
        r = soil_temperature_step(t, w_liq, w_ice, thermal, 50.0)
        t = r.t_soil
    assert np.all(np.diff(t[0]) <= 1e-12)
    h1 = column_heat_content(t, w_liq, w_ice, thermal)
    assert h1 - h0 == pytest.approx(50.0 * 1800 * 48, rel=1e-10)


# --- conservation over random states -----------------------------------------------------


@pytest.mark.parametrize("weight", [1.0, 0.5])
def test_energy_and_water_conserved_random(weight):
    rng = np.random.default_rng(3)
    n = 500
    thermal, t, w_liq, w_ice = _random_state(rng, n)
    water0 = w_liq + w_ice
    froze = melted = False
    for step in range(60):
        g = rng.uniform(-300, 300, n)
        h0 = column_heat_content(t, w_liq, w_ice, thermal)
        r = soil_temperature_step(t, w_liq, w_ice, thermal, g, 1800.0, implicit_weight=weight)
        h1 = column_heat_content(r.t_soil, r.w_liq, r.w_ice, thermal)
        scale = np.sum(heat_capacity(w_liq, w_ice, thermal, DZ) * np.abs(t - T_FREEZE), axis=1)
        scale += LATENT_HEAT_FUSION * np.sum(w_ice + w_liq, axis=1) + np.abs(g) * 1800
        np.testing.assert_array_less(np.abs(h1 - h0 - g * 1800.0), 1e-13 * scale + 1e-9)
        np.testing.assert_allclose(r.w_liq + r.w_ice, water0, rtol=1e-13, atol=1e-12)
        assert np.all(r.w_liq >= 0) and np.all(r.w_ice >= 0)
        np.testing.assert_allclose(
            r.phase_change_energy, LATENT_HEAT_FUSION * (w_ice - r.w_ice), rtol=1e-9, atol=1e-6
        )
        froze |= bool(np.any(r.melt < 0))
        melted |= bool(np.any(r.melt > 0))
        # Phases consistent with temperature: no ice above, no liquid below freezing.
        assert not np.any((r.t_soil > T_FREEZE + 1e-9) & (r.w_ice > 0))
        assert not np.any((r.t_soil < T_FREEZE - 1e-9) & (r.w_liq > 0))
        t, w_liq, w_ice = r.t_soil, r.w_liq, r.w_ice
    assert froze and melted


# --- phase change --------------------------------------------------------------------------


def test_cooled_layer_freezes_and_stays_at_freezing_point():
    thermal = SoilThermalParameters.from_porosity(np.full((1, 10), 0.4))
    w_liq = 0.3 * DZ[None, :] * 1000.0
    w_ice = np.zeros((1, 10))
    t = np.full((1, 10), T_FREEZE + 0.5)
    seen_partial = False
    for _ in range(400):
        r = soil_temperature_step(t, w_liq, w_ice, thermal, -150.0)
        top_liq, top_ice = r.w_liq[0, 0], r.w_ice[0, 0]
        if top_ice > 0 and top_liq > 0:
            seen_partial = True
            assert r.t_soil[0, 0] == pytest.approx(T_FREEZE, abs=1e-9)
        if top_liq == 0:
            break
        t, w_liq, w_ice = r.t_soil, r.w_liq, r.w_ice
    assert seen_partial
    assert r.w_liq[0, 0] == 0.0
    r2 = soil_temperature_step(r.t_soil, r.w_liq, r.w_ice, thermal, -150.0)
    assert r2.t_soil[0, 0] < T_FREEZE  # once frozen, it cools further


def test_phase_change_by_hand():
    thermal = SoilThermalParameters.from_porosity(np.full((1, 10), 0.4))
    w_liq = np.full((1, 10), 5.0)
    w_ice = np.full((1, 10), 5.0)
    c = heat_capacity(w_liq, w_ice, thermal, DZ)
    t = np.full((1, 10), T_FREEZE)
    t[0, 0] = T_FREEZE - 0.01  # small deficit: part freezes
    t[0, 1] = T_FREEZE + 50.0  # big excess: all ice melts, the rest warms
    r = phase_change(t, w_liq, w_ice, thermal, DZ)
    frozen = c[0, 0] * 0.01 / LATENT_HEAT_FUSION
    assert r.w_ice[0, 0] == pytest.approx(5.0 + frozen)
    assert r.t_soil[0, 0] == pytest.approx(T_FREEZE)
    assert r.w_ice[0, 1] == 0.0 and r.w_liq[0, 1] == 10.0
    c_new = heat_capacity(r.w_liq, r.w_ice, thermal, DZ)[0, 1]
    assert r.t_soil[0, 1] == pytest.approx(T_FREEZE + (c[0, 1] * 50 - LATENT_HEAT_FUSION * 5) / c_new)
    np.testing.assert_array_equal(r.t_soil[0, 2:], T_FREEZE)


def test_soil_parameters_accepted_and_shapes_checked():
    soil = SoilParameters.from_sand_clay(np.array([40.0, 60.0]), np.array([20.0, 10.0]))
    t = np.full((2, 10), 280.0)
    w = np.full((2, 10), 10.0)
    r = soil_temperature_step(t, w, np.zeros((2, 10)), soil, np.array([10.0, -10.0]))
    assert r.t_soil.shape == (2, 10)
    with pytest.raises(ValueError):
        soil_temperature_step(t, w[:1], np.zeros((2, 10)), soil, 0.0)
    with pytest.raises(ValueError):
        soil_temperature_step(t, w, np.zeros((2, 10)), soil, 0.0, implicit_weight=0.2)


# --- snow ----------------------------------------------------------------------------------


def test_snow_accumulates_below_freezing():
    swe = np.zeros(3)
    t = np.full(3, T_FREEZE)
    total = 0.0
    for _ in range(10):
        r = snow_step(swe, t, 2e-3, -20.0, t_snowfall=265.0)
        swe, t = r.swe, r.t_snow
        total += 2e-3 * 1800
        assert np.all(r.melt == 0)
    np.testing.assert_allclose(swe, total)
    assert np.all(t < T_FREEZE)


def test_snow_melt_from_energy_by_hand():
    # Pack at 0 degC: all energy melts.
    r = snow_step(np.array([20.0]), T_FREEZE, 0.0, 100.0)
    assert r.melt[0] == pytest.approx(100.0 / LATENT_HEAT_FUSION)
    assert r.swe[0] == pytest.approx(20.0 - 100.0 * 1800 / LATENT_HEAT_FUSION)
    # Cold pack: the cold content first.
    swe, tc = 20.0, T_FREEZE - 5.0
    cold = C_ICE * swe * 5.0
    r = snow_step(np.array([swe]), tc, 0.0, 200.0)
    assert r.melt[0] * 1800 == pytest.approx((200.0 * 1800 - cold) / LATENT_HEAT_FUSION)
    # Too little energy to warm it: no melt, warmer pack.
    r = snow_step(np.array([swe]), tc, 0.0, 10.0)
    assert r.melt[0] == 0 and r.t_snow[0] == pytest.approx(tc + 10 * 1800 / (C_ICE * swe))
    # Pack gone: the rest passes to the soil.
    r = snow_step(np.array([1.0]), T_FREEZE, 0.0, 1000.0)
    assert r.swe[0] == 0.0
    assert r.ground_heat_flux[0] == pytest.approx(1000.0 - LATENT_HEAT_FUSION / 1800)
    # No snow: everything passes.
    r = snow_step(np.array([0.0]), T_FREEZE, 0.0, -50.0)
    assert r.ground_heat_flux[0] == -50.0 and r.swe[0] == 0.0


def test_snow_mass_and_energy_conserved_random():
    rng = np.random.default_rng(4)
    n = 1000
    swe = rng.uniform(0, 50, n) * (rng.random(n) < 0.7)
    t = np.where(swe > 0, T_FREEZE - rng.uniform(0, 10, n), T_FREEZE)
    for _ in range(100):
        fall = rng.uniform(0, 3e-3, n) * (rng.random(n) < 0.4)
        q = rng.uniform(-200, 400, n)
        sub = rng.uniform(0, 5e-5, n)
        tf = T_FREEZE - rng.uniform(0, 5, n)
        r = snow_step(swe, t, fall, q, sublimation=sub, t_snowfall=tf)
        np.testing.assert_allclose(
            r.swe - swe, (fall - r.melt - r.sublimation) * 1800, rtol=0, atol=1e-11
        )
        assert np.all(r.swe >= 0) and np.all(r.melt >= 0) and np.all(r.t_snow <= T_FREEZE)
        # Energy: cold content after snowfall and sublimation, then Q dt split.
        swe1 = swe + fall * 1800
        t1 = np.where(swe1 > 0, (swe * t + fall * 1800 * tf) / np.where(swe1 > 0, swe1, 1), T_FREEZE)
        swe2 = swe1 - r.sublimation * 1800
        e_before = C_ICE * swe2 * (t1 - T_FREEZE)
        e_after = C_ICE * r.swe * (r.t_snow - T_FREEZE)
        used = e_after - e_before + LATENT_HEAT_FUSION * r.melt * 1800 + r.ground_heat_flux * 1800
        np.testing.assert_allclose(used, q * 1800, rtol=1e-12, atol=1e-6)
        swe, t = r.swe, r.t_snow


def test_snow_then_soil_conserves_energy_and_water():
    """The energy chain of a step: Q into the pack, what it passes on into the soil."""
    rng = np.random.default_rng(5)
    n = 300
    thermal, t, w_liq, w_ice = _random_state(rng, n)
    swe = np.zeros(n)
    t_snow = np.full(n, T_FREEZE)
    for step in range(80):
        fall = rng.uniform(0, 1e-3, n) * (step < 20)
        q = rng.uniform(-150, 150, n) if step < 30 else rng.uniform(200, 600, n)
        h0 = column_heat_content(t, w_liq, w_ice, thermal)
        e0 = C_ICE * swe * (t_snow - T_FREEZE) - LATENT_HEAT_FUSION * swe
        s = snow_step(swe, t_snow, fall, q, t_snowfall=T_FREEZE)
        r = soil_temperature_step(t, w_liq, w_ice, thermal, s.ground_heat_flux)
        h1 = column_heat_content(r.t_soil, r.w_liq, r.w_ice, thermal)
        e1 = C_ICE * s.swe * (s.t_snow - T_FREEZE) - LATENT_HEAT_FUSION * s.swe
        # Snowfall at T_FREEZE brings -L_f per kg; melt water leaves at T_FREEZE with 0.
        inflow = q * 1800 - LATENT_HEAT_FUSION * fall * 1800
        np.testing.assert_allclose((h1 - h0) + (e1 - e0), inflow, rtol=0, atol=1e-4)
        np.testing.assert_allclose(s.swe - swe, (fall - s.melt) * 1800, atol=1e-11)
        t, w_liq, w_ice, swe, t_snow = r.t_soil, r.w_liq, r.w_ice, s.swe, s.t_snow
    assert np.all(swe == 0)  # the pack built up, then melted out


@pytest.mark.parametrize("n_param_rows", [1, 40])
def test_thermal_conductivity_equals_the_whole_array_formula(n_param_rows):
    # The powers are taken only on the icy layers and the ice-free factors are cached: the
    # values must be those of the formula evaluated on every layer, bit for bit, also with
    # parameters broadcast over the columns.
    from landia.columns.thermal import S_DRY

    rng = np.random.default_rng(5)
    n = 40
    por = rng.uniform(0.3, 0.6, (n_param_rows, 10))
    thermal = SoilThermalParameters.from_porosity(por, rng.uniform(10, 80, (n_param_rows, 1)),
                                                  rng.uniform(5, 40, (n_param_rows, 1)))
    w_liq = rng.uniform(0, 1, (n, 10)) * por * DZ * 1000 * rng.choice([0.0, 0.5, 1.0], (n, 1))
    w_ice = np.where(rng.random((n, 10)) < 0.4, rng.uniform(0, 30, (n, 10)), 0.0)
    t = rng.uniform(265, 280, (n, 10))
    sat = np.minimum(1.0, (w_liq / 1000.0 + w_ice / RHO_ICE) / (DZ * por))
    wet = sat > S_DRY
    sat_safe = np.where(wet, sat, 1.0)
    kersten = np.where(t >= T_FREEZE, np.maximum(0.0, np.log10(sat_safe) + 1.0), sat_safe)
    total = w_liq + w_ice
    f_liq = np.where(total > 0, w_liq / np.where(total > 0, total, 1.0), 1.0)
    k_sat = (thermal.k_mineral ** (1.0 - por) * K_WATER ** (f_liq * por)
             * K_ICE ** ((1.0 - f_liq) * por))
    expected = np.where(wet, kersten * k_sat + (1.0 - kersten) * thermal.k_dry, thermal.k_dry)
    np.testing.assert_array_equal(thermal_conductivity(t, w_liq, w_ice, thermal, DZ), expected)


def test_heat_capacity_of_one_layer_is_that_column_of_the_whole():
    """``layer=j`` (the model's surface term asks for the top layer only): the same bits."""
    thermal, _, w_liq, w_ice = _random_state(np.random.default_rng(31), 300)
    whole = heat_capacity(w_liq, w_ice, thermal, DZ)
    for j in (0, 4, 9):
        one = heat_capacity(w_liq[:, j], w_ice[:, j], thermal, DZ, layer=j)
        assert one.shape == (300,) and np.array_equal(one, whole[:, j])
