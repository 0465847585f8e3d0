"""One analysis: from a background and an observation image to the analysis.

:func:`build_problem` checks the inputs, quality-controls the observations and
assembles the active cost terms over the control vector; :func:`run_analysis`
minimises J and gathers the diagnostics (cost history, per-term values, SCC).

Control vector layout: ``x[l * n_land + i]`` is the soil moisture (m3 m-3) of
layer ``l`` (0 = top) at the ``i``-th land cell in row-major order.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from landia.analysis.control import (ControlVariableTransform, background_term,
                                     control_transform, minimise_in_control_space)
from landia.analysis.cost import CostFunction
from landia.analysis.image_diagnostics import (ImageErrorVariance, ImageStatistics,
                                               estimate_image_error, image_statistics)
from landia.analysis.local_error import LocalError, local_error, loosened_terms, stated_variance
from landia.analysis.minimisers import MinimiserResult, init_minimiser, minimise
from landia.analysis.terms import ImageLayer, ImageTerm, PointObservationTerm
from landia.analysis.wedge_split import image_split
from landia.analysis.whole_image import whole_image_layers
from landia.config import Settings
from landia.errors import ConfigError, InputError
from landia.grid import LatLonGrid
from landia.io.fields import SoilMoistureField
from landia.log import get_logger
from landia.observations.qc import quality_control
from landia.operators import CoefficientSelection, CurveletTransform, HarmonicEmbedding, PointSelection
from landia.scores import rmse, spatial_correlation


@dataclass
class AnalysisProblem:
    """Everything the minimiser needs, plus what the diagnostics refer to."""

    grid: LatLonGrid
    depth: np.ndarray
    layers: int
    background: np.ndarray      # x_b, (layers * n_land,)
    lower: np.ndarray
    upper: np.ndarray
    cost: CostFunction
    observation: np.ndarray     # (layers, ny, nx), NaN where not used
    qc: dict = field(default_factory=dict)
    curvelet: CurveletTransform | None = None
    embeddings: list = field(default_factory=list)
    # x = xb + T v for a correlated B (analysis.correlation_length_km > 0), else None.
    transform: ControlVariableTransform | None = None
    # The observation error beyond the stated one (analysis.local_image_error), else None.
    local_error: LocalError | None = None
    # The observed image's term that the local error is estimated from: JI itself, or, for
    # point 3D-Var with analysis.local_image_error, the same term built but left out of J.
    error_image: ImageTerm | None = None

    def to_fields(self, x: np.ndarray) -> np.ndarray:
        """(layers, ny, nx) image of a control vector, NaN off land."""
        return self.grid.to_field(x.reshape(self.layers, self.grid.n_land))


@dataclass
class AnalysisResult:
    """An analysis and its diagnostics."""

    problem: AnalysisProblem
    minimiser: MinimiserResult
    background_field: np.ndarray
    analysis_field: np.ndarray
    terms_before: dict
    terms_after: dict
    scores: dict
    timings: dict
    image_statistics: ImageStatistics | None = None
    image_error: ImageErrorVariance | None = None
    local_error: LocalError | None = None

    @property
    def increment_field(self) -> np.ndarray:
        return self.analysis_field - self.background_field


def _check_same_grid(bg: SoilMoistureField, obs: SoilMoistureField) -> None:
    if bg.shape != obs.shape:
        raise InputError(f"{obs.source}: observation grid {obs.shape} differs from the "
                         f"background grid {bg.shape} of {bg.source}; regrid it first")
    for name in ("lat", "lon"):
        a, b = getattr(bg, name), getattr(obs, name)
        if not np.allclose(a, b, atol=1e-6):
            raise InputError(f"{obs.source}: coordinate {name!r} differs from {bg.source} "
                             f"(max difference {np.max(np.abs(a - b)):.3g} degrees)")


#: Volumetric soil moisture outside [0, 1] is no soil moisture at all (a wrong variable, units or
#: scale factor); the bounds would clip it into an analysis of nothing.
PHYSICAL_RANGE = (0.0, 1.0)
#: A background above its file's porosity by more than this (m3 m-3) holds more water than its
#: pores can: an inconsistent file. A cycle's own backgrounds reach porosity + 6e-17 (round-off
#: of the model step; measured over every background of the demo's 7 runs x 3 seeds and the
#: bias experiments, 360 cycles each); up to this margin the bounds clip, with a warning.
POROSITY_MARGIN = 0.05


def _check_physical(background: SoilMoistureField, land: np.ndarray, nl: int) -> None:
    """Refuse a background whose analysed layers hold impossible values on land: outside
    :data:`PHYSICAL_RANGE`, or above the file's porosity by more than :data:`POROSITY_MARGIN`
    (an InputError with the count and the first such cell: lat, lon, layer, value)."""
    values = background.values[:nl]
    on_land = np.broadcast_to(land, values.shape)
    bad = on_land & ((values < PHYSICAL_RANGE[0]) | (values > PHYSICAL_RANGE[1]))
    if background.porosity is not None:
        bad |= on_land & (values > background.porosity[:nl] + POROSITY_MARGIN)
    if not bad.any():
        return
    k, j, i = np.argwhere(bad)[0]
    porosity = ("" if background.porosity is None
                else f", porosity {background.porosity[k, j, i]:.3g}")
    raise InputError(f"{background.source}: 'soil_moisture' is physically impossible at "
                     f"{int(bad.sum())} land cell(s) of layers 1-{nl}: outside "
                     f"[{PHYSICAL_RANGE[0]:g}, {PHYSICAL_RANGE[1]:g}] m3 m-3 or above the "
                     f"porosity by more than {POROSITY_MARGIN:g}; first at lat "
                     f"{background.lat[j]:.4g}, lon {background.lon[i]:.4g}, layer {k + 1}: "
                     f"{values[k, j, i]:.4g}{porosity} (wrong units or scale factor?)")


def _quality_control(observation: SoilMoistureField, grid: LatLonGrid, lower: np.ndarray,
                     upper: np.ndarray, nl: int, min_valid_cells: int):
    """The observations usable on land in the top ``nl`` layers, by the one observation QC
    (:func:`landia.observations.qc.quality_control`) with the analysis' bounds; rejections are
    counted by reason and logged.

    Returns
    -------
    obs_used : ndarray (nl, ny, nx)
        The observations kept, NaN elsewhere.
    valid_masks : list of ndarray of bool
        Kept cells of each layer (all False for a layer refused for having fewer than
        ``min_valid_cells`` kept cells).
    qc : dict
        Counts by reason (:data:`landia.observations.qc.REASONS`) and ``valid``.
    """
    log = get_logger("landia.analysis")
    n = grid.n_land
    ovar = observation.error_variance
    result = quality_control(observation.values[:nl], grid.land,
                             lower=grid.to_field(lower.reshape(nl, n)),
                             upper=grid.to_field(upper.reshape(nl, n)),
                             error_variance=None if ovar is None else ovar[:nl],
                             min_valid_cells=min_valid_cells)
    for k in result.refused_layers:
        log.warning("observation_layer_refused", layer=k + 1,
                    valid_cells=result.layer_valid[k], min_valid_cells=min_valid_cells,
                    file=observation.source)
    valid_masks = [np.isfinite(result.values[k]) for k in range(nl)]
    rejected = {k: v for k, v in result.counts.items() if k != "valid" and v}
    if rejected:
        log.info("observation_qc", file=observation.source, used=result.counts["valid"],
                 **rejected)
    return result.values, valid_masks, result.counts


#: The last embedding built, reused by the next analysis of the same mask in this process (a
#: layer-by-layer analysis, landia.analysis.layered, solves layers with one observation mask
#: one after another). The fill is stateless, so reusing it changes no result.
_LAST_EMBEDDING: dict = {}


def _embedding(valid: np.ndarray, image_shape: tuple, cs) -> HarmonicEmbedding:
    """The HarmonicEmbedding of ``valid`` (the last one built, when it is the same)."""
    key = (np.packbits(valid).tobytes(), valid.shape, tuple(image_shape), cs.fill_sweeps,
           cs.exact_fill_cells, cs.fill_decay)
    if key not in _LAST_EMBEDDING:
        _LAST_EMBEDDING.clear()
        _LAST_EMBEDDING[key] = HarmonicEmbedding(valid, image_shape, cs.fill_sweeps,
                                                 cs.exact_fill_cells, cs.fill_decay)
    return _LAST_EMBEDDING[key]


def _image_term(grid: LatLonGrid, observation: SoilMoistureField, valid_masks: list,
                land_pos: np.ndarray, settings: Settings, variance: np.ndarray | None):
    """JI over the layers with observations: (ImageTerm, CurveletTransform, embeddings); over
    the whole analysis image with ``analysis.image_gap_weight`` > 0.

    ``variance`` gives one s2 per curvelet scale, or per band (scale and wedge) with
    ``analysis.image_error_bands = "wedge"``; None takes ``analysis.image_error_variance``
    for every one.
    """
    cs = settings.curvelet
    n = grid.n_land
    curvelet = CurveletTransform.unpadded_for(grid.shape, cs.scales, cs.wedges, cs.backend,
                                              fft_shape=cs.fft_shape)
    per_band = settings.analysis.image_error_bands == "wedge"
    count, what = ((curvelet.band_sizes.size, "band (scale and wedge)") if per_band
                   else (curvelet.scales, "curvelet scale"))
    if variance is None:
        variance = np.full(count, settings.analysis.image_error_variance)
    variance = np.asarray(variance, dtype=np.float64)
    if variance.shape != (count,) or not np.all(np.isfinite(variance) & (variance > 0)):
        raise InputError(f"image-error variances {variance.tolist()}: expected {count} "
                         f"finite values > 0, one per {what} of the "
                         f"{valid_masks[0].shape} grid")
    cache: dict[bytes, HarmonicEmbedding] = {}
    layers = []
    # The variance class of every coefficient, shared by the layers: its scale, or its band
    # (the low-pass band is band 0 as it is scale 0).
    scale = curvelet.coefficient_band if per_band else curvelet.coefficient_scale
    for k, valid in enumerate(valid_masks):
        if not valid.any():
            continue
        key = np.packbits(valid).tobytes()
        if key not in cache:
            cache[key] = _embedding(valid, curvelet.image_shape, cs)
        emb = cache[key]
        y = observation.values[k][valid]
        # The observed image as the transform sees it: anomalies about the mean, filled
        # (relaxing to 0 = the mean off land), plus the mean. Its coefficients choose P.
        # The cost only sees differences, P C E (S x - y): the mean cancels there.
        mean = float(np.mean(y))
        image = curvelet.matvec(emb.matvec(y - mean) + mean)
        layers.append(ImageLayer(cells=k * n + land_pos[valid],
                                 selection=CoefficientSelection(image, cs.sigma),
                                 transform=curvelet @ emb,
                                 observed=curvelet.matvec(emb.matvec(y)), scale=scale,
                                 fill=emb))
    gap_weight = settings.analysis.image_gap_weight
    if gap_weight > 0:  # the image term over the whole analysis image
        layers, land_embedding = whole_image_layers(grid, valid_masks, observation.values,
                                                    curvelet, cache, cs, gap_weight, scale)
        cache[b"land"] = land_embedding
    return ImageTerm(layers, variance), curvelet, list(cache.values())


def build_problem(background: SoilMoistureField, observation: SoilMoistureField,
                  settings: Settings, image_error_variance: np.ndarray | None = None,
                  local_error_excess: np.ndarray | None = None,
                  normalisation_cache=None) -> AnalysisProblem:
    """Check inputs, QC the observations and assemble the cost function.

    ``image_error_variance`` (one s2 per curvelet scale, (m3 m-3)^2) overrides
    ``analysis.image_error_variance`` in JI: a cycle passes the variances it carries.
    ``local_error_excess`` (per land cell, (m3 m-3)^2) is the previous analysis' observation
    error beyond the stated one (``analysis.local_image_error``; None: zeros).
    ``normalisation_cache``: a folder keeping a correlated B's normalisation between processes
    (:func:`~landia.analysis.control.correlation_of`; None: computed in this process).

    Raises
    ------
    InputError
        Inconsistent grids, too few layers, NaN in the background on land, invalid
        variances, or no usable observation for an active observation term.
    ConfigError
        ``upper_bound = "porosity"`` without a porosity variable.
    """
    log = get_logger("landia.analysis")
    init_minimiser(settings.minimiser)
    cfg = settings.analysis
    nl = cfg.layers
    for f, role in ((background, "background"), (observation, "observation")):
        if f.n_layers < nl:
            raise InputError(f"{f.source}: {role} has {f.n_layers} layer(s); analysis.layers "
                             f"= {nl} needs at least {nl}")
    _check_same_grid(background, observation)
    xb_field = background.values[:nl]
    land = np.isfinite(xb_field[0])
    if not land.any():
        raise InputError(f"{background.source}: 'soil_moisture' of layer 1 has no finite "
                         "value: no land cell to analyse")
    for k in range(1, nl):
        bad = land & ~np.isfinite(xb_field[k])
        if bad.any():
            raise InputError(f"{background.source}: 'soil_moisture' layer {k + 1} is missing "
                             f"at {int(bad.sum())} land cells where layer 1 has values")
    grid = LatLonGrid(background.lat, background.lon, land)
    n = grid.n_land
    xb = np.concatenate([xb_field[k][land] for k in range(nl)])

    # B: per cell and layer, from the file or a constant.
    if background.error_variance is not None:
        bvar = np.concatenate([background.error_variance[k][land] for k in range(nl)])
        if not np.all(np.isfinite(bvar) & (bvar > 0)):
            raise InputError(f"{background.source}: 'background_error_variance' must be "
                             f"finite and > 0 on every land cell ({int(np.sum(~(bvar > 0)))} "
                             "cells are not)")
    else:
        bvar = np.full(xb.size, cfg.background_error_variance)

    # Bounds.
    lower = np.full(xb.size, cfg.lower_bound)
    if cfg.upper_bound == "porosity":
        if background.porosity is None:
            raise ConfigError(f"analysis.upper_bound = 'porosity' but {background.source} has "
                              "no 'porosity' variable; add it or set analysis.upper_bound to a "
                              "number (m3 m-3)")
        upper = np.concatenate([background.porosity[k][land] for k in range(nl)])
        if not np.all(np.isfinite(upper)) or np.any(upper <= lower):
            raise InputError(f"{background.source}: 'porosity' must be finite and above "
                             f"analysis.lower_bound on every land cell")
    else:
        upper = np.full(xb.size, float(cfg.upper_bound))
    _check_physical(background, land, nl)
    outside = int(np.sum((xb < lower) | (xb > upper)))
    if outside:
        log.warning("background_outside_bounds", cells=outside,
                    note="minimisation starts from the background clipped into bounds")

    obs_used, valid_masks, qc = _quality_control(observation, grid, lower, upper, nl,
                                                 cfg.min_valid_cells)
    obs_terms = [t for t in cfg.terms if t in ("point", "image")]
    if obs_terms and qc["valid"] == 0:
        raise InputError(f"{observation.source}: no usable observation on land in the top "
                         f"{nl} layer(s) after QC ({qc}); terms {obs_terms} cannot be built")

    terms = []
    if "background" in cfg.terms:
        terms.append(background_term(grid, xb, bvar, nl, cfg.correlation_length_km,
                                     cfg.correlation_steps, normalisation_cache))
    land_pos = np.full(grid.shape, -1, dtype=np.int64)
    land_pos[land] = np.arange(n)
    if "point" in cfg.terms:
        cells, yv, rv = [], [], []
        for k, valid in enumerate(valid_masks):
            cells.append(k * n + land_pos[valid])
            yv.append(observation.values[k][valid])
            rv.append(observation.error_variance[k][valid]
                      if observation.error_variance is not None
                      else np.full(int(valid.sum()), cfg.observation_error_variance))
        cells = np.concatenate(cells)
        terms.append(PointObservationTerm(PointSelection(xb.size, cells), np.concatenate(yv),
                                          np.concatenate(rv)))
    curvelet, embeddings, image = None, [], None
    local = settings.local_image_error_on
    if "image" in cfg.terms or (local and "point" in cfg.terms):
        # JI; or, for point 3D-Var with the local error estimate, the observed image's
        # transform that the estimate reads (the term itself stays out of J)
        image, curvelet, embeddings = _image_term(grid, observation, valid_masks, land_pos,
                                                  settings, image_error_variance)
        if "image" in cfg.terms:
            terms.append(image)
    if not terms:
        raise ConfigError("analysis.terms: no active cost term")
    problem = AnalysisProblem(grid=grid, depth=np.asarray(background.depth[:nl]), layers=nl,
                              background=xb, lower=lower, upper=upper,
                              cost=CostFunction(terms), observation=obs_used, qc=qc,
                              curvelet=curvelet, embeddings=embeddings, error_image=image)
    final = problem.cost.terms
    if local:
        final = _local_error(problem, observation, settings, local_error_excess)
    if settings.hybrid_split_on:
        final = _halved(final)
    if final is not problem.cost.terms:
        problem.cost = CostFunction(final)
    problem.transform = control_transform(final)  # once, for the final terms
    return problem


def _halved(terms: list) -> list:
    """The hybrid's observation terms each with half the observations' information: JO's
    variances and JI's image-error variances doubled (``analysis.hybrid_split``)."""
    out = []
    for t in terms:
        if isinstance(t, PointObservationTerm):
            t = PointObservationTerm(t.operator, t.observations, 2.0 * t.variance, t.name)
        elif isinstance(t, ImageTerm):
            t = ImageTerm(t.layers, 2.0 * np.asarray(t.variance, dtype=np.float64), t.name,
                          cell_variance=None if t.cell_variance is None
                          else 2.0 * t.cell_variance)
        out.append(t)
    return out


def _local_error(problem: AnalysisProblem, observation: SoilMoistureField, settings: Settings,
                 previous: np.ndarray | None) -> list:
    """Estimate the observation error beyond the stated one (``problem.local_error``); the
    cost terms loosened by it (:mod:`landia.analysis.local_error`)."""
    cfg = settings.analysis
    if problem.error_image is None:
        raise ConfigError("analysis.local_image_error = true needs an observation term: "
                          "'image' or 'point' in analysis.terms")
    if cfg.image_gap_weight > 0:
        raise ConfigError("analysis.local_image_error = true needs analysis.image_gap_weight = "
                          "0 (the whole-image term has no per-cell residual to standardise)")
    n = problem.grid.n_land
    if previous is not None and np.shape(previous) != (n,):
        raise InputError(f"carried observation-error excess of {np.size(previous)} values: "
                         f"expected {n}, one per land cell")
    problem.local_error = local_error(problem, stated_variance(problem, observation, cfg),
                                      previous, cfg)
    excess = np.clip(problem.local_error.used, 0.0, cfg.image_error_cap)
    if not np.any(excess > 0):
        return problem.cost.terms
    return loosened_terms(problem.cost.terms, problem, excess)


def layer_scores(fields: np.ndarray, observation: np.ndarray) -> dict:
    """SCC and RMSE of each layer of ``fields`` against the observation image."""
    return {f"layer{k + 1}": {"scc": spatial_correlation(fields[k], observation[k]),
                              "rmse": rmse(fields[k], observation[k])}
            for k in range(fields.shape[0])}


def _mean_variance(field: SoilMoistureField, used: np.ndarray, default: float) -> float:
    """Mean error variance of ``field`` over the ``used`` cells (the default without one)."""
    if field.error_variance is None:
        return float(default)
    return float(np.mean(field.error_variance[: used.shape[0]][used]))


def _image_diagnostics(problem: AnalysisProblem, xa: np.ndarray, background: SoilMoistureField,
                       observation: SoilMoistureField, settings: Settings):
    """(ImageStatistics, ImageErrorVariance) of an analysis with JI, else (None, None)."""
    term = next((t for t in problem.cost.terms if t.name == "image"), None)
    if term is None:
        return None, None
    cfg = settings.analysis
    stats = image_statistics(problem, problem.background, xa,
                             white_noise=cfg.image_error_method_used != "fixed",
                             background_noise=cfg.image_error_method_used == "innovation")
    used = np.isfinite(problem.observation)
    split = 2.0 if settings.hybrid_split_on else 1.0  # as stated, not halved
    return stats, estimate_image_error(
        stats, term.scale_variance / split, cfg,
        observation_variance=_mean_variance(observation, used, cfg.observation_error_variance),
        background_variance=_mean_variance(background, used, cfg.background_error_variance))


def _minimise(problem: AnalysisProblem, x0: np.ndarray, settings: Settings,
              image_exchange=None) -> MinimiserResult:
    """The minimisation: over x within the bounds (diagonal B), or over the control vector v
    without bounds and x(v) clipped to them (correlated B, :mod:`landia.analysis.control`);
    JI split by wedges across ``image_exchange`` when given (:mod:`.wedge_split`)."""
    with image_split(problem, image_exchange):
        if problem.transform is None:
            return minimise(problem.cost, x0, problem.lower, problem.upper, settings.minimiser)
        return minimise_in_control_space(problem.cost, problem.transform, problem.lower,
                                         problem.upper, settings.minimiser)


def _minimiser_state(problem: AnalysisProblem, result: MinimiserResult) -> np.ndarray:
    """The x whose cost terms are reported after the minimisation: the minimiser itself, x(w)
    before clipping for a correlated B. Under a correlated B a clipped value is an improbable
    state (near the poles of a global grid neighbouring cells are correlated to 1 - 1e-5), so
    JB at the clipped x can exceed JB at the background by orders of magnitude (measured at
    1 deg, before the metric's polar floor: 2.5e12 for 3 clipped values of 64638, against 4589
    before clipping); the clipped values are reported apart (``result.clipped``, log
    ``analysis_clipped``)."""
    if problem.transform is None or result.control is None:
        return result.x
    return problem.transform.to_state(result.control)


def run_analysis(background: SoilMoistureField, observation: SoilMoistureField,
                 settings: Settings, image_error_variance: np.ndarray | None = None,
                 local_error_excess: np.ndarray | None = None, image_exchange=None,
                 normalisation_cache=None) -> AnalysisResult:
    """Build and minimise J = JB + JO + JI; return the analysis and diagnostics.

    ``image_error_variance``: one s2 per curvelet scale for JI (a cycle's carried values);
    None takes ``analysis.image_error_variance`` for every scale. ``local_error_excess``: the
    observation error beyond the stated one per land cell that the previous analysis used
    (``analysis.local_image_error``; a cycle's carried values). ``image_exchange``: the parts
    evaluating JI's wedges in the minimisation (:mod:`landia.analysis.wedge_split`).
    ``normalisation_cache``: the folder of :func:`build_problem`'s."""
    log = get_logger("landia.analysis")
    t0 = time.perf_counter()
    problem = build_problem(background, observation, settings, image_error_variance,
                            local_error_excess, normalisation_cache)
    t1 = time.perf_counter()
    x0 = np.clip(problem.background, problem.lower, problem.upper)
    terms_before = problem.cost.term_values(x0)
    log.info("analysis_start", land_cells=problem.grid.n_land, layers=problem.layers,
             unknowns=int(x0.size), terms=list(terms_before), J=sum(terms_before.values()),
             solver=("tao:" + settings.minimiser.tao_type) if settings.minimiser.backend == "tao"
             else "scipy:L-BFGS-B")
    result = _minimise(problem, x0, settings, image_exchange)
    t2 = time.perf_counter()
    terms_after = problem.cost.term_values(_minimiser_state(problem, result))
    bg = problem.to_fields(problem.background)
    an = problem.to_fields(result.x)
    scores = {"background": layer_scores(bg, problem.observation),
              "analysis": layer_scores(an, problem.observation)}
    timings = {"build_seconds": t1 - t0, "minimise_seconds": t2 - t1,
               "cost_seconds": problem.cost.seconds, "evaluations": problem.cost.evaluations}
    if problem.transform is not None:
        tr = problem.transform
        timings.update(correlation_build_seconds=tr.correlation.build_seconds,
                       correlation_mb=tr.correlation.factor_mb,
                       preconditioner_build_seconds=tr.build_seconds,
                       preconditioner_mb=tr.factor_mb,
                       transform_seconds=tr.seconds + tr.correlation.seconds)
    t3 = time.perf_counter()
    stats, image_error = _image_diagnostics(problem, result.x, background, observation,
                                            settings)
    if problem.curvelet is not None:
        timings["diagnostics_seconds"] = time.perf_counter() - t3
        timings["curvelet_seconds"] = problem.curvelet.seconds
        timings["embedding_seconds"] = sum(e.seconds for e in problem.embeddings)
    log.info("analysis_done", iterations=result.iterations, reason=result.reason,
             J_before=sum(terms_before.values()), J_after=sum(terms_after.values()),
             scc_before=scores["background"]["layer1"]["scc"],
             scc_after=scores["analysis"]["layer1"]["scc"], clipped=result.clipped,
             seconds=round(t2 - t0, 3))
    return AnalysisResult(problem=problem, minimiser=result, background_field=bg,
                          analysis_field=an, terms_before=terms_before, terms_after=terms_after,
                          scores=scores, timings=timings, image_statistics=stats,
                          image_error=image_error, local_error=problem.local_error)
