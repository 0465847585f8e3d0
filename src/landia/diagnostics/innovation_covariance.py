"""Background- and observation-error statistics from innovations: the Hollingsworth-Lonnberg
method (Hollingsworth and Lonnberg 1986, Tellus 38A, 111), as operational centres tune B and R.

Innovations :math:`d = y - H x_b` at observed cells, with errors of the observations
(uncorrelated between cells) and of the background (spatially correlated), have the covariance

.. math:: \\mathrm{cov}(d_i, d_j) = \\sigma_b^2\\, c(r_{ij}) + \\sigma_o^2\\, \\delta_{ij},

with :math:`r_{ij}` the great-circle distance. Binning the products :math:`d_i d_j` (each
image's innovations minus the mean over all images) by distance gives :math:`\\sigma_b^2 c(r)`
at :math:`r > 0`; its fit extrapolated to :math:`r = 0` is :math:`\\sigma_b^2`, and the
variance at :math:`r = 0` minus it is :math:`\\sigma_o^2`.

The fitted shape is landia's own correlation model (:mod:`landia.operators.correlation`): the
Matern function of smoothness :math:`\\nu = m - 1` of an m-step diffusion,

.. math:: c(r) = \\frac{2^{1-\\nu}}{\\Gamma(\\nu)} (r/\\ell)^\\nu K_\\nu(r/\\ell),
          \\qquad L = \\ell \\sqrt{2m - 4},

so the fitted Daley length :math:`L` is the value of ``analysis.correlation_length_km``.
Arithmetic only (no I/O, no MPI).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares
from scipy.special import gamma, kv

from landia.errors import InputError
from landia.grid import great_circle_km

#: Default distance bin edges, km (the first bin is the zero distance: each cell with itself).
EDGES_KM = (0.0, 1.0, 100.0, 175.0, 250.0, 325.0, 400.0, 500.0, 600.0, 800.0, 1000.0)


@dataclass(frozen=True)
class InnovationCovariance:
    """Binned innovation covariance.

    Attributes
    ----------
    edges_km : ndarray (nb + 1,)
        Bin edges, km; bin 0 holds the zero distance only.
    distance_km : ndarray (nb,)
        Mean distance of each bin's pairs, km.
    covariance : ndarray (nb,)
        Mean product of the centred innovations, (m3 m-3)^2 (NaN for an empty bin).
    pairs : ndarray (nb,)
        Ordered pairs in each bin (both (i, j) and (j, i)).
    mean : float
        The innovations' mean, m3 m-3.
    """

    edges_km: np.ndarray
    distance_km: np.ndarray
    covariance: np.ndarray
    pairs: np.ndarray
    mean: float

    @property
    def variance(self) -> float:
        """The innovations' variance (the zero-distance bin), (m3 m-3)^2."""
        return float(self.covariance[0])


def binned_covariance(departures, lat, lon, edges_km=EDGES_KM) -> InnovationCovariance:
    """The covariance of innovations as a function of distance.

    Parameters
    ----------
    departures : ndarray (nt, ny, nx)
        Innovations :math:`y - H x_b` (m3 m-3), NaN where there is no observation.
    lat, lon : ndarray (ny,), (nx,)
        Cell centres, degrees.
    edges_km : sequence of float
        Increasing bin edges, km, starting ``0, eps``: the first bin is each cell with itself.

    Returns
    -------
    InnovationCovariance
    """
    d = np.asarray(departures, dtype=float)
    if d.ndim != 3 or d.shape[1:] != (len(lat), len(lon)):
        raise InputError(f"innovation covariance: departures of shape {d.shape}; expected "
                         f"(time, {len(lat)}, {len(lon)})")
    edges = np.asarray(edges_km, dtype=float)
    if edges.size < 3 or edges[0] != 0.0 or np.any(np.diff(edges) <= 0):
        raise InputError(f"innovation covariance: bin edges {list(edges)}; expected increasing "
                         f"edges from 0 (the first bin, [0, eps), is the zero distance)")
    if not np.isfinite(d).any():
        raise InputError("innovation covariance: no finite innovation")
    mean = float(np.nanmean(d))
    lat2, lon2 = np.meshgrid(np.asarray(lat, float), np.asarray(lon, float), indexing="ij")
    nb = edges.size - 1
    total, count, dist = np.zeros(nb), np.zeros(nb), np.zeros(nb)
    for image in d:
        ok = np.isfinite(image)
        if not ok.any():
            continue
        x = image[ok] - mean
        la, lo = lat2[ok], lon2[ok]
        r = great_circle_km(la[:, None], lo[:, None], la[None, :], lo[None, :])
        b = np.digitize(r, edges) - 1
        keep = (b >= 0) & (b < nb)
        total += np.bincount(b[keep], (x[:, None] * x[None, :])[keep], nb)
        count += np.bincount(b[keep], None, nb)
        dist += np.bincount(b[keep], r[keep], nb)
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = np.where(count > 0, total / count, np.nan)
        centre = np.where(count > 0, dist / count, np.nan)
    return InnovationCovariance(edges, centre, cov, count, mean)


def matern(r_km, length_km: float, steps: int = 4) -> np.ndarray:
    """landia's correlation model at distances ``r_km``: the Matern function of smoothness
    ``steps - 1`` with Daley length ``length_km`` (module notes); 1 at r = 0."""
    nu = steps - 1.0
    ell = length_km / np.sqrt(2.0 * steps - 4.0)
    x = np.maximum(np.asarray(r_km, dtype=float) / ell, 1e-12)
    return np.where(x > 1e-9, 2.0 ** (1.0 - nu) / gamma(nu) * x ** nu * kv(nu, x), 1.0)


@dataclass(frozen=True)
class ErrorStatistics:
    """The fitted error statistics (module notes)."""

    background_variance: float
    observation_variance: float
    length_km: float
    innovation_variance: float
    pairs_fitted: int

    def as_dict(self) -> dict:
        return {"background_error_variance": self.background_variance,
                "observation_error_variance": self.observation_variance,
                "correlation_length_km": self.length_km,
                "innovation_variance": self.innovation_variance,
                "pairs_fitted": self.pairs_fitted}


def fit_error_statistics(cov: InnovationCovariance, steps: int = 4,
                         max_km: float | None = None) -> ErrorStatistics:
    """Fit :math:`\\sigma_b^2 c(r; L)` to the bins at ``0 < r <= max_km`` (weighted by their
    pairs) and take :math:`\\sigma_o^2 = \\mathrm{var}(d) - \\sigma_b^2`.

    Raises
    ------
    InputError
        Fewer than two non-empty bins at r > 0, or a fit that leaves no observation error.
    """
    r, c, n = cov.distance_km[1:], cov.covariance[1:], cov.pairs[1:]
    use = np.isfinite(c) & (n > 0)
    if max_km is not None:
        use &= r <= max_km
    if use.sum() < 2:
        raise InputError("innovation covariance: fewer than two distance bins with pairs; "
                         "not enough observations to fit the correlation")
    r, c, w = r[use], c[use], np.sqrt(n[use] / n[use].sum())
    var = cov.variance
    # inside the bounds: a first bin close to the innovation variance (little uncorrelated
    # error) would otherwise start the fit above sigma_b^2 <= var(d)
    start = [min(max(c[0], 1e-8) * 1.5, 0.99 * var), max(r[0], 1.0) * 2.0]

    def residual(p):
        return w * (p[0] * matern(r, p[1], steps) - c) / var

    fit = least_squares(residual, start, bounds=([0.0, 1.0], [var, 1e5]))
    sb2, length = float(fit.x[0]), float(fit.x[1])
    so2 = var - sb2
    if not so2 > 0:
        raise InputError(f"innovation covariance: the fitted background variance {sb2:.3g} "
                         f"leaves no observation error (innovation variance {var:.3g})")
    return ErrorStatistics(sb2, so2, length, var, int(cov.pairs[1:][use].sum()))
