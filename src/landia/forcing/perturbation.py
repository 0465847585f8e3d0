"""Perturbed forcing in the SMAP Level-4 / CoLM202X style: a reproducible forcing error.

A perturbation turns one forcing record into another plausible one, as a forcing error would:
the truth of an observing-system simulation (``landia demo``) and the members of an ensemble
use it. Four variables are perturbed, as the SMAP Level-4 soil-moisture system (Reichle et al.
2017, JHM 18, 3217; De Lannoy and Reichle 2016) and the CoLM202X LETKF do:

============== ===================================================== =====================
variable       perturbed value                                       default std
============== ===================================================== =====================
precipitation  :math:`P\\,e^{\\sigma_P x_P - \\sigma_P^2/2}`             0.5 (log)
shortwave      :math:`\\min(S\\,e^{\\sigma_S x_S - \\sigma_S^2/2}, C)`  0.3 (log)
longwave       :math:`\\max(L + \\sigma_L x_L, 0)`                      20 W m-2
air temp.      :math:`T + \\sigma_T x_T` (humidity capped at saturation) 1 K
============== ===================================================== =====================

The lognormal factors have mean 1 (:math:`E[e^{\\sigma x}] = e^{\\sigma^2/2}`), the additive
terms mean 0, so the perturbed forcing keeps the mean of the original. ``C`` =
``max(S, 1361 W m-2 cos Z)`` keeps the shortwave below the top-of-atmosphere irradiance (it
removes a little of the mean where the sky is clear and the factor large; the tests measure
how much). Rain stays where it rains: a factor never creates rain.

**The processes.** Each :math:`x_v` is a standard-normal field, AR(1) in time on a lattice of
``step_hours`` (:math:`\\phi = e^{-\\Delta t/\\tau}`; a perturbation is constant over a step),
Gaussian-correlated in space (:math:`\\rho(d) = e^{-d^2/(2L^2)}`) and cross-correlated between
variables (correlation matrix :math:`R = LL^T`):

.. math:: x_n = \\sqrt{\\frac{1 - \\phi^2}{1 - \\phi^{2K}}}\\;
          \\sum_{k=0}^{K-1} \\phi^k\\, L\\, z_{n-k},

with independent unit-variance spatially correlated fields :math:`z_m` of the lattice step
:math:`m` (one per variable). The sum is the AR(1) recursion
:math:`x_n = \\phi x_{n-1} + \\sqrt{1 - \\phi^2}\\, L z_n` truncated after :math:`K` terms
(:math:`\\phi^K \\le 10^{-3}`) and rescaled to unit variance: it has the AR(1)
autocorrelation :math:`\\phi^{|lag|}` to within 0.1 %, and its value at a time depends only on
the seed, the member and the time -- not on when a run started, was restarted, or how its
windows are cut.

**Rank independence.** Every field :math:`z_m` is drawn on the *whole* grid from
``numpy.random.default_rng([seed, member, variable, m])`` (white noise on a padded rectangle,
filtered with a Gaussian in Fourier space, as the weather generator does) and only then sampled
at the requested land cells, so a cell gets the same numbers whichever cells are asked for with
it. The spatial correlation uses the grid's mean latitude for the east-west distances.
"""

from __future__ import annotations

import functools
from dataclasses import replace

import numpy as np

from landia.config.sections import PerturbationSettings
from landia.errors import ConfigError
from landia.forcing.interpolate import longwave_from_emissivity
from landia.forcing.record import Forcing
from landia.forcing.solar import cos_solar_zenith
from landia.forcing.weather import SOLAR_CONSTANT, saturation_vapour_pressure
from landia.grid import LatLonGrid

EARTH_RADIUS_KM = 6371.0
#: The perturbed variables, in the order of the correlation matrix and of the random streams.
VARIABLES = ("precip", "swdown", "lwdown", "tair")
#: The AR(1) sum stops when phi^K falls below this.
TRUNCATION = 1e-3
#: Cap of the perturbed precipitation rate, kg m-2 s-1.
MAX_PRECIP = 0.1
_EPOCH = np.datetime64("1970-01-01T00:00:00", "s")
_STREAM_OFFSET = 101  # random streams 101-104: apart from the weather generator's 1-6


def correlated_field(rng: np.random.Generator, shape: tuple[int, int], length_y: float,
                     length_x: float) -> np.ndarray:
    """A unit-variance Gaussian random field with correlation exp(-d^2 / (2 L^2)).

    Parameters
    ----------
    rng : numpy.random.Generator
        Draws the white noise (on a rectangle padded by at least 4 L on each axis).
    shape : tuple of int
        (ny, nx) of the field returned.
    length_y, length_x : float
        Correlation length L along each axis, in grid cells (0: white noise).

    Returns
    -------
    ndarray (ny, nx)

    Notes
    -----
    White noise :math:`w` filtered in Fourier space with the gain
    :math:`g(k) = e^{-\\pi^2 (k_y^2 L_y^2 + k_x^2 L_x^2)}` (a Gaussian kernel of standard
    deviation :math:`L/\\sqrt{2}`, whose autocorrelation is :math:`e^{-d^2/(2L^2)}`), divided by
    :math:`\\sqrt{\\overline{g^2}}` so that every cell has unit variance on the periodic padded
    rectangle; the padding keeps the wrap-around correlation below :math:`e^{-8}`.
    """
    return correlated_fields([rng], shape, length_y, length_x)[0]


def correlated_fields(rngs, shape: tuple[int, int], length_y: float,
                      length_x: float) -> np.ndarray:
    """:func:`correlated_field` of each generator of ``rngs``, filtered in one batched FFT.

    The same bits as one :func:`correlated_field` call per generator (each draws the same
    noise; numpy's FFT of a stack transforms every slice as it transforms one image; tested),
    at about half the cost for the four forcing variables of a step (measured: 0.32 against
    0.61 ms on the paper grid).

    Returns
    -------
    ndarray (len(rngs), ny, nx)
    """
    ny, nx = shape
    py = ny + (4 * int(np.ceil(length_y)) if length_y > 0 else 0)
    px = nx + (4 * int(np.ceil(length_x)) if length_x > 0 else 0)
    noise = np.stack([rng.standard_normal((py, px)) for rng in rngs])
    if length_y <= 0 and length_x <= 0:
        return noise[:, :ny, :nx]
    gain, scale = _spectral_filter(py, px, float(length_y), float(length_x))
    field = np.fft.irfft2(np.fft.rfft2(noise) * gain, s=(py, px))
    return field[:, :ny, :nx] / scale


@functools.lru_cache(maxsize=32)
def _spectral_filter(py: int, px: int, length_y: float, length_x: float):
    """The gain of :func:`correlated_field` on the half spectrum of a (py, px) rectangle and
    the square root of the mean power of the full one (read-only, cached per shape)."""
    ky = np.fft.fftfreq(py)[:, None]
    kx = np.fft.rfftfreq(px)[None, :]
    gain = np.exp(-np.pi**2 * ((ky * length_y) ** 2 + (kx * length_x) ** 2))
    full_kx = np.fft.fftfreq(px)[None, :]
    power = np.exp(-2.0 * np.pi**2 * ((ky * length_y) ** 2 + (full_kx * length_x) ** 2))
    gain.setflags(write=False)
    return gain, np.sqrt(power.mean())


def _spacing(axis: np.ndarray, default: float) -> float:
    """The step of a uniform axis, the mean step of a varying one, ``default`` for one point."""
    if axis.size < 2:
        return default
    steps = np.abs(np.diff(axis))
    if np.allclose(steps, steps[0], rtol=1e-6, atol=0.0):
        return float(steps[0])
    return abs(float(axis[-1] - axis[0])) / (axis.size - 1)


def grid_lengths(grid: LatLonGrid, length_km: float) -> tuple[float, float]:
    """A length in km as (north-south, east-west) numbers of grid cells, east-west at the
    grid's mean latitude.

    On a uniform axis the spacing is its first step (as it always was: the same numbers); on a
    rectilinear axis of varying spacing the mean one, :math:`(\varphi_{n-1} - \varphi_0)/(n -
    1)`: the perturbations are filtered on the index lattice, so there the length in km varies
    by the ratio of the local to the mean spacing (EASE-Grid 2.0, 1.25-1.65 deg: -12 % to
    +19 %).
    """
    dlat = _spacing(grid.lat, 1.0)
    dlon = _spacing(grid.lon, dlat)
    km_y = EARTH_RADIUS_KM * np.deg2rad(dlat)
    km_x = km_y * dlon / dlat * max(np.cos(np.deg2rad(float(np.mean(grid.lat)))), 0.05)
    return length_km / km_y, length_km / km_x


def correlation_matrix(values) -> np.ndarray:
    """The 4 x 4 correlation matrix of ``perturbation.correlations`` (upper triangle, row by
    row: P-SW, P-LW, P-T, SW-LW, SW-T, LW-T)."""
    matrix = np.eye(len(VARIABLES))
    matrix[np.triu_indices(len(VARIABLES), 1)] = np.asarray(values, dtype=float)
    return np.triu(matrix) + np.triu(matrix, 1).T


class ForcingPerturbation:
    """The perturbations of a grid's land cells (see the module notes).

    Parameters
    ----------
    grid : LatLonGrid
        The model grid; cells are numbered in its global land order.
    settings : PerturbationSettings
        Standard deviations, time and length scales, correlations, seed and member.
    cells : array_like of int, optional
        The only cells this object will be asked for (a rank's): the cached innovations keep
        just those columns (about 56 lattice steps x 4 variables each; a whole-grid cache of 20
        members at 0.25 deg over East Asia would hold 1.1 GB on every rank). The fields are
        still drawn on the whole grid, so the numbers do not change.

    Raises
    ------
    ConfigError
        The correlations do not make a positive-definite matrix.
    """

    def __init__(self, grid: LatLonGrid, settings: PerturbationSettings, cells=None):
        self.grid = grid
        self.settings = settings
        self.cells = None if cells is None else np.asarray(cells, dtype=int)
        self.step = np.timedelta64(int(settings.step_hours) * 3600, "s")
        self.phi = float(np.exp(-settings.step_hours / settings.time_scale_hours))
        self.terms = max(1, int(np.ceil(np.log(TRUNCATION) / np.log(self.phi)))) \
            if self.phi > 0 else 1
        k = np.arange(self.terms)
        self.weights = self.phi**k * np.sqrt((1.0 - self.phi**2)
                                             / (1.0 - self.phi ** (2 * self.terms)))
        try:
            self.cholesky = np.linalg.cholesky(correlation_matrix(settings.correlations))
        except np.linalg.LinAlgError:
            raise ConfigError(f"perturbation.correlations: {settings.correlations!r} is not "
                              f"a positive-definite correlation matrix") from None
        self.lengths = grid_lengths(grid, settings.length_km)
        self.std = np.array([settings.precipitation_std, settings.shortwave_std,
                             settings.longwave_std, settings.air_temperature_std])
        self._noise: dict[int, np.ndarray] = {}

    # -- the random processes ---------------------------------------------------------------
    def lattice_steps(self, times) -> np.ndarray:
        """The AR(1) lattice step of each time (the step whose interval holds it)."""
        t = np.asarray(times).astype("datetime64[s]")
        return ((t - _EPOCH) // self.step).astype(np.int64)

    def innovation(self, step: int) -> np.ndarray:
        """:math:`L z_m` on every land cell, (4, n_land) (on the constructor's ``cells`` only,
        when given): cross-correlated, spatially correlated, unit variance."""
        cached = self._noise.get(step)
        if cached is not None:
            return cached
        s = self.settings
        rngs = [np.random.default_rng([s.seed, s.member, _STREAM_OFFSET + v, int(step)])
                for v in range(len(VARIABLES))]
        fields = correlated_fields(rngs, self.grid.shape, *self.lengths)[:, self.grid.land]
        value = self.cholesky @ fields
        if self.cells is not None:
            value = np.ascontiguousarray(value[:, self.cells])
        self._noise[step] = value
        return value

    def values(self, times, cells=None) -> np.ndarray:
        """The standard-normal processes :math:`x_v` at ``times`` for ``cells``.

        Parameters
        ----------
        times : array_like (T,) of datetime64
        cells : array_like of int (N,), optional
            Indices into the grid's land order (default: every land cell).

        Returns
        -------
        ndarray (4, T, N)
            In the order of :data:`VARIABLES`.
        """
        cells = np.arange(self.grid.n_land) if cells is None else np.asarray(cells, dtype=int)
        if self.cells is not None:  # the cache holds the constructor's cells only
            if not np.array_equal(cells, self.cells):
                raise ValueError("cells: this perturbation keeps the innovations of the cells "
                                 "it was built for; expected those")
            cells = slice(None)
        steps = self.lattice_steps(times)
        wanted = np.unique(steps)
        first = int(wanted.min()) - self.terms + 1
        # Keep only the fields this call and the next windows can need.
        for old in [m for m in self._noise if m < first]:
            del self._noise[old]
        last = int(wanted.max())
        # innovations of steps last, last - 1, ..., first (newest first)
        stack = np.stack([self.innovation(m)[:, cells] for m in range(last, first - 1, -1)])
        x = {int(n): np.tensordot(self.weights, stack[last - n: last - n + self.terms],
                                  axes=(0, 0)) for n in wanted}  # each (4, N)
        return np.stack([x[int(n)] for n in steps], axis=1)

    # -- the record ---------------------------------------------------------------------------
    def apply(self, forcing: Forcing, cells=None) -> Forcing:
        """The perturbed record (see the module notes for the formulas).

        Parameters
        ----------
        forcing : Forcing
            (T, N) arrays for the land cells ``cells``; a record without longwave gets the
            derived clear-sky longwave first (:func:`longwave_from_emissivity`).
        cells : array_like of int (N,), optional
            The record's columns as indices into the grid's land order (default: all).

        Returns
        -------
        Forcing
            Validated; rain and snow (when given) scaled with the precipitation.
        """
        x = self.values(forcing.times, cells)
        if x.shape[2] != forcing.n_columns:
            raise ValueError(f"{forcing.source}: {forcing.n_columns} columns but "
                             f"{x.shape[2]} cells to perturb")
        sp, ss, sl, st = self.std
        factor_p = np.exp(sp * x[0] - 0.5 * sp**2)
        factor_s = np.exp(ss * x[1] - 0.5 * ss**2)
        step = (np.diff(forcing.times).min() if forcing.n_times > 1
                else np.timedelta64(3600, "s"))
        cosz = cos_solar_zenith(forcing.times + step // 2, forcing.lat, forcing.lon)
        ceiling = np.maximum(forcing.swdown, SOLAR_CONSTANT * np.maximum(cosz, 0.0))
        swdown = np.minimum(forcing.swdown * factor_s, ceiling)
        lw = forcing.lwdown if forcing.lwdown is not None else longwave_from_emissivity(
            forcing.tair, forcing.qair, forcing.psurf)
        lwdown = np.maximum(lw + sl * x[2], 0.0)
        tair = forcing.tair + st * x[3]
        e_sat = saturation_vapour_pressure(tair)
        q_sat = 0.622 * e_sat / (forcing.psurf - 0.378 * e_sat)
        # A factor beyond 4.5 sigma on a cloudburst could leave the physical range: cap at
        # 0.1 mm s-1 (360 mm per hour, above any record).
        precip = np.minimum(forcing.precip * factor_p, np.maximum(forcing.precip, MAX_PRECIP))
        changes = {"precip": precip, "swdown": swdown, "lwdown": lwdown,
                   "tair": tair, "qair": np.minimum(forcing.qair, q_sat)}
        if forcing.rain is not None:
            ratio = np.divide(precip, forcing.precip, out=np.zeros_like(precip),
                              where=forcing.precip > 0)
            changes.update(rain=forcing.rain * ratio, snow=forcing.snow * ratio)
        s = self.settings
        return replace(forcing, **changes,
                       source=f"{forcing.source}, perturbed (seed {s.seed}, member "
                              f"{s.member})").validate()
