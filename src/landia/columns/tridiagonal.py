"""Many independent tridiagonal systems solved at once (Thomas algorithm)."""

from __future__ import annotations

import numpy as np


def solve_tridiagonal(
    lower: np.ndarray, diag: np.ndarray, upper: np.ndarray, rhs: np.ndarray
) -> np.ndarray:
    """Solve N independent tridiagonal systems of n unknowns, vectorised over the systems.

    Parameters
    ----------
    lower : ndarray, shape (N, n)
        Sub-diagonal: ``lower[:, j]`` multiplies ``x[:, j-1]``; ``lower[:, 0]`` is ignored.
    diag : ndarray, shape (N, n)
        Main diagonal.
    upper : ndarray, shape (N, n)
        Super-diagonal: ``upper[:, j]`` multiplies ``x[:, j+1]``; ``upper[:, -1]`` is ignored.
    rhs : ndarray, shape (N, n)
        Right-hand sides.

    Returns
    -------
    x : ndarray, shape (N, n)
        The solutions; the inputs are not modified.

    Notes
    -----
    For each system (row of the arrays) solves

    .. math:: a_j x_{j-1} + b_j x_j + c_j x_{j+1} = d_j, \\quad j = 0..n-1

    by forward elimination

    .. math:: c'_j = c_j / (b_j - a_j c'_{j-1}), \\quad
              d'_j = (d_j - a_j d'_{j-1}) / (b_j - a_j c'_{j-1})

    and back substitution :math:`x_{n-1} = d'_{n-1}`, :math:`x_j = d'_j - c'_j x_{j+1}`.
    There is no pivoting: the systems must be diagonally dominant (or otherwise safe for
    elimination without pivoting), as the implicit Richards systems of
    :func:`landia.columns.soilwater.soilwater` are. The only Python loop runs over the n
    unknowns; every operation acts on all N systems.
    """
    lower = np.asarray(lower, dtype=float)
    diag = np.asarray(diag, dtype=float)
    upper = np.asarray(upper, dtype=float)
    rhs = np.asarray(rhs, dtype=float)
    shape = rhs.shape
    if rhs.ndim != 2 or any(m.shape != shape for m in (lower, diag, upper)):
        raise ValueError(
            "solve_tridiagonal: lower, diag, upper and rhs must all be 2-D with the same "
            f"shape (N, n); got {lower.shape}, {diag.shape}, {upper.shape}, {rhs.shape}"
        )
    n = shape[1]
    # Work layer-major (n, N) so that each step touches a contiguous slab of N systems.
    a = lower.T
    b = diag.T
    c = upper.T
    d = rhs.T
    cp = np.empty((n, shape[0]))
    dp = np.empty((n, shape[0]))
    denom = b[0].copy()
    cp[0] = c[0] / denom
    dp[0] = d[0] / denom
    for j in range(1, n):
        denom = b[j] - a[j] * cp[j - 1]
        cp[j] = c[j] / denom
        dp[j] = (d[j] - a[j] * dp[j - 1]) / denom
    x = np.empty((n, shape[0]))
    x[-1] = dp[-1]
    for j in range(n - 2, -1, -1):
        x[j] = dp[j] - cp[j] * x[j + 1]
    return np.ascontiguousarray(x.T)
