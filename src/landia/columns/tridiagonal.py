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
    :func:`landia.columns.soilwater.soil_water_step` are. The only Python loop runs over the n
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
    # Work layer-major (n, N), contiguous, so that each step touches one slab of N systems.
    x = solve_tridiagonal_layer_major(
        *(np.array(m.T, order="C") for m in (lower, diag, upper, rhs))
    )
    return np.ascontiguousarray(x.T)


def _back_substitute(cp: np.ndarray, x: np.ndarray, tmp: np.ndarray) -> np.ndarray:
    """Thomas back-substitution in place, layer-major: x_j -= c'_j x_{j+1}, j = n-2 .. 0."""
    for j in range(x.shape[0] - 2, -1, -1):
        np.multiply(cp[j], x[j + 1], out=tmp)
        np.subtract(x[j], tmp, out=x[j])
    return x


def solve_tridiagonal_layer_major(
    lower: np.ndarray, diag: np.ndarray, upper: np.ndarray, rhs: np.ndarray
) -> np.ndarray:
    """As :func:`solve_tridiagonal`, for arrays laid out (n, N): unknown first, system second.

    This is the fast path (each elimination step reads contiguous rows of N values); the
    arrays should be C-contiguous. ``lower[0]`` and ``upper[-1]`` are ignored. ``diag`` and
    ``rhs`` are overwritten: ``diag`` with the pivots, ``rhs`` with the solution, which is
    also returned.
    """
    n = rhs.shape[0]
    cp = np.empty_like(rhs)
    tmp = np.empty_like(rhs[0])
    # Forward elimination: diag[j] becomes the pivot, rhs[j] becomes d'_j, cp[j] is c'_j.
    np.divide(upper[0], diag[0], out=cp[0])
    np.divide(rhs[0], diag[0], out=rhs[0])
    for j in range(1, n):
        np.multiply(lower[j], cp[j - 1], out=tmp)
        np.subtract(diag[j], tmp, out=diag[j])
        np.divide(upper[j], diag[j], out=cp[j])
        np.multiply(lower[j], rhs[j - 1], out=tmp)
        np.subtract(rhs[j], tmp, out=rhs[j])
        np.divide(rhs[j], diag[j], out=rhs[j])
    return _back_substitute(cp, rhs, tmp)


def solve_tridiagonal_negated_lower(
    neg_lower: np.ndarray, diag: np.ndarray, upper: np.ndarray, rhs: np.ndarray
) -> np.ndarray:
    """As :func:`solve_tridiagonal_layer_major`, with the off-diagonals given as (n-1, N).

    ``neg_lower[j]`` is minus the sub-diagonal of row j+1 (:math:`-a_{j+1}`) and ``upper[j]``
    the super-diagonal of row j (:math:`c_j`), j = 0..n-2: the soil-water step has both as
    flux derivatives and need not copy them into (n, N) bands. They are not modified;
    ``diag`` and ``rhs`` are overwritten as there. The arithmetic is that of
    :func:`solve_tridiagonal_layer_major` bit for bit: :math:`b - a c' = b + (-a) c'`
    exactly in floating point, and :math:`c'_{n-1}` (never used) is not formed.
    """
    n = rhs.shape[0]
    cp = np.empty_like(upper)
    tmp = np.empty_like(rhs[0])
    if n > 1:
        np.divide(upper[0], diag[0], out=cp[0])
    np.divide(rhs[0], diag[0], out=rhs[0])
    for j in range(1, n):
        np.multiply(neg_lower[j - 1], cp[j - 1], out=tmp)
        np.add(diag[j], tmp, out=diag[j])
        if j < n - 1:
            np.divide(upper[j], diag[j], out=cp[j])
        np.multiply(neg_lower[j - 1], rhs[j - 1], out=tmp)
        np.add(rhs[j], tmp, out=rhs[j])
        np.divide(rhs[j], diag[j], out=rhs[j])
    return _back_substitute(cp, rhs, tmp)
