"""A fill-reducing elimination order for sparse matrices on the cells of a regular grid.

The diffusion matrices of the correlated B (:mod:`landia.operators.correlation`: A, a 5-point
stencil, and :math:`A^{m/2} + \\mathrm{diag}(g)`, a stencil reaching m/2 cells) and the
harmonic fill (:mod:`landia.operators.embedding`, a 5-point torus Laplacian) couple a cell
only to cells within ``reach`` grid steps of it in each direction. For such matrices the
geometric nested dissection of George (1973, SIAM J. Numer. Anal. 10, 345) bounds the LU
factors' fill by :math:`O(N \\log N)` and the work by :math:`O(N^{3/2})`, where a minimum
degree ordering (SuperLU's MMD) does measurably worse on large grids (docs/scaling.md,
"Factor ordering").
"""

from __future__ import annotations

import numpy as np

#: Boxes with at most this many cells are ordered naturally (row-major).
LEAF_CELLS = 64


def nested_dissection(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int],
                      reach: int = 1, periodic: tuple[bool, bool] = (False, False),
                      leaf_cells: int = LEAF_CELLS, leaf_order=None) -> np.ndarray:
    """Geometric nested-dissection order of the cells at (``rows``, ``cols``) of a grid.

    Parameters
    ----------
    rows, cols : ndarray of int, shape (n,)
        Grid row and column of each unknown (e.g. ``np.nonzero(land)``).
    shape : (ny, nx)
        The grid's shape.
    reach : int
        The matrix couples cells at most ``reach`` rows and ``reach`` columns apart (1 for a
        5-point stencil, 2 for its square, m/2 for :math:`A^{m/2}`): separators are ``reach``
        rows or columns wide.
    periodic : (bool, bool)
        Whether the matrix couples across the ends of the rows (axis 0) and of the columns
        (axis 1): the first column 0 with column nx - 1 (a global grid in longitude), etc.
    leaf_cells : int
        Boxes of at most this many cells are not split further.

    Returns
    -------
    perm : ndarray of int64, shape (n,)
        The elimination order: ``perm[k]`` is the unknown eliminated k-th, so that
        ``M[perm][:, perm]`` is the reordered matrix.

    Notes
    -----
    A box of cells is split by the ``reach`` consecutive grid rows (or columns) that hold the
    fewest of its cells among the cuts leaving at least a quarter of them on each side (both
    axes are tried). A separator S disconnects the two halves L and R, so ordering L, then R,
    then S keeps the fill of L and R apart; L and R are ordered recursively. A periodic axis
    is first opened by one separator (the ``reach`` rows or columns with fewest cells),
    eliminated last, and the rest is unwrapped into an ordinary box. Separators and leaves
    keep their row-major order. The result depends only on the cells, never on the values.
    """
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    n = rows.size
    if cols.size != n:
        raise ValueError(f"nested_dissection: rows ({n}) and cols ({cols.size}) differ in size")
    reach = max(1, int(reach))
    coords = [rows.copy(), cols.copy()]
    tail: list[np.ndarray] = []      # the separators that open periodic axes, eliminated last
    keep = np.arange(n, dtype=np.int64)
    for axis in (0, 1):
        size = int(shape[axis])
        if not periodic[axis] or size <= 2 * reach + 1 or keep.size == 0:
            continue
        c = coords[axis][keep]
        counts = np.bincount(c, minlength=size)
        window = sum(np.roll(counts, -k) for k in range(reach))   # cells in [p, p + reach)
        p = int(np.argmin(window))
        shifted = (c - p) % size                                  # opening cut at 0..reach-1
        cut = shifted < reach
        tail.append(keep[cut])
        keep = keep[~cut]
        coords[axis][keep] = shifted[~cut]
    out = np.empty(n, dtype=np.int64)
    filled = _dissect(keep, coords[0], coords[1], reach, max(1, int(leaf_cells)), out, 0,
                      leaf_order)
    for sep in reversed(tail):
        out[filled:filled + sep.size] = sep
        filled += sep.size
    return out


def _best_cut(c: np.ndarray, reach: int) -> tuple[int, int, int]:
    """(separator cells, position, lo) of the best cut of coordinates ``c`` along one axis:
    the ``reach`` lines [lo + p, lo + p + reach) with the fewest cells among the balanced ones."""
    lo = int(c.min())
    extent = int(c.max()) - lo + 1
    if extent < reach + 2:
        return c.size + 1, -1, lo
    counts = np.bincount(c - lo, minlength=extent)
    cum = np.concatenate(([0], np.cumsum(counts)))
    p = np.arange(1, extent - reach)                  # leave at least one line each side
    sep = cum[p + reach] - cum[p]
    left, right = cum[p], c.size - cum[p + reach]
    balanced = np.minimum(left, right) >= c.size // 4
    if not balanced.any():
        balanced = np.minimum(left, right) > 0
        if not balanced.any():
            return c.size + 1, -1, lo
    # fewest separator cells, then the most even split
    score = np.where(balanced, sep * (c.size + 1) + np.abs(left - right), np.iinfo(np.int64).max)
    k = int(np.argmin(score))
    return int(sep[k]), int(p[k]), lo


def _dissect(idx, r_all, c_all, reach, leaf, out, start, leaf_order=None) -> int:
    """Write the order of the cells ``idx`` into ``out[start:]``; return the next free slot."""
    if idx.size <= leaf:
        out[start:start + idx.size] = idx if leaf_order is None else leaf_order(idx)
        return start + idx.size
    r, c = r_all[idx], c_all[idx]
    best = None
    for coord in (r, c):
        sep, p, lo = _best_cut(coord, reach)
        if p >= 0 and (best is None or sep < best[0]):
            best = (sep, p, lo, coord)
    if best is None:                      # too thin to split: natural order
        out[start:start + idx.size] = idx
        return start + idx.size
    _, p, lo, coord = best
    rel = coord - lo
    left, right = rel < p, rel >= p + reach
    start = _dissect(idx[left], r_all, c_all, reach, leaf, out, start, leaf_order)
    start = _dissect(idx[right], r_all, c_all, reach, leaf, out, start, leaf_order)
    sep = idx[~(left | right)]
    out[start:start + sep.size] = sep
    return start + sep.size
