"""Background-error variances from model-minus-observation statistics (paper section 3.3.1).

The paper's B is diagonal, one variance per grid cell and layer, "estimated from
the statistics of model-minus-observation differences over a training period"
(hourly CoLM output of two prior years against ERA5-Land; science notes, section
2). This module implements that estimate:

.. math::

    d_t = x_{b,t} - y_t, \\qquad
    \\bar d = \\frac{1}{N}\\sum_t d_t, \\qquad
    s^2 = \\frac{1}{N - 1}\\sum_t (d_t - \\bar d)^2, \\qquad
    \\sigma_b^2 = \\max(s^2 - \\sigma_o^2,\\ \\sigma^2_{\\min})

per cell and layer over the N times at which both are finite. Removing the time
mean :math:`\\bar d` treats a constant model-minus-observation bias as something B
should not describe (it is a bias, not a random error). If background and
observation errors are uncorrelated, :math:`\\mathrm{var}(d) = \\sigma_b^2 +
\\sigma_o^2`, hence the subtraction of a known observation-error variance.

Pure arithmetic: the files are read by :mod:`landia.diagnostics.departures`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter

from landia.errors import InputError

#: Default floor of the estimated variance, (m3 m-3)^2: a standard deviation of
#: 0.005 m3 m-3. Below the accuracy of any soil-moisture product (0.01-0.04 m3 m-3),
#: so it still says "trust the background" where the differences are tiny, but it keeps
#: B positive definite where the observation-error subtraction leaves nothing (or a
#: negative number), and bounds the background term's Hessian 1/sigma_b^2 (and with
#: it the minimiser's conditioning) to at most 100 times that of a typical 0.05^2.
DEFAULT_MIN_VARIANCE = 0.005**2

#: Default minimum number of valid times for a cell's own estimate.
DEFAULT_MIN_TIMES = 10


@dataclass
class BackgroundErrorEstimate:
    """Result of :func:`estimate_background_error`.

    Attributes
    ----------
    mean_background : ndarray (nlayer, ny, nx)
        Time mean of the backgrounds over valid times, m3 m-3; NaN off land.
    variance : ndarray (nlayer, ny, nx)
        Background-error variance, (m3 m-3)^2; finite on every land cell, NaN off land.
    raw_variance : ndarray (nlayer, ny, nx)
        Sample variance of the differences before subtraction, floor and fallback (NaN
        where fewer than 2 valid times).
    mean_difference : ndarray (nlayer, ny, nx)
        Time mean of ``x_b - y`` (the bias removed), m3 m-3.
    n_valid : ndarray of int (nlayer, ny, nx)
        Number of times with both background and observation finite.
    land : ndarray of bool (nlayer, ny, nx)
        Cells where the background is finite at least once.
    n_fallback : list of int
        Per layer: land cells with fewer than ``min_times`` valid times, given the
        layer's median variance.
    n_floored : list of int
        Per layer: cells whose estimate was raised to ``min_variance``.
    fallback_value : list of float
        Per layer: the median used for the fallback cells.
    """

    mean_background: np.ndarray
    variance: np.ndarray
    raw_variance: np.ndarray
    mean_difference: np.ndarray
    n_valid: np.ndarray
    land: np.ndarray
    n_fallback: list[int]
    n_floored: list[int]
    fallback_value: list[float]


def _smooth(values: np.ndarray, mask: np.ndarray, sigma_cells: float) -> np.ndarray:
    """Normalised Gaussian smoothing over ``mask`` (cells outside do not contribute)."""
    w = mask.astype(float)
    num = gaussian_filter(np.where(mask, values, 0.0), sigma_cells, mode="nearest")
    den = gaussian_filter(w, sigma_cells, mode="nearest")
    with np.errstate(invalid="ignore", divide="ignore"):
        out = num / den
    return np.where(mask & (den > 1e-12), out, values)


def estimate_background_error(backgrounds: np.ndarray, observations: np.ndarray,
                              obs_error_variance: float | np.ndarray = 0.0,
                              min_times: int = DEFAULT_MIN_TIMES,
                              min_variance: float = DEFAULT_MIN_VARIANCE,
                              smoothing_cells: float = 0.0) -> BackgroundErrorEstimate:
    """Per-cell, per-layer background-error variance from paired series.

    Parameters
    ----------
    backgrounds, observations : ndarray (ntime, nlayer, ny, nx)
        Model backgrounds :math:`x_{b,t}` and observations :math:`y_t` on the same grid,
        m3 m-3; NaN where not land or missing.
    obs_error_variance : float or ndarray broadcastable to (nlayer, ny, nx)
        :math:`\\sigma_o^2`, (m3 m-3)^2, subtracted from the sample variance (0: none).
    min_times : int
        Cells with fewer valid times (both finite) get the layer's median variance
        over the cells that have enough; at least 2.
    min_variance : float
        Floor :math:`\\sigma^2_{\\min}`, (m3 m-3)^2 (see :data:`DEFAULT_MIN_VARIANCE`).
    smoothing_cells : float
        Standard deviation, in grid cells, of a Gaussian smoothing of the final
        variance over land (normalised so sea does not dilute the coast); 0: none.

    Returns
    -------
    BackgroundErrorEstimate

    Notes
    -----
    Per cell and layer, with :math:`N` the number of times where both are finite,
    :math:`s^2` is the unbiased sample variance (``ddof=1``) of :math:`d_t` about its
    time mean, and :math:`\\sigma_b^2 = \\max(s^2 - \\sigma_o^2, \\sigma^2_{\\min})`
    when :math:`N \\ge` ``min_times``; otherwise the median of :math:`\\sigma_b^2`
    over the layer's cells with :math:`N \\ge` ``min_times``. For Gaussian
    differences the relative standard error of :math:`s^2` is
    :math:`\\sqrt{2/(N-1)}`. Land is where the background is finite at least once;
    the output has no NaN there.
    """
    xb = np.asarray(backgrounds, dtype=float)
    y = np.asarray(observations, dtype=float)
    if xb.ndim != 4 or xb.shape != y.shape:
        raise InputError(f"background-error estimate: backgrounds {xb.shape} and observations "
                         f"{y.shape} must both be (time, layer, lat, lon) of the same shape")
    if xb.shape[0] < 2:
        raise InputError(f"background-error estimate: {xb.shape[0]} time(s) given; a variance "
                         "needs at least 2 (background, observation) pairs")
    if min_times < 2:
        raise InputError(f"background-error estimate: min_times must be >= 2 (a variance "
                         f"needs two values), got {min_times}")
    if not (min_variance > 0 and np.isfinite(min_variance)):
        raise InputError(f"background-error estimate: min_variance must be a positive "
                         f"number of (m3 m-3)^2, got {min_variance}")
    if smoothing_cells < 0:
        raise InputError(f"background-error estimate: smoothing_cells must be >= 0, "
                         f"got {smoothing_cells}")
    ov = np.broadcast_to(np.asarray(obs_error_variance, dtype=float), xb.shape[1:])
    if np.any(ov[np.isfinite(ov)] < 0):
        raise InputError("background-error estimate: observation-error variance must be >= 0")
    ov = np.where(np.isfinite(ov), ov, 0.0)

    d = xb - y
    ok = np.isfinite(d)
    n = ok.sum(axis=0)
    land = np.isfinite(xb).any(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        fb = np.isfinite(xb)
        mean_b = np.where(fb, xb, 0.0).sum(axis=0) / fb.sum(axis=0)
        dz = np.where(ok, d, 0.0)
        mean_d = dz.sum(axis=0) / n
        dev = np.where(ok, d - mean_d, 0.0)
        raw = (dev * dev).sum(axis=0) / (n - 1)
    raw = np.where(n >= 2, raw, np.nan)
    mean_d = np.where(n >= 1, mean_d, np.nan)

    var = np.full(xb.shape[1:], np.nan)
    n_fallback, n_floored, fallback_value = [], [], []
    for k in range(xb.shape[1]):
        enough = land[k] & (n[k] >= min_times)
        est = raw[k] - ov[k]
        floored = enough & (est < min_variance)
        est = np.maximum(est, min_variance)
        if not enough.any():
            raise InputError(f"background-error estimate: layer {k + 1}: no land cell has "
                             f"{min_times} or more times with both background and observation "
                             f"finite (most: {int(n[k].max()) if n[k].size else 0}); give more "
                             "times or a smaller min_times")
        med = float(np.median(est[enough]))
        lay = np.where(enough, est, np.nan)
        few = land[k] & ~enough
        lay[few] = med
        if smoothing_cells > 0:
            lay = _smooth(lay, land[k], smoothing_cells)
        lay[~land[k]] = np.nan
        var[k] = lay
        n_fallback.append(int(few.sum()))
        n_floored.append(int(floored.sum()))
        fallback_value.append(med)
    return BackgroundErrorEstimate(mean_background=np.where(land, mean_b, np.nan), variance=var,
                                   raw_variance=raw, mean_difference=mean_d,
                                   n_valid=n.astype(np.int64), land=land, n_fallback=n_fallback,
                                   n_floored=n_floored, fallback_value=fallback_value)
