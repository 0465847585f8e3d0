"""C: a land-aware correlation operator on the land cells of a grid, from an implicit diffusion.

The background-error covariance of the correlated analysis is B = D^1/2 C D^1/2 (D the
variances); C is modelled, as in NEMOVAR and JEDI/SABER, by m steps of an implicit diffusion
equation normalised to unit variance (Weaver and Courtier 2001, QJRMS 127, 1815; Mirouze and
Weaver 2010, QJRMS 136, 1421). The diffusion runs over the graph of adjacent land cells only,
so nothing correlates across the sea, and uses the true cell sizes in km, so the correlation
length is the same in km everywhere on the grid.

:func:`diffusion_correlation` builds (or takes from the process cache) a
:class:`DiffusionCorrelation`, optionally from a normalisation computed before (its variances,
which :mod:`landia.io.normalisation_cache` keeps on disk under :func:`normalisation_key`); its :meth:`~DiffusionCorrelation.sqrt`,
:meth:`~DiffusionCorrelation.correlation` and :meth:`~DiffusionCorrelation.inverse_sqrt` give
the operators U, C = U U^T and U^-1 as :class:`DiffusionPower` linear operators.
"""

from __future__ import annotations

import hashlib
import time

import numpy as np
import scipy
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from pylops import LinearOperator

from landia.errors import OperatorError
from landia.grid import LatLonGrid

#: Earth radius, km (the mean radius).
EARTH_RADIUS_KM = 6371.0
#: Grids with at most this many land cells get the exact normalisation.
EXACT_CELLS = 5000
#: Random vectors of the estimated normalisation (relative standard error of the variance
#: sqrt(2 / SAMPLES) = 0.088, of the standard deviation about half that).
SAMPLES = 256
#: Seed of the estimator's random vectors: the operator is the same in every process.
SEED = 20010101
#: Floor of cos(latitude) in the diffusion metric: poleward of 75.5 deg cells count as
#: 0.25 dlon R wide (see :func:`diffusion_stiffness`).
MIN_COS_LAT = 0.25
_BLOCK = 16  # right-hand sides per multi-vector solve in the normalisation
#: Version of what :func:`normalisation_key` hashes and of the cached variances' meaning.
NORMALISATION_FORMAT = 1


def normalisation_method(n_land: int, exact_cells: int, samples: int) -> tuple[str, int]:
    """(method, samples) of the normalisation of ``n_land`` cells: ``("exact", 0)`` up to
    ``exact_cells`` land cells, else ``("randomised", samples)``."""
    return ("exact", 0) if n_land <= exact_cells else ("randomised", int(samples))


def normalisation_key(grid: LatLonGrid, length_km: float, steps: int,
                      exact_cells: int | None = None, samples: int = SAMPLES) -> str:
    """A stable name (sha256, hex) of the normalisation of these parameters on ``grid``.

    It hashes everything the variances v_i depend on: the grid's latitudes, longitudes and
    land mask (with their shape), L, m, the method and its number of samples, :data:`SEED`,
    :data:`MIN_COS_LAT`, :data:`NORMALISATION_FORMAT`, and the numpy and scipy versions (the
    random stream and SuperLU's arithmetic: another version may round differently). Equal keys
    mean the same variances to the bit; nothing is read or written here. ``exact_cells`` None:
    :data:`EXACT_CELLS` as it is at the call.
    """
    exact_cells = EXACT_CELLS if exact_cells is None else exact_cells
    method, used = normalisation_method(grid.n_land, int(exact_cells), int(samples))
    h = hashlib.sha256()
    h.update(repr((NORMALISATION_FORMAT, grid.land.shape, float(length_km), int(steps),
                   method, used, SEED, MIN_COS_LAT, np.__version__,
                   scipy.__version__)).encode())
    for a in (np.asarray(grid.lat, np.float64), np.asarray(grid.lon, np.float64),
              np.packbits(grid.land)):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def _edges_deg(c: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Cell edges (degrees) of centres ``c``: midpoints, the ends half a spacing out.
    A single centre takes the spacing of ``other`` (square cells)."""
    if c.size > 1:
        mid = 0.5 * (c[1:] + c[:-1])
        return np.r_[c[0] - (mid[0] - c[0]), mid, c[-1] + (c[-1] - mid[-1])]
    step = abs(other[1] - other[0]) if other.size > 1 else 1.0
    return np.array([c[0] - step / 2, c[0] + step / 2])


def diffusion_stiffness(grid: LatLonGrid) -> tuple[sp.csr_matrix, np.ndarray]:
    """The land graph's diffusion stiffness K (n_land x n_land) and the cell areas (km2).

    Returns
    -------
    K : scipy.sparse.csr_matrix
        :math:`K = \\sum_e g_e (e_i - e_j)(e_i - e_j)^T` over the edges e = (i, j) between
        land cells adjacent in latitude or longitude (and across the date line on a global
        grid), with conductance :math:`g_e` = face length / centre distance:
        :math:`\\Delta y_j / (R \\cos\\varphi_j \\Delta\\lambda)` zonally and
        :math:`R \\cos\\varphi_f \\Delta\\lambda_i / (R \\Delta\\varphi)` meridionally
        (:math:`\\varphi_f` the latitude of the shared face). Sea cells carry no edge.
    area : ndarray (n_land,)
        Spherical cell areas :math:`R^2 \\Delta\\lambda (\\sin\\varphi_n - \\sin\\varphi_s)`.

    Notes
    -----
    :math:`-W^{-1} K` (W the diagonal of areas) is the finite-volume Laplacian in km^-2 with
    zero flux through every coast.

    Every :math:`\\cos\\varphi` of the metric (centres, faces, areas) is floored at
    :data:`MIN_COS_LAT`: near the poles of a global grid cells shrink to 0.06 km (0.25 deg) and
    the entries of A grew to 6e6 (A^2 to 4e13), so the solves lost their accuracy and the
    analysis at 0.25 deg did not converge in 200 iterations. Poleward of 75.5 deg the zonal
    length scale in km is therefore :math:`L \\cos\\varphi / 0.25`; no regional grid below
    75 deg is affected.
    """
    lat, lon, land = grid.lat, grid.lon, grid.land
    ny, nx = land.shape
    ascending = lat.size < 2 or lat[1] > lat[0]
    lat_s = lat if ascending else lat[::-1]
    ye = np.clip(_edges_deg(lat_s, lon), -90.0, 90.0)
    if not ascending:
        ye = ye[::-1]  # ye[j], ye[j + 1] bound row j in the grid's own order
    xe = _edges_deg(lon, lat)
    dlam = np.radians(np.diff(xe))                          # (nx,)
    phi = np.radians(lat)
    dlat = np.radians(np.abs(np.diff(ye)))
    band = np.maximum(np.abs(np.sin(np.radians(ye[1:])) - np.sin(np.radians(ye[:-1]))),
                      MIN_COS_LAT * dlat)                      # (ny,) ~ cos(lat) dlat
    area = EARTH_RADIUS_KM**2 * np.outer(band, dlam)
    dy_row = EARTH_RADIUS_KM * dlat                           # (ny,) face length, zonal
    cos_row = np.maximum(np.cos(phi), MIN_COS_LAT)
    index = np.full(land.shape, -1, dtype=np.int64)
    index[land] = np.arange(int(land.sum()))
    rows, cols, vals = [], [], []

    def add(a, b, g):
        keep = (a >= 0) & (b >= 0)
        rows.append(a[keep]); cols.append(b[keep]); vals.append(np.broadcast_to(g, a.shape)[keep])

    if nx > 1:  # zonal edges, centre distance R cos(phi) dlon
        dlon = np.radians(np.diff(lon))
        g = dy_row[:, None] / (EARTH_RADIUS_KM * cos_row[:, None] * dlon[None, :])
        add(index[:, :-1], index[:, 1:], g)
        if grid.is_global and nx > 2:
            wrap = np.radians(lon[0] + 360.0 - lon[-1])
            add(index[:, -1], index[:, 0], dy_row / (EARTH_RADIUS_KM * cos_row * wrap))
    if ny > 1:  # meridional edges through the face at the shared edge latitude
        face = np.maximum(np.cos(np.radians(ye[1:-1])), MIN_COS_LAT)   # (ny - 1,)
        dist = np.abs(np.diff(phi))                           # centre distance / R
        g = face[:, None] * dlam[None, :] / dist[:, None]
        add(index[:-1, :], index[1:, :], g)
    n = int(land.sum())
    r = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    v = np.concatenate(vals) if vals else np.zeros(0)
    off = sp.coo_matrix((v, (r, c)), shape=(n, n))
    off = (off + off.T).tocsr()
    k = sp.diags(np.asarray(off.sum(axis=1)).ravel()) - off
    return k.tocsr(), area[land]


def diffusion_coefficient(length_km: float, steps: int) -> float:
    """kappa (km2) giving the m-step diffusion kernel the length scale ``length_km``.

    Notes
    -----
    In the continuous limit in two dimensions the kernel of :math:`(I - \\kappa\\nabla^2)^{-m}`
    is the Matern function of smoothness :math:`\\nu = m - 1` and scale
    :math:`\\ell = \\sqrt{\\kappa}`,
    :math:`f(r) = 2^{1-\\nu}\\Gamma(\\nu)^{-1} (r/\\ell)^\\nu K_\\nu(r/\\ell)`, whose Daley
    length scale (:math:`L^2 = -f(0)/f''(0)`, the L of a Gaussian
    :math:`\\exp(-r^2/(2L^2))`) is :math:`L^2 = 2\\kappa(m - 2)`: hence
    :math:`\\kappa = L^2 / (2m - 4)`, which tends to Weaver and Courtier's
    :math:`2m\\kappa = L^2` (the Gaussian limit) as m grows (Mirouze and Weaver 2010).
    """
    if steps < 4 or steps % 2:
        raise OperatorError(f"correlation: the number of diffusion steps m must be even and "
                            f">= 4 (the kernel's length scale needs m > 2), got {steps}")
    if not length_km > 0:
        raise OperatorError(f"correlation: the length scale must be > 0 km, got {length_km}")
    return length_km**2 / (2.0 * steps - 4.0)


class SparseFactor:
    """LU factors of a sparse symmetric positive-definite matrix, with solves by it and by its
    transpose (the exact adjoint of the computed solve).

    Parameters
    ----------
    matrix : scipy.sparse matrix (n, n)
        M, symmetric positive definite (or symmetric with a positive-definite pivot sequence).
    permutation : ndarray of int, optional
        An elimination order p (e.g. :func:`landia.operators.ordering.nested_dissection`):
        :math:`P M P^T` (``M[p][:, p]``) is factorised in its natural order. Default: SuperLU's
        multiple minimum degree on :math:`M + M^T`.

    Notes
    -----
    The matrices here are diagonally dominant M-matrices (or products of them plus a
    diagonal): no pivoting is needed, and a symmetric ordering halves the factors' fill
    (A at 0.25 deg: 14 M entries against 25 M with COLAMD). Minimum degree also beat a
    geometric nested dissection on the land grids (A at 0.25 deg 14.3 M against 24.6 M, at
    0.1 deg 126 M against 194 M; docs/scaling.md, "Factor ordering"). With a permutation,
    :math:`M x = b` is solved as :math:`x = P^T (P M P^T)^{-1} P b`; the permutations are
    exact, so the transpose solve stays the adjoint of the computed solve.
    """

    def __init__(self, matrix: sp.spmatrix, permutation: np.ndarray | None = None) -> None:
        t0 = time.perf_counter()
        m = sp.csc_matrix(matrix)
        self.n = m.shape[0]
        self._perm = None
        spec = "MMD_AT_PLUS_A"
        if permutation is not None:
            perm = np.asarray(permutation, dtype=np.int64)
            if perm.shape != (self.n,) or not np.array_equal(np.sort(perm), np.arange(self.n)):
                raise OperatorError(f"SparseFactor: the permutation must order the {self.n} "
                                    f"unknowns, got shape {perm.shape}")
            self._perm = perm
            m = m[perm][:, perm].tocsc()
            spec = "NATURAL"
        self._lu = spla.splu(m, permc_spec=spec, diag_pivot_thresh=0.0,
                             options={"SymmetricMode": True})
        self.seconds = time.perf_counter() - t0     # factorisation time
        self.nnz = int(self._lu.nnz)   # entries of L and U (not .L/.U: copies of the factors)
        self.mb = self.nnz * 12 / 2**20

    def solve(self, b: np.ndarray, transpose: bool = False) -> np.ndarray:
        """M^{-1} b (or M^{-T} b) for (n,) or (n, r) arrays."""
        b = np.asarray(b, dtype=np.float64)
        trans = "T" if transpose else "N"
        if self._perm is None:
            return self._lu.solve(b, trans=trans)
        y = self._lu.solve(np.ascontiguousarray(b[self._perm]), trans=trans)
        x = np.empty_like(y)
        x[self._perm] = y
        return x


class DiffusionCorrelation:
    """The factorised diffusion operator and its normalisation, on one grid's land cells.

    Parameters
    ----------
    grid : LatLonGrid
        Its land cells are the operator's points (global order).
    length_km : float
        Length scale L (Daley's) of the correlation, km.
    steps : int
        m, the number of implicit diffusion steps, even and >= 4.
    exact_cells : int
        Exact normalisation up to this many land cells, estimated above.
    samples : int
        Random vectors of the estimated normalisation.
    variance : ndarray (n_land,), optional
        The variances :math:`v_i` computed before for the same grid and parameters (same
        :func:`normalisation_key`): finite and > 0. Given, N is :math:`v^{-1/2}` of them and
        neither the normalisation's solves nor A's factorisation run (``factor_mb`` is 0
        until U or C is used).

    Notes
    -----
    With K and the areas W of :func:`diffusion_stiffness`, the symmetrised diffusion operator
    is

    .. math:: A = I + \\kappa\\, W^{-1/2} K W^{-1/2}

    (similar to :math:`I - \\kappa\\nabla^2` through :math:`W^{1/2}`, so that
    :math:`A^{-m}` is symmetric positive definite), factorised once by sparse LU. Then

    .. math:: C = N A^{-m} N, \\qquad U = N A^{-m/2}, \\qquad C = U U^T,

    with N the diagonal that gives C unit variance, :math:`N_{ii} = v_i^{-1/2}`,
    :math:`v_i = (A^{-m})_{ii} = \\|A^{-m/2} e_i\\|^2`. ``exact``: v from the columns of
    :math:`A^{-m/2}` (n solves). ``randomised`` (Weaver and Courtier 2001, section 5):
    :math:`\\hat v_i = \\frac1K \\sum_k ((A^{-m/2} z_k)_i)^2` with K Gaussian vectors z_k; each
    term is :math:`v_i \\chi^2_1`, so :math:`\\hat v_i / v_i` has mean 1 and standard
    deviation :math:`\\sqrt{2/K}` whatever the grid, the kernel or the coast (0.088 for
    K = 256; the standard deviation of C's diagonal is then that, of B's standard deviations
    half of it). Probing with separated impulses, the other usual estimator, needs
    :math:`(5L/\\Delta x)^2` solves and fails where cells shrink towards the poles of a
    global grid (every cell of a polar cap lies within one length scale of the others).
    """

    def __init__(self, grid: LatLonGrid, length_km: float, steps: int = 4,
                 exact_cells: int = EXACT_CELLS, samples: int = SAMPLES,
                 variance: np.ndarray | None = None) -> None:
        t0 = time.perf_counter()
        self.kappa = diffusion_coefficient(float(length_km), int(steps))
        self.length_km = float(length_km)
        self.steps = int(steps)
        self.n = grid.n_land
        if self.n == 0:
            raise OperatorError("correlation: the grid has no land cell")
        stiffness, area = diffusion_stiffness(grid)
        w = sp.diags(1.0 / np.sqrt(area))
        self.matrix = (sp.identity(self.n) + self.kappa * (w @ stiffness @ w)).tocsc()
        self.matrix_t = self.matrix.T.tocsr()
        self.seconds = 0.0       # wall time in the solves and products of the operators
        self._factor: SparseFactor | None = None
        self.factor_mb = 0.0     # size of A's LU factors, once built
        self.method, self.samples = normalisation_method(self.n, int(exact_cells), samples)
        self.variance_given = variance is not None
        if variance is None:
            variance = self._exact_variance() if self.method == "exact" else \
                self._randomised_variance(self.samples)
        else:
            variance = _checked_variance(variance, self.n)
        self.variance = variance
        self.normalisation = 1.0 / np.sqrt(variance)
        self._key = normalisation_key(grid, self.length_km, self.steps, exact_cells, samples)
        self.build_seconds = time.perf_counter() - t0
        # The analysis needs only N and sparse products of A (its preconditioned transform
        # solves with A^{m/2} + diag instead): A's factors are rebuilt when U or C is used.
        self._factor = None

    def cache_key(self) -> str:
        """The :func:`normalisation_key` of this operator's normalisation."""
        return self._key

    @property
    def factor(self) -> "SparseFactor":
        """The LU factors of A (built on first use)."""
        if self._factor is None:
            self._factor = SparseFactor(self.matrix)
            self.factor_mb = self._factor.mb
        return self._factor

    def power(self, x: np.ndarray, p: int, transpose: bool = False) -> np.ndarray:
        """:math:`A^p x` for (n,) or (n, r) arrays (p > 0: sparse products; p < 0: solves with
        the LU factors), or the exact transpose of the computed map with ``transpose``."""
        t0 = time.perf_counter()
        y = np.asarray(x, dtype=np.float64)
        if p < 0:
            for _ in range(-p):
                y = self.factor.solve(y, transpose)
        else:
            m = self.matrix_t if transpose else self.matrix
            for _ in range(p):
                y = m @ y
        self.seconds += time.perf_counter() - t0
        return y

    def shifted_root(self, diagonal: np.ndarray) -> "SparseFactor":
        """The LU factors of :math:`A^{m/2} + \\mathrm{diag}(g)`, ``diagonal`` = g >= 0 (the
        analysis' preconditioner, :mod:`landia.analysis.control`)."""
        root = self.matrix
        for _ in range(self.steps // 2 - 1):
            root = root @ self.matrix
        return SparseFactor((root + sp.diags(np.asarray(diagonal, dtype=np.float64))).tocsc())

    def _exact_variance(self) -> np.ndarray:
        """diag(U0 U0^T), U0 the computed A^{-m/2}: squared norms of the columns of U0^T."""
        half = self.steps // 2
        out = np.empty(self.n)
        for start in range(0, self.n, 256):
            stop = min(self.n, start + 256)
            e = np.zeros((self.n, stop - start))
            e[np.arange(start, stop), np.arange(stop - start)] = 1.0
            out[start:stop] = np.sum(self.power(e, -half, transpose=True) ** 2, axis=0)
        return out

    def _randomised_variance(self, samples: int) -> np.ndarray:
        rng = np.random.default_rng(SEED)
        half = self.steps // 2
        acc = np.zeros(self.n)
        for start in range(0, samples, _BLOCK):
            z = rng.standard_normal((self.n, min(_BLOCK, samples - start)))
            acc += np.sum(self.power(z, -half) ** 2, axis=1)
        return acc / samples

    # -- the operators ----------------------------------------------------------------------
    def sqrt(self, layers: int = 1) -> "DiffusionPower":
        """U = N A^{-m/2} on ``layers`` stacked layers (the control-variable transform)."""
        return DiffusionPower(self, -(self.steps // 2), self.normalisation, None, layers, "U")

    def correlation(self, layers: int = 1) -> LinearOperator:
        """C = U U^T (unit diagonal), the same in every layer."""
        u = self.sqrt(layers)
        return u @ u.H

    def inverse_sqrt(self, layers: int = 1) -> "DiffusionPower":
        """U^{-1} = A^{m/2} N^{-1} (sparse products: no solve)."""
        return DiffusionPower(self, self.steps // 2, None, 1.0 / self.normalisation, layers,
                              "U^-1")

    def inverse(self, layers: int = 1) -> LinearOperator:
        """C^{-1} = U^{-T} U^{-1} = N^{-1} A^m N^{-1} (sparse)."""
        ui = self.inverse_sqrt(layers)
        return ui.H @ ui


def _checked_variance(variance, n: int) -> np.ndarray:
    """``variance`` as float64 (n,), or an OperatorError saying what was expected."""
    v = np.asarray(variance)
    if v.shape != (n,) or not np.issubdtype(v.dtype, np.floating):
        raise OperatorError(f"correlation: the given normalisation variances must be a float "
                            f"array of shape ({n},) (one per land cell), got {v.dtype} "
                            f"{v.shape}")
    v = v.astype(np.float64, copy=False)
    bad = int(np.count_nonzero(~(np.isfinite(v) & (v > 0))))
    if bad:
        raise OperatorError(f"correlation: the given normalisation variances must be finite "
                            f"and > 0, {bad} of {n} are not")
    return v


class DiffusionPower(LinearOperator):
    """:math:`\\mathrm{diag}(l)\\, A^p\\, \\mathrm{diag}(r)` of a :class:`DiffusionCorrelation`,
    applied to each of ``layers`` stacked layers (layer-major vectors of ``layers * n``).

    The adjoint is :math:`\\mathrm{diag}(r)\\, (A^p)^T \\mathrm{diag}(l)` with the transposed
    LU solves, the exact adjoint of the computed map; the layers of a vector are solved
    together (one multi-vector solve).
    """

    def __init__(self, model: DiffusionCorrelation, p: int, left, right, layers: int = 1,
                 name: str = "A") -> None:
        self.model, self.p, self.layers = model, int(p), int(layers)
        self.left = None if left is None else np.asarray(left, dtype=np.float64)[:, None]
        self.right = None if right is None else np.asarray(right, dtype=np.float64)[:, None]
        size = self.layers * model.n
        super().__init__(dtype=np.float64, shape=(size, size), name=name)

    def _apply(self, x, first, second, transpose):
        y = np.asarray(x, dtype=np.float64).reshape(self.layers, self.model.n).T
        if first is not None:
            y = first * y
        y = self.model.power(y, self.p, transpose)
        if second is not None:
            y = second * y
        return np.ascontiguousarray(y.T).ravel()

    def _matvec(self, x):
        return self._apply(x, self.right, self.left, False)

    def _rmatvec(self, y):
        return self._apply(y, self.left, self.right, True)


_CACHE: dict = {}
_CACHE_SIZE = 4


def built_correlation(key: str) -> "DiffusionCorrelation | None":
    """The operator of ``key`` (:func:`normalisation_key`) if this process has built it."""
    return _CACHE.get(key)


def diffusion_correlation(grid: LatLonGrid, length_km: float, steps: int = 4,
                          exact_cells: int | None = None, samples: int = SAMPLES,
                          variance: np.ndarray | None = None) -> DiffusionCorrelation:
    """The :class:`DiffusionCorrelation` of ``grid`` and these parameters, built once per
    process: a cycle analyses the same grid every window, and the factorisation and the
    normalisation are its whole cost (the last few are kept). ``exact_cells`` None:
    :data:`EXACT_CELLS` as it is at the call. ``variance``: the normalisation's variances
    computed before (:class:`DiffusionCorrelation`), used when this process has not built the
    operator yet."""
    exact_cells = EXACT_CELLS if exact_cells is None else int(exact_cells)
    key = normalisation_key(grid, length_km, steps, exact_cells, samples)
    if key not in _CACHE:
        while len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = DiffusionCorrelation(grid, length_km, steps, exact_cells, samples,
                                           variance)
    return _CACHE[key]
