"""Where the image term acts: O-B and O-A statistics per curvelet scale and wedge, and the
image-error variance per scale estimated from them (Desroziers et al. 2005, or from the
innovations alone), cycled.

Definitions
-----------
For each analysed layer l with observations (observed image y_l on its valid cells, S_l, the
fill E_l of those cells, the kept set P_l of JI), the observation-minus-background and
observation-minus-analysis departures in curvelet space are, over *every* coefficient of C,

.. math:: d^{ob}_l = C E_l (y_l - S_l x_b), \\qquad d^{oa}_l = C E_l (y_l - S_l x_a).

They are the innovations of the observed cells only, also when JI compares the whole analysis
image (``analysis.image_gap_weight`` > 0, where the cells without an observation enter JI with
the observed image's gap fill, which is not an observation). With the term on the observed
cells the kept ones, :math:`P_l d_l`, are JI's residuals. A *band* is one wedge w of one scale
j (scale 0 is the low-pass band, one wedge). Per band, pooled over the layers:

- ``coefficients``, ``kept``: the number of complex coefficients, all and kept;
- ``omb_all``, ``omb_kept``, ``oma_all``, ``oma_kept``: :math:`\\sum |d_k|^2`, the sum of the
  squared moduli over all or over the kept coefficients, (m3 m-3)^2. Mean squares are these
  sums over the counts (per complex coefficient). Because C is a Parseval frame,
  :math:`\\sum_{bands} \\mathrm{omb\\_all} = \\sum_l \\|E_l (y_l - S_l x_b)\\|^2`, and, for
  the term on the observed cells, :math:`\\sum_{bands} \\mathrm{omb\\_kept}/s^2_j = 2 J_I(x_b)`;
- ``cross_kept``: :math:`\\sum_k \\mathrm{Re}(\\overline{d^{ob}_k} d^{oa}_k)` over the kept
  coefficients (the real inner product of the interleaved pairs);
- ``white_kept`` (only when asked for): :math:`\\mathrm{E}\\,\\|P_b C E_l z\\|^2` for a white
  error z of unit variance on the valid cells, i.e.
  :math:`\\mathrm{tr}(P_b C E_l E_l^T C^T P_b^T)`: how much of a white observation error of
  variance 1 lands in the kept coefficients of the band;
- ``background_kept`` (only when asked for): :math:`\\mathrm{E}\\,\\|P_b C E_l S_l B^{1/2}
  z\\|^2` for z white of unit variance in the control space, i.e.
  :math:`\\mathrm{tr}(P_b C E_l S_l B S_l^T E_l^T C^T P_b^T)`: what the background error B
  states lands there (B diagonal or correlated, ``analysis.correlation_length_km``).

Both normalisers are estimated with :data:`WHITE_NOISE_PROBES` Rademacher probes (Hutchinson's
trace estimator) of fixed seed, so they are the same on every run, rank and restart (with a
diagonal B of one variance per layer, ``background_kept`` is that variance times
``white_kept``, exactly).

Desroziers estimate
-------------------
With the optimal gain, :math:`\\mathrm{E}[d^{oa} (d^{ob})^T] = R`, the error covariance of the
kept coefficients. For an observed image with a white error of variance :math:`s^2_j` at the
scale j, :math:`R = s^2_j P C E E^T C^T P^T` on that scale, whose trace over the kept
coefficients of scale j is :math:`s^2_j \\sum_{b \\in j} \\mathrm{white\\_kept}(b)`. Taking the
trace of both sides, pooled over the wedges of the scale and the layers:

.. math:: \\hat s^2_j = \\frac{\\sum_{b \\in j} \\mathrm{cross\\_kept}(b)}
                             {\\sum_{b \\in j} \\mathrm{white\\_kept}(b)}.

So :math:`\\hat s^2_j` has the units and meaning of ``analysis.image_error_variance``: the
variance of a white, per-cell image error that the term would see at that scale. A scale with
no kept coefficient has no estimate (NaN).

The relation holds only when B is right. With the paper's diagonal B, a background error that
is larger and more correlated than B states lands in the coarse scales' innovations and is
attributed to R there: on the real-field case the low-pass variance grows a hundredfold and
the analysis falls back towards the background (docs/analysis.md).

Innovation estimate
-------------------
The O-B statistics alone give, per scale, the white-equivalent innovation variance
:math:`V_j = \\sum_{b \\in j} \\mathrm{omb\\_kept}(b) / \\sum_{b \\in j}
\\mathrm{white\\_kept}(b)`, and :math:`\\mathrm{E}[d^{ob} (d^{ob})^T] = H B H^T + R`. Taking R
as stated (the mean observation-error variance :math:`\\bar r` of the analysed cells) leaves
the background-error variance of the scale, :math:`\\hat b_j = V_j - \\bar r`. B itself
states :math:`a_j = \\sum_{b \\in j} \\mathrm{background\\_kept}(b) / \\sum_{b \\in j}
\\mathrm{white\\_kept}(b)` there (its mean variance for a white B; more at the coarse scales
for a correlated one). The optimal gain at that scale is :math:`\\hat b_j / (\\hat b_j +
\\bar r)`; JI reaches it, given B, with

.. math:: \\hat s^2_j = a_j\\, \\bar r / \\hat b_j

(:math:`+\\infty`, i.e. the cap, when :math:`V_j \\le \\bar r`): scales where the
background is further from the observation than B says follow the observation more closely,
scales that hold little more than observation noise are smoothed. It needs no analysis, so it
has no feedback and no fixed point to reach; it assumes the stated observation error.

Per wedge
---------
With ``analysis.image_error_bands = "wedge"`` both estimates are taken per band b (one wedge,
one orientation, of one scale) instead of pooled over the wedges of a scale: the same ratios
with the sums over b alone, e.g. :math:`\\hat s^2_b = \\mathrm{cross\\_kept}(b) /
\\mathrm{white\\_kept}(b)`, and JI weights each band by its own variance. An observation
error correlated along one direction (a satellite's swath stripes, constant along the track
and jumping across it) fills the wedges of the orientation across its edges and its coarse
scales; per scale it raises every wedge's variance alike, per wedge only those
(docs/analysis.md, *Swath-correlated observation errors*). A band's estimate rests on fewer
coefficients than a scale's, so it needs the cycle's pooling (the memory) more. The low-pass
band (band 0) is not estimated per wedge: it has no orientation, and there the Desroziers
relation fails first (B misses the large-scale background error, which the statistics then
attribute to R: on the real-field case with swath errors, without the local error estimate,
estimated it put the RMSE 6 % above point 3D-Var's, kept 4 % below); it keeps
``analysis.image_error_variance``.

Cycling
-------
The variances a cycle carries to its next analysis are

.. math:: s^2_{j,\\mathrm{next}} = \\mathrm{clip}(m\\, s^2_j + (1 - m)\\,
          \\mathrm{clip}(\\hat s^2_j, f, c), f, c)

with the memory m (``analysis.image_error_memory``), floor f and cap c
(``analysis.image_error_floor``, by default ``image_error_variance`` itself, so that the
estimates only loosen the term; ``analysis.image_error_cap``); a scale without an estimate
keeps :math:`s^2_j`. Repeated over cycles this is Desroziers' fixed-point iteration, damped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from landia.analysis.control import CorrelatedBackgroundTerm

#: Rademacher probes of the white-noise normaliser (relative standard error of a band's
#: normaliser about sqrt(2 / (probes x its effective number of coefficients))).
WHITE_NOISE_PROBES = 16
#: Seed of the probes (fixed: the estimate is a deterministic function of the analysis).
PROBE_SEED = 20050101
#: The per-band sums, in the order of the analysis file's variables.
SUMS = ("omb_all", "omb_kept", "oma_all", "oma_kept", "cross_kept")


@dataclass(frozen=True)
class ImageStatistics:
    """O-B and O-A statistics of one analysis per curvelet band (see the module notes).

    Every array is a (scales, max_wedges) table (:meth:`CurveletTransform.band_table`); wedges a
    scale does not have hold 0 in the counts and NaN in the sums.

    Attributes
    ----------
    wedges_per_scale : ndarray of int (scales,)
    coefficients, kept : ndarray of int
        Complex coefficients, all and kept, pooled over the layers.
    omb_all, omb_kept, oma_all, oma_kept, cross_kept : ndarray
        Sums over the band's coefficients, (m3 m-3)^2.
    white_kept : ndarray or None
        The white-noise normaliser (None unless asked for).
    background_kept : ndarray or None
        The background normaliser (None unless asked for).
    """

    wedges_per_scale: np.ndarray
    coefficients: np.ndarray
    kept: np.ndarray
    omb_all: np.ndarray
    omb_kept: np.ndarray
    oma_all: np.ndarray
    oma_kept: np.ndarray
    cross_kept: np.ndarray
    white_kept: np.ndarray | None = None
    background_kept: np.ndarray | None = None

    @property
    def scales(self) -> int:
        return int(self.wedges_per_scale.size)

    def mean_square(self, name: str) -> np.ndarray:
        """``name`` (one of :data:`SUMS` but ``cross_kept``) over its count, NaN where empty."""
        count = self.kept if name.endswith("_kept") else self.coefficients
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, getattr(self, name) / np.maximum(count, 1), np.nan)

    def per_scale(self, name: str) -> np.ndarray:
        """A band table summed over the wedges of each scale, shape (scales,)."""
        return np.nansum(getattr(self, name), axis=1)

    def per_band(self, name: str) -> np.ndarray:
        """A band table as one value per band, shape (bands,), in the transform's band order
        (scale by scale, wedge by wedge: ``CurveletTransform.coefficient_band``)."""
        table = getattr(self, name)
        return np.concatenate([table[j, :w] for j, w in enumerate(self.wedges_per_scale)])

    def pooled(self, name: str, bands: str) -> np.ndarray:
        """:meth:`per_scale` (``bands = "scale"``) or :meth:`per_band` (``"wedge"``)."""
        if bands not in ("scale", "wedge"):
            raise ValueError(f"bands: expected 'scale' or 'wedge', got {bands!r}")
        return self.per_scale(name) if bands == "scale" else self.per_band(name)


@dataclass(frozen=True)
class ImageErrorVariance:
    """The image-error variances of one analysis, per scale (or per band with
    ``analysis.image_error_bands = "wedge"``: every (scales,) below is then (bands,)),
    (m3 m-3)^2.

    Attributes
    ----------
    used : ndarray (scales,)
        The s2_j of this analysis' JI.
    estimate : ndarray (scales,) or None
        The Desroziers or innovation estimate (NaN for a scale without kept coefficients);
        None with the ``fixed`` method.
    next : ndarray (scales,)
        What a cycle carries to its next analysis: the cycled update of ``used`` with
        ``estimate`` (``used`` itself with the ``fixed`` method).
    method : str
        ``fixed``, ``desroziers`` or ``innovation``.
    observation_variance : float or None
        The mean stated observation-error variance of the analysed cells the ``innovation``
        method used, (m3 m-3)^2.
    background_variance : ndarray (scales,) or None
        The background-error variance of each scale B states (white-equivalent) that it
        used, (m3 m-3)^2.
    """

    used: np.ndarray
    estimate: np.ndarray | None
    next: np.ndarray
    method: str = "fixed"
    observation_variance: float | None = None
    background_variance: np.ndarray | None = None


def _band_sums(values: np.ndarray, band: np.ndarray, n_bands: int) -> np.ndarray:
    """Sum of ``values`` (one per complex coefficient) over each band."""
    return np.bincount(band, weights=values, minlength=n_bands)


def _squares(pairs: np.ndarray) -> np.ndarray:
    """|c|^2 of each complex coefficient of interleaved (real, imaginary) pairs."""
    p = pairs.reshape(-1, 2)
    return p[:, 0] * p[:, 0] + p[:, 1] * p[:, 1]


def _probes(n: int, probes: int, seed: int):
    """Rademacher vectors of length n (a fixed sequence for a seed)."""
    rng = np.random.default_rng(seed)
    for _ in range(probes):
        yield rng.integers(0, 2, n) * 2.0 - 1.0


def white_noise_energy(transform, n_valid: int, probes: int = WHITE_NOISE_PROBES,
                       seed: int = PROBE_SEED, scale: np.ndarray | None = None) -> np.ndarray:
    """E |(C E D z)_k|^2 for each complex coefficient k, z white with unit variance on the
    ``n_valid`` valid cells and D = diag(``scale``) (1 without): the mean of |(C E D z)_k|^2
    over Rademacher probes z."""
    total = np.zeros(transform.shape[0] // 2)
    for z in _probes(n_valid, probes, seed):
        total += _squares(transform.matvec(z if scale is None else scale * z))
    return total / probes


def _background_sqrt(problem):
    """(B^1/2 as a function of a control-size vector, True when B is diagonal) or (None, True)
    without a background term; from the background term itself (B = D^1/2 C D^1/2, C = U U^T
    for a correlated one), so it needs no control-variable transform."""
    term = next((t for t in problem.cost.terms if t.name == "background"), None)
    if term is None:
        return None, True
    if isinstance(term, CorrelatedBackgroundTerm):
        u = term.correlation.sqrt(term.nlayers)
        return (lambda z: term.std * u.matvec(z)), False
    sd = np.sqrt(term.variance)
    return (lambda z: sd * z), True


def _background_energy(problem, term, band, nb, white_energy) -> np.ndarray | None:
    """The per-band background normaliser ``background_kept`` (module notes), or None."""
    sqrt_b, diagonal = _background_sqrt(problem)
    if sqrt_b is None:
        return None
    out = np.zeros(nb)
    if diagonal:
        sd = sqrt_b(np.ones(problem.background.size))
        for layer, white in zip(term.layers, white_energy):
            k, cells = layer.selection.kept, layer.innovation_cells
            if np.all(sd[cells] == sd[cells][0]):  # exactly its variance times the white one
                out += sd[cells][0] ** 2 * _band_sums(white[k], band[k], nb)
            else:
                e = white_noise_energy(layer.innovation_transform, cells.size, scale=sd[cells])
                out += _band_sums(e[k], band[k], nb)
        return out
    totals = [np.zeros(layer.innovation_transform.shape[0] // 2) for layer in term.layers]
    for z in _probes(problem.background.size, WHITE_NOISE_PROBES, PROBE_SEED + 1):
        dx = sqrt_b(z)
        for layer, total in zip(term.layers, totals):
            total += _squares(layer.innovation_transform.matvec(dx[layer.innovation_cells]))
    for layer, total in zip(term.layers, totals):
        k = layer.selection.kept
        out += _band_sums(total[k] / WHITE_NOISE_PROBES, band[k], nb)
    return out


def image_statistics(problem, xb: np.ndarray, xa: np.ndarray, white_noise: bool = False,
                     background_noise: bool = False) -> ImageStatistics | None:
    """Per-band O-B and O-A statistics of an analysis (module notes); None without JI.

    Parameters
    ----------
    problem : AnalysisProblem
        The analysis problem (its image term, curvelet transform and B).
    xb, xa : ndarray
        Background and analysis control vectors, m3 m-3.
    white_noise : bool
        Also estimate the white-noise normaliser ``white_kept`` (needed by the estimates;
        :data:`WHITE_NOISE_PROBES` transforms per distinct observation mask).
    background_noise : bool
        Also estimate the background normaliser ``background_kept`` (needed by the innovation
        estimate; with a correlated B, :data:`WHITE_NOISE_PROBES` applications of B^1/2 and
        transforms per layer).
    """
    term = next((t for t in problem.cost.terms if t.name == "image"), None)
    curvelet = problem.curvelet
    if term is None or curvelet is None:
        return None
    band = curvelet.coefficient_band
    nb = curvelet.band_sizes.size
    sums = {name: np.zeros(nb) for name in SUMS}
    coefficients = np.zeros(nb, dtype=np.int64)
    kept = np.zeros(nb, dtype=np.int64)
    white = np.zeros(nb) if white_noise or background_noise else None
    energy_cache: dict[bytes, np.ndarray] = {}
    white_energy = []
    for layer in term.layers:
        cells, transform, observed = (layer.innovation_cells, layer.innovation_transform,
                                      layer.innovation_observed)
        d_ob = observed - transform.matvec(xb[cells])
        d_oa = observed - transform.matvec(xa[cells])
        sq_ob, sq_oa = _squares(d_ob), _squares(d_oa)
        cross = (d_ob * d_oa).reshape(-1, 2).sum(axis=1)
        k = layer.selection.kept
        coefficients += curvelet.band_sizes
        kept += np.bincount(band[k], minlength=nb)
        sums["omb_all"] += _band_sums(sq_ob, band, nb)
        sums["oma_all"] += _band_sums(sq_oa, band, nb)
        sums["omb_kept"] += _band_sums(sq_ob[k], band[k], nb)
        sums["oma_kept"] += _band_sums(sq_oa[k], band[k], nb)
        sums["cross_kept"] += _band_sums(cross[k], band[k], nb)
        if white is not None:
            # Layers observed on the same cells share their fill, hence their normaliser.
            key = (cells % problem.grid.n_land).tobytes()
            if key not in energy_cache:
                energy_cache[key] = white_noise_energy(transform, cells.size)
            white_energy.append(energy_cache[key])
            white += _band_sums(energy_cache[key][k], band[k], nb)
    background = (_background_energy(problem, term, band, nb, white_energy)
                  if background_noise else None)
    table = curvelet.band_table
    return ImageStatistics(
        wedges_per_scale=np.asarray(curvelet.wedges_per_scale, dtype=np.int64),
        coefficients=table(coefficients, fill=0), kept=table(kept, fill=0),
        **{name: table(v) for name, v in sums.items()},
        white_kept=None if not white_noise else table(white),
        background_kept=None if background is None else table(background))


def desroziers_estimate(stats: ImageStatistics, bands: str = "scale") -> np.ndarray:
    """The image-error variance per scale (or per band, ``bands = "wedge"``), sum of
    ``cross_kept`` over sum of ``white_kept`` (module notes); NaN for a scale or band without
    kept coefficients."""
    if stats.white_kept is None:
        raise ValueError("desroziers_estimate: the statistics have no white-noise normaliser "
                         "(image_statistics(..., white_noise=True))")
    num, den = stats.pooled("cross_kept", bands), stats.pooled("white_kept", bands)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def background_estimate(stats: ImageStatistics, bands: str = "scale") -> np.ndarray:
    """The background-error variance B states at each scale (or band), white-equivalent: the
    sum of ``background_kept`` over the sum of ``white_kept`` (module notes); NaN where
    empty."""
    if stats.background_kept is None or stats.white_kept is None:
        raise ValueError("background_estimate: the statistics have no normalisers "
                         "(image_statistics(..., background_noise=True))")
    num, den = stats.pooled("background_kept", bands), stats.pooled("white_kept", bands)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def innovation_estimate(stats: ImageStatistics, observation_variance: float,
                        background_variance, bands: str = "scale") -> np.ndarray:
    """The image-error variance per scale (or band) that gives JI the optimal gain for the
    O-B statistics, with the stated observation-error variance and the background-error
    variance per scale (or band) B states (module notes, "Innovation estimate"); +inf where
    the innovations hold no more than the observation error, NaN for a scale or band without
    kept coefficients."""
    if stats.white_kept is None:
        raise ValueError("innovation_estimate: the statistics have no white-noise normaliser "
                         "(image_statistics(..., white_noise=True))")
    num, den = stats.pooled("omb_kept", bands), stats.pooled("white_kept", bands)
    with np.errstate(invalid="ignore", divide="ignore"):
        excess = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan) \
            - observation_variance
        return np.where(excess > 0, background_variance * observation_variance / excess,
                        np.where(np.isnan(excess), np.nan, np.inf))


def cycled_variance(previous: np.ndarray, estimate: np.ndarray, memory: float, floor: float,
                    cap: float) -> np.ndarray:
    """The variances carried to the next analysis (module notes, "Cycling"); a NaN estimate
    keeps the previous value, +inf counts as the cap."""
    previous = np.asarray(previous, dtype=np.float64)
    estimate = np.asarray(estimate, dtype=np.float64)
    target = np.where(np.isnan(estimate), previous, np.clip(estimate, floor, cap))
    return np.clip(memory * previous + (1.0 - memory) * target, floor, cap)


def estimate_image_error(stats: ImageStatistics | None, used: np.ndarray, analysis_settings,
                         observation_variance: float | None = None,
                         background_variance: float | None = None) -> ImageErrorVariance:
    """The variances of an analysis: those used, the estimate and the next (module notes).

    ``observation_variance`` (the mean stated error variance of the analysed cells,
    (m3 m-3)^2) is needed by the ``innovation`` method, and ``background_variance`` (the mean
    of B's diagonal there) where the statistics carry no background normaliser (no JB).
    """
    used = np.asarray(used, dtype=np.float64)
    cfg = analysis_settings
    method = cfg.image_error_method_used
    if method == "fixed" or stats is None:
        return ImageErrorVariance(used=used, estimate=None, next=used.copy(), method="fixed")
    variances = {}
    bands = cfg.image_error_bands
    if method == "desroziers":
        estimate = desroziers_estimate(stats, bands)
    else:
        b = (background_estimate(stats, bands) if stats.background_kept is not None
             else np.full(used.size, float(background_variance)))
        estimate = innovation_estimate(stats, observation_variance, b, bands)
        variances = {"observation_variance": float(observation_variance),
                     "background_variance": b}
    if bands == "wedge":
        # The low-pass band has no orientation to resolve, and its statistics measure the
        # background's large-scale error more than the observation's (module notes): it
        # keeps the variance it has (image_error_variance, the stated one).
        estimate[0] = np.nan
    carried = cycled_variance(used, estimate, cfg.image_error_memory,
                              cfg.image_error_floor_value, cfg.image_error_cap)
    return ImageErrorVariance(used=used, estimate=estimate, method=method, **variances,
                              next=carried)
