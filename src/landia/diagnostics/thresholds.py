"""Threshold diagnostics of the image structure operator (paper section 3.3.2, figure 4).

How much of a soil-moisture image do the top-sigma curvelet coefficients carry?
The image is transformed exactly as the analysis transforms the observed image
(:func:`landia.analysis.analyse`), the coefficients are ranked by modulus, and the
image is rebuilt from a subset of them:

* **cumulative** thresholds sigma keep the top ``ceil(sigma m)`` coefficients (what
  ``curvelet.sigma`` keeps in the analysis); the reconstruction is scored against
  the original on land (SCC, RMSE, error skewness and excess kurtosis);
* **bands** keep the coefficients ranked between two consecutive thresholds
  (e.g. 0-10 %, 10-20 %, ...); band images add up to the original.

For both, the spatial autocorrelation of the reconstruction as a function of the
great-circle distance shows which scales each set of coefficients carries: the
top coefficients the large-scale structure (long correlation lengths), the tail
small-scale noise.

Pure arithmetic: no file is read or written here (see
:mod:`landia.diagnostics.images`, :mod:`landia.diagnostics.tables` and
:mod:`landia.diagnostics.plots`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from landia.errors import InputError
from landia.operators import CurveletTransform, HarmonicEmbedding
from landia.scores import rmse, spatial_correlation

#: Mean Earth radius, km (great-circle distances).
EARTH_RADIUS_KM = 6371.0088

#: Default thresholds (fractions of coefficients kept), as in the paper's figure 4.
DEFAULT_THRESHOLDS = (0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0)


@dataclass
class CurveletImage:
    """An image on land cells with its curvelet coefficients, ranked by modulus.

    Built by :func:`transform_image`. ``coefficients`` are the complex coefficients
    of the embedded image (see there for the two conventions); ``order`` ranks them
    by decreasing modulus (ties by position, as
    :class:`~landia.operators.CoefficientSelection` does). ``offset`` is the constant
    added back after the inverse transform (the mean for ``selection="anomaly"``, 0
    for ``"analysis"``).
    """

    image: np.ndarray           # (ny, nx), NaN off land
    land: np.ndarray            # (ny, nx) bool
    mean: float                 # land mean of the image
    offset: float               # added to every reconstruction (mean or 0)
    curvelet: CurveletTransform
    embedding: HarmonicEmbedding
    coefficients: np.ndarray    # complex (m,)
    order: np.ndarray           # int (m,), indices by decreasing modulus

    @property
    def n_coefficients(self) -> int:
        return int(self.coefficients.size)

    def rank_count(self, sigma: float) -> int:
        """Number of coefficients a threshold sigma keeps: ``ceil(sigma m)`` in [0, m]."""
        if sigma <= 0:
            return 0
        return int(min(self.n_coefficients, max(1, math.ceil(sigma * self.n_coefficients))))

    def reconstruct(self, lo: float, hi: float) -> np.ndarray:
        """Image from the coefficients ranked in ``[ceil(lo m), ceil(hi m))``; NaN off land.

        ``lo = 0`` gives the cumulative top-``hi`` reconstruction, with ``offset`` added.
        Band reconstructions (``lo > 0``) get no offset; the top band plus all other
        bands add up to the image.
        """
        kept = self.order[self.rank_count(lo): self.rank_count(hi)]
        c = np.zeros(self.n_coefficients, dtype=np.complex128)
        c[kept] = self.coefficients[kept]
        ny, nx = self.land.shape
        full = self.curvelet.rmatvec(c.view(np.float64)).reshape(self.curvelet.image_shape)
        out = np.array(full[:ny, :nx], dtype=float)
        if lo <= 0:
            out += self.offset
        out[~self.land] = np.nan
        return out


def transform_image(image: np.ndarray, land: np.ndarray | None = None, scales: int = 0,
                    wedges: int = 3, fill_decay: float = 1.5, fill_sweeps: int = 4,
                    exact_fill_cells: int = 80000, selection: str = "anomaly") -> CurveletImage:
    """Curvelet coefficients of an image, as the analysis computes the observed image's.

    Parameters
    ----------
    image : ndarray (ny, nx)
        Soil moisture, m3 m-3; NaN off land.
    land : ndarray of bool (ny, nx), optional
        Cells to use; default: where ``image`` is finite. Non-finite cells inside it are
        dropped.
    scales, wedges, fill_decay, fill_sweeps, exact_fill_cells
        As the ``[curvelet]`` configuration keys (defaults are the analysis defaults).
    selection : {"anomaly", "analysis"}
        Which coefficients are ranked (see Notes).

    Notes
    -----
    With :math:`y` the land values, :math:`\\bar y` their mean, :math:`E` the screened
    harmonic embedding into the transform rectangle (sea and padding relax to 0, i.e.
    to the mean) and :math:`C` the UDCT:

    * ``"anomaly"`` (default): :math:`c = C E (y - \\bar y)`; a reconstruction is
      :math:`E^{-1}_{\\mathrm{land}} C^T P^T P c + \\bar y`. The mean is exact at
      every sigma and the ranking sees only the spatial structure.
    * ``"analysis"``: :math:`c = C(E(y - \\bar y) + \\bar y)`, exactly the coefficients
      from which the analysis chooses its selection ``P``; the constant lives in the
      low-pass coefficients, and at small sigma (fewer kept coefficients than the
      low-pass band holds) part of the mean is lost.

    Since :math:`C^T C = I` and :math:`E` restricted to land is the identity, keeping
    every coefficient gives back :math:`y` to round-off in both conventions.
    """
    image = np.asarray(image, dtype=float)
    if image.ndim != 2:
        raise InputError(f"threshold diagnostics: expected a 2-D image, got shape {image.shape}")
    valid = np.isfinite(image) if land is None else (np.asarray(land, bool) & np.isfinite(image))
    if valid.sum() < 4:
        raise InputError(f"threshold diagnostics: the image has {int(valid.sum())} valid "
                         "(land, finite) cells; expected at least 4")
    if selection not in ("anomaly", "analysis"):
        raise InputError(f"threshold diagnostics: selection must be 'anomaly' or 'analysis', "
                         f"got {selection!r}")
    curvelet = CurveletTransform.unpadded_for(image.shape, scales, wedges)
    embedding = HarmonicEmbedding(valid, curvelet.image_shape, fill_sweeps, exact_fill_cells,
                                  fill_decay)
    y = image[valid]
    mean = float(np.mean(y))
    offset = mean if selection == "anomaly" else 0.0
    embedded = embedding.matvec(y - mean) + (mean - offset)
    coefficients = curvelet.matvec(embedded).view(np.complex128).copy()
    order = np.argsort(-np.abs(coefficients), kind="stable")
    clean = np.where(valid, image, np.nan)
    return CurveletImage(image=clean, land=valid, mean=mean, offset=offset, curvelet=curvelet,
                         embedding=embedding, coefficients=coefficients, order=order)


# -- correlation versus distance -------------------------------------------------------------

def great_circle_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Haversine distance, km, between points given in degrees (broadcasting)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2) - np.asarray(lon1))
    h = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


@dataclass
class PairSample:
    """Land cells used for the correlation-distance curves and their pairwise bins."""

    cells: np.ndarray      # flat indices of the cells used
    bin_edges: np.ndarray  # km
    pair_i: np.ndarray     # unordered pairs (i < j) within the last edge, indices into cells
    pair_j: np.ndarray
    pair_bin: np.ndarray   # bin of each pair
    subsampled: bool


def pair_sample(lat: np.ndarray, lon: np.ndarray, land: np.ndarray, max_distance_km: float = 3000.0,
                bin_km: float = 150.0, max_cells: int = 4000, seed: int = 0) -> PairSample:
    """All pairs of land cells closer than ``max_distance_km``, binned by distance.

    With more than ``max_cells`` land cells a random subset of ``max_cells`` cells
    (generator seeded with ``seed``) is used, so the cost stays O(max_cells^2).
    """
    if bin_km <= 0 or max_distance_km <= 0:
        raise InputError("threshold diagnostics: distance bins need positive bin width and range")
    land = np.asarray(land, bool)
    cells = np.flatnonzero(land.ravel())
    subsampled = cells.size > max_cells
    if subsampled:
        cells = np.sort(np.random.default_rng(seed).choice(cells, max_cells, replace=False))
    la2, lo2 = np.meshgrid(np.asarray(lat, float), np.asarray(lon, float), indexing="ij")
    la, lo = la2.ravel()[cells], lo2.ravel()[cells]
    edges = np.arange(0.0, max_distance_km + 0.5 * bin_km, bin_km)
    pi, pj, pb = [], [], []
    for i in range(cells.size - 1):
        d = great_circle_km(la[i], lo[i], la[i + 1:], lo[i + 1:])
        near = np.flatnonzero(d < edges[-1])
        if near.size:
            pi.append(np.full(near.size, i, dtype=np.int32))
            pj.append((near + i + 1).astype(np.int32))
            pb.append(np.searchsorted(edges, d[near], side="right").astype(np.int32) - 1)
    cat = lambda parts: np.concatenate(parts) if parts else np.zeros(0, np.int32)  # noqa: E731
    return PairSample(cells=cells, bin_edges=edges, pair_i=cat(pi), pair_j=cat(pj),
                      pair_bin=cat(pb), subsampled=subsampled)


def correlation_by_distance(image: np.ndarray, sample: PairSample) -> tuple[np.ndarray, np.ndarray]:
    """Spatial autocorrelation of an image per distance bin.

    Returns ``(r, n_pairs)``, one value per bin of ``sample.bin_edges``.

    Notes
    -----
    For bin b with the set :math:`\\mathcal{P}_b` of unordered cell pairs (i, j) whose
    great-circle distance lies in :math:`[d_b, d_{b+1})`, the Pearson correlation of
    the values at the two ends, taking each pair in both orders (so both ends share
    the mean :math:`\\mu_b` and variance :math:`s_b^2`):

    .. math:: \\mu_b = \\frac{\\sum (x_i + x_j)}{2 N_b}, \\quad
              s_b^2 = \\frac{\\sum (x_i^2 + x_j^2)}{2 N_b} - \\mu_b^2, \\quad
              r_b = \\frac{\\sum x_i x_j / N_b - \\mu_b^2}{s_b^2}.

    NaN for bins without pairs or with zero variance. Pairs join distinct cells, so
    there is no zero-lag term (r = 1 at distance 0 by definition).
    """
    x = np.asarray(image, float).ravel()[sample.cells]
    x = x - np.nanmean(x)  # shift-invariant; improves the round-off of the sums
    nb = sample.bin_edges.size - 1
    xi, xj = x[sample.pair_i], x[sample.pair_j]
    ok = np.isfinite(xi) & np.isfinite(xj)
    b = sample.pair_bin[ok]
    xi, xj = xi[ok], xj[ok]
    n = np.bincount(b, minlength=nb).astype(float)
    s1 = np.bincount(b, xi + xj, minlength=nb)
    s2 = np.bincount(b, xi * xi + xj * xj, minlength=nb)
    sxy = np.bincount(b, xi * xj, minlength=nb)
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = s1 / (2 * n)
        var = s2 / (2 * n) - mu**2
        r = (sxy / n - mu**2) / var
    r[(n == 0) | ~(var > 1e-30)] = np.nan
    return r[:nb], n[:nb].astype(np.int64)


def correlation_length(r: np.ndarray, bin_edges: np.ndarray, level: float = 1.0 / math.e) -> float:
    """Distance (km) at which a correlation curve first falls below ``level``.

    Linear interpolation between bin centres; starts from r = 1 at distance 0. Returns
    the last bin centre when the curve never falls below ``level`` (a lower bound).
    """
    centres = np.concatenate([[0.0], 0.5 * (bin_edges[:-1] + bin_edges[1:])])
    values = np.concatenate([[1.0], np.asarray(r, float)])
    good = np.isfinite(values)
    centres, values = centres[good], values[good]
    below = np.flatnonzero(values < level)
    if below.size == 0:
        return float(centres[-1])
    k = int(below[0])
    d0, d1, r0, r1 = centres[k - 1], centres[k], values[k - 1], values[k]
    return float(d0 + (r0 - level) * (d1 - d0) / (r0 - r1))


# -- the diagnostics ------------------------------------------------------------------------

@dataclass
class ThresholdScore:
    """Scores of the top-sigma reconstruction against the original, on land cells."""

    sigma: float
    kept: int            # coefficients kept
    scc: float           # spatial correlation with the original
    rmse: float          # m3 m-3
    bias: float          # mean error, m3 m-3
    max_abs_error: float  # m3 m-3
    skewness: float      # of the error (scipy.stats.skew, biased)
    excess_kurtosis: float  # of the error (scipy.stats.kurtosis, Fisher, biased)
    within_002: float    # fraction of land cells with |error| <= 0.02 m3 m-3
    correlation_length_km: float  # e-folding distance of the reconstruction's autocorrelation


@dataclass
class CorrelationCurve:
    """Autocorrelation versus distance of one reconstruction (band or cumulative)."""

    label: str
    lo: float
    hi: float
    r: np.ndarray
    n_pairs: np.ndarray
    e_folding_km: float
    half_km: float       # distance where r first falls below 0.5


@dataclass
class ThresholdDiagnostics:
    """Everything :func:`threshold_diagnostics` computes for one image."""

    name: str
    shape: tuple[int, int]
    n_land: int
    n_coefficients: int
    mean: float
    scores: list[ThresholdScore]
    bin_edges: np.ndarray
    original_curve: CorrelationCurve
    band_curves: list[CorrelationCurve]
    cumulative_curves: list[CorrelationCurve]
    pairs_subsampled: bool
    selection: str = "anomaly"
    reconstructions: dict[float, np.ndarray] = field(default_factory=dict, repr=False)
    errors: dict[float, np.ndarray] = field(default_factory=dict, repr=False)

    def score(self, sigma: float) -> ThresholdScore:
        for s in self.scores:
            if abs(s.sigma - sigma) < 1e-12:
                return s
        raise KeyError(f"sigma {sigma} was not computed; thresholds: "
                       f"{[s.sigma for s in self.scores]}")

    def to_dict(self) -> dict:
        """JSON-ready summary (no images)."""
        curve = lambda c: {"label": c.label, "lo": c.lo, "hi": c.hi,  # noqa: E731
                           "r": [None if not np.isfinite(v) else float(v) for v in c.r],
                           "n_pairs": [int(v) for v in c.n_pairs],
                           "e_folding_km": c.e_folding_km, "half_km": c.half_km}
        return {
            "name": self.name, "shape": list(self.shape), "n_land": self.n_land,
            "n_coefficients": self.n_coefficients, "mean": self.mean,
            "scores": [dict(vars(s)) for s in self.scores],
            "bin_edges_km": [float(v) for v in self.bin_edges],
            "pairs_subsampled": self.pairs_subsampled, "selection": self.selection,
            "original_curve": curve(self.original_curve),
            "band_curves": [curve(c) for c in self.band_curves],
            "cumulative_curves": [curve(c) for c in self.cumulative_curves],
        }


def _curve(label, lo, hi, image, sample) -> CorrelationCurve:
    r, n = correlation_by_distance(image, sample)
    return CorrelationCurve(label=label, lo=lo, hi=hi, r=r, n_pairs=n,
                            e_folding_km=correlation_length(r, sample.bin_edges),
                            half_km=correlation_length(r, sample.bin_edges, 0.5))


def _check_thresholds(thresholds) -> list[float]:
    ts = sorted({float(t) for t in thresholds})
    if not ts or ts[0] <= 0 or ts[-1] > 1:
        raise InputError(f"threshold diagnostics: thresholds must lie in (0, 1], got "
                         f"{list(thresholds)}")
    return ts


def threshold_diagnostics(image: np.ndarray, lat: np.ndarray, lon: np.ndarray,
                          thresholds=DEFAULT_THRESHOLDS, land: np.ndarray | None = None,
                          name: str = "image", max_distance_km: float = 3000.0,
                          bin_km: float = 150.0, max_pair_cells: int = 4000,
                          keep_images: tuple[float, ...] = (0.5,), **curvelet_options
                          ) -> ThresholdDiagnostics:
    """Scores and correlation-distance curves of thresholded reconstructions.

    Parameters
    ----------
    image : ndarray (ny, nx)
        Soil moisture, m3 m-3, NaN off land.
    lat, lon : ndarray (ny,), (nx,)
        Cell centres, degrees (for great-circle distances).
    thresholds : sequence of float in (0, 1]
        Fractions sigma of coefficients kept, largest modulus first. Bands are formed
        between consecutive thresholds, starting at 0 (and ending at 1 when 1 is listed).
    land : ndarray of bool, optional
        Cells to use (default: finite cells of ``image``).
    max_distance_km, bin_km : float
        Distance bins of the correlation curves: ``[0, bin_km), [bin_km, 2 bin_km), ...``
        up to ``max_distance_km``.
    max_pair_cells : int
        Land cells used for the curves (random subset beyond it, seed 0).
    keep_images : tuple of float
        Thresholds whose reconstruction and error images are kept (for maps and
        histograms); the nearest computed threshold is used.
    **curvelet_options
        ``scales``, ``wedges``, ``fill_decay``, ``fill_sweeps``, ``exact_fill_cells`` for
        :func:`transform_image`, and ``selection`` ("anomaly" or "analysis").

    Notes
    -----
    For each sigma, with :math:`\\hat y_\\sigma` the reconstruction from the top
    ``ceil(sigma m)`` coefficients and :math:`e = \\hat y_\\sigma - y` on the N land
    cells: SCC = Pearson correlation of :math:`\\hat y_\\sigma` and :math:`y`,
    RMSE :math:`= \\sqrt{\\overline{e^2}}`, skewness :math:`= m_3 / m_2^{3/2}` and
    excess kurtosis :math:`= m_4 / m_2^2 - 3` with :math:`m_k` the central moments of
    :math:`e` (biased estimators, ``scipy.stats.skew``/``kurtosis``). The correlation
    curves are :func:`correlation_by_distance` of the reconstructions (bands: the
    coefficients ranked between consecutive thresholds; cumulative: the top sigma).
    """
    ts = _check_thresholds(thresholds)
    lat, lon = np.asarray(lat, float), np.asarray(lon, float)
    image = np.asarray(image, float)
    if lat.shape != (image.shape[0],) or lon.shape != (image.shape[1],):
        raise InputError(f"threshold diagnostics: lat {lat.shape} / lon {lon.shape} do not "
                         f"match the image shape {image.shape}")
    ci = transform_image(image, land, **curvelet_options)
    valid = ci.land
    y = image[valid]
    sample = pair_sample(lat, lon, valid, max_distance_km, bin_km, max_pair_cells)
    keep = {min(ts, key=lambda t: abs(t - k)) for k in keep_images}
    scores, cumulative, recs, errs = [], [], {}, {}
    for sigma in ts:
        rec = ci.reconstruct(0.0, sigma)
        err = rec[valid] - y
        curve = _curve(f"top {100 * sigma:g}%", 0.0, sigma, rec, sample)
        cumulative.append(curve)
        const = np.ptp(err) <= 1e-12 * max(1.0, float(np.max(np.abs(y))))
        scores.append(ThresholdScore(
            sigma=sigma, kept=ci.rank_count(sigma),
            scc=spatial_correlation(rec, image, valid), rmse=rmse(rec, image, valid),
            bias=float(np.mean(err)), max_abs_error=float(np.max(np.abs(err))),
            skewness=float("nan") if const else float(stats.skew(err)),
            excess_kurtosis=float("nan") if const else float(stats.kurtosis(err, fisher=True)),
            within_002=float(np.mean(np.abs(err) <= 0.02)),
            correlation_length_km=curve.e_folding_km))
        if sigma in keep:
            recs[sigma] = rec
            errs[sigma] = np.where(valid, rec - image, np.nan)
    bands = []
    edges = [0.0] + ts
    for lo, hi in zip(edges[:-1], edges[1:]):
        rec = ci.reconstruct(lo, hi)
        bands.append(_curve(f"{100 * lo:g}-{100 * hi:g}%", lo, hi, rec, sample))
    return ThresholdDiagnostics(
        name=name, shape=tuple(image.shape), n_land=int(valid.sum()),
        n_coefficients=ci.n_coefficients, mean=ci.mean, scores=scores,
        bin_edges=sample.bin_edges, original_curve=_curve("original", 0.0, 1.0, ci.image, sample),
        band_curves=bands, cumulative_curves=cumulative, pairs_subsampled=sample.subsampled,
        selection=curvelet_options.get("selection", "anomaly"), reconstructions=recs,
        errors=errs)


def scores_table(diag: ThresholdDiagnostics) -> tuple[list[str], list[list]]:
    """Header and rows of the per-threshold score table (for CSV and Markdown)."""
    header = ["image", "sigma", "kept", "scc", "rmse", "bias", "max_abs_error", "skewness",
              "excess_kurtosis", "within_0.02", "correlation_length_km"]
    rows = [[diag.name, s.sigma, s.kept, s.scc, s.rmse, s.bias, s.max_abs_error, s.skewness,
             s.excess_kurtosis, s.within_002, s.correlation_length_km] for s in diag.scores]
    return header, rows


def curves_table(diag: ThresholdDiagnostics) -> tuple[list[str], list[list]]:
    """Header and rows of the correlation-distance curves (one row per curve and bin)."""
    header = ["image", "kind", "label", "lo", "hi", "bin_start_km", "bin_end_km", "r", "n_pairs"]
    rows = []
    e = diag.bin_edges
    for kind, curves in (("original", [diag.original_curve]), ("band", diag.band_curves),
                         ("cumulative", diag.cumulative_curves)):
        for c in curves:
            for b in range(e.size - 1):
                rows.append([diag.name, kind, c.label, c.lo, c.hi, e[b], e[b + 1], c.r[b],
                             int(c.n_pairs[b])])
    return header, rows
