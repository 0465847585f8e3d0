"""Benchmarks of the curvelet operator, the image 3D-Var analysis and the column model.

``landia bench [--quick] [--json FILE]`` prints one ``name: value`` line per
figure (and optionally writes the same figures to a JSON object). Benchmarks
measure; they never assert. Wherever a ratio makes sense it is taken against a
reference measured in the same run, so that figures can be compared across
machines; absolute seconds and MB are printed for information. MB are MiB
(2**20 bytes). Timings are medians of at least 3 runs (more while they take
under a second in all). Every case runs in its own fresh process
(``python -m landia.bench --case NAME``), so that peak memory, caches and
one-off builds of one case do not pollute another; the driver itself stays
small, since on Linux a child's ``ru_maxrss`` starts from its parent's peak.

Figures
-------
Machine (first lines)
    ``load_1m``, ``load_5m``, ``load_15m`` (``os.getloadavg()`` at the start),
    ``cpus``, ``machine`` (``platform.platform()``), ``python``, ``numpy``. Read
    every timing with the load in mind: the machine may be shared.

Curvelet cost, for images 256x256, 1024x1024 and 1800x3600 (``--quick``: not
the last), suffix ``_{ny}x{nx}``:

``curvelet_ratio``
    Median seconds of one forward + adjoint of
    :class:`~landia.operators.CurveletTransform` (``rmatvec(matvec(x))`` on a
    random image) divided by the median seconds of
    ``np.fft.ifft2(np.fft.fft2(img))`` on the same image: the cost of C in
    "FFT pairs".
``curvelet_udct_ratio``
    The same for the bare library (``UDCT.backward(UDCT.forward(img))`` on the
    transform shape); the difference to ``curvelet_ratio`` is the wrapper's
    overhead (padding, NaN check, vectorising, real/complex views).
``curvelet_pair_s``, ``curvelet_udct_pair_s``, ``fft_pair_s``
    The median seconds behind those ratios.
``curvelet_build_s``
    One-off construction of the operator (UDCT windows plus the reconstruction
    check), excluded from the ratios.
``curvelet_peak_mb``
    Peak resident memory of the process that built and applied the transform.

Analysis cost, for the cases ``paper_32x31`` (23-68 N, 73-117 E at 1.4 deg,
the paper's grid), ``global_1deg`` (180 x 360) and ``global_025deg``
(720 x 1440; ``--quick`` skips it), prefix ``analysis_{case}_``. Land from
``global_land_mask``; synthetic truth, background (truth + smooth error of std
0.05), observation (truth + white noise of std 0.02), 3 layers, porosity 0.45;
:func:`landia.analysis.run_analysis` with default :class:`~landia.config.Settings`.

``ny``, ``nx``, ``land_cells``, ``unknowns``
    Grid size and control-vector length (3 layers x land cells).
``build_s``, ``minimise_s``, ``total_s``
    Problem assembly (QC, E, C, P), the TAO minimisation (including J at the
    start point), and the whole ``run_analysis`` call (also scoring).
``iterations``, ``evaluations``, ``reason``
    Minimiser iterations, J-and-gradient evaluations, TAO's converged reason.
``cost_share``
    Fraction of ``minimise_s`` spent evaluating J and its gradient (the rest is
    TAO's own work: line search bookkeeping, L-BFGS updates).
``curvelet_share``, ``embedding_share``
    Fraction of ``total_s`` spent in C/C^T and in E/E^T. They are shares of the
    whole call, not of ``minimise_s``, because the operators' counters also
    include the few applications made while building and scoring.
``pair_s``, ``total_in_pairs``
    Median seconds of one curvelet forward + adjoint at the case's transform
    shape (``transform_ny``, ``transform_nx``), and ``total_s`` expressed in
    such pairs. The gradient of JI costs one pair per layer, so a converged
    analysis costs at least ``3 x evaluations`` pairs.
``peak_mb``, ``import_mb``
    Peak resident memory of the case's process at its end, and after the
    imports only (the floor: Python, numpy, scipy, PETSc, curvelets).
``control_vector_mb``, ``image_mb``, ``peak_in_images``
    Size of one control vector and of one float64 image of the grid, and
    ``peak_mb - import_mb`` in such images: the memory references.
``scc_before``, ``scc_after``
    Spatial correlation of the top layer with the observation image, for the
    background and for the analysis.
``error``
    Only when ``run_analysis`` raised (e.g. TAO stopped at
    ``minimiser.max_iterations``): the message, in place of the minimiser
    figures; ``total_s`` and the memory figures are still given.

Column cost, for 1,000, 10,000 and 100,000 columns of 10 layers (``--quick``: not
the last), cases ``columns_soilwater_{n}`` and ``columns_step_{n}``. Columns are
random but physical: Cosby soils
(:meth:`~landia.columns.soil.SoilParameters.from_sand_clay`, sand 10-90 %, clay
5-60 %) with the root fractions of a random land cover. Timings are medians over
at least 5 steps (more, up to 50, within 2 s) after one untimed warm-up step,
each step starting from the state the previous one left; the forcings are drawn
before the timing. A column-step is one column advanced by one 1800 s step.

Soil water alone (:func:`landia.columns.soilwater.soil_water_step`), prefix
``columns_soilwater_{n}_``. State: the default state
(:meth:`~landia.columns.state.ColumnState.default`) with its liquid water at a
random saturation of 0.1-0.95 per layer, no ice. Forcing: 15 % of the columns
infiltrate 0-2e-3 mm s-1, the others -1e-5..2e-4 mm s-1; every column
transpires 0-1e-4 mm s-1.

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
    (:func:`~landia.columns.tridiagonal.solve_tridiagonal_layer_major`), from
    cProfile over 3 extra steps after the timing (cumulative times; profiling
    overhead inflates the Python-level rest a little, so read it as an order).
``peak_mb``, ``import_mb``
    Peak resident memory of the case's process after the vectorised timing (the
    reference and the profile come later), and after the imports only.

The whole column step (:func:`landia.columns.model.step`: demand, snow, soil
temperature and water, runoff, aquifer), prefix ``columns_step_{n}_``. State:
random saturation 0.05-1 per layer, 20 % of the columns frozen (soil near 268 K
with ice) and 20 % under 0-50 mm of snow, 0-10 mm ponds; land cover as above
or bare soil; LAI 0-6; forcing as the column-step tests (diurnal short-wave
over 8 half-hours, air 250-310 K, RH 0.2-1, showers on 15 % of the columns).

``column_steps_per_s``, ``step_s``, ``steps``, ``peak_mb``, ``import_mb``
    As for the soil-water cases.

The assimilation cycle (``landia cycle``), cases ``cycle_paper`` (32 x 31 at 1.4 deg, 991
land cells) and ``cycle_eastasia_025`` (the same box at 0.25 deg, 180 x 176, 31,653 land
cells; not with ``--quick``): a truth run (ctrl, other rain and texture) with 2 ranks, its OSSE
observations, then five 6-hourly image 3D-Var cycles with 1 and with 2 ranks
(``mpirun -n 2``). Figures are means over cycles 2-5 (the first pays imports and operator
builds), prefix ``cycle_{grid}_{r}rank_``:

``{phase}_s``
    Seconds of each phase: ``model``, ``gather``, ``analysis``, ``scatter``,
    ``gather_state``, ``output``, ``checkpoint``; ``cycle_s`` their sum.
``exchange_share``
    (gather + scatter + gather_state + checkpoint) / cycle (aim: under 0.1).
``iterations``
    Mean minimiser iterations.

and ``cycle_{grid}_model_speedup_2ranks``: model seconds with 1 rank / with 2 ranks.

A case whose process fails prints ``{case}_failed: True`` and makes the exit
status 1. A comment line states the targets the 0.25 deg case is read against (at most
20 iterations, under 10 s, under 1 GB); they are not checked.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from functools import partial

import numpy as np

from landia.launch import cycle_command, launch_environment, toml_text

TARGETS = ("# targets for analysis_global_025deg (read, not asserted): iterations <= 20, "
           "total_s < 10, peak_mb < 1024")


def _peak_mb() -> float:
    """Peak resident memory of this process, MiB (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _median_seconds(fn, budget: float = 1.0) -> float:
    """Median wall seconds of ``fn()``: at least 3 runs, more (up to 50) within ``budget`` s."""
    times: list[float] = []
    while len(times) < 3 or (sum(times) < budget and len(times) < 50):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _pair_seconds(op) -> float:
    """Median seconds of ``op.rmatvec(op.matvec(x))`` on a random image."""
    x = np.random.default_rng(1).standard_normal(op.shape[1])
    return _median_seconds(lambda: op.rmatvec(op.matvec(x)))


# -- cases -----------------------------------------------------------------------------
def curvelet_case(shape: tuple[int, int]) -> dict:
    """Curvelet forward+adjoint cost on one image shape, against an FFT pair."""
    from landia.operators import CurveletTransform

    tag = f"{shape[0]}x{shape[1]}"
    t0 = time.perf_counter()
    op = CurveletTransform(shape)
    build = time.perf_counter() - t0
    img = np.random.default_rng(1).standard_normal(shape)
    pair = _pair_seconds(op)
    udct = op._udct_transform  # the bare library, for the wrapper's overhead
    padded = np.zeros(op.transform_shape)
    padded[: shape[0], : shape[1]] = img
    udct_pair = _median_seconds(lambda: udct.backward(udct.forward(padded)))
    fft = _median_seconds(lambda: np.fft.ifft2(np.fft.fft2(img)))
    return {f"curvelet_ratio_{tag}": pair / fft,
            f"curvelet_udct_ratio_{tag}": udct_pair / fft,
            f"curvelet_pair_s_{tag}": pair,
            f"curvelet_udct_pair_s_{tag}": udct_pair,
            f"fft_pair_s_{tag}": fft,
            f"curvelet_build_s_{tag}": build,
            f"curvelet_peak_mb_{tag}": _peak_mb()}


def _grid(case: str):
    """(lat, lon) cell centres of a case; lon in -180..180."""
    from landia.grid import LatLonGrid

    if case == "paper_32x31":
        g = LatLonGrid.from_box(23, 68, 73, 117, 1.4)
        return g.lat, g.lon
    res = {"global_1deg": 1.0, "global_025deg": 0.25}[case]
    ny, nx = round(180 / res), round(360 / res)
    return 90 - res * (np.arange(ny) + 0.5), -180 + res * (np.arange(nx) + 0.5)


_LAND_MASK_CHILD = """
import json, sys
import numpy as np

from landia.launch import cycle_command, launch_environment, toml_text
from global_land_mask import globe
lat, lon = (np.asarray(c, dtype=float) for c in json.load(sys.stdin))
land = globe.is_land(*np.meshgrid(lat, lon, indexing="ij"))
sys.stdout.buffer.write(np.packbits(land).tobytes())
"""


def land_mask(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Land mask of cell centres from ``global_land_mask`` (lon in -180..180).

    That package holds a 1 km global mask (0.9 GB) in memory from its import on;
    it is therefore asked in a child process, so as not to count in the peak
    memory of the case.
    """
    coords = json.dumps([[float(v) for v in lat], [float(v) for v in lon]]).encode()
    out = subprocess.run([sys.executable, "-c", _LAND_MASK_CHILD], input=coords,
                         stdout=subprocess.PIPE, check=True).stdout
    bits = np.unpackbits(np.frombuffer(out, dtype=np.uint8))[: lat.size * lon.size]
    return bits.reshape(lat.size, lon.size).astype(bool)


def make_case(case: str, seed: int = 20160501):
    """Synthetic (background, observation) fields of an analysis case.

    Truth: two scales (8 and 1.5 degrees) of smoothed noise, scaled to
    0.05-0.40 m3 m-3 on land; background: truth + smooth error (3 degrees, std
    0.05); observation: truth + white noise (std 0.02). Layers below the top get
    the same images damped towards the land mean with depth. NaN off land,
    porosity 0.45 on land.
    """
    from scipy.ndimage import gaussian_filter

    from landia.grid import colm_node_depths
    from landia.io.fields import SoilMoistureField

    lat, lon = _grid(case)
    res = abs(float(lat[1] - lat[0]))
    land = land_mask(lat, lon)
    rng = np.random.default_rng(seed)
    wrap = ("nearest", "wrap") if case.startswith("global") else "nearest"

    def smooth(degrees: float) -> np.ndarray:
        f = gaussian_filter(rng.standard_normal(land.shape), degrees / res, mode=wrap)
        return f / f[land].std()

    t = 0.7 * smooth(8.0) + 0.3 * smooth(1.5)
    t = 0.05 + 0.35 * (t - t[land].min()) / (t[land].max() - t[land].min())
    bg = np.clip(t + 0.05 * smooth(3.0), 0.01, 0.44)
    obs = t + 0.02 * rng.standard_normal(land.shape)
    depth = colm_node_depths()[:3]
    damp = np.exp(-depth / 0.2)[:, None, None]

    def layers(f: np.ndarray) -> np.ndarray:
        mean = f[land].mean()
        out = mean + (f[None] - mean) * damp
        out[:, ~land] = np.nan
        return out

    porosity = np.where(land, 0.45, np.nan)[None].repeat(3, axis=0)
    background = SoilMoistureField(lat=lat, lon=lon, depth=depth, values=layers(bg),
                                   porosity=porosity, source=f"bench:{case}:background")
    observation = SoilMoistureField(lat=lat, lon=lon, depth=depth, values=layers(obs),
                                    source=f"bench:{case}:observation")
    return background, observation


def analysis_case(case: str) -> dict:
    """One default-settings analysis of a case; its figures, prefixed ``analysis_{case}_``.

    An analysis that raises (e.g. TAO stopping at its iteration limit) is a result
    too: its figures then carry ``error`` and what was measured up to it.
    """
    import curvelets.numpy  # noqa: F401  (imported lazily by the analysis; counted here)

    from landia.analysis import run_analysis
    from landia.analysis.minimisers.tao import init_petsc
    from landia.config import Settings
    from landia.errors import LandiaError

    init_petsc()
    from petsc4py import PETSc  # noqa: F401

    import_mb = _peak_mb()
    background, observation = make_case(case)
    ny, nx = background.shape
    land_cells = int(np.isfinite(background.values[0]).sum())
    unknowns = 3 * land_cells
    image_mb = ny * nx * 8 / 2**20
    figures = {"ny": ny, "nx": nx, "land_cells": land_cells, "unknowns": unknowns}
    t0 = time.perf_counter()
    try:
        result = run_analysis(background, observation, Settings())
    except LandiaError as exc:
        result, figures["error"] = None, f"{type(exc).__name__}: {exc}"
    total = time.perf_counter() - t0
    peak = _peak_mb()  # before the extra pair timing below
    if result is not None:
        tm, curvelet = result.timings, result.problem.curvelet
        pair = _pair_seconds(curvelet)
        figures.update({
            "build_s": tm["build_seconds"], "minimise_s": tm["minimise_seconds"],
            "total_s": total,
            "iterations": result.minimiser.iterations, "evaluations": tm["evaluations"],
            "reason": result.minimiser.reason,
            "cost_share": tm["cost_seconds"] / tm["minimise_seconds"],
            "curvelet_share": tm["curvelet_seconds"] / total,
            "embedding_share": tm["embedding_seconds"] / total,
            "transform_ny": curvelet.image_shape[0], "transform_nx": curvelet.image_shape[1],
            "pair_s": pair, "total_in_pairs": total / pair,
            "scc_before": result.scores["background"]["layer1"]["scc"],
            "scc_after": result.scores["analysis"]["layer1"]["scc"],
        })
    else:
        figures["total_s"] = total
    figures.update({"peak_mb": peak, "import_mb": import_mb,
                    "control_vector_mb": unknowns * 8 / 2**20, "image_mb": image_mb,
                    "peak_in_images": (peak - import_mb) / image_mb})
    return {f"analysis_{case}_{k}": v for k, v in figures.items()}


# -- column cases ----------------------------------------------------------------------
_COVERS = ("grassland", "cropland", "shrubland", "deciduous_forest", "evergreen_forest")


def _column_parameters(n: int, rng, covers=_COVERS):
    """Random but physical column parameters: Cosby soils of random texture, random covers."""
    from landia.columns.soil import SoilParameters
    from landia.columns.state import ColumnParameters

    sand = rng.uniform(10.0, 90.0, n)
    clay = np.minimum(rng.uniform(5.0, 100.0 - sand - 1e-9), 60.0)
    soil = SoilParameters.from_sand_clay(sand, clay)
    return ColumnParameters.from_land_cover(soil, tuple(rng.choice(covers, n)))


def _timed_steps(advance, budget: float = 2.0) -> tuple[float, int]:
    """Median seconds of ``advance()`` (one step from the current state, which it moves on).

    One untimed warm-up step, then at least 5 timed steps, more (up to 50) within
    ``budget`` s. Returns (median seconds, timed steps).
    """
    advance()
    times: list[float] = []
    while len(times) < 5 or (sum(times) < budget and len(times) < 50):
        t0 = time.perf_counter()
        advance()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), len(times)


def _soilwater_problem(n: int, seed: int = 20160501):
    """(w_liq, pond, soil, roots, forcings) of ``n`` random columns.

    Default state with its liquid water rescaled to a random saturation 0.1-0.95 per
    layer; a forcing where 15 % of the columns infiltrate 0-2e-3 mm s-1 (up to 7 mm/h),
    the others -1e-5..2e-4 mm s-1 (light evaporation to drizzle), and every column
    transpires 0-1e-4 mm s-1 (up to 0.36 mm/h); 8 such (infiltration, transpiration)
    pairs, drawn here so that the timed steps only cycle through them.
    """
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
    from landia.columns.soilwater import soil_water_step
    from landia.columns.soilwater_reference import soil_water_step_reference

    dt = 1800.0
    import_mb = _peak_mb()

    def stepper(fn, cols: int, **options):
        w, pond, soil, roots, forcings = _soilwater_problem(cols)
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
    seconds, steps = _timed_steps(advance)
    checked_seconds, _ = _timed_steps(stepper(soil_water_step, n), budget=1.0)
    peak = _peak_mb()
    ref_seconds, ref_steps = _timed_steps(stepper(soil_water_step_reference, n_reference),
                                          budget=1.0)
    rate, ref_rate = n / seconds, n_reference / ref_seconds
    figures = {"column_steps_per_s": rate, "step_s": seconds, "steps": steps,
               "checked_column_steps_per_s": n / checked_seconds,
               "reference_columns": n_reference, "reference_column_steps_per_s": ref_rate,
               "reference_step_s": ref_seconds, "speedup": rate / ref_rate}
    if profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        for _ in range(3):
            advance()
        prof.disable()
        stats = pstats.Stats(prof).stats  # (file, line, name) -> (cc, nc, tt, ct, callers)
        cum = {name: ct for (_, _, name), (_, _, _, ct, _) in stats.items()
               if name in ("soil_water_step", "solve_tridiagonal_layer_major")}
        figures["tridiagonal_share"] = (cum.get("solve_tridiagonal_layer_major", 0.0)
                                        / cum["soil_water_step"])
    figures.update({"peak_mb": peak, "import_mb": import_mb})
    return {f"columns_soilwater_{n}_{k}": v for k, v in figures.items()}


def _step_forcing(rng, n: int, k: int, dt: float = 1800.0) -> dict:
    """Random but physical forcing at step k (as the column-step tests): diurnal SW,
    T 250-310 K, RH 0.2-1, 15 % of the columns under a shower."""
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


def columns_step_case(n: int, seed: int = 20160501) -> dict:
    """The whole column step (:func:`landia.columns.model.step`) on ``n`` columns."""
    from landia.columns.model import ModelState, step
    from landia.columns.soilwater import RHO_ICE, T_FREEZE
    from landia.grid import colm_layer_thickness

    import_mb = _peak_mb()
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
    current = {"state": ModelState(columns=cols, t_snow=np.full(n, T_FREEZE - 2.0)), "k": 0}
    forcings = [_step_forcing(rng, n, k) for k in range(8)]  # built outside the timing

    def advance():
        k = current["k"]
        current["state"], _ = step(current["state"], params, forcings[k % len(forcings)], lai)
        current["k"] = k + 1

    seconds, steps = _timed_steps(advance)
    figures = {"column_steps_per_s": n / seconds, "step_s": seconds, "steps": steps,
               "peak_mb": _peak_mb(), "import_mb": import_mb}
    return {f"columns_step_{n}_{k}": v for k, v in figures.items()}


# -- cycle cases -----------------------------------------------------------------------
CYCLE_GRIDS = {"paper": (23.0, 68.0, 73.0, 117.0, 1.4),
               "eastasia_025": (23.0, 68.0, 73.0, 117.0, 0.25)}
CYCLE_PHASES = ("model", "gather", "analysis", "scatter", "gather_state", "output", "checkpoint")


def _cycle_toml(path, grid, **cycle) -> None:
    south, north, west, east, res = grid
    path.write_text(toml_text({
        "grid": {"south": south, "north": north, "west": west, "east": east,
                 "resolution": res},
        "cycle": {"start": "2016-05-01T00:00", "end": "2016-05-02T06:00",
                  "observations": "obs", **cycle}}))


def _cycle_run(config, run_dir, ranks: int) -> None:
    subprocess.run(cycle_command(config, run_dir, ranks, log_level="error"),
                   env=launch_environment(openmpi_defaults=True), check=True,
                   stdout=subprocess.DEVNULL)


def cycle_case(name: str) -> dict:
    """Five 6-hourly DA cycles (image 3D-Var against OSSE observations) with 1 and 2 ranks."""
    import tempfile
    from pathlib import Path

    from landia.experiment.osse import make_observations

    grid = CYCLE_GRIDS[name]
    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="landia-bench-cycle-") as tmp:
        tmp = Path(tmp)
        _cycle_toml(tmp / "truth.toml", grid, mode="ctrl", precipitation_seed=2, texture_seed=12)
        _cycle_run(tmp / "truth.toml", tmp / "truth", 2)
        make_observations(tmp / "truth", tmp / "obs")
        _cycle_toml(tmp / "da.toml", grid)
        mean = {}
        for ranks in (1, 2):
            run = tmp / f"da{ranks}"
            run.mkdir()
            (run / "obs").symlink_to(tmp / "obs")
            _cycle_run(tmp / "da.toml", run, ranks)
            lines = [json.loads(x) for x in (run / "run_log.jsonl").read_text().splitlines()]
            timed = lines[1:]  # the first cycle pays one-off costs (imports, operator builds)
            mean[ranks] = {p: float(np.mean([r["seconds"].get(p, 0.0) for r in timed]))
                           for p in CYCLE_PHASES}
            cycle_s = sum(mean[ranks].values())
            exchange = sum(mean[ranks][p] for p in ("gather", "scatter", "gather_state",
                                                    "checkpoint"))
            prefix = f"cycle_{name}_{ranks}rank"
            out.update({f"{prefix}_{p}_s": v for p, v in mean[ranks].items()})
            out[f"{prefix}_cycle_s"] = cycle_s
            out[f"{prefix}_exchange_share"] = exchange / cycle_s
            out[f"{prefix}_iterations"] = float(np.mean([r.get("iterations", 0) for r in timed]))
        out[f"cycle_{name}_land_cells"] = int(lines[0].get("land_cells", 0)) or None
        out[f"cycle_{name}_model_speedup_2ranks"] = mean[1]["model"] / mean[2]["model"]
    return {k: v for k, v in out.items() if v is not None}


CURVELET_CASES = {f"curvelet_{ny}x{nx}": partial(curvelet_case, (ny, nx))
                  for ny, nx in ((256, 256), (1024, 1024), (1800, 3600))}
ANALYSIS_CASES = {c: partial(analysis_case, c)
                  for c in ("paper_32x31", "global_1deg", "global_025deg")}
COLUMN_SIZES = (1_000, 10_000, 100_000)
COLUMN_CASES = {
    **{f"columns_soilwater_{n}": partial(columns_soilwater_case, n) for n in COLUMN_SIZES},
    **{f"columns_step_{n}": partial(columns_step_case, n) for n in COLUMN_SIZES},
}
CYCLE_CASES = {f"cycle_{g}": partial(cycle_case, g) for g in CYCLE_GRIDS}
CASES = {**CURVELET_CASES, **ANALYSIS_CASES, **COLUMN_CASES, **CYCLE_CASES}
QUICK_SKIPS = {"curvelet_1800x3600", "global_025deg", "columns_soilwater_100000",
               "columns_step_100000", "cycle_eastasia_025"}


# -- driver ----------------------------------------------------------------------------
def machine_figures() -> dict:
    """Load and machine description, printed first."""
    load = os.getloadavg()
    return {"load_1m": load[0], "load_5m": load[1], "load_15m": load[2],
            "cpus": os.cpu_count(), "machine": platform.platform(),
            "python": platform.python_version(), "numpy": np.__version__}


def _format(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _run_case(name: str) -> dict | None:
    """Run one case in a fresh interpreter; its figures, or None when it failed."""
    from landia.launch import launch_environment

    # The driver may have initialised MPI (the landia entry point does): its children must
    # not look like members of that job, or the cycle cases' mpirun fails.
    proc = subprocess.run([sys.executable, "-m", "landia.bench", "--case", name],
                          stdout=subprocess.PIPE, text=True, check=False,
                          env=launch_environment())
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        return None
    return json.loads(lines[-1])


def run_benchmarks(quick: bool = False, json_path: str | None = None) -> int:
    """Run every benchmark case and print its figures; 1 if a case failed, else 0."""
    figures: dict = {}
    status = 0

    def emit(new: dict) -> None:
        figures.update(new)
        for key, value in new.items():
            print(f"{key}: {_format(value)}", flush=True)

    print(f"# landia bench{' --quick' if quick else ''}", flush=True)
    emit(machine_figures())
    for name in CASES:
        if quick and name in QUICK_SKIPS:
            continue
        if name == "paper_32x31":
            print(TARGETS, flush=True)
        result = _run_case(name)
        if result is None:
            status = 1
            emit({f"{name}_failed": True})
        else:
            emit(result)
    if json_path:
        with open(json_path, "w") as fh:
            json.dump(figures, fh, indent=1)
    return status


def _main(argv: list[str] | None = None) -> int:
    """``python -m landia.bench --case NAME``: one case, its figures as one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m landia.bench")
    parser.add_argument("--case", required=True, choices=sorted(CASES))
    args = parser.parse_args(argv)
    from landia.log import configure_logging

    configure_logging("console", "warning")
    print(json.dumps(CASES[args.case]()))
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
