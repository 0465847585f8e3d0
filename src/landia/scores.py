"""Scores comparing two soil-moisture images or series over their common valid cells.

Arithmetic only (numpy): the analysis reports its own SCC and RMSE with these, and
:mod:`landia.verification` builds its tables on them.
"""

from __future__ import annotations

import numpy as np


def _valid(a, b, mask, what: str = "fields") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``a``, ``b`` as float arrays of one shape and where both are finite (and ``mask``,
    broadcast from the trailing axes, allows)."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"{what} of different shapes {a.shape} and {b.shape}")
    ok = np.isfinite(a) & np.isfinite(b)
    if mask is not None:
        ok &= np.asarray(mask, dtype=bool)
    return a, b, ok


def _common(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None):
    a, b, ok = _valid(a, b, mask)
    return a[ok], b[ok]


def spatial_correlation(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Spatial correlation coefficient (SCC): Pearson correlation over common valid cells.

    .. math:: r = \\frac{\\sum (a_i - \\bar a)(b_i - \\bar b)}
                       {\\sqrt{\\sum (a_i - \\bar a)^2 \\sum (b_i - \\bar b)^2}}

    NaN when fewer than two common cells or a field is constant there.
    """
    x, y = _common(a, b, mask)
    if x.size < 2:
        return float("nan")
    x = x - x.mean()
    y = y - y.mean()
    den = np.sqrt(np.dot(x, x) * np.dot(y, y))
    return float(np.dot(x, y) / den) if den > 0 else float("nan")


def rmse(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Root-mean-square difference over common valid cells (units of the fields)."""
    x, y = _common(a, b, mask)
    return float(np.sqrt(np.mean((x - y) ** 2))) if x.size else float("nan")


def bias(model: np.ndarray, reference: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean difference, model minus reference, over common valid cells.

    .. math:: b = \\frac{1}{n} \\sum_i (m_i - r_i)

    Units of the fields (m3 m-3 for soil moisture); NaN when there is no common cell.
    """
    x, y = _common(model, reference, mask)
    return float(np.mean(x - y)) if x.size else float("nan")


def ubrmse(model: np.ndarray, reference: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Unbiased RMSE: root-mean-square of the difference anomalies over common valid cells.

    .. math:: \\mathrm{ubRMSE} = \\sqrt{\\frac{1}{n} \\sum_i
              \\left[(m_i - r_i) - b\\right]^2} = \\sqrt{\\mathrm{RMSE}^2 - b^2}

    with :math:`b` the :func:`bias`. Computed as the RMS of the anomalies, which
    never takes the square root of a negative rounding residue. Units of the
    fields; NaN when there is no common cell.
    """
    x, y = _common(model, reference, mask)
    if not x.size:
        return float("nan")
    d = x - y
    d = d - d.mean()
    return float(np.sqrt(np.mean(d * d)))


def count(model: np.ndarray, reference: np.ndarray, mask: np.ndarray | None = None) -> int:
    """Number of cells valid (finite) in both fields and inside ``mask``."""
    x, _ = _common(model, reference, mask)
    return int(x.size)


def all_scores(model: np.ndarray, reference: np.ndarray,
               mask: np.ndarray | None = None) -> dict[str, float]:
    """n, SCC (Pearson r), RMSE, ubRMSE and bias of ``model`` against ``reference``.

    The arrays may be images (one time, one layer: a spatial comparison) or series
    (one cell: a temporal comparison); only the common finite values inside ``mask``
    count. With no common value the scores are NaN and ``n`` is 0 (no exception).

    Returns
    -------
    dict
        ``n`` (int), ``scc`` (1), ``rmse``, ``ubrmse``, ``bias`` (units of the fields).
    """
    x, y = _common(model, reference, mask)
    return {"n": int(x.size), "scc": spatial_correlation(x, y), "rmse": rmse(x, y),
            "ubrmse": ubrmse(x, y), "bias": bias(x, y)}


def temporal_correlation(model: np.ndarray, reference: np.ndarray,
                         mask: np.ndarray | None = None, min_count: int = 3) -> np.ndarray:
    """Pearson correlation across time of each cell: a map.

    Parameters
    ----------
    model, reference : ndarray (ntime, ...)
        Series of images on the same grid; NaN where missing.
    mask : ndarray of bool (...), optional
        Cells to score (e.g. land); others are NaN.
    min_count : int
        Fewest common finite times for a value; cells with fewer are NaN.

    Returns
    -------
    ndarray (...)
        .. math:: r_j = \\frac{\\sum_t (m_{tj} - \\bar m_j)(r_{tj} - \\bar r_j)}
                  {\\sqrt{\\sum_t (m_{tj} - \\bar m_j)^2 \\sum_t (r_{tj} - \\bar r_j)^2}}

        over the times where both are finite; NaN for constant series.
    """
    m, r, ok = _valid(model, reference, mask, "series")
    n = ok.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mm = np.where(ok, m, 0.0).sum(axis=0) / n
        rm = np.where(ok, r, 0.0).sum(axis=0) / n
        dm = np.where(ok, m - mm, 0.0)
        dr = np.where(ok, r - rm, 0.0)
        den = np.sqrt((dm * dm).sum(axis=0) * (dr * dr).sum(axis=0))
        out = (dm * dr).sum(axis=0) / den
    out[(n < max(min_count, 2)) | ~(den > 0)] = np.nan
    return out
