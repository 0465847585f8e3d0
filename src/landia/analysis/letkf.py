r"""The local ensemble transform Kalman filter (LETKF; Hunt, Kostelich and Szunyogh 2007).

Pure numpy/scipy: no MPI, no I/O. The cycle (:mod:`landia.cycling.ensemble_run`) calls it on
every rank for the rank's own land cells, with the observations of the rank's halo
(:mod:`landia.exchange.halo`).

**The analysis at one cell.** With :math:`N` members, background members :math:`x_b^{(i)}` of
the cell's state (the volumetric soil moisture of the analysed layers), their mean
:math:`\bar x_b` and perturbation matrix :math:`X_b` (columns :math:`x_b^{(i)} - \bar x_b`),
the members' model equivalents of the *local* observations :math:`y_b^{(i)} = H x_b^{(i)}`, with
mean :math:`\bar y_b` and perturbations :math:`Y_b` (:math:`p \times N`), the observations
:math:`y_o` and the localised inverse error variances
:math:`\tilde R^{-1} = \mathrm{diag}(\rho_j / r_j)` (:math:`\rho_j` the Gaspari-Cohn weight of
observation :math:`j` at the cell's distance):

.. math::
    A &= (N - 1) I + Y_b^T \tilde R^{-1} Y_b = Q \Lambda Q^T, \\
    \tilde P_a &= A^{-1}, \qquad
    \bar w_a = \tilde P_a Y_b^T \tilde R^{-1} (y_o - \bar y_b), \qquad
    W_a = [(N - 1) \tilde P_a]^{1/2} = Q \sqrt{(N - 1) \Lambda^{-1}}\, Q^T, \\
    x_a^{(i)} &= \bar x_b + X_b (\bar w_a + W_a e_i).

The symmetric square root keeps the analysis perturbations centred and closest to the
background ones (Ott et al. 2004). With every observation at weight one (infinite
localisation) this is the ETKF; its mean is the BLUE with the sample covariance
:math:`P_b = X_b X_b^T / (N - 1)`, and :math:`X_a X_a^T / (N - 1) = (I - K H) P_b` (tested).

**Relaxation** (after the analysis, per cell and state variable, no communication):

* RTPS (Whitaker and Hamill 2012):
  :math:`X_a \leftarrow X_a \left(\alpha \frac{\sigma_b - \sigma_a}{\sigma_a} + 1\right)`,
  :math:`\sigma` the members' standard deviation (:math:`N - 1`);
* RTPP (Zhang et al. 2004): :math:`X_a \leftarrow (1 - \alpha) X_a + \alpha X_b`.

Before the analysis, a multiplicative *prior* inflation :math:`\rho \ge 1` may scale
:math:`X_b` and :math:`Y_b` of a cell with observations by :math:`\sqrt\rho` (PETSc's LETKF
inflation, :math:`A = (N-1) I / \rho + \dots` in its terms); the relaxation then works
towards the inflated perturbations. A cell with no observation in its support keeps its
background members (no inflation, no relaxation).

**Adaptive prior inflation** (Li, Kalnay and Miyoshi 2009; Miyoshi 2011, MWR 139, 1519: the
Gaussian approach, computed with each cell's transform). With the cell's localised
:math:`\tilde R^{-1}`, the departure :math:`d = y_o - \bar y_b` and the uninflated
:math:`Y_b`, Desroziers' :math:`E[d d^T] = \rho H P_b H^T + R` traced against
:math:`\tilde R^{-1}` gives the observed inflation and, from the central limit theorem, its
variance:

.. math::
    \rho^o = \frac{d^T \tilde R^{-1} d - p_w}{t}, \qquad
    v^o = \frac{2}{p_w} \left(\frac{\rho^f t + p_w}{t}\right)^2, \qquad
    t = \frac{\mathrm{tr}(Y_b^T \tilde R^{-1} Y_b)}{N - 1},

with :math:`p_w = \sum_j \rho_j`, the sum of the cell's Gaspari-Cohn weights (not to be taken
for an inflation). The cell's carried inflation
:math:`\rho^f` (the one this analysis used) is updated as a scalar Kalman filter with the
prior variance :math:`v^b = \sigma_b^2`: :math:`\rho^a = \rho^f + v^b (\rho^o - \rho^f) /
(v^b + v^o)`, kept within [1, :data:`MAX_INFLATION`]; the next analysis uses it (persistence).
A cell without observations keeps its value.

**Independent of the number of ranks, bit for bit.** The localisation lists each cell's
observations in ascending position; the caller gives the observations in ascending global
order, so a cell meets the same observations in the same order on any decomposition. Cells
are then batched by their number of local observations :math:`p`, so every cell's arithmetic
(``matmul``, ``eigh`` of a stack of matrices, one matrix at a time) is the same whichever other
cells share its batch.

**Cost.** Per cell :math:`O(p N^2 + \min(p, N)^3)`: the eigenproblem is solved in the
smaller of ensemble and observation space (:func:`transform_weights`; both exact, tested
against each other); all cells of one :math:`p` in one batched call. At 0.25 deg over East
Asia (31,653 cells, 20 members, 40 km, 15 observations per cell on average) the observation
space took a quarter off the time, most of which is LAPACK's per-matrix cost in ``eigh``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from landia.grid import EARTH_RADIUS_KM, great_circle_km

INFLATIONS = ("rtps", "rtpp", "none")
#: Bounds of an adaptive prior inflation: it never deflates, and a cell whose departures the
#: members cannot explain (a bias of the observations) stops at the upper bound.
MIN_INFLATION, MAX_INFLATION = 1.0, 10.0


def gaspari_cohn(r) -> np.ndarray:
    r"""The Gaspari and Cohn (1999, eq. 4.10) fifth-order piecewise rational function.

    Parameters
    ----------
    r : array_like
        Distance over the half-width :math:`c`, :math:`r = d / c` (>= 0).

    Returns
    -------
    ndarray
        :math:`\rho(r)`: 1 at 0, compactly supported on :math:`r < 2`,

        .. math::
            \rho = \begin{cases}
            -\tfrac14 r^5 + \tfrac12 r^4 + \tfrac58 r^3 - \tfrac53 r^2 + 1, & r \le 1, \\
            \tfrac1{12} r^5 - \tfrac12 r^4 + \tfrac58 r^3 + \tfrac53 r^2 - 5 r + 4
            - \tfrac{2}{3 r}, & 1 < r < 2, \\
            0, & r \ge 2.
            \end{cases}
    """
    r = np.abs(np.asarray(r, dtype=float))
    out = np.zeros_like(r)
    near = r <= 1.0
    a = r[near]
    out[near] = (((-0.25 * a + 0.5) * a + 0.625) * a - 5.0 / 3.0) * a * a + 1.0
    mid = (r > 1.0) & (r < 2.0)
    b = r[mid]
    out[mid] = ((((b / 12.0 - 0.5) * b + 0.625) * b + 5.0 / 3.0) * b - 5.0) * b + 4.0 \
        - 2.0 / (3.0 * b)
    return np.maximum(out, 0.0)


def _unit_vectors(lat, lon) -> np.ndarray:
    p, lam = np.radians(np.asarray(lat, float)), np.radians(np.asarray(lon, float))
    return np.column_stack([np.cos(p) * np.cos(lam), np.cos(p) * np.sin(lam), np.sin(p)])


@dataclass(frozen=True)
class Localisation:
    """Which observations each target cell uses, with their weights (CSR).

    Attributes
    ----------
    indptr : ndarray of int64, shape (n_targets + 1,)
        Target ``t`` uses ``indices[indptr[t]:indptr[t + 1]]``.
    indices : ndarray of int64, shape (nnz,)
        Positions in the observation arrays, ascending within each target.
    weights : ndarray, shape (nnz,)
        Localisation weights :math:`\\rho` in (0, 1].
    """

    indptr: np.ndarray
    indices: np.ndarray
    weights: np.ndarray

    @property
    def n_targets(self) -> int:
        return self.indptr.size - 1

    @property
    def counts(self) -> np.ndarray:
        """Number of observations of each target."""
        return np.diff(self.indptr)


def localise(target_lat, target_lon, obs_lat, obs_lon, length_km: float) -> Localisation:
    r"""The observations within :math:`2c` of each target, with Gaspari-Cohn weights.

    Parameters
    ----------
    target_lat, target_lon : array_like, shape (n_targets,)
        Target cell centres, degrees.
    obs_lat, obs_lon : array_like, shape (n_obs,)
        Observation positions, degrees.
    length_km : float
        Half-width :math:`c` of the Gaspari-Cohn function, km (> 0): the weight at great-circle
        distance :math:`d` is :math:`\rho(d / c)`, zero from :math:`d = 2c`. ``inf``: every
        observation at weight 1 (the global ETKF).

    Returns
    -------
    Localisation
        Observations with a weight > 0 only, in ascending position per target.
    """
    tlat, tlon = np.asarray(target_lat, float).ravel(), np.asarray(target_lon, float).ravel()
    olat, olon = np.asarray(obs_lat, float).ravel(), np.asarray(obs_lon, float).ravel()
    nt, no = tlat.size, olat.size
    if not length_km > 0:
        raise ValueError(f"length_km: expected a length > 0 km; got {length_km!r}")
    if np.isinf(length_km):
        return Localisation(indptr=np.arange(nt + 1, dtype=np.int64) * no,
                            indices=np.tile(np.arange(no, dtype=np.int64), nt),
                            weights=np.ones(nt * no))
    if nt == 0 or no == 0:
        return Localisation(np.zeros(nt + 1, np.int64), np.zeros(0, np.int64), np.zeros(0))
    support = 2.0 * float(length_km)
    # Candidates from a k-d tree of unit vectors (chord of the support, slightly widened);
    # the decision is the exact great-circle weight of each pair, the same on every rank.
    chord = 2.0 * np.sin(min(support / EARTH_RADIUS_KM, np.pi) / 2.0) * (1.0 + 1e-9) + 1e-12
    pairs = cKDTree(_unit_vectors(tlat, tlon)).sparse_distance_matrix(
        cKDTree(_unit_vectors(olat, olon)), chord, output_type="ndarray")
    order = np.lexsort((pairs["j"], pairs["i"]))        # by target, then ascending position
    owner = pairs["i"][order].astype(np.int64)
    cand = pairs["j"][order].astype(np.int64)
    rho = gaspari_cohn(great_circle_km(tlat[owner], tlon[owner], olat[cand], olon[cand])
                       / float(length_km))
    keep = rho > 0.0
    kept = np.bincount(owner[keep], minlength=nt)
    indptr = np.concatenate([[0], np.cumsum(kept)]).astype(np.int64)
    return Localisation(indptr=indptr, indices=cand[keep], weights=rho[keep])


@dataclass(frozen=True)
class LetkfResult:
    """An LETKF analysis.

    Attributes
    ----------
    xa : ndarray, shape (N, n_targets, n_vars)
        Analysis members.
    n_obs : ndarray of int, shape (n_targets,)
        Observations used at each target.
    inflation : ndarray (n_targets,) or None
        With ``adaptive_std``: each target's updated prior inflation for the next analysis
        (the given one where the target had no observation); None otherwise.
    """

    xa: np.ndarray
    n_obs: np.ndarray
    inflation: np.ndarray | None = None


def adaptive_inflation(rho_f, d_rinv_d, trace, p_w, std: float) -> np.ndarray:
    r"""The Gaussian update of an adaptive multiplicative inflation (Miyoshi 2011).

    Parameters
    ----------
    rho_f : array_like (m,)
        The inflation each cell's analysis used (the carried one), >= 1.
    d_rinv_d : array_like (m,)
        :math:`d^T \tilde R^{-1} d` of each cell's localised departures (dimensionless).
    trace : array_like (m,)
        :math:`t = \mathrm{tr}(Y_b^T \tilde R^{-1} Y_b) / (N - 1)` with the uninflated
        perturbations.
    p_w : array_like (m,)
        Sum of each cell's localisation weights, > 0.
    std : float
        :math:`\sigma_b`, standard deviation of the carried inflation's prior (> 0).

    Returns
    -------
    ndarray (m,)
        :math:`\rho^a`, within [:data:`MIN_INFLATION`, :data:`MAX_INFLATION`]; ``rho_f``
        where ``trace`` is 0 (no spread at the observations: nothing to estimate).
    """
    rho_f = np.asarray(rho_f, dtype=float)
    trace = np.asarray(trace, dtype=float)
    p_w = np.asarray(p_w, dtype=float)
    ok = trace > 0.0
    safe = np.where(ok, trace, 1.0)
    rho_o = (np.asarray(d_rinv_d, dtype=float) - p_w) / safe
    v_o = 2.0 / p_w * ((rho_f * safe + p_w) / safe) ** 2
    v_b = float(std) ** 2
    rho_a = rho_f + v_b / (v_b + v_o) * (rho_o - rho_f)
    return np.where(ok, np.clip(rho_a, MIN_INFLATION, MAX_INFLATION), rho_f)


def _relax(xa_p: np.ndarray, xb_p: np.ndarray, inflation: str, alpha: float) -> np.ndarray:
    """RTPS/RTPP of the analysis perturbations (N, n, v)."""
    if inflation == "none" or alpha == 0.0:
        return xa_p
    if inflation == "rtpp":
        return (1.0 - alpha) * xa_p + alpha * xb_p
    n = xa_p.shape[0]
    sb = np.sqrt(np.sum(xb_p * xb_p, axis=0) / (n - 1))
    sa = np.sqrt(np.sum(xa_p * xa_p, axis=0) / (n - 1))
    factor = np.ones_like(sa)
    ok = sa > 0.0
    factor[ok] = alpha * (sb[ok] - sa[ok]) / sa[ok] + 1.0
    return xa_p * factor


def transform_weights(s_mat: np.ndarray, s_dep: np.ndarray,
                      space: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    r"""The LETKF's mean weights and transform of a stack of cells with p observations each.

    With :math:`S = \tilde R^{-1/2} Y_b` (p x N) and :math:`a = N - 1`,
    :math:`A = a I + S^T S`, :math:`\bar w = A^{-1} S^T \tilde R^{-1/2} (y_o - \bar y_b)` and
    :math:`W_a = \sqrt{a}\, A^{-1/2}`. Two exact ways, chosen by the smaller eigenproblem:

    * ``"ensemble"`` (p >= N): :math:`A = Q \Lambda Q^T` (N x N);
    * ``"observation"`` (p < N): :math:`S S^T = U \Lambda U^T` (p x p) and
      :math:`T = S^T U`; then :math:`A^{-1} = (I - T\,\mathrm{diag}(h_1)\,T^T) / a` and
      :math:`W_a = I + T\,\mathrm{diag}(h_2)\,T^T` with :math:`h_1 = 1/(a + \lambda)`,
      :math:`h_2 = -1 / (\sqrt{a + \lambda} (\sqrt a + \sqrt{a + \lambda}))` (the
      :math:`\lambda = 0` directions drop out without a division by :math:`\lambda`).

    Parameters
    ----------
    s_mat : ndarray (m, p, N)
        :math:`S` of each cell.
    s_dep : ndarray (m, p)
        :math:`\tilde R^{-1/2} (y_o - \bar y_b)` of each cell.
    space : {"ensemble", "observation"}, optional
        Force one way (tests); default: observation space when p < N.

    Returns
    -------
    wbar : ndarray (m, N)
    wa : ndarray (m, N, N)
    """
    m, p, n = s_mat.shape
    a = n - 1.0
    st = np.swapaxes(s_mat, 1, 2)                       # (m, N, p)
    c = np.matmul(st, s_dep[..., None])[..., 0]         # S^T R^-1/2 d: (m, N)
    if (space or ("observation" if p < n else "ensemble")) == "ensemble":
        lam, q = np.linalg.eigh(np.matmul(st, s_mat) + a * np.eye(n))
        qt = np.swapaxes(q, 1, 2)
        wbar = np.matmul(q / lam[:, None, :], np.matmul(qt, c[..., None]))[..., 0]
        return wbar, np.matmul(q * np.sqrt(a / lam)[:, None, :], qt)
    lam, u = np.linalg.eigh(np.matmul(s_mat, st))       # (m, p), (m, p, p)
    lam = np.maximum(lam, 0.0)
    t = np.matmul(st, u)                                # (m, N, p)
    tt = np.swapaxes(t, 1, 2)
    h1 = 1.0 / (a + lam)
    root = np.sqrt(a + lam)
    h2 = -1.0 / (root * (np.sqrt(a) + root))
    wbar = (c - np.matmul(t, (h1 * np.matmul(tt, c[..., None])[..., 0])[..., None])[..., 0]) / a
    wa = np.matmul(t * h2[:, None, :], tt) + np.eye(n)
    return wbar, wa


def letkf_analysis(xb, yb, yo, r_var, localisation: Localisation, inflation: str = "rtps",
                   inflation_factor: float = 0.0, prior_inflation=1.0,
                   adaptive_std: float | None = None) -> LetkfResult:
    """The LETKF analysis of every target cell (see the module notes for the maths).

    Parameters
    ----------
    xb : array_like, shape (N, n_targets, n_vars)
        Background members at the target cells.
    yb : array_like, shape (N, n_obs)
        The members' model equivalents of the observations, in ascending global order (which
        makes the result independent of how the cells are split between ranks).
    yo : array_like, shape (n_obs,)
        Observations.
    r_var : array_like, shape (n_obs,)
        Observation-error variances (> 0), in the units of ``yo`` squared.
    localisation : Localisation
        Each target's observations and weights (:func:`localise`).
    inflation : {"rtps", "rtpp", "none"}
        Relaxation of the analysis perturbations.
    inflation_factor : float
        Its :math:`\\alpha` in [0, 1].
    prior_inflation : float
        Multiplicative prior inflation :math:`\\rho \\ge 1`: the background perturbations
        (state and observation space) of a cell with observations are scaled by
        :math:`\\sqrt\\rho` before its analysis (PETSc's LETKF inflation, checked against it);
        RTPS/RTPP then relax towards the inflated ones. A cell without observations keeps its
        members (PETSc inflates those too, which grows the spread without bound where nothing
        is observed). An array (n_targets,) gives each target its own factor.
    adaptive_std : float, optional
        Estimate each target's inflation from this analysis' innovations and return the
        update (:attr:`LetkfResult.inflation`; :func:`adaptive_inflation`, see the module
        notes), with this :math:`\\sigma_b` (> 0). None (default): no estimate.

    Returns
    -------
    LetkfResult
    """
    xb = np.asarray(xb, dtype=float)
    yb = np.asarray(yb, dtype=float)
    yo, r_var = np.asarray(yo, float).ravel(), np.asarray(r_var, float).ravel()
    if xb.ndim != 3:
        raise ValueError(f"xb: expected (members, targets, variables); got shape {xb.shape}")
    n, nt, _ = xb.shape
    if n < 2:
        raise ValueError(f"xb: expected at least 2 members; got {n}")
    if yb.ndim != 2 or yb.shape[0] != n or yo.size != yb.shape[1] or r_var.size != yo.size:
        raise ValueError(f"yb {yb.shape}, yo {yo.shape}, r_var {r_var.shape}: expected "
                         f"({n}, n_obs), (n_obs,), (n_obs,)")
    if localisation.n_targets != nt:
        raise ValueError(f"localisation: {localisation.n_targets} targets; xb has {nt}")
    if r_var.size and not np.all(r_var > 0.0):
        raise ValueError("r_var: expected observation-error variances > 0")
    if inflation not in INFLATIONS:
        raise ValueError(f"inflation: expected one of {INFLATIONS}; got {inflation!r}")
    if not 0.0 <= inflation_factor <= 1.0:
        raise ValueError(f"inflation_factor: expected a value in [0, 1]; got {inflation_factor}")
    per_target = np.ndim(prior_inflation) > 0
    rho = np.asarray(prior_inflation, dtype=float)
    if per_target and rho.shape != (nt,):
        raise ValueError(f"prior_inflation: expected a factor or one per target ({nt},); got "
                         f"shape {rho.shape}")
    if not np.all(rho >= 1.0):
        raise ValueError("prior_inflation: expected factors >= 1; got "
                         + (f"a smallest of {np.min(rho)}" if per_target
                            else str(prior_inflation)))
    if adaptive_std is not None and not adaptive_std > 0.0:
        raise ValueError(f"adaptive_std: expected a standard deviation > 0; got {adaptive_std}")
    grow = np.sqrt(rho) if per_target else np.sqrt(float(prior_inflation))
    updated = None
    if adaptive_std is not None:
        updated = rho.copy() if per_target else np.full(nt, float(rho))

    xbar = xb.mean(axis=0)
    xp = xb - xbar                                      # (N, nt, v)
    ybar = yb.mean(axis=0)
    yp = yb - ybar                                      # (N, n_obs)
    dep = yo - ybar
    xa = xb.copy()
    counts = localisation.counts
    for p in np.unique(counts[counts > 0]):
        sel = np.flatnonzero(counts == p)
        pos = localisation.indptr[sel][:, None] + np.arange(p)
        obs = localisation.indices[pos]                 # (m, p)
        root_w = np.sqrt(localisation.weights[pos] / r_var[obs])   # (localised R^-1)^1/2
        y_sel, x_sel = yp[:, obs], xp[:, sel, :]
        if updated is not None:  # the estimate, from the uninflated perturbations
            w_dep = root_w * dep[obs]
            s_raw = y_sel * root_w                      # (N, m, p)
            updated[sel] = adaptive_inflation(
                updated[sel], np.sum(w_dep * w_dep, axis=1),
                np.sum(np.sum(s_raw * s_raw, axis=2), axis=0) / (n - 1.0),
                np.sum(localisation.weights[pos], axis=1), adaptive_std)
        if per_target:                                  # each target's prior inflation
            g = grow[sel]
            if np.any(g != 1.0):
                y_sel, x_sel = g[None, :, None] * y_sel, g[None, :, None] * x_sel
        elif grow != 1.0:                               # prior inflation
            y_sel, x_sel = grow * y_sel, grow * x_sel
        s_mat = np.moveaxis(y_sel, 0, -1) * root_w[..., None]  # S = R~^-1/2 Y: (m, p, N)
        wbar, wa = transform_weights(s_mat, root_w * dep[obs])
        xps = np.moveaxis(x_sel, 0, -1)                 # (m, v, N)
        xa_p = np.moveaxis(np.matmul(xps, wa), -1, 0)   # (N, m, v) analysis perturbations
        mean_inc = np.matmul(xps, wbar[..., None])[..., 0]   # (m, v)
        xa_p = _relax(xa_p, x_sel, inflation, float(inflation_factor))
        xa[:, sel, :] = xbar[sel] + mean_inc + xa_p
    return LetkfResult(xa=xa, n_obs=counts.copy(), inflation=updated)
