r"""Observation rescaling to the model's climatology (arithmetic, no I/O).

A soil-moisture product and a land model disagree systematically: different layer depths,
retrieval algorithms, soil parameters. Operational land data assimilation therefore removes
the difference of climatologies before assimilating (Reichle and Koster 2004, GRL 31, L19501;
NASA LIS per cell and month; SMAP Level 4), or assimilates anomalies about each climatology
(the CoLM202X LETKF). This module holds the arithmetic: the statistics of paired training
samples (:func:`climatology_statistics`) and the three mappings of an observation :math:`y`
of one cell and layer to :math:`y'` in the model's climatology (:func:`rescale`), with the
observation-error variance :math:`r` carried along, :math:`r' = f^2 r` with f the map's
factor (below):

``cdf`` (CDF matching, piecewise-linear quantile mapping)
    :math:`y' = F_m^{-1}(F_o(y))`, with :math:`F_o, F_m` the empirical distributions of the
    observations and of the model over the training period, represented by their quantiles
    :math:`q_{o,k}, q_{m,k}` at the probability levels :math:`p_k`. Between consecutive knots
    the map is linear: for :math:`q_{o,j} \le y < q_{o,j+1}`,

    .. math:: y' = \bar q_{m,j} + \frac{\bar q_{m,j+1} - \bar q_{m,j}}
                                       {q_{o,j+1} - q_{o,j}}\,(y - q_{o,j}).

    *Ties*: where several observation quantiles are equal (a point mass, e.g. a product's
    values clipped at a bound), :math:`\bar q_m` is the mean of the model quantiles of the
    tied levels, so the map stays a function and continuous; elsewhere :math:`\bar q_m = q_m`.
    *Beyond the training range* the map is the end knot's shift, slope 1:
    :math:`y' = y - q_{o,0} + \bar q_{m,0}` below the lowest quantile and
    :math:`y' = y - q_{o,N-1} + \bar q_{m,N-1}` above the highest (no extrapolation of an
    end slope, which can be extreme). The map is continuous and non-decreasing, so ranks are
    kept; with the nearest-rank quantiles of :func:`climatology_statistics` the rescaled
    training observations have exactly the model's quantiles at every level outside ties.
    Error variance (``cdf_error_scaling``): times :math:`(\sigma_m / \sigma_o)^2`, the
    ratio of the two climatologies' standard deviations (``std_ratio``, the default: the
    usual practice of NASA GMAO's land assimilation, SMAP L4's, which scales the matched
    observations' error as their anomalies are scaled), or times the square of the local
    slope (``local_slope``: the slope of the segment holding :math:`y`, its right-hand one at a
    knot; 1 beyond the range). The local slope is the map's derivative, but the empirical
    quantiles make it vary about 100-fold within a cell (0.02 in the dry tail to 2.1 in the
    middle on the demo), stating some values 100 times more precise than others; on real
    SMAP over CONUS, point DA with ``std_ratio`` scored anomaly R 0.786 at the withheld cells,
    against 0.776 with ``local_slope`` (docs/observation-bias.md). Where
    :math:`\sigma_m / \sigma_o` is not a finite positive number, the local slope stands in.
``mean_std`` (mean and standard-deviation scaling)
    :math:`y' = \mu_m + (\sigma_m / \sigma_o)(y - \mu_o)`; error variance times
    :math:`(\sigma_m / \sigma_o)^2`.
``anomaly`` (anomaly assimilation)
    :math:`y' = y - \mu_o + \mu_m`: the innovation :math:`(y - \mu_o) - (Hx - \mu_m)` of the
    anomalies is that of :math:`y'` against :math:`Hx`; the error variance is unchanged.

Refusals, counted by reason and never passed through unrescaled (the value becomes NaN):

* ``no_climatology`` -- the cell and layer has fewer than ``min_samples`` paired training
  samples (or no statistics at all: off the climatology's land, or a layer it lacks), or,
  for ``mean_std``, a constant observation series (:math:`\sigma_o = 0`);
* ``flat_mapping`` -- the local slope is 0 (the model's climatology is flat there, e.g.
  saturated for several quantile levels): the rescaled value cannot tell observations
  apart and its error variance would be 0.

Rescaled values are not clipped; the analysis' QC rejects those outside the physical bounds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from landia.errors import InputError
from landia.io.climatology_file import Climatology

#: The rescaling methods (``observations.rescaling``, besides ``none``).
METHODS = ("cdf", "mean_std", "anomaly")
#: The factors on a CDF-matched value's error (``observations.cdf_error_scaling``).
CDF_ERROR_SCALINGS = ("std_ratio", "local_slope")
#: Refusal reasons counted by :func:`rescale`.
REASONS = ("no_climatology", "flat_mapping")


def quantile_levels(n: int) -> np.ndarray:
    """``n`` probability levels ``k / (n - 1)``, k = 0..n-1 (minimum, ..., maximum)."""
    if n < 2:
        raise InputError(f"quantiles: expected at least 2 (minimum and maximum), got {n}")
    return np.linspace(0.0, 1.0, n)


def nearest_rank_quantiles(samples: np.ndarray, levels: np.ndarray) -> tuple[np.ndarray,
                                                                            np.ndarray]:
    """Quantiles of each series along axis 0, NaN ignored, by nearest rank.

    Parameters
    ----------
    samples : ndarray (ntime, ...)
        NaN where there is no sample.
    levels : ndarray (nq,)
        Probability levels in [0, 1].

    Returns
    -------
    quantiles : ndarray (nq, ...)
        The sorted finite samples' value at index ``floor(p (n - 1) + 0.5)``, n their
        number; NaN where n is 0. Always a sample value, so a non-decreasing map g gives
        ``quantile(g(samples)) = g(quantile(samples))`` exactly.
    n : ndarray of int (...)
        Number of finite samples.
    """
    s = np.sort(np.asarray(samples, dtype=float), axis=0)  # NaN sort last
    n = np.isfinite(s).sum(axis=0)
    lv = np.asarray(levels, dtype=float).reshape((-1,) + (1,) * (s.ndim - 1))
    index = np.floor(lv * np.maximum(n - 1, 0) + 0.5).astype(np.int64)
    q = np.take_along_axis(s, index, axis=0) if s.shape[0] else np.full(index.shape, np.nan)
    q[:, n == 0] = np.nan
    return q, n


#: How the samples are pooled (:func:`climatology_statistics`).
POOLS = ("cell", "domain")


def climatology_statistics(model: np.ndarray, observations: np.ndarray, n_quantiles: int, *,
                           lat, lon, depth, start, end, pool: str = "cell") -> Climatology:
    """Per-cell, per-layer climatologies of paired model and observation series.

    Parameters
    ----------
    model, observations : ndarray (ntime, nlayer, ny, nx)
        Model soil moisture and observations at the same valid times, m3 m-3, NaN where
        absent. Only the pairs where both are finite count, so the two climatologies are
        sampled at the same times (a product seen mostly on dry days is compared with the
        model on those days).
    n_quantiles : int
        Number of quantile levels (:func:`quantile_levels`), at least 2.
    lat, lon, depth, start, end :
        The grid, layer depths (m) and training period, stored with the statistics.
    pool : {"cell", "domain"}
        ``cell``: each cell's own series (LIS's practice; it also maps away every difference
        between the model's and the product's mean spatial pattern). ``domain``: one
        climatology per layer from the pairs of every cell, given to every cell the model
        covers: it corrects a product's distortion of the values (e.g. ``y = a + b x``) and
        keeps the product's spatial structure; right when the bias is the product's, not
        the place's, and when a cell's own record is short.

    Returns
    -------
    Climatology
        Nearest-rank quantiles, means, sample standard deviations (ddof 1; NaN with fewer
        than 2 samples) and the paired-sample count of each cell and layer.
    """
    m = np.asarray(model, dtype=float)
    o = np.asarray(observations, dtype=float)
    if m.ndim != 4 or m.shape != o.shape:
        raise InputError(f"climatology: model {m.shape} and observations {o.shape} must both "
                         "be (time, layer, lat, lon) of the same shape")
    if pool not in POOLS:
        raise InputError(f"climatology: pool {pool!r}; expected one of {', '.join(POOLS)}")
    if pool == "domain":
        covered = np.isfinite(m).any(axis=0)                      # (layer, ny, nx)
        nt, nl, ny, nx = m.shape
        pooled = [a.transpose(1, 0, 2, 3).reshape(nl, nt * ny * nx).T[:, :, None, None]
                  for a in (m, o)]
        clim = climatology_statistics(*pooled, n_quantiles, lat=np.ravel(lat)[:1],
                                      lon=np.ravel(lon)[:1], depth=depth, start=start, end=end)
        spread = {}
        for name in ("model_quantiles", "observation_quantiles"):
            q = getattr(clim, name)[..., 0, 0]                   # (quantile, layer)
            spread[name] = np.where(covered[None], q[:, :, None, None], np.nan)
        for name in ("model_mean", "model_std", "observation_mean", "observation_std"):
            v = getattr(clim, name)[:, 0, 0]
            spread[name] = np.where(covered, v[:, None, None], np.nan)
        spread["count"] = np.where(covered, clim.count[:, 0, 0][:, None, None], 0)
        return Climatology(lat=np.asarray(lat, float), lon=np.asarray(lon, float),
                           depth=np.asarray(depth, float), levels=clim.levels,
                           start=clim.start, end=clim.end, **spread)
    levels = quantile_levels(n_quantiles)
    paired = np.isfinite(m) & np.isfinite(o)
    m = np.where(paired, m, np.nan)
    o = np.where(paired, o, np.nan)
    mq, n = nearest_rank_quantiles(m, levels)
    oq, _ = nearest_rank_quantiles(o, levels)
    stats = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for name, series in (("model", m), ("observation", o)):
            mean = np.where(paired, series, 0.0).sum(axis=0) / n
            dev = np.where(paired, series - mean, 0.0)
            std = np.sqrt((dev * dev).sum(axis=0) / (n - 1))
            stats[f"{name}_mean"] = np.where(n >= 1, mean, np.nan)
            # exactly 0 for a constant series (the mean's round-off would leave ~1e-17)
            q = mq if name == "model" else oq
            stats[f"{name}_std"] = np.where(n >= 2, np.where(q[0] == q[-1], 0.0, std), np.nan)
    return Climatology(lat=np.asarray(lat, float), lon=np.asarray(lon, float),
                       depth=np.asarray(depth, float), levels=levels, model_quantiles=mq,
                       observation_quantiles=oq, count=n.astype(np.int64),
                       start=np.datetime64(start, "s"), end=np.datetime64(end, "s"), **stats)


def _tie_averaged(xq: np.ndarray, vq: np.ndarray) -> np.ndarray:
    """``vq`` averaged over each run of equal ``xq`` along axis 0 (``xq`` sorted)."""
    nq = xq.shape[0]
    k = np.arange(nq).reshape((-1,) + (1,) * (xq.ndim - 1))
    with np.errstate(invalid="ignore"):
        step = np.diff(xq, axis=0) > 0
    first = np.concatenate([np.ones_like(step[:1]), step], axis=0)  # a run starts here
    last = np.concatenate([step, np.ones_like(step[:1])], axis=0)   # a run ends here
    lo = np.maximum.accumulate(np.where(first, k, 0), axis=0)
    hi = np.flip(np.minimum.accumulate(np.flip(np.where(last, k, nq - 1), 0), axis=0), 0)
    cs = np.concatenate([np.zeros_like(vq[:1]), np.cumsum(vq, axis=0)], axis=0)
    total = np.take_along_axis(cs, hi + 1, axis=0) - np.take_along_axis(cs, lo, axis=0)
    first_v, last_v = np.take_along_axis(vq, lo, axis=0), np.take_along_axis(vq, hi, axis=0)
    # A run of equal values (a single knot included) keeps its value exactly, so that a flat
    # stretch of the model's quantiles gives a slope of exactly 0, not round-off.
    return np.where(first_v == last_v, first_v, total / (hi - lo + 1))


def cdf_map(y: np.ndarray, obs_quantiles: np.ndarray,
            model_quantiles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The CDF-matching map of the module notes and its local slope.

    Parameters
    ----------
    y : ndarray (...)
        Observations, m3 m-3.
    obs_quantiles, model_quantiles : ndarray (nq, ...)
        Quantiles of each cell, non-decreasing along axis 0.

    Returns
    -------
    y_rescaled, slope : ndarray (...)
        :math:`F_m^{-1}(F_o(y))` and :math:`dy'/dy` (NaN where ``y`` or the quantiles are).
    """
    y = np.asarray(y, dtype=float)
    xq = np.asarray(obs_quantiles, dtype=float)
    vq = _tie_averaged(xq, np.asarray(model_quantiles, dtype=float))
    nq = xq.shape[0]
    with np.errstate(invalid="ignore"):
        above = (xq <= y[None]).sum(axis=0)               # knots at or below y
    lo = np.clip(above - 1, 0, nq - 1)[None]
    hi = np.clip(above, 0, nq - 1)[None]
    x0, x1 = np.take_along_axis(xq, lo, 0)[0], np.take_along_axis(xq, hi, 0)[0]
    v0, v1 = np.take_along_axis(vq, lo, 0)[0], np.take_along_axis(vq, hi, 0)[0]
    inside = (above > 0) & (above < nq)                   # then x0 <= y < x1
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where(inside, (v1 - v0) / np.where(inside, x1 - x0, 1.0), 1.0)
        below = above == 0
        out = np.where(below, y - xq[0] + vq[0],
                       np.where(inside, v0 + slope * (y - x0), y - xq[-1] + vq[-1]))
    bad = ~(np.isfinite(y) & np.isfinite(xq).all(axis=0))
    out[bad] = np.nan
    slope[bad] = np.nan
    return out, slope


@dataclass
class RescalingResult:
    """Observations in the model's climatology.

    Attributes
    ----------
    values : ndarray (nlayer, ny, nx)
        Rescaled observations, m3 m-3; NaN where missing or refused.
    error_variance : ndarray (nlayer, ny, nx)
        Their error variances, (m3 m-3)^2, scaled by the local slope squared.
    counts : dict[str, int]
        ``rescaled`` (values kept) and the refusals by :data:`REASONS`.
    mean_shift : list of float
        Per layer, the mean of :math:`y' - y` over the rescaled values, m3 m-3 (NaN when
        none).
    """

    values: np.ndarray
    error_variance: np.ndarray
    counts: dict = field(default_factory=dict)
    mean_shift: list = field(default_factory=list)


def rescale(values, error_variance, climatology: Climatology, method: str,
            min_samples: int, cdf_error_scaling: str = "std_ratio") -> RescalingResult:
    """Rescale an observation image to the model's climatology (module notes).

    Parameters
    ----------
    values : array_like (nlayer, ny, nx)
        Observations on the climatology's grid, m3 m-3 (NaN = none). Layer k is model layer
        k + 1; layers beyond the climatology's are refused (``no_climatology``).
    error_variance : float or array_like broadcastable to ``values``
        Observation-error variance, (m3 m-3)^2.
    climatology : Climatology
    method : {"cdf", "mean_std", "anomaly"}
    min_samples : int
        Fewest paired training samples for a cell and layer to be rescaled.
    cdf_error_scaling : {"std_ratio", "local_slope"}
        ``cdf``: the factor on the error standard deviation (module notes). It changes no
        value and no refusal.

    Returns
    -------
    RescalingResult
    """
    if method not in METHODS:
        raise InputError(f"observations.rescaling: expected one of {', '.join(METHODS)}, "
                         f"got {method!r}")
    if cdf_error_scaling not in CDF_ERROR_SCALINGS:
        raise InputError(f"observations.cdf_error_scaling: expected one of "
                         f"{', '.join(CDF_ERROR_SCALINGS)}, got {cdf_error_scaling!r}")
    y = np.array(values, dtype=float)
    if y.ndim != 3 or y.shape[1:] != climatology.shape:
        raise InputError(f"rescaling: observation image {y.shape} does not match the "
                         f"climatology's grid (layer, {climatology.shape[0]}, "
                         f"{climatology.shape[1]}) of {climatology.source}")
    r = np.array(np.broadcast_to(np.asarray(error_variance, dtype=float), y.shape))
    nl = min(y.shape[0], climatology.n_layers)
    observed = np.isfinite(y)
    usable = np.zeros(y.shape, dtype=bool)
    usable[:nl] = climatology.count[:nl] >= min_samples
    out = np.full(y.shape, np.nan)
    factor = np.full(y.shape, np.nan)
    c = climatology
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "cdf":
            out[:nl], slope = cdf_map(y[:nl], c.observation_quantiles[:, :nl],
                                      c.model_quantiles[:, :nl])
            factor[:nl] = slope  # NaN (refused) and 0 (flat) stay: the refusals are the map's
            if cdf_error_scaling == "std_ratio":
                ratio = np.broadcast_to(c.model_std[:nl] / c.observation_std[:nl], slope.shape)
                use = (slope > 0) & np.isfinite(ratio) & (ratio > 0)
                factor[:nl][use] = ratio[use]
        elif method == "mean_std":
            ratio = c.model_std[:nl] / c.observation_std[:nl]
            usable[:nl] &= c.observation_std[:nl] > 0
            out[:nl] = c.model_mean[:nl] + ratio * (y[:nl] - c.observation_mean[:nl])
            factor[:nl] = ratio
        else:
            out[:nl] = y[:nl] - c.observation_mean[:nl] + c.model_mean[:nl]
            factor[:nl] = 1.0
    usable &= np.isfinite(out) & np.isfinite(factor)
    no_clim = observed & ~usable
    flat = observed & usable & (factor == 0.0)
    keep = observed & usable & ~flat
    counts = {"rescaled": int(keep.sum()), "no_climatology": int(no_clim.sum()),
              "flat_mapping": int(flat.sum())}
    values_out = np.where(keep, out, np.nan)
    variance_out = np.where(keep, r * factor**2, np.nan)
    shift = [float(np.mean((values_out[k] - y[k])[keep[k]])) if keep[k].any() else float("nan")
             for k in range(y.shape[0])]
    return RescalingResult(values=values_out, error_variance=variance_out, counts=counts,
                           mean_shift=shift)
