"""Where the observed image's error exceeds the stated one, per land cell, from the image's
own fine-scale curvelet innovations (``analysis.local_image_error = true``).

A product's error model can miss a region (dense vegetation, irrigation, radio-frequency
interference): there the actual error is several times the stated one, and an analysis that
trusts the stated error draws the noise into the state. A point 3D-Var has no way to see it
from one image; the image analysis has: the noise lives at the fine curvelet scales, where
the background error puts little, so the local energy of the fine-scale innovations tells
how large the error is, cell by cell.

Model
-----
The observation error is the stated one plus an unstated white excess of variance
:math:`e(i) \\ge 0` that varies from cell to cell.

Estimator
---------
From the image of the shallowest observed layer l (the product's own image: observed cells,
their fill :math:`E_l`, :math:`T_l = C E_l`), with Q keeping the coefficients of the fine
scales F, the band-passed innovation and its expected energies per
observed cell i are

.. math:: h_l = T_l^T Q T_l (y_l - S_l x_b), \\quad
          \\mu_l(i) = \\mathrm{E}\\,(T_l^T Q T_l z)_i^2, \\quad
          \\beta_l(i) = \\mathrm{E}\\,(T_l^T Q T_l S_l B^{1/2} z)_i^2,

(z white of unit variance on the observed cells, or in the control space for B;
:data:`~landia.analysis.image_diagnostics.WHITE_NOISE_PROBES` Rademacher probes of fixed seed
each). Summed over the wedges of a scale, :math:`T^T Q T` is a compact, isotropic band-pass
filter. If the observation error is white with variance r near i,
:math:`\\mathrm{E}\\, h_l(i)^2 = \\beta_l(i) + r\\, \\mu_l(i)`. With g a Gaussian of
``analysis.image_error_window`` cells and :math:`r^o` the stated variances:

.. math:: \\hat e(i) = \\frac{g * (h_l^2 - \\beta_l - r^o_l \\mu_l)}{g * \\mu_l},

the local innovation variance of the fine scales minus what B and the stated error put there.
It is unbiased when B is right (no analysis enters it), and nearly independent of B because F
is chosen where B puts little: the finest scale and every coarser one (down to scale 1) whose
stated background energy is at most :data:`FINE_SCALE_SHARE` of the stated observation
error's. A cell whose window holds less than :data:`MIN_COVERAGE` of observed land has no
estimate. Synthetic check (tests/unit/analysis/test_local_error.py): a region whose random error
is 3 times the stated one comes out at about 8 times the stated variance in excess inside,
about 0 outside.

Cycling and use
---------------
The estimate is made from the analysis' own innovations, before its minimisation, and updates
the excess carried from the previous analysis,

.. math:: e(i) = \\mathrm{clip}\\big(e_{\\mathrm{prev}}(i) + (1 - m)\\, a(i)\\,
          (\\hat e(i) - e_{\\mathrm{prev}}(i)),\\; -c,\\; c\\big),

with the memory m (``analysis.image_error_memory``), the coverage :math:`a(i) \\in [0, 1]`
(the share of the window's land cells observed: a smaller step under partial swaths, none
where nothing was seen) and the cap c (``analysis.image_error_cap``). The analysis uses
:math:`e^+ = \\mathrm{clip}(e, 0, c)`: it only ever loosens the terms, where the data say the
error exceeds the stated one. JI compares the residual standardised per cell,

.. math:: J_I = \\tfrac12 \\sum_l \\| P_l C E_l W_l^{1/2} (S_l x - y_l) \\|^2_{S^{-1}},
          \\qquad W_l = \\mathrm{diag}\\big(s^2_0 / (s^2_0 + e^+)\\big),

(:math:`s^2_0` the low-pass image-error variance; W = I where e+ = 0, the unweighted term bit
for bit), and JO's variances become :math:`r^o + e^+`. The cycle carries e in its checkpoint.
Point 3D-Var (JB + JO) can take the estimate too: the observed image's transform
(``AnalysisProblem.error_image``) is then built for it alone and JI stays out of J, so the
estimate is the same and only JO is loosened.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pylops import Diagonal
from scipy.ndimage import gaussian_filter

from landia.analysis.image_diagnostics import (PROBE_SEED, WHITE_NOISE_PROBES, _background_sqrt,
                                               _probes, _squares)
from landia.analysis.terms import ImageLayer, ImageTerm, PointObservationTerm

#: A fine scale's stated background energy is at most this share of the observation error's.
FINE_SCALE_SHARE = 0.5
#: A cell whose window holds less than this share of observed land cells has no estimate.
MIN_COVERAGE = 1e-3


@dataclass(frozen=True)
class LocalError:
    """The local error excess of one analysis, per land cell (global land order).

    Attributes
    ----------
    used : ndarray (n_land,)
        e, signed, (m3 m-3)^2: the analysis used clip(e, 0, cap); the cycle carries it.
    estimate : ndarray (n_land,)
        :math:`\\hat e` of this analysis' innovations (NaN where the window holds no
        observation), (m3 m-3)^2.
    coverage : ndarray (n_land,)
        a in [0, 1].
    fine_scales : tuple of int
        The scales F of the band-pass.
    """

    used: np.ndarray
    estimate: np.ndarray
    coverage: np.ndarray
    fine_scales: tuple

    def summary(self) -> dict:
        """Run-log fields: the largest excess and how many cells exceed the stated error."""
        return {"local_error_max": float(self.used.max()),
                "local_error_cells": int(np.sum(self.used > 0))}


def fine_scales(scale: np.ndarray, scales: int, background: np.ndarray | None,
                white: np.ndarray, stated: float) -> tuple[int, ...]:
    """F: the finest scale and each coarser one (down to 1) while its stated background
    energy is at most :data:`FINE_SCALE_SHARE` of a white error of the ``stated`` variance
    (module notes), from the squared moduli of the curvelet coefficients of B^1/2 probes
    (``background``, summed over the probes; None without a background term: every scale but
    the low-pass) and of unit white probes (``white``, summed likewise)."""
    if background is None:
        return tuple(range(1, scales))
    b = np.bincount(scale, background, minlength=scales)
    w = np.bincount(scale, white, minlength=scales)
    share = b / np.maximum(stated * w, 1e-300)
    chosen = [scales - 1]
    for j in range(scales - 2, 0, -1):
        if share[j] > FINE_SCALE_SHARE:
            break
        chosen.append(j)
    return tuple(sorted(chosen))


def _summed_squares(transform, inputs: list):
    """sum over ``inputs`` of |(T v)_k|^2 per coefficient, one transform at a time (None for no
    input); the order of the sum is fixed, so the bits are those of summing stored ones."""
    if not inputs:
        return None
    total = 0
    for v in inputs:
        total = total + _squares(transform.matvec(v))
    return total


def _smooth(field: np.ndarray, window: float, periodic: bool) -> np.ndarray:
    """g * field on the grid (zero outside a regional grid; periodic in x on a global one)."""
    if window <= 0:
        return field
    return gaussian_filter(field, window, mode=("constant", "wrap" if periodic else "constant"),
                           truncate=4.0)


def local_estimate(problem, stated: np.ndarray, window: float
                   ) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """(:math:`\\hat e`, a, F) of an analysis problem at its background (module notes), per
    land cell, from the image of the shallowest observed layer (the product's own image; the
    excess is the same in every layer); ``stated`` is the stated observation-error variance
    per x entry (NaN where unobserved). The same probes serve F and the energies mu and
    beta: 6 x :data:`~landia.analysis.image_diagnostics.WHITE_NOISE_PROBES` + 2 transforms,
    with one probe's coefficients in memory at a time (the probes' forward transforms are
    made twice instead of kept: 32 vectors of the transform's size were 860 MB at 0.25 deg)."""
    layer = problem.error_image.layers[0]
    grid, curvelet = problem.grid, problem.curvelet
    n, cells, t = grid.n_land, layer.innovation_cells, layer.innovation_transform
    sqrt_b, _ = _background_sqrt(problem)
    # The probes on the compared cells (small); their coefficients (the size of the transform,
    # each 30 MB at 0.25 deg) are made one at a time, twice: once for F, once for the band.
    white = list(_probes(cells.size, WHITE_NOISE_PROBES, PROBE_SEED))
    background = [] if sqrt_b is None else [
        sqrt_b(z)[cells]
        for z in _probes(problem.background.size, WHITE_NOISE_PROBES, PROBE_SEED + 1)]
    scales = fine_scales(curvelet.coefficient_scale, curvelet.scales,
                         _summed_squares(t, background), _summed_squares(t, white),
                         float(np.mean(stated[cells])))
    keep = np.repeat(np.isin(curvelet.coefficient_scale, scales), 2).astype(np.float64)

    def band_energy(inputs):
        return sum(t.rmatvec(keep * t.matvec(v)) ** 2 for v in inputs) / WHITE_NOISE_PROBES

    mu = band_energy(white)
    beta = band_energy(background) if background else 0.0
    h = t.rmatvec(keep * (layer.innovation_observed - t.matvec(problem.background[cells])))
    pos = cells % n
    num, den, observed = np.zeros(n), np.zeros(n), np.zeros(n)
    num[pos] = h * h - beta - stated[cells] * mu
    den[pos] = mu
    observed[pos] = 1.0

    def smooth(v):
        return _smooth(grid.to_field(v, 0.0), window, grid.is_global)[grid.land]

    num, den = smooth(num), smooth(den)
    coverage = np.clip(smooth(observed) / smooth(np.ones(n)), 0.0, 1.0)
    ok = (coverage >= MIN_COVERAGE) & (den > 0)
    estimate = np.where(ok, num / np.where(ok, den, 1.0), np.nan)
    return estimate, np.where(ok, coverage, 0.0), scales


def cycled_excess(previous: np.ndarray, estimate: np.ndarray, coverage: np.ndarray,
                  memory: float, cap: float) -> np.ndarray:
    """The cycled excess e (module notes, "Cycling and use"); a NaN estimate keeps the previous
    value."""
    previous = np.asarray(previous, dtype=np.float64)
    target = np.where(np.isnan(estimate), previous, estimate)
    step = (1.0 - memory) * np.where(np.isnan(estimate), 0.0, coverage)
    return np.clip(previous + step * (target - previous), -cap, cap)


def local_error(problem, stated: np.ndarray, previous: np.ndarray | None, analysis_settings
                ) -> LocalError | None:
    """The excess of an analysis problem (module notes), from its innovations and the
    ``previous`` analysis' excess (without one, the first analysis takes its own estimate
    whole); None without the observed image (``problem.error_image``: JI, or point 3D-Var's
    image built for the estimate alone)."""
    term = problem.error_image
    if term is None or problem.curvelet is None or not term.layers:
        return None
    cfg = analysis_settings
    n = problem.grid.n_land
    estimate, coverage, scales = local_estimate(problem, stated, cfg.image_error_window)
    if previous is None:  # the first analysis takes its own estimate whole
        used = cycled_excess(np.zeros(n), estimate, coverage, 0.0, cfg.image_error_cap)
    else:
        used = cycled_excess(np.asarray(previous, dtype=np.float64), estimate, coverage,
                             cfg.image_error_memory, cfg.image_error_cap)
    return LocalError(used=used, estimate=estimate, coverage=coverage, fine_scales=scales)


def loosened_terms(terms: list, problem, excess: np.ndarray) -> list:
    """The cost terms with the per-cell ``excess`` (>= 0, per land cell, (m3 m-3)^2) of the
    observation error (module notes): JO's variances r + e, JI's residual standardised by
    W^1/2 = (s2_0 / (s2_0 + e))^1/2 per compared cell; other terms as they are."""
    n = problem.grid.n_land
    land_obs = problem.observation[:, problem.grid.land]          # (layers, n_land)
    out = []
    for term in terms:
        if isinstance(term, PointObservationTerm):
            index = term.operator.index
            out.append(PointObservationTerm(term.operator, term.observations,
                                            term.variance + excess[index % n]))
        elif isinstance(term, ImageTerm):
            s0 = float(term.scale_variance[0])
            cell_variance = np.full(problem.background.size, s0)
            layers = []
            for layer in term.layers:
                e = excess[layer.cells % n]
                cell_variance[layer.cells] = s0 + e
                w = np.sqrt(s0 / (s0 + e))
                y = land_obs[layer.cells[0] // n][layer.cells % n]
                layers.append(ImageLayer(
                    cells=layer.cells, selection=layer.selection,
                    transform=layer.transform @ Diagonal(w), observed=layer.transform.matvec(w * y),
                    scale=layer.scale, innovation_cells=layer.innovation_cells,
                    innovation_transform=layer.innovation_transform,
                    innovation_observed=layer.innovation_observed,
                    fill=None if layer.fill is None else layer.fill @ Diagonal(w)))
            out.append(ImageTerm(layers, term.variance, term.name, cell_variance=cell_variance))
        else:
            out.append(term)
    return out


def stated_variance(problem, observation, cfg) -> np.ndarray:
    """The stated observation-error variance per x entry of an AnalysisProblem, NaN where no
    observation is used (``observation``: its SoilMoistureField; ``cfg``: analysis settings)."""
    grid, n = problem.grid, problem.grid.n_land
    out = np.full(problem.background.size, np.nan)
    for k in range(problem.layers):
        valid = np.isfinite(problem.observation[k])
        out[k * n + np.flatnonzero(valid[grid.land])] = (
            observation.error_variance[k][valid] if observation.error_variance is not None
            else cfg.observation_error_variance)
    return out
