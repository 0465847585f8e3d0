"""Benchmarks of the column model: the soil-water step and the whole column step.

For 1,000, 10,000 and 100,000 columns of 10 layers (``--quick``: not the last), cases
``columns_soilwater_{n}`` and ``columns_step_{n}``. Columns are random but physical: Cosby
soils (:meth:`~landia.columns.soil.SoilParameters.from_sand_clay`, sand 10-90 %, clay
5-60 %) with the root fractions of a random land cover. Timings are medians over at least 5
steps (more, up to 50, within 2 s) after one untimed warm-up step, each step starting from
the state the previous one left; the forcings are drawn before the timing. A column-step is
one column advanced by one 1800 s step.

Soil water alone (:func:`landia.columns.soilwater.soil_water_step`), prefix
``columns_soilwater_{n}_``. State: the default state
(:meth:`~landia.columns.state.ColumnState.default`) with its liquid water at a random
saturation of 0.1-0.95 per layer, no ice. Forcing: 15 % of the columns infiltrate 0-2e-3 mm
s-1, the others -1e-5..2e-4 mm s-1; every column transpires 0-1e-4 mm s-1.

``column_steps_per_s``, ``step_s``, ``steps``
    Columns times steps per second, the median seconds of one step of all
    ``n`` columns, and the number of timed steps, as the model calls the step
    (``check_values=False``: :func:`~landia.columns.hydrology.water_step` passes
    inputs that are valid by construction).
``checked_column_steps_per_s``
    The same with the value checks an outside caller gets (the default).
``reference_columns``, ``reference_column_steps_per_s``, ``reference_step_s``
    The same for the per-column reference
    (:mod:`landia.columns.soilwater_reference`) on 200 columns (it is slow),
    measured in the same process.
``speedup``
    ``column_steps_per_s / reference_column_steps_per_s``.
``tridiagonal_share``
    Share of the step's time spent in the tridiagonal solve
    (:func:`~landia.columns.tridiagonal.solve_tridiagonal_negated_lower`, or
    :func:`~landia.columns.tridiagonal.solve_tridiagonal_layer_major`), from
    cProfile over 3 extra steps after the timing (cumulative times; profiling
    overhead inflates the Python-level rest a little, so read it as an order).
``peak_mb``, ``import_mb``
    Peak resident memory of the case's process after the vectorised timing (the
    reference and the profile come later), and after the imports only.

The whole column step (:func:`landia.columns.model.step`: demand, snow, soil temperature and
water, runoff, aquifer), prefix ``columns_step_{n}_``. State: random saturation 0.05-1 per
layer, 20 % of the columns frozen (soil near 268 K with ice) and 20 % under 0-50 mm of snow,
0-10 mm ponds; land cover as above or bare soil; LAI 0-6; forcing as the column-step tests
(diurnal short-wave over 8 half-hours, air 250-310 K, RH 0.2-1, showers on 15 % of the
columns).

``column_steps_per_s``, ``step_s``, ``steps``, ``peak_mb``, ``import_mb``
    As for the soil-water cases.

The column model is imported inside the cases, not at the top: every case's process imports
this module, and each case's ``import_mb`` and ``peak_mb`` must hold only what it runs.
"""

from __future__ import annotations

import cProfile
import importlib
import pstats
from functools import partial

import numpy as np

from landia.benchmarks.measure import peak_mb, timed_steps
from landia.grid import colm_layer_thickness

COLUMN_SIZES = (1_000, 10_000, 100_000)
_COVERS = ("grassland", "cropland", "shrubland", "deciduous_forest", "evergreen_forest")


def _column_parameters(n: int, rng, covers=_COVERS):
    """Random but physical column parameters: Cosby soils of random texture, random covers."""
    # The column model, imported by the case that runs it (see the module's docstring).
    from landia.columns.soil import SoilParameters
    from landia.columns.state import ColumnParameters

    sand = rng.uniform(10.0, 90.0, n)
    clay = np.minimum(rng.uniform(5.0, 100.0 - sand - 1e-9), 60.0)
    soil = SoilParameters.from_sand_clay(sand, clay)
    return ColumnParameters.from_land_cover(soil, tuple(rng.choice(covers, n)))


def soilwater_problem(n: int, seed: int = 20160501):
    """(w_liq, pond, soil, roots, forcings) of ``n`` random columns.

    Default state with its liquid water rescaled to a random saturation 0.1-0.95 per
    layer; a forcing where 15 % of the columns infiltrate 0-2e-3 mm s-1 (up to 7 mm/h),
    the others -1e-5..2e-4 mm s-1 (light evaporation to drizzle), and every column
    transpires 0-1e-4 mm s-1 (up to 0.36 mm/h); 8 such (infiltration, transpiration)
    pairs, drawn here so that the timed steps only cycle through them.
    """
    # The column model, imported by the case that runs it (see the module's docstring).
    from landia.columns.state import ColumnState

    rng = np.random.default_rng(seed)
    params = _column_parameters(n, rng)
    soil = params.soil
    state = ColumnState.default(soil, saturation=1.0)
    w_liq = state.w_liq * rng.uniform(0.1, 0.95, state.w_liq.shape)

    def forcing():
        rain = rng.random(n) < 0.15
        infiltration = np.where(rain, rng.uniform(0.0, 2e-3, n), rng.uniform(-1e-5, 2e-4, n))
        return infiltration, rng.uniform(0.0, 1e-4, n)

    return w_liq, state.pond, soil, params.root_fraction, [forcing() for _ in range(8)]


def columns_soilwater_case(n: int, n_reference: int = 200, profile: bool = True) -> dict:
    """Vectorised soil-water step on ``n`` columns against the per-column reference."""
    # The column model, imported by the case that runs it (see the module's docstring).
    from landia.columns.soilwater import soil_water_step
    from landia.columns.soilwater_reference import soil_water_step_reference

    dt = 1800.0
    import_mb = peak_mb()

    def stepper(fn, cols: int, **options):
        w, pond, soil, roots, forcings = soilwater_problem(cols)
        current = {"w": w, "pond": pond, "k": 0}

        def advance():
            infiltration, transpiration = forcings[current["k"] % len(forcings)]
            r = fn(current["w"], soil, infiltration, transpiration, roots, dt,
                   pond=current["pond"], **options)
            current["w"], current["pond"], current["k"] = r.w_liq, r.pond, current["k"] + 1
        return advance

    # As the model calls it (water_step: inputs valid by construction, value checks off),
    # and with the value checks of an outside caller.
    advance = stepper(soil_water_step, n, check_values=False)
    seconds, steps = timed_steps(advance)
    checked_seconds, _ = timed_steps(stepper(soil_water_step, n), budget=1.0)
    peak = peak_mb()
    ref_seconds, _ = timed_steps(stepper(soil_water_step_reference, n_reference),
                                 budget=1.0)
    rate, ref_rate = n / seconds, n_reference / ref_seconds
    figures = {"column_steps_per_s": rate, "step_s": seconds, "steps": steps,
               "checked_column_steps_per_s": n / checked_seconds,
               "reference_columns": n_reference, "reference_column_steps_per_s": ref_rate,
               "reference_step_s": ref_seconds, "speedup": rate / ref_rate}
    if profile:
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(3):
            advance()
        prof.disable()
        stats = pstats.Stats(prof).stats  # (file, line, name) -> (cc, nc, tt, ct, callers)
        solvers = ("solve_tridiagonal_layer_major", "solve_tridiagonal_negated_lower")
        cum = {name: ct for (_, _, name), (_, _, _, ct, _) in stats.items()
               if name in ("soil_water_step",) + solvers}
        figures["tridiagonal_share"] = (sum(cum.get(name, 0.0) for name in solvers)
                                        / cum["soil_water_step"])
    figures.update({"peak_mb": peak, "import_mb": import_mb})
    return {f"columns_soilwater_{n}_{k}": v for k, v in figures.items()}


def _step_forcing(rng, n: int, k: int, dt: float = 1800.0) -> dict:
    """Random but physical forcing at step k (as the column-step tests): diurnal SW,
    T 250-310 K, RH 0.2-1, 15 % of the columns under a shower."""
    # The column model, imported by the case that runs it (see the module's docstring).
    from landia.columns.surface import saturation_vapour_pressure, specific_humidity

    hour = (k * dt / 3600.0) % 24
    sun = max(0.0, np.sin(np.pi * (hour - 6) / 12))
    tair = rng.uniform(250, 310, n)
    p = rng.uniform(70000, 103000, n)
    q = rng.uniform(0.2, 1.0, n) * specific_humidity(saturation_vapour_pressure(tair), p)
    rain_on = rng.random(n) < 0.15
    return {"tair": tair, "qair": q, "psurf": p, "wind": rng.uniform(0, 12, n),
            "swdown": sun * rng.uniform(0, 1000, n), "lwdown": rng.uniform(150, 450, n),
            "precip": np.where(rain_on, rng.exponential(2e-3, n), 0.0)}


def step_problem(n: int, seed: int = 20160501):
    """(state, params, forcings, lai) of ``n`` random columns for the whole column step (the
    module notes): 8 forcings drawn here, so that timed steps only cycle through them."""
    # The column model, imported by the case that runs it (see the module's docstring).
    from landia.columns.model import ModelState
    from landia.columns.soilwater import RHO_ICE, T_FREEZE

    rng = np.random.default_rng(seed)
    params = _column_parameters(n, rng, _COVERS + ("bare_soil",))
    soil = params.soil
    dz = colm_layer_thickness(soil.n_layers)
    frozen = rng.random(n) < 0.2
    t0 = np.where(frozen, 268.0, 285.0)[:, None] + rng.normal(0, 2, (n, soil.n_layers))
    ice_share = np.where(frozen[:, None] & (t0 < T_FREEZE),
                         rng.uniform(0, 1, (n, soil.n_layers)), 0.0)
    w_tot = rng.uniform(0.05, 1.0, (n, soil.n_layers)) * soil.porosity * dz * 1000.0
    state = ModelState.default(soil)
    cols = state.columns.replace(
        w_liq=w_tot * (1 - ice_share), w_ice=w_tot * ice_share * RHO_ICE / 1000.0, t_soil=t0,
        snow=np.where(rng.random(n) < 0.2, rng.uniform(0, 50, n), 0.0),
        pond=rng.uniform(0, 10, n))
    lai = rng.uniform(0, 6, n)
    state = ModelState(columns=cols, t_snow=np.full(n, T_FREEZE - 2.0))
    forcings = [_step_forcing(rng, n, k) for k in range(8)]  # built outside the timing
    return state, params, forcings, lai


def stepper(state, params, forcings, lai):
    """``advance()``: one :func:`landia.columns.model.step` from the current state, which it
    moves on, cycling through ``forcings``."""
    # The column model, imported by the case that runs it (see the module's docstring).
    from landia.columns.model import step

    current = {"state": state, "k": 0}

    def advance():
        k = current["k"]
        current["state"], _ = step(current["state"], params, forcings[k % len(forcings)], lai)
        current["k"] = k + 1
    return advance


def columns_step_case(n: int, seed: int = 20160501) -> dict:
    """The whole column step (:func:`landia.columns.model.step`) on ``n`` columns."""
    # The column model, imported by the case that runs it (see the module's docstring), before
    # ``import_mb``.
    importlib.import_module("landia.columns.model")
    import_mb = peak_mb()
    seconds, steps = timed_steps(stepper(*step_problem(n, seed)))
    figures = {"column_steps_per_s": n / seconds, "step_s": seconds, "steps": steps,
               "peak_mb": peak_mb(), "import_mb": import_mb}
    return {f"columns_step_{n}_{k}": v for k, v in figures.items()}


CASES = {
    **{f"columns_soilwater_{n}": partial(columns_soilwater_case, n) for n in COLUMN_SIZES},
    **{f"columns_step_{n}": partial(columns_step_case, n) for n in COLUMN_SIZES},
}
