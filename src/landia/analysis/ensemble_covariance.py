"""Background- and image-error statistics of an ensemble, for the ensemble-variational hybrid.

The hybrid runs the image 3D-Var on the ensemble mean with B from the ensemble. Two of its
inputs are diagnosed here from the members, without MPI or files:

- :func:`correlation_length_km`: one domain-wide length scale L of the background-error
  correlation, fitted to the correlation model of landia's correlated B
  (:mod:`landia.operators.correlation`), for ``analysis.correlation_length_km``;
- :class:`ImageSpread` and :func:`image_error_variance_from_members`: the image-error
  variance per curvelet scale, the spread of P C E over the members (as Bai et al., GMD 2026,
  estimated it from an ensemble), for JI's s2_j.

Correlation length
------------------
Landia's C is m steps of an implicit diffusion, whose kernel in the continuous limit is the
Matern function of smoothness :math:`\\nu = m - 1` and scale :math:`\\ell = \\sqrt\\kappa`
(:func:`landia.operators.correlation.diffusion_coefficient`):

.. math:: \\rho(d) = \\frac{2^{1-\\nu}}{\\Gamma(\\nu)} (d/\\ell)^\\nu K_\\nu(d/\\ell),
          \\qquad \\ell = L / \\sqrt{2(m - 2)},

with L Daley's length scale (that of a Gaussian :math:`\\exp(-d^2/(2L^2))`), the L of
``analysis.correlation_length_km``. From perturbations :math:`a_{mi}` (members minus their mean,
top layer) every pair p = (i, j) of land cells adjacent east-west or north-south gives the
sample correlation :math:`r_p = \\sum_m a_{mi} a_{mj} / \\sqrt{\\sum_m a_{mi}^2 \\sum_m
a_{mj}^2}` at the distance :math:`d_p` between their centres (:math:`R\\cos\\varphi\\,
\\Delta\\lambda` east-west at the row's latitude, :math:`R\\Delta\\varphi` north-south). L is
the least-squares fit :math:`\\min_L \\sum_p (r_p - \\rho(d_p; L))^2`, pooled over the domain
and bounded to :math:`[d_{min}, 2000\\,\\mathrm{km}]`, :math:`d_{min}` the shortest pair
distance: adjacent cells cannot resolve a shorter scale, and a longer one than 2000 km is
flat over any regional domain. A degenerate sample (fewer than 2 members, no adjacent land
pair, or no pair with spread at both cells) gives :math:`d_{min}`, the shortest scale (no
evidence of correlation: B as close to diagonal as the model gets).

Image-error variance per scale
------------------------------
With the image operator of the analysis for the top layer's observed cells, C E_obs (the
curvelet transform of the filled image, :func:`landia.analysis.analyse` builds it from the
observed image, as does its P, the kept coefficients), member m's coefficients are
:math:`c_m = C E_{obs} S x_m`. Their spread over the members per kept complex coefficient k is
:math:`v_k = \\frac{1}{N-1}\\sum_m |c_{mk} - \\bar c_k|^2` (real and imaginary parts), and the
variance of scale j is

.. math:: s^2_j = \\frac{\\sum_{k \\in P_j} v_k}{\\sum_{k \\in P_j} w_k}, \\qquad
          w_k = \\mathrm{E}\\,|(C E_{obs} z)_k|^2,

z white with unit variance on the observed cells (the white-noise normaliser of
:mod:`landia.analysis.image_diagnostics`, the same probes). So :math:`s^2_j` means what JI's
s2_j and the Desroziers estimate mean: the variance of a white per-cell image error that would
give that spread at that scale. Members that differ from their mean by white noise of variance
:math:`\\sigma^2` give :math:`s^2_j = \\sigma^2` at every scale (up to the probes' error).
The plain mean of :math:`v_k` over a scale would not: C is a Parseval frame
(:math:`\\|Cx\\| = \\|x\\|`), so over *all* coefficients :math:`\\sum_k w_k` is the energy of
the filled noise, :math:`\\|E_{obs} z\\|^2`, shared unevenly between the scales (the frame is
redundant and E spreads the noise into the gaps); per coefficient it is
:math:`\\sigma^2 \\times` (the scale's energy share / its coefficient count), not
:math:`\\sigma^2` (tests/unit/analysis/test_ensemble_covariance.py measures both). The result
is clipped to ``[analysis.image_error_floor, analysis.image_error_cap]`` (the floor
``'variance'``, the default, is ``analysis.image_error_variance``); a scale with no kept
coefficient (JI does not see it) takes ``analysis.image_error_variance``, clipped likewise.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import gamma, kv

from landia.analysis.analyse import _image_term
from landia.analysis.image_diagnostics import white_noise_energy
from landia.config import Settings
from landia.errors import InputError
from landia.grid import LatLonGrid
from landia.io.fields import SoilMoistureField
from landia.operators.correlation import EARTH_RADIUS_KM

#: Largest length scale fitted, km.
MAX_LENGTH_KM = 2000.0


def matern_correlation(distance_km, length_km: float, steps: int = 4) -> np.ndarray:
    """rho(d) of the m-step diffusion correlation with Daley length scale ``length_km``
    (module notes): the Matern function of smoothness m - 1 and scale L / sqrt(2 (m - 2))."""
    nu = float(steps) - 1.0
    ell = float(length_km) / np.sqrt(2.0 * (steps - 2.0))
    r = np.asarray(distance_km, dtype=np.float64) / ell
    with np.errstate(invalid="ignore", over="ignore"):
        rho = 2.0 ** (1.0 - nu) / gamma(nu) * r**nu * kv(nu, r)
    return np.where(r > 0, np.nan_to_num(rho, nan=0.0), 1.0)


def adjacent_pairs(grid: LatLonGrid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(i, j, distance_km): every pair of land cells adjacent east-west (across the date line
    on a global grid) or north-south, as positions in the global land order, and the distance
    between their centres (module notes)."""
    index = np.full(grid.shape, -1, dtype=np.int64)
    index[grid.land] = np.arange(grid.n_land)
    lat, lon = grid.lat, grid.lon
    cos_row = np.cos(np.radians(lat))[:, None]
    parts = []
    if lon.size > 1:
        dlon = np.radians(np.diff(lon))[None, :]
        parts.append((index[:, :-1], index[:, 1:],
                      np.broadcast_to(EARTH_RADIUS_KM * cos_row * dlon, index[:, 1:].shape)))
        if grid.is_global and lon.size > 2:
            wrap = np.radians(lon[0] + 360.0 - lon[-1])
            parts.append((index[:, -1], index[:, 0], EARTH_RADIUS_KM * cos_row[:, 0] * wrap))
    if lat.size > 1:
        dlat = np.abs(np.radians(np.diff(lat)))[:, None]
        parts.append((index[:-1, :], index[1:, :],
                      np.broadcast_to(EARTH_RADIUS_KM * dlat, index[1:, :].shape)))
    i, j, d = ([np.concatenate([np.ravel(p[k]) for p in parts]) if parts else
                np.zeros(0, dtype=np.int64 if k < 2 else np.float64) for k in range(3)])
    keep = (i >= 0) & (j >= 0)
    return i[keep], j[keep], d[keep]


def correlation_length_km(perturbations: np.ndarray, grid: LatLonGrid, steps: int = 4) -> float:
    """Daley length scale L (km) of the background-error correlation, diagnosed from ensemble
    perturbations and fitted to landia's diffusion correlation model (module notes).

    Parameters
    ----------
    perturbations : ndarray (N, n_land)
        Members minus their mean (top layer, m3 m-3), land cells in the global order.
    grid : LatLonGrid
        The grid of the land cells.
    steps : int
        m of the diffusion model (``analysis.correlation_steps``), even and >= 4.

    Returns
    -------
    float
        L in km, within [shortest adjacent distance, :data:`MAX_LENGTH_KM`]; the shortest
        adjacent distance for a degenerate sample.
    """
    a = np.asarray(perturbations, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != grid.n_land:
        raise InputError(f"correlation_length_km: perturbations of shape {a.shape}; expected "
                         f"(members, {grid.n_land}) on the grid's land cells")
    i, j, d = adjacent_pairs(grid)
    if d.size == 0:
        return _shortest_spacing(grid)
    lower = float(d.min())
    norm = np.sum(a * a, axis=0)
    ok = (norm[i] > 0) & (norm[j] > 0)
    if a.shape[0] < 2 or not ok.any():
        return lower
    r = np.sum(a[:, i[ok]] * a[:, j[ok]], axis=0) / np.sqrt(norm[i[ok]] * norm[j[ok]])
    dist = d[ok]
    if lower >= MAX_LENGTH_KM:
        return MAX_LENGTH_KM

    def misfit(length):
        return float(np.sum((r - matern_correlation(dist, length, steps)) ** 2))

    fit = minimize_scalar(misfit, bounds=(lower, MAX_LENGTH_KM), method="bounded",
                          options={"xatol": 1e-3 * lower})
    return float(np.clip(fit.x, lower, MAX_LENGTH_KM))


def _shortest_spacing(grid: LatLonGrid) -> float:
    """The shortest cell spacing of the grid, km (a grid without adjacent land cells)."""
    steps = []
    if grid.lat.size > 1:
        steps.append(EARTH_RADIUS_KM * np.radians(np.min(np.abs(np.diff(grid.lat)))))
    if grid.lon.size > 1:
        steps.append(EARTH_RADIUS_KM * np.radians(np.min(np.diff(grid.lon)))
                     * max(float(np.min(np.cos(np.radians(grid.lat)))), 1e-6))
    return float(min(steps)) if steps else MAX_LENGTH_KM


class ImageSpread:
    """The members' spread of P C E S x (top layer), accumulated member by member (Welford),
    and the image-error variance per scale from it (module notes).

    Parameters
    ----------
    observed : ndarray (ny, nx)
        The top layer's observation image as the analysis uses it (after QC), m3 m-3, NaN
        where not observed. It chooses E (the fill of the observed cells) and P (the kept
        coefficients), exactly as :func:`landia.analysis.analyse.build_problem` does.
    land : ndarray of bool (ny, nx)
        The land mask; observations off land are ignored.
    settings : Settings
        ``curvelet`` (the transform, fill and sigma) and ``analysis`` (floor, cap, fallback).
    lat, lon : ndarray, optional
        Cell centres (only carried in the field handed to the builder).
    """

    def __init__(self, observed: np.ndarray, land: np.ndarray, settings: Settings,
                 lat: np.ndarray | None = None, lon: np.ndarray | None = None) -> None:
        observed = np.asarray(observed, dtype=np.float64)
        land = np.asarray(land, dtype=bool)
        if observed.ndim != 2 or observed.shape != land.shape:
            raise InputError(f"ImageSpread: observed image of shape {observed.shape} and land "
                             f"mask of shape {land.shape}; expected one (ny, nx) shape")
        valid = land & np.isfinite(observed)
        if not valid.any():
            raise InputError("ImageSpread: no observed land cell: the image term has no "
                             "operator to spread the members through")
        ny, nx = land.shape
        # Placeholder centres when none are given: the image operator uses only the mask.
        lat = np.linspace(-45.0, 45.0, ny) if lat is None else np.asarray(lat, float)
        lon = np.linspace(0.0, 90.0, nx) if lon is None else np.asarray(lon, float)
        grid = LatLonGrid(lat, lon, land)
        field = SoilMoistureField(lat=lat, lon=lon, depth=np.zeros(1),
                                  values=np.where(valid, observed, np.nan)[None])
        land_pos = np.full(grid.shape, -1, dtype=np.int64)
        land_pos[land] = np.arange(grid.n_land)
        term, curvelet, _ = _image_term(grid, field, [valid], land_pos, settings, None)
        layer = term.layers[0]
        self.settings = settings
        self.land = land
        self.cells = layer.innovation_cells            # positions in the land order
        self.transform = layer.innovation_transform    # C E_obs
        self.kept = layer.selection.kept               # P: kept complex coefficients
        self.scale = np.asarray(curvelet.coefficient_scale)[self.kept]
        self.scales = int(curvelet.scales)
        self.members = 0
        self._mean = np.zeros((self.kept.size, 2))
        self._m2 = np.zeros(self.kept.size)
        self._white: np.ndarray | None = None

    def coefficients(self, field: np.ndarray) -> np.ndarray:
        """(kept, 2) real and imaginary parts of P C E_obs S x for one (ny, nx) field."""
        x = np.asarray(field, dtype=np.float64)[self.land]
        if not np.all(np.isfinite(x[self.cells])):
            raise InputError("ImageSpread: a member field is not finite at an observed land "
                             "cell")
        return self.transform.matvec(x[self.cells]).reshape(-1, 2)[self.kept]

    def add(self, field: np.ndarray) -> None:
        """Add one member's (ny, nx) top-layer field (Welford's update of mean and sum of
        squared deviations, per kept complex coefficient)."""
        c = self.coefficients(field)
        self.members += 1
        delta = c - self._mean
        self._mean += delta / self.members
        self._m2 += np.sum(delta * (c - self._mean), axis=1)

    def coefficient_variance(self) -> np.ndarray:
        """v_k, the members' variance of each kept complex coefficient (N - 1 divisor)."""
        if self.members < 2:
            raise InputError(f"ImageSpread: {self.members} member(s) added; the spread needs "
                             "at least 2")
        return self._m2 / (self.members - 1)

    def white_energy(self) -> np.ndarray:
        """w_k of each kept coefficient: E |(C E_obs z)_k|^2 for unit white noise z."""
        if self._white is None:
            self._white = white_noise_energy(self.transform, self.cells.size)[self.kept]
        return self._white

    def raw_variance(self) -> np.ndarray:
        """sum v_k / sum w_k per scale, NaN for a scale without kept coefficients."""
        num = np.bincount(self.scale, weights=self.coefficient_variance(),
                          minlength=self.scales)
        den = np.bincount(self.scale, weights=self.white_energy(), minlength=self.scales)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)

    def variance(self) -> np.ndarray:
        """s2_j per scale, (m3 m-3)^2, clipped to [image_error_floor, image_error_cap]; the
        configured image_error_variance (clipped) for a scale JI does not see."""
        cfg = self.settings.analysis
        raw = self.raw_variance()
        raw = np.where(np.isnan(raw), cfg.image_error_variance, raw)
        return np.clip(raw, cfg.image_error_floor_value, cfg.image_error_cap)


def image_error_variance_from_members(member_fields: np.ndarray, observed: np.ndarray,
                                      settings: Settings) -> np.ndarray:
    """The image-error variance per curvelet scale from the members' spread of P C E
    (module notes): :class:`ImageSpread` fed with every member.

    Parameters
    ----------
    member_fields : ndarray (N, ny, nx)
        The members' top-layer soil moisture, m3 m-3, NaN off land.
    observed : ndarray (ny, nx)
        The top layer's observation image as the analysis uses it, NaN where not observed.
    settings : Settings

    Returns
    -------
    ndarray (scales,)
        s2_j, (m3 m-3)^2, within [analysis.image_error_floor, analysis.image_error_cap].
    """
    fields = np.asarray(member_fields, dtype=np.float64)
    if fields.ndim != 3:
        raise InputError(f"image_error_variance_from_members: member fields of shape "
                         f"{fields.shape}; expected (members, ny, nx)")
    land = np.all(np.isfinite(fields), axis=0)
    spread = ImageSpread(observed, land, settings)
    for field in fields:
        spread.add(field)
    return spread.variance()
