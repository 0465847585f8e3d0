"""The analysis layer by layer: J(x) = sum_k J_k(x_k) solved as independent problems.

When no cost term couples the analysed layers, the 3D-Var cost separates,

.. math:: J(x) = \\sum_k J_k(x_k), \\qquad
          J_k(x_k) = J_B^k(x_k) + J_O^k(x_k) + J_I^k(x_k),

and its bounded minimiser is the stack of the per-layer minimisers. That holds for

- JB with a diagonal B (one variance per cell and layer), and with the correlated B
  (``analysis.correlation_length_km`` > 0: B = D^1/2 C D^1/2 with the same horizontal C in every
  layer and no covariance between layers; the control-variable transform and its
  preconditioner F = A^{m/2} + Gamma^{1/2} are built per layer);
- JO (one diagonal R entry per observed cell of a layer) and JI (one
  :class:`~landia.analysis.terms.ImageLayer` per observed layer, its own fill, transform and
  kept coefficients; one image-error variance per curvelet scale, shared but not estimated
  inside J); the hybrid's halving (``analysis.hybrid_split``) and the whole-image term
  (``analysis.image_gap_weight``) act per layer as well.

It does not hold for ``analysis.local_image_error``: the carried per-cell excess is estimated
from the innovations of all layers at once (:func:`separable` says why not).

:func:`analyse_layer` solves one J_k (a one-layer :func:`~landia.analysis.run_analysis`),
returning a small, picklable :class:`LayerAnalysis`; :func:`combine_layers` stacks the layers
into one :class:`~landia.analysis.AnalysisResult` (per-layer diagnostics summed, the
image-error variances per scale estimated from the pooled statistics, as the joint analysis
does); :func:`run_layered_analysis` does both in one process. The cycle's distribution
(``landia.cycling.distributed``) runs :func:`analyse_layer` on different ranks: the same
functions on the same inputs, hence the same result bit for bit on any number of ranks.

The iterations differ from the joint minimisation (its line searches mix the layers), so the
two agree to the minimiser's tolerance, not bit for bit (docs/distributed-analysis.md).
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from landia.analysis.analyse import (AnalysisProblem, AnalysisResult, _mean_variance,
                                     layer_scores, run_analysis)
from landia.analysis.cost import CostFunction
from landia.analysis.image_diagnostics import ImageStatistics, estimate_image_error
from landia.analysis.minimisers import MinimiserResult
from landia.config import Settings
from landia.grid import LatLonGrid
from landia.io.fields import SoilMoistureField
from landia.log import get_logger


def separable(settings: Settings) -> str | None:
    """None when J separates into per-layer problems under ``settings``; else why not."""
    cfg = settings.analysis
    if cfg.layers < 2:
        return "one analysed layer"
    if settings.local_image_error_on:
        return ("analysis.local_image_error: the per-cell excess is estimated from the "
                "innovations of all layers at once")
    return None


@dataclasses.dataclass(frozen=True)
class LayerAnalysis:
    """One layer's analysis: what :func:`combine_layers` needs, small enough to send.

    Attributes
    ----------
    layer : int
        0 = top.
    analysis, background, lower, upper : ndarray (n_land,)
        x_a, x_b and the bounds of the layer on the land cells, m3 m-3.
    observation : ndarray (ny, nx)
        The observations used after QC, NaN elsewhere.
    terms_before, terms_after : dict
        J_k's terms at the clipped background and at the analysis.
    cost, gradient_norm : list of float
        J_k and its projected-gradient norm per iteration.
    reason, solver : str
    evaluations, clipped : int
    qc : dict
        QC counts of the layer.
    image_statistics : ImageStatistics or None
    image_error_used : ndarray (scales,) or None
        The s2_j of J_k's image term, as stated (before any hybrid halving).
    timings : dict
    """

    layer: int
    analysis: np.ndarray
    background: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    observation: np.ndarray
    terms_before: dict
    terms_after: dict
    cost: list
    gradient_norm: list
    reason: str
    solver: str
    evaluations: int
    clipped: int
    qc: dict
    image_statistics: ImageStatistics | None
    image_error_used: np.ndarray | None
    timings: dict


def layer_of(field: SoilMoistureField, k: int) -> SoilMoistureField:
    """The one-layer field of layer ``k`` of ``field``."""
    def cut(a):
        return None if a is None else a[k:k + 1]
    return dataclasses.replace(field, depth=np.asarray(field.depth)[k:k + 1],
                               values=field.values[k:k + 1],
                               error_variance=cut(field.error_variance),
                               porosity=cut(field.porosity))


def one_layer_settings(settings: Settings) -> Settings:
    """``settings`` with ``analysis.layers = 1``."""
    return dataclasses.replace(settings, analysis=dataclasses.replace(settings.analysis,
                                                                      layers=1))


def analyse_layer(background: SoilMoistureField, observation: SoilMoistureField,
                  settings: Settings, layer: int,
                  image_error_variance: np.ndarray | None = None,
                  normalisation_cache=None) -> LayerAnalysis:
    """Minimise J_k, the cost of layer ``layer`` alone (module notes); ``normalisation_cache``
    as in :func:`~landia.analysis.run_analysis`.

    Raises what :func:`~landia.analysis.run_analysis` raises for the one-layer problem (an
    InputError also for a layer without a usable observation, which the joint analysis
    accepts when another layer has one: the caller then runs the joint analysis).
    """
    result = run_analysis(layer_of(background, layer), layer_of(observation, layer),
                          one_layer_settings(settings),
                          image_error_variance=image_error_variance,
                          normalisation_cache=normalisation_cache)
    p, m = result.problem, result.minimiser
    return LayerAnalysis(
        layer=layer, analysis=m.x, background=p.background, lower=p.lower, upper=p.upper,
        observation=p.observation[0], terms_before=result.terms_before,
        terms_after=result.terms_after, cost=list(m.cost),
        gradient_norm=list(m.gradient_norm), reason=m.reason, solver=m.solver,
        evaluations=m.evaluations, clipped=m.clipped, qc=dict(p.qc),
        image_statistics=result.image_statistics,
        image_error_used=None if result.image_error is None else result.image_error.used,
        timings=result.timings)


def _padded(series: list, length: int) -> np.ndarray:
    """``series`` extended to ``length`` with its last value (a converged layer stays)."""
    a = np.asarray(series, dtype=np.float64)
    return np.concatenate([a, np.full(length - a.size, a[-1])]) if a.size else np.zeros(length)


def combined_minimiser(parts: list[LayerAnalysis]) -> MinimiserResult:
    """The layers' minimisations as one: J per iteration summed over the layers (a layer
    that stopped earlier counts with its last value), the projected-gradient norm the root
    of the summed squares, iterations the most any layer took, evaluations summed, reason
    the layers' reasons (one when they agree)."""
    length = max(len(p.cost) for p in parts)
    cost = sum(_padded(p.cost, length) for p in parts)
    gnorm = np.sqrt(sum(_padded(p.gradient_norm, length) ** 2 for p in parts))
    reasons = [p.reason for p in parts]
    reason = (reasons[0] if len(set(reasons)) == 1 else
              "; ".join(f"layer{p.layer + 1}: {p.reason}" for p in parts))
    return MinimiserResult(x=np.concatenate([p.analysis for p in parts]),
                           cost=[float(c) for c in cost],
                           gradient_norm=[float(g) for g in gnorm], reason=reason,
                           solver=parts[0].solver,
                           evaluations=int(sum(p.evaluations for p in parts)),
                           clipped=int(sum(p.clipped for p in parts)))


def _summed(dicts: list[dict]) -> dict:
    """Values summed over the layers; the process-wide correlation's figures (built once per
    process, reported by every layer) and factor sizes are the largest instead."""
    out: dict = {}
    for d in dicts:
        for k, v in d.items():
            shared = k.startswith("correlation_") or k.endswith("_mb")
            out[k] = max(out.get(k, v), v) if shared else out.get(k, 0) + v
    return out


def pooled_statistics(parts: list[LayerAnalysis]) -> ImageStatistics | None:
    """The layers' image statistics pooled (each band's counts and sums added)."""
    stats = [p.image_statistics for p in parts if p.image_statistics is not None]
    if not stats:
        return None
    first = stats[0]
    fields = {}
    for f in dataclasses.fields(ImageStatistics):
        if f.name == "wedges_per_scale":
            fields[f.name] = first.wedges_per_scale
            continue
        values = [getattr(s, f.name) for s in stats]
        fields[f.name] = None if values[0] is None else sum(values[1:], values[0])
    return ImageStatistics(**fields)


def combine_layers(parts: list[LayerAnalysis], background: SoilMoistureField,
                   observation: SoilMoistureField, settings: Settings) -> AnalysisResult:
    """One AnalysisResult of the layers' analyses ``parts`` (any order, every layer once).

    The terms' values, QC counts and timings are summed over the layers; the image-error
    variances per scale are estimated from the pooled image statistics with the same
    formulas as the joint analysis (``landia.analysis.image_diagnostics``).
    """
    t0 = time.perf_counter()
    cfg = settings.analysis
    parts = sorted(parts, key=lambda p: p.layer)
    nl = cfg.layers
    if [p.layer for p in parts] != list(range(nl)):
        raise ValueError(f"layers {[p.layer for p in parts]}: expected each of 0..{nl - 1} once")
    land = np.isfinite(background.values[0])
    grid = LatLonGrid(background.lat, background.lon, land)
    obs_used = np.stack([p.observation for p in parts])
    problem = AnalysisProblem(
        grid=grid, depth=np.asarray(background.depth[:nl]), layers=nl,
        background=np.concatenate([p.background for p in parts]),
        lower=np.concatenate([p.lower for p in parts]),
        upper=np.concatenate([p.upper for p in parts]),
        cost=CostFunction([]), observation=obs_used, qc=_summed([p.qc for p in parts]))
    minimiser = combined_minimiser(parts)
    bg, an = problem.to_fields(problem.background), problem.to_fields(minimiser.x)
    scores = {"background": layer_scores(bg, obs_used), "analysis": layer_scores(an, obs_used)}
    stats = pooled_statistics(parts)
    image_error = None
    if parts[0].image_error_used is not None:
        used = np.isfinite(obs_used)
        image_error = estimate_image_error(
            stats, parts[0].image_error_used, cfg,
            observation_variance=_mean_variance(observation, used,
                                                cfg.observation_error_variance),
            background_variance=_mean_variance(background, used,
                                               cfg.background_error_variance))
    timings = _summed([p.timings for p in parts])
    timings["combine_seconds"] = time.perf_counter() - t0
    result = AnalysisResult(problem=problem, minimiser=minimiser, background_field=bg,
                            analysis_field=an,
                            terms_before=_summed([p.terms_before for p in parts]),
                            terms_after=_summed([p.terms_after for p in parts]),
                            scores=scores, timings=timings, image_statistics=stats,
                            image_error=image_error)
    get_logger("landia.analysis").info(
        "analysis_layers_combined", layers=nl, iterations=[len(p.cost) - 1 for p in parts],
        J_before=sum(result.terms_before.values()), J_after=sum(result.terms_after.values()))
    return result


def run_layered_analysis(background: SoilMoistureField, observation: SoilMoistureField,
                         settings: Settings, image_error_variance: np.ndarray | None = None
                         ) -> AnalysisResult:
    """The analysis layer by layer in this process (the reference the distributed analysis
    equals bit for bit); raises a ValueError when J does not separate (:func:`separable`)."""
    why = separable(settings)
    if why is not None:
        raise ValueError(f"the analysis does not separate into layers: {why}")
    parts = [analyse_layer(background, observation, settings, k, image_error_variance)
             for k in range(settings.analysis.layers)]
    return combine_layers(parts, background, observation, settings)
