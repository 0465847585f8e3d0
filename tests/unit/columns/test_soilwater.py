"""CoLM soil water: Cosby parameters, Richards step against analytic cases, budget, runoff."""

import numpy as np
import pytest

from landia.columns import (
    SoilParameters,
    base_flow,
    max_infiltration,
    saturated_fraction,
    soil_water_step,
    surface_runoff,
)
from landia.columns.soilwater import POND_MAX, RHO_ICE
from landia.grid import colm_layer_thickness, colm_node_depths

DT = 1800.0
DZ_MM = 1000.0 * colm_layer_thickness()
Z_MM = 1000.0 * colm_node_depths()
ROOTS = np.full(10, 0.1)


def _k_unsat(p, theta):
    return p.k_sat * (theta / p.porosity) ** (2 * p.b + 3)


def _budget_residual(w0, pond0, r):
    change = r.w_liq.sum(axis=1) + r.pond - w0.sum(axis=1) - pond0
    net = r.infiltration - r.transpiration - r.drainage - r.runoff + r.correction
    return change - net * DT


def assert_within_bounds(r, capacity, frozen):
    """A step's water in [0, capacity] (exact without ice; with ice, capacity here and in
    soilwater differ by an ulp), its pond in [0, POND_MAX] and its outflows >= 0."""
    assert np.all(r.w_liq >= 0.0), "negative"
    assert np.all(r.w_liq[~frozen] <= capacity[~frozen])
    assert np.all(r.w_liq[frozen] <= capacity[frozen] * (1.0 + 1e-12))
    assert np.all(r.pond >= 0.0) and np.all(r.pond <= POND_MAX)
    assert np.all(r.runoff >= 0.0) and np.all(r.correction >= 0.0)
    assert np.all(r.drainage >= 0.0)


# --- Cosby 1984 -------------------------------------------------------------------------

# sand, clay (%) -> porosity, psi_sat (mm), b, k_sat (mm/s), computed by hand from
# science.md section 5 (psi_sat cm -> mm x10; k_sat cm/day -> mm/s x10/86400).
COSBY_CASES = [
    (0.0, 0.0, 0.489, -758.5776, 2.91, 9.2158e-4),
    (40.0, 20.0, 0.4386, -229.0868, 6.09, 3.77159e-3),
    (92.0, 3.0, 0.37308, -48.30588, 3.387, 0.02355761),
]


@pytest.mark.parametrize("sand, clay, porosity, psi_sat, b, k_sat", COSBY_CASES)
def test_cosby_parameters_match_hand_computed_values(sand, clay, porosity, psi_sat, b, k_sat):
    p = SoilParameters.from_sand_clay(np.array([sand]), np.array([clay]))
    assert p.porosity.shape == (1, 10)
    np.testing.assert_allclose(p.porosity, porosity, rtol=1e-6)
    np.testing.assert_allclose(p.psi_sat, psi_sat, rtol=1e-5)
    np.testing.assert_allclose(p.b, b, rtol=1e-6)
    np.testing.assert_allclose(p.k_sat, k_sat, rtol=1e-4)


def test_cosby_per_layer_texture():
    sand = np.linspace(10, 80, 10)[None, :].repeat(3, axis=0)
    p = SoilParameters.from_sand_clay(sand, np.full((3, 10), 10.0))
    assert p.n_columns == 3 and p.n_layers == 10
    np.testing.assert_allclose(p.porosity[0], 0.489 - 0.00126 * sand[0])


@pytest.mark.parametrize(
    "sand, clay, message",
    [(120.0, 0.0, "sand"), (50.0, -1.0, "clay"), (70.0, 40.0, "sand \\+ clay"), (np.nan, 10.0, "sand")],
)
def test_cosby_rejects_impossible_textures(sand, clay, message):
    with pytest.raises(ValueError, match=message):
        SoilParameters.from_sand_clay(np.array([sand]), np.array([clay]))


def test_parameters_are_validated():
    good = SoilParameters.from_sand_clay(np.array([40.0]), np.array([20.0]))
    with pytest.raises(ValueError, match="psi_sat.*negative"):
        SoilParameters(good.porosity, -good.psi_sat, good.b, good.k_sat)
    with pytest.raises(ValueError, match="porosity"):
        SoilParameters(good.porosity + 1.0, good.psi_sat, good.b, good.k_sat)
    with pytest.raises(ValueError, match="k_sat.*shape"):
        SoilParameters(good.porosity, good.psi_sat, good.b, good.k_sat[:, :5])


# --- Richards step against analytic cases ------------------------------------------------


@pytest.mark.parametrize("layered", [False, True])
def test_hydrostatic_equilibrium_stays_put(layered):
    """psi - depth constant (water table 4 m down), no fluxes in or out: nothing moves."""
    n = 5
    sand = np.linspace(20, 80, 10)[None, :].repeat(n, axis=0) if layered else np.full((n, 10), 40.0)
    p = SoilParameters.from_sand_clay(sand, np.full((n, 10), 15.0))
    water_table = np.linspace(4000.0, 8000.0, n)[:, None]  # mm
    psi = Z_MM[None, :] - water_table
    theta = p.porosity * (psi / p.psi_sat) ** (-1.0 / p.b)
    assert np.all(theta / p.porosity > 0.01) and np.all(theta < p.porosity)
    w = theta * DZ_MM
    w0 = w.copy()
    for _ in range(48):
        r = soil_water_step(w, p, 0.0, 0.0, ROOTS, DT, bottom="zero")
        w = r.w_liq
    np.testing.assert_allclose(w, w0, rtol=1e-10, atol=0)
    assert np.all(r.runoff == 0) and np.all(r.correction == 0) and np.all(r.drainage == 0)


def _linearised_drainage(p, theta_old, theta_new, impedance=1.0):
    """K at the new time level, linearised about the old one as the scheme does."""
    k = _k_unsat(p, theta_old)[:, -1] * impedance
    dk = (2 * p.b[:, -1] + 3) * k / theta_old[:, -1]
    return k + dk * (theta_new[:, -1] - theta_old[:, -1])


def test_uniform_column_drains_at_unsaturated_conductivity():
    """Uniform wet soil: unit gradient, so the bottom flux is K(theta) = k_sat s^(2b+3)."""
    sand = np.array([10.0, 40.0, 85.0])
    p = SoilParameters.from_sand_clay(sand, np.array([30.0, 20.0, 5.0]))
    theta = 0.7 * p.porosity
    k = _k_unsat(p, theta)[:, -1]
    w = theta * DZ_MM
    # with the same flux coming in at the top, the column is in steady state
    r = soil_water_step(w, p, k, 0.0, ROOTS, DT)
    np.testing.assert_allclose(r.drainage, k, rtol=1e-12)
    np.testing.assert_allclose(r.w_liq, w, rtol=1e-10)
    # without it the top dries, and the bottom drains at K of the new water content,
    # linearised (implicit in K as in CoLM), which the bottom layer barely changes
    r = soil_water_step(w, p, 0.0, 0.0, ROOTS, DT)
    theta_new = r.w_liq / DZ_MM
    np.testing.assert_allclose(r.drainage, _linearised_drainage(p, theta, theta_new), rtol=1e-12)
    np.testing.assert_allclose(r.drainage, _k_unsat(p, theta_new)[:, -1], rtol=1e-9)
    np.testing.assert_allclose(r.drainage, k, rtol=1e-6)
    assert np.all(r.w_liq[:, 0] < w[:, 0])
    np.testing.assert_allclose(r.w_liq[:, 5:], w[:, 5:], rtol=1e-3)


def test_partly_frozen_bottom_layer_drains_with_ice_impedance():
    p = SoilParameters.from_sand_clay(np.array([40.0]), np.array([20.0]))
    theta_ice = np.zeros((1, 10))
    theta_ice[0, -1] = 0.2 * p.porosity[0, -1]
    theta = 0.5 * p.porosity
    r = soil_water_step(theta * DZ_MM, p, 0.0, 0.0, ROOTS, DT, w_ice=theta_ice * RHO_ICE * DZ_MM / 1000.0)
    impedance = 10.0 ** (-6 * 0.2)
    expected = _linearised_drainage(p, theta, r.w_liq / DZ_MM, impedance)
    np.testing.assert_allclose(r.drainage, expected, rtol=1e-12)
    np.testing.assert_allclose(r.drainage, _k_unsat(p, theta)[0, -1] * impedance, rtol=1e-5)


def test_fully_frozen_layer_passes_no_water():
    """A layer whose pores are all ice separates the column: nothing crosses it."""
    n = 4
    p = SoilParameters.from_sand_clay(np.full(n, 30.0), np.full(n, 20.0))
    w_ice = np.zeros((n, 10))
    w_ice[:, 4] = p.porosity[:, 4] * RHO_ICE * DZ_MM[4] / 1000.0
    w = np.zeros((n, 10))
    w[:, :4] = 0.95 * p.porosity[:, :4] * DZ_MM[:4]  # wet above
    w[:, 5:] = 0.2 * p.porosity[:, 5:] * DZ_MM[5:]  # dry below
    t_soil = np.full((n, 10), 280.0)
    t_soil[:, 4] = 268.0
    roots = np.zeros(10)
    roots[:4] = 0.25
    below0 = w[:, 5:].sum(axis=1)
    above0 = w[:, :4].sum(axis=1)
    pond = np.zeros(n)
    runoff = 0.0
    for _ in range(100):
        r = soil_water_step(w, p, 2e-3, 1e-4, roots, DT, w_ice=w_ice, pond=pond, t_soil=t_soil, bottom="zero")
        runoff = runoff + r.runoff * DT
        w, pond = r.w_liq, r.pond
    assert np.all(w[:, 4] == 0.0)
    np.testing.assert_allclose(w[:, 5:].sum(axis=1), below0, rtol=1e-12)
    above = w[:, :4].sum(axis=1) + pond + runoff
    np.testing.assert_allclose(above, above0 + 100 * DT * (2e-3 - 1e-4), rtol=1e-12)
    assert np.all(runoff > 0)  # the rain could not go down, so it ran off


# --- post-solve fixes and the water budget ----------------------------------------------


def test_rain_on_saturated_soil_ponds_then_runs_off():
    p = SoilParameters.from_sand_clay(np.array([40.0, 60.0]), np.array([20.0, 10.0]))
    w = p.porosity * DZ_MM
    r = soil_water_step(w, p, 0.1, 0.0, ROOTS, DT, bottom="zero")
    np.testing.assert_allclose(r.w_liq, w, rtol=1e-12)
    np.testing.assert_allclose(r.pond, POND_MAX)
    np.testing.assert_allclose(r.runoff * DT, 0.1 * DT - POND_MAX, rtol=1e-12)


def test_overdrawn_column_is_refilled_and_reported():
    p = SoilParameters.from_sand_clay(np.array([40.0]), np.array([20.0]))
    w = np.full((1, 10), 0.5)  # almost dry
    r = soil_water_step(w, p, 0.0, 0.05, ROOTS, DT)  # 90 mm demand on 5 mm of water
    assert np.all(r.w_liq >= 0.0)
    assert r.correction[0] > 0.0
    assert abs(_budget_residual(w, np.zeros(1), r)[0]) < 1e-10


def test_water_budget_closes_and_bounds_hold_under_random_forcing():
    """1000 random columns x 200 steps: heavy rain, evaporation, transpiration, ice, frost."""
    rng = np.random.default_rng(20240601)
    n, steps = 1000, 200
    sand = rng.uniform(3.0, 95.0, size=(n, 10))
    clay = rng.uniform(0.0, 1.0, size=(n, 10)) * (100.0 - sand)
    p = SoilParameters.from_sand_clay(sand, clay)
    frozen = rng.uniform(size=(n, 10)) < 0.1
    theta_ice = np.where(frozen, rng.uniform(0.0, 1.0, size=(n, 10)) * p.porosity, 0.0)
    w_ice = theta_ice * RHO_ICE * DZ_MM / 1000.0
    t_soil = np.where(frozen, rng.uniform(260.0, 273.0, size=(n, 10)), 285.0)
    capacity = (p.porosity - theta_ice) * DZ_MM
    w = rng.uniform(0.0, 1.0, size=(n, 10)) * capacity
    w[rng.uniform(size=(n, 10)) < 0.05] = 0.0  # some bone-dry layers
    pond = np.zeros(n)
    roots = rng.uniform(size=(n, 10)) ** 3
    roots /= roots.sum(axis=1, keepdims=True)
    worst = 0.0
    for _ in range(steps):
        heavy = rng.uniform(size=n) < 0.15
        infiltration = np.where(
            heavy, rng.uniform(0.0, 0.1, size=n), rng.uniform(-2e-4, 1e-3, size=n)
        )
        transpiration = rng.uniform(0.0, 2e-4, size=n)
        r = soil_water_step(
            w, p, infiltration, transpiration, roots, DT, w_ice=w_ice, pond=pond, t_soil=t_soil
        )
        worst = max(worst, np.abs(_budget_residual(w, pond, r)).max())
        assert_within_bounds(r, capacity, frozen)
        w, pond = r.w_liq, r.pond
    # storages are ~1000 mm: a residual of 1e-10 mm is round-off
    assert worst < 1e-10


def test_soilwater_rejects_bad_input():
    p = SoilParameters.from_sand_clay(np.array([40.0]), np.array([20.0]))
    w = 0.3 * p.porosity * DZ_MM
    with pytest.raises(ValueError, match="bottom"):
        soil_water_step(w, p, 0.0, 0.0, ROOTS, DT, bottom="open")
    with pytest.raises(ValueError, match="w_liq"):
        soil_water_step(w[:, :5], p, 0.0, 0.0, ROOTS, DT)
    with pytest.raises(ValueError, match="w_liq"):
        soil_water_step(2.0 * p.porosity * DZ_MM, p, 0.0, 0.0, ROOTS, DT)
    with pytest.raises(ValueError, match="root_fraction"):
        soil_water_step(w, p, 0.0, 0.0, np.full(10, 0.2), DT)
    with pytest.raises(ValueError, match="transpiration"):
        soil_water_step(w, p, 0.0, -1.0, ROOTS, DT)
    with pytest.raises(ValueError, match="infiltration"):
        soil_water_step(w, p, np.nan, 0.0, ROOTS, DT)


# --- SIMTOP runoff and base flow ---------------------------------------------------------


def test_saturated_fraction_and_base_flow():
    z_wt = np.array([-1.0, 0.0, 4.0, 80.0])
    np.testing.assert_allclose(saturated_fraction(z_wt), [0.38, 0.38, 0.38 * np.exp(-1.0), 0.38 * np.exp(-20.0)])
    np.testing.assert_allclose(base_flow(np.array([0.0, 2.0])), [5.5e-3, 5.5e-3 * np.exp(-5.0)])


def test_max_infiltration_is_the_least_impeded_k_sat_of_the_top_three_layers():
    k_sat = np.array([[3e-3, 2e-3, 4e-3, 1e-6] + [1e-3] * 6])
    ice = np.zeros((1, 10))
    np.testing.assert_allclose(max_infiltration(k_sat, ice), [2e-3])
    ice[0, 0] = 0.5
    np.testing.assert_allclose(max_infiltration(k_sat, ice), [3e-6])



def test_max_infiltration_is_the_formula_bit_for_bit():
    """min_j 10^(-6 f_j) k_j over the top three layers: the same bits as the one-line formula
    (powers only on icy layers, the minimum layer by layer), NaN ice propagating."""
    rng = np.random.default_rng(7)
    k_sat = 10.0 ** rng.uniform(-4, -1, (400, 10))
    ice = np.where(rng.random((400, 10)) < 0.3, rng.random((400, 10)), 0.0)
    ice[3, 1] = np.nan
    expected = np.min(10.0 ** (-6.0 * np.clip(ice[:, :3], 0, 1)) * k_sat[:, :3], axis=1)
    got = max_infiltration(k_sat, ice)
    assert np.array_equal(got, expected, equal_nan=True) and np.isnan(got[3])

def test_surface_runoff_splits_the_input():
    g = np.array([1e-3, 1e-3, 5e-3, -1e-4])
    f_sat = np.array([0.2, 0.0, 0.3, 0.3])
    q_max = np.array([2e-3, 5e-4, 2e-3, 2e-3])
    runoff, infiltration = surface_runoff(g, f_sat, q_max)
    np.testing.assert_allclose(runoff, [0.2e-3, 0.5e-3, 0.3 * 5e-3 + 0.7 * 3e-3, 0.0])
    np.testing.assert_allclose(runoff + infiltration, g)


def test_pond_is_offered_to_the_soil_next_step():
    p = SoilParameters.from_sand_clay(np.array([60.0]), np.array([10.0]))
    w = 0.3 * p.porosity * DZ_MM
    r = soil_water_step(w, p, 0.0, 0.0, ROOTS, DT, pond=np.array([5.0]), bottom="zero")
    assert r.pond[0] == 0.0 and r.runoff[0] == 0.0
    np.testing.assert_allclose(r.w_liq.sum(), w.sum() + 5.0, rtol=1e-13)


def test_layer_major_parameters_are_transposed_copies():
    p = SoilParameters.from_sand_clay(np.array([10.0, 50.0]), np.array([40.0, 5.0]))
    for lm, full in zip(p.layer_major(), (p.porosity, p.psi_sat, p.b, p.k_sat)):
        assert lm.flags.c_contiguous
        np.testing.assert_array_equal(lm, full.T)


def test_columns_package_knows_nothing_of_mpi_files_cli_or_analysis():
    import subprocess
    import sys

    code = (
        "import sys, landia.columns\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('mpi4py', 'petsc4py', 'netCDF4', 'h5py')"
        " or m.startswith(('landia.cli', 'landia.io', 'landia.analysis', 'landia.operators'))]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("bottom", ["free", "zero"])
def test_vectorised_step_matches_the_per_column_reference(bottom):
    """Same scheme written column by column, layer by layer with scalar maths."""
    from landia.columns.soilwater_reference import soil_water_step_reference

    rng = np.random.default_rng(3)
    n = 60
    sand = rng.uniform(3.0, 95.0, size=(n, 10))
    p = SoilParameters.from_sand_clay(sand, rng.uniform(0.0, 1.0, size=(n, 10)) * (100.0 - sand))
    frozen = rng.uniform(size=(n, 10)) < 0.15
    theta_ice = np.where(frozen, rng.uniform(size=(n, 10)) * p.porosity, 0.0)
    w_ice = theta_ice * RHO_ICE * DZ_MM / 1000.0
    t_soil = np.where(frozen, 265.0, 285.0)
    w = rng.uniform(size=(n, 10)) * (p.porosity - theta_ice) * DZ_MM
    w[rng.uniform(size=(n, 10)) < 0.05] = 0.0
    roots = rng.uniform(size=(n, 10))
    roots /= roots.sum(axis=1, keepdims=True)
    pond = np.zeros(n)
    paths = {"runoff": False, "correction": False}
    for step in range(30):
        infiltration = np.where(rng.uniform(size=n) < 0.2, rng.uniform(0, 0.05, n), rng.uniform(-1e-4, 1e-3, n))
        transpiration = rng.uniform(0.0, 5e-3, size=n)  # large enough to overdraw some columns
        kw = dict(w_ice=w_ice, t_soil=t_soil, bottom=bottom)
        r = soil_water_step(w, p, infiltration, transpiration, roots, DT, pond=pond, **kw)
        # from the same state each step: round-off differences would otherwise grow
        ref = soil_water_step_reference(w, p, infiltration, transpiration, roots, DT, pond=pond, **kw)
        # Dry layers have |psi| up to 1e8 mm: perturbing the state by 1e-15 (relative) moves
        # the result of a step by up to ~1e-7 mm (measured), so two correct implementations
        # agree to ~1e-9 of the ~1000 mm a column holds, not to machine precision.
        atol = 1e-9 * w.sum(axis=1).max()
        for name in ("w_liq", "pond", "drainage", "runoff", "correction"):
            tol = atol if name in ("w_liq", "pond") else atol / DT
            np.testing.assert_allclose(
                getattr(r, name), getattr(ref, name), rtol=1e-9, atol=tol, err_msg=f"{name}, step {step}"
            )
        paths = {k: paths[k] or bool(np.any(getattr(r, k) > 0)) for k in paths}
        w, pond = r.w_liq, r.pond
    assert all(paths.values()), paths  # both post-solve fixes were exercised


# --- root-zone water stress --------------------------------------------------------------


def test_root_water_stress_wet_dry_and_frozen():
    from landia.columns import root_water_stress
    from landia.columns.transpiration import PSI_WILT

    p = SoilParameters.from_sand_clay(np.full(4, 40.0), np.full(4, 20.0))
    roots = np.array([0.3, 0.3, 0.2, 0.1, 0.1, 0, 0, 0, 0, 0])
    w = np.empty((4, 10))
    w[0] = p.porosity[0] * DZ_MM  # saturated: no stress
    w[1] = 0.0  # bone dry: psi = -1e8 << wilting point
    w[2] = p.porosity[2] * DZ_MM
    w[2, :2] = 0.0  # top dry, rest wet: only the wet layers supply water
    # a layer exactly at half way between saturation and wilting in potential
    psi_half = 0.5 * (p.psi_sat[3, 0] + PSI_WILT)
    w[3] = p.porosity[3] * (psi_half / p.psi_sat[3]) ** (-1.0 / p.b[3]) * DZ_MM
    t_soil = np.full((4, 10), 280.0)
    stress, uptake = root_water_stress(w, p, roots)
    np.testing.assert_allclose(stress, [1.0, 0.0, 0.4, 0.5], rtol=1e-12)
    np.testing.assert_allclose(uptake.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(uptake[0], roots)
    np.testing.assert_allclose(uptake[1], roots)  # nothing to take: stays a valid fraction
    np.testing.assert_allclose(uptake[2], [0, 0, 0.5, 0.25, 0.25, 0, 0, 0, 0, 0], atol=1e-15)
    t_soil[0, :3] = 270.0  # frozen top: roots take nothing there
    stress, uptake = root_water_stress(w, p, roots, t_soil=t_soil)
    np.testing.assert_allclose(stress[0], 0.2)
    np.testing.assert_allclose(uptake[0], [0, 0, 0, 0.5, 0.5, 0, 0, 0, 0, 0], atol=1e-15)


def test_steady_rain_wets_the_column_to_the_conductivity_that_carries_it():
    """Constant infiltration q on a dry uniform column: the steady state is uniform theta*
    with K(theta*) = q (unit gradient), draining q at the bottom."""
    p = SoilParameters.from_sand_clay(np.array([40.0, 70.0]), np.array([20.0, 10.0]))
    q = 0.2 * p.k_sat[:, 0]
    theta_star = p.porosity[:, 0] * (q / p.k_sat[:, 0]) ** (1.0 / (2 * p.b[:, 0] + 3))
    w = 0.15 * p.porosity * DZ_MM
    for _ in range(2000):  # ~42 days
        r = soil_water_step(w, p, q, 0.0, ROOTS, DT)
        w = r.w_liq
    np.testing.assert_allclose(w / DZ_MM, np.repeat(theta_star[:, None], 10, axis=1), rtol=1e-9)
    np.testing.assert_allclose(r.drainage, q, rtol=1e-9)


def test_value_checks_off_give_the_same_bits_and_only_skip_the_checks():
    from landia.benchmarks.columns import soilwater_problem

    w, pond, soil, roots, forcings = soilwater_problem(300)
    inf, tr = forcings[0]
    a = soil_water_step(w, soil, inf, tr, roots, 1800.0, pond=pond)
    b = soil_water_step(w, soil, inf, tr, roots, 1800.0, pond=pond, check_values=False)
    for name in ("w_liq", "pond", "drainage", "runoff", "correction"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    with pytest.raises(ValueError, match="transpiration"):
        soil_water_step(w, soil, inf, -tr - 1e-6, roots, 1800.0, pond=pond)
    with pytest.raises(ValueError, match="w_liq: expected shape"):  # shapes always checked
        soil_water_step(w[:, :5], soil, inf, tr, roots, 1800.0, check_values=False)


def test_one_clapp_hornberger_potential_for_the_surface_the_roots_and_the_soil_water_step():
    """The surface's and the roots' potential is :func:`clapp_hornberger_potential` bit for
    bit; the soil-water step's in-place exp(-b ln s) equals it to round-off."""
    from landia.columns.soil import SoilParameters, clapp_hornberger_potential
    from landia.columns.soilwater import _clapp_hornberger_layers
    from landia.columns.surface import top_layer_potential

    rng = np.random.default_rng(12)
    n = 300
    soil = SoilParameters.from_sand_clay(rng.uniform(5, 90, (n, 10)), rng.uniform(0, 5, (n, 10)))
    dz = colm_layer_thickness(10)
    w = rng.uniform(0, 1, (n, 10)) * soil.porosity * dz * 1000.0
    w[:5] = 0.0  # below S_MIN
    psi = clapp_hornberger_potential(w / (1000.0 * dz), soil.porosity, soil.psi_sat, soil.b)
    top = top_layer_potential(w[:, 0], soil.porosity[:, 0], soil.psi_sat[:, 0], soil.b[:, 0],
                              dz[0])
    assert np.array_equal(top, psi[:, 0])
    layers = _clapp_hornberger_layers(np.array(w.T, order="C"), (1000.0 * dz)[:, None], soil,
                                      None, n, 10)[0].T
    np.testing.assert_allclose(layers, psi, rtol=1e-14)
