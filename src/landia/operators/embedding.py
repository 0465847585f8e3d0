"""E: embedding of valid-cell values into the full rectangle with a smooth fill.

The curvelet transform needs a complete image, and one NaN turns every
coefficient into NaN; a zero fill of the sea gave coastal errors 800 times those
of a harmonic fill at sigma = 0.1 (science notes, section 4). E therefore fills
every cell that is not valid (sea, missing observation, padding up to the
transform shape) with the discrete harmonic extension of the valid values.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp
from pylops import LinearOperator

from landia.errors import OperatorError
from landia.operators.correlation import SparseFactor


def _torus_adjacency(shape: tuple[int, int]) -> sp.csr_matrix:
    """4-neighbour adjacency W of a rectangle with periodic edges (the transform's torus)."""
    ny, nx = shape
    idx = np.arange(ny * nx).reshape(ny, nx)
    rows, cols = [], []
    if nx > 1:
        right = np.roll(idx, -1, axis=1)
        keep = slice(None) if nx > 2 else (slice(None), slice(0, nx - 1))
        rows.append(idx[keep].ravel()); cols.append(right[keep].ravel())
    if ny > 1:
        down = np.roll(idx, -1, axis=0)
        keep = slice(None) if ny > 2 else (slice(0, ny - 1), slice(None))
        rows.append(idx[keep].ravel()); cols.append(down[keep].ravel())
    r = np.concatenate(rows) if rows else np.zeros(0, int)
    c = np.concatenate(cols) if cols else np.zeros(0, int)
    upper = sp.coo_matrix((np.ones(r.size), (r, c)), shape=(ny * nx,) * 2)
    w = (upper + upper.T).tocsr()
    w.data[:] = 1.0  # a 2-cell periodic side would otherwise count the same edge twice
    return w


def _interp_1d(n_fine: int, n_coarse: int) -> sp.csr_matrix:
    """Linear interpolation, cell-centred, coarse (n_coarse) -> fine (n_fine), clamped."""
    p = (np.arange(n_fine) + 0.5) * n_coarse / n_fine - 0.5
    j0 = np.floor(p).astype(int)
    w1 = p - j0
    j1 = np.clip(j0 + 1, 0, n_coarse - 1)
    j0 = np.clip(j0, 0, n_coarse - 1)
    rows = np.repeat(np.arange(n_fine), 2)
    cols = np.stack([j0, j1], axis=1).ravel()
    vals = np.stack([1.0 - w1, w1], axis=1).ravel()
    return sp.csr_matrix((vals, (rows, cols)), shape=(n_fine, n_coarse))


class _ExactFill:
    """(Screened) harmonic fill by one sparse LU factorisation: u_F = A_FF^{-1} W_FV v_V.

    With A = D + kappa I - W (the graph Laplacian of the torus, screened by kappa on
    the cells to fill), F the cells to fill and V the valid ones, the fill solves
    A_FF u_F = W_FV v_V. A_FF is symmetric positive definite whenever V is not empty
    or kappa > 0, so it is factorised without pivoting in a symmetric minimum-degree order
    (:class:`~landia.operators.correlation.SparseFactor`): at 1 deg global (43,254 sea cells)
    its factors hold 1.5 M entries against 2.7 M with scipy's default COLAMD and partial
    pivoting, and a solve takes half the time (docs/scaling.md, "Factor ordering").
    """

    def __init__(self, valid: np.ndarray, kappa: float = 0.0) -> None:
        self.shape = valid.shape
        flat = valid.ravel()
        self.valid_idx = np.flatnonzero(flat)
        self.fill_idx = np.flatnonzero(~flat)
        self.size = flat.size
        if self.fill_idx.size:
            w = _torus_adjacency(self.shape)
            degree = np.asarray(w.sum(axis=1)).ravel()
            a_ff = (sp.diags(degree[self.fill_idx] + kappa)
                    - w[self.fill_idx][:, self.fill_idx]).tocsc()
            self.w_fv = w[self.fill_idx][:, self.valid_idx].tocsr()
            self.w_vf = self.w_fv.T.tocsr()
            self.lu = SparseFactor(a_ff)

    def forward(self, f: np.ndarray) -> np.ndarray:
        """Full image from a full-size vector whose valid entries carry the data."""
        u = np.zeros(self.size)
        u[self.valid_idx] = f[self.valid_idx]
        if self.fill_idx.size:
            u[self.fill_idx] = self.lu.solve(self.w_fv @ f[self.valid_idx])
        return u

    def adjoint(self, z: np.ndarray) -> np.ndarray:
        """Transpose of :meth:`forward` (the transposed solve with the same factors)."""
        out = np.zeros(self.size)
        out[self.valid_idx] = z[self.valid_idx]
        if self.fill_idx.size:
            out[self.valid_idx] += self.w_vf @ self.lu.solve(z[self.fill_idx], transpose=True)
        return out


def _neighbour_sum(u: np.ndarray) -> np.ndarray:
    """Sum of the 4 torus neighbours of every cell of a 2-D array (symmetric operator)."""
    out = np.empty_like(u)
    out[1:] = u[:-1]
    out[0] = u[-1]
    out[:-1] += u[1:]
    out[-1] += u[0]
    out[:, 1:] += u[:, :-1]
    out[:, 0] += u[:, -1]
    out[:, :-1] += u[:, 1:]
    out[:, -1] += u[:, 0]
    return out


class _PyramidFill:
    """Approximate (screened) harmonic fill for large images: coarse fill, prolong, relax.

    One level of a cascadic multigrid: the valid values are averaged onto a grid
    coarsened by 2 (mean over the valid fine cells of each 2x2 block), filled there
    (recursively, exactly at the coarsest level), interpolated bilinearly back to
    the cells to fill, then relaxed by ``sweeps`` damped Jacobi sweeps of
    :math:`(4 + \\kappa) u_i = \\sum_{j \\sim i} u_j` with the valid cells held fixed.
    Every step is a fixed linear map applied matrix-free (array slicing, separable
    1-D interpolation), and the adjoint applies the transposed steps in reverse
    order: exact to round-off, O(n) time and no stored n x n matrix.
    """

    def __init__(self, valid: np.ndarray, sweeps: int, exact_cells: int, kappa: float = 0.0,
                 omega: float = 0.8) -> None:
        self.shape = valid.shape
        ny, nx = self.shape
        self.size = ny * nx
        self.m_valid = valid.astype(float)
        self.m_fill = 1.0 - self.m_valid
        cy, cx = (ny + 1) // 2, (nx + 1) // 2
        self.coarse_shape = (cy, cx)
        count = self._block_sum(self.m_valid)
        coarse_valid = count > 0
        self.inv_count = np.where(coarse_valid, 1.0 / np.maximum(count, 1.0), 0.0)
        self.interp_y = _interp_1d(ny, cy)
        self.interp_x = _interp_1d(nx, cx)
        # Damped Jacobi on the cells to fill, valid cells fixed:
        #   u <- u + a N(u) - b u,  a = omega m_fill / (4 + kappa),  b = omega m_fill
        # (the torus gives every cell 4 neighbours; N sums them and is symmetric).
        self.jac_a = omega * self.m_fill / (4.0 + kappa)
        self.jac_b = omega * self.m_fill
        self.sweeps = int(sweeps)
        # A coarse cell is twice as wide: the same decay length is half as many cells.
        self.coarse = make_fill(coarse_valid, sweeps, exact_cells, 4.0 * kappa)

    def _block_sum(self, f: np.ndarray) -> np.ndarray:
        ny, nx = self.shape
        cy, cx = self.coarse_shape
        padded = np.zeros((2 * cy, 2 * cx))
        padded[:ny, :nx] = f
        return padded.reshape(cy, 2, cx, 2).sum(axis=(1, 3))

    def _block_spread(self, c: np.ndarray) -> np.ndarray:
        """Transpose of :meth:`_block_sum`: copy each coarse value to its fine cells."""
        ny, nx = self.shape
        return np.repeat(np.repeat(c, 2, axis=0), 2, axis=1)[:ny, :nx]

    def _sweep(self, u: np.ndarray) -> np.ndarray:
        out = _neighbour_sum(u)
        out *= self.jac_a
        out += u
        out -= self.jac_b * u
        return out

    def _sweep_t(self, z: np.ndarray) -> np.ndarray:
        out = _neighbour_sum(self.jac_a * z)
        out += z
        out -= self.jac_b * z
        return out

    def forward(self, f: np.ndarray) -> np.ndarray:
        f = f.reshape(self.shape)
        coarse_in = self.inv_count * self._block_sum(self.m_valid * f)
        uc = self.coarse.forward(coarse_in.ravel()).reshape(self.coarse_shape)
        prolonged = (self.interp_x @ (self.interp_y @ uc).T).T
        u = self.m_valid * f + self.m_fill * prolonged
        for _ in range(self.sweeps):
            u = self._sweep(u)
        return u.ravel()

    def adjoint(self, z: np.ndarray) -> np.ndarray:
        z = z.reshape(self.shape)
        for _ in range(self.sweeps):
            z = self._sweep_t(z)
        zp = self.m_fill * z
        zc = self.interp_y.T @ (self.interp_x.T @ zp.T).T
        cin = self.coarse.adjoint(zc.ravel()).reshape(self.coarse_shape)
        return (self.m_valid * z + self.m_valid * self._block_spread(self.inv_count * cin)).ravel()


def make_fill(valid: np.ndarray, sweeps: int = 4, exact_cells: int = 80000,
              kappa: float = 0.0):
    """Exact fill when at most ``exact_cells`` cells are to be filled (or the image is
    small), else the multilevel approximation; ``kappa`` screens (1 / decay length^2)."""
    n_fill = int(valid.size - valid.sum())
    if n_fill <= exact_cells or min(valid.shape) < 16:
        return _ExactFill(valid, kappa)
    return _PyramidFill(valid, sweeps, exact_cells, kappa)


class HarmonicEmbedding(LinearOperator):
    """Embed the values of valid cells into a full rectangle, filling the rest smoothly.

    The fill is harmonic (``decay = 0``) or screened harmonic: it relaxes from the
    valid values to zero over ``decay`` cells. Applied to anomalies about a mean (as
    the image term does), the screened fill goes smoothly from the coast to the mean.

    Parameters
    ----------
    valid : ndarray of bool, shape (ny, nx)
        Cells whose values are given (land cells with data). At least one.
    out_shape : (int, int), optional
        Rectangle to embed into, at least (ny, nx); the grid sits in its top-left
        corner and the extra rows/columns are filled like sea. Use the curvelet
        transform's ``transform_shape`` so that its padding is smooth too.
    sweeps, exact_cells : int
        Fill method controls (see :func:`make_fill`).
    decay : float
        Screening length in cells (0: pure harmonic fill).

    Notes
    -----
    Input: the vector :math:`v \\in \\mathbb{R}^{n_V}` of valid values in row-major
    order of ``valid``. Output: the image :math:`u = E v` with :math:`u_V = v` and,
    on the other cells F, the discrete harmonic extension

    .. math:: (A u)_F = 0, \\qquad A = D + \\kappa I_F - W, \\quad \\kappa = 1/\\mathrm{decay}^2,

    with W the 4-neighbour adjacency of the rectangle taken as a torus (the curvelet
    transform is periodic, so the fill also removes wrap-around edges). Why screen:
    with a pure harmonic fill one coastal cell sets the values of a whole ocean, so
    the largest eigenvalue of :math:`E^T E` grows with resolution (about 1.6 on the
    1.4 deg paper grid, 300 at 1 deg, 2700 at 0.25 deg, measured) and with it the
    condition number of the image term (blmvm: 19, 93, 219 iterations); a decay of
    2 cells keeps it near 3 at every resolution (18-20 iterations). Small fills
    are solved exactly by sparse LU; beyond ``exact_cells`` unknowns a cascadic
    multigrid (coarse fill, bilinear prolongation, Jacobi relaxation) approximates
    it in O(n) time and memory. Both are fixed linear maps with exact adjoints:

    .. math:: E^T z = z_V + W_{VF} A_{FF}^{-1} z_F \\quad \\text{(exact variant)}.

    No NaN can reach the transform: E ignores the values of non-valid cells.
    """

    def __init__(self, valid: np.ndarray, out_shape: tuple[int, int] | None = None,
                 sweeps: int = 4, exact_cells: int = 80000, decay: float = 0.0,
                 name: str = "E") -> None:
        valid = np.asarray(valid, dtype=bool)
        if valid.ndim != 2:
            raise OperatorError(f"HarmonicEmbedding: valid mask must be 2-D, got {valid.shape}")
        if not valid.any():
            raise OperatorError("HarmonicEmbedding: no valid cell to embed (empty mask)")
        out_shape = valid.shape if out_shape is None else tuple(int(s) for s in out_shape)
        if out_shape[0] < valid.shape[0] or out_shape[1] < valid.shape[1]:
            raise OperatorError(f"HarmonicEmbedding: out_shape {out_shape} smaller than the "
                                f"grid {valid.shape}")
        full = np.zeros(out_shape, dtype=bool)
        full[: valid.shape[0], : valid.shape[1]] = valid
        self.valid = valid
        self.out_shape = out_shape
        self._index = np.flatnonzero(full.ravel())
        if decay < 0:
            raise OperatorError(f"HarmonicEmbedding: decay must be >= 0 cells, got {decay}")
        self.decay = float(decay)
        kappa = 0.0 if decay == 0 else 1.0 / decay**2
        self._fill = make_fill(full, sweeps, exact_cells, kappa)
        self.exact = isinstance(self._fill, _ExactFill)
        n_out = out_shape[0] * out_shape[1]
        self.seconds = 0.0  # wall time spent applying E and E^T
        super().__init__(dtype=np.float64, shape=(n_out, self._index.size),
                         dimsd=out_shape, name=name)

    def _matvec(self, v: np.ndarray) -> np.ndarray:
        t0 = time.perf_counter()
        f = np.zeros(self.shape[0])
        f[self._index] = v
        out = self._fill.forward(f)
        self.seconds += time.perf_counter() - t0
        return out

    def _rmatvec(self, z: np.ndarray) -> np.ndarray:
        t0 = time.perf_counter()
        out = self._fill.adjoint(np.asarray(z, dtype=np.float64).ravel())[self._index]
        self.seconds += time.perf_counter() - t0
        return out
