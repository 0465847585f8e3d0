"""Scores comparing two soil-moisture images over their common valid cells."""

from __future__ import annotations

import numpy as np


def _common(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"fields of different shapes {a.shape} and {b.shape}")
    ok = np.isfinite(a) & np.isfinite(b)
    if mask is not None:
        ok &= np.asarray(mask, dtype=bool)
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
