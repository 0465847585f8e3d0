r"""PETSc's LETKF (``PetscDA``, PETSc 3.26) as an independent oracle for landia's LETKF.

Three implementations meet here: a dense ETKF/LETKF written in this file from Hunt et al.
(2007, eqs. 20-25: :math:`\tilde P_a = [(N-1) I / \rho + Y^T \tilde R^{-1} Y]^{-1}`,
:math:`\bar w = \tilde P_a Y^T \tilde R^{-1} (y_o - \bar y)`, :math:`W_a = [(N-1) \tilde
P_a]^{1/2}` symmetric), PETSc's C code called through ctypes (:mod:`tests.oracles.petsc_letkf`)
and :func:`landia.analysis.letkf.letkf_analysis`.

**Agreement found** (O(1) members, so the differences are absolute and relative alike):

* PETSc against the dense ETKF, no localisation, 20 members, 50 state, 30 observations,
  dense random linear H: 1.2e-14 (inflation 1), 5e-14 (inflation 1.5); with Gaspari-Cohn
  (also Gaussian, boxcar) on a line, 2 DOFs per vertex, vertices with no observation and
  with fewer observations than members: 8e-15.
* landia against PETSc: no localisation 1.8e-14; Gaspari-Cohn on the equator (where landia's
  great-circle km and PETSc's periodic Euclidean distance are the same distance): 7e-15;
  PETSc's inflation 1.5 against landia on sqrt(1.5)-inflated anomalies: 1.3e-14.
  Asserted to 1e-12 (PETSc against the dense code) and 1e-10 (landia against PETSc): all
  solve the same :math:`N \times N` symmetric eigenproblems in double precision with sums in
  different orders, so they differ by rounding only; the margins allow other BLAS/LAPACK.

**Conventions** (none of them a bug): PETSc scales anomalies by :math:`1/\sqrt{N-1}` and
factors :math:`T = I/\rho + S^T S`, which is Hunt's :math:`(N-1) \tilde P_a^{-1}` divided by
:math:`N-1`, so its weights and square root are Hunt's exactly. Its inflation :math:`\rho` is
multiplicative *prior* inflation in ensemble space; it equals landia's analysis of a
background whose anomalies (state and observation space) are scaled by :math:`\sqrt\rho`
(tested), and landia's ``prior_inflation`` where a cell has observations. PETSc has no
RTPS/RTPP, so the relaxations are checked as PETSc's analysis followed by the textbook RTPS (Whitaker and Hamill 2012) and RTPP (Zhang
et al. 2004) written here. PETSc localises by Euclidean distance (optionally periodic) and
takes the observation operator *on vertices* for the observation positions
(``PetscDALETKFSetLocalizationCoordinates``; the multi-DOF H there is an error), which is why
the landia comparison with localisation uses cells and observations on the equator.
"""

import numpy as np
import pytest
import scipy.sparse as sp

from landia.analysis.letkf import (
    EARTH_RADIUS_KM,
    gaspari_cohn,
    great_circle_km,
    letkf_analysis,
    localise,
)
from tests.oracles.petsc_letkf import available, petsc_letkf

OK, WHY = available()
pytestmark = pytest.mark.skipif(not OK, reason=f"PETSc's LETKF oracle unavailable: {WHY}")

TOL = 1e-10


def hunt_letkf(xb, yb, yo, r_var, weights=None, rho=1.0):
    """Dense LETKF from Hunt et al. (2007), one vertex at a time.

    ``xb`` (N, n_vertices, ndof), ``yb`` (N, p); ``weights`` (n_vertices, p) localisation
    weights (``None``: all 1, the ETKF); ``rho`` multiplicative inflation."""
    n, nv, _ = xb.shape
    xbar, ybar = xb.mean(axis=0), yb.mean(axis=0)
    xp, yp = xb - xbar, (yb - ybar).T                          # (N, nv, ndof), (p, N)
    xa = np.empty_like(xb)
    for v in range(nv):
        rinv = (np.ones(yo.size) if weights is None else weights[v]) / r_var
        c = yp.T * rinv                                        # Y^T R~^-1
        pa = np.linalg.inv((n - 1) / rho * np.eye(n) + c @ yp)
        wbar = pa @ c @ (yo - ybar)
        lam, q = np.linalg.eigh((n - 1) * pa)
        wa = q @ np.diag(np.sqrt(lam)) @ q.T
        xa[:, v, :] = xbar[v] + np.einsum("nd,nm->md", xp[:, v, :], wbar[:, None] + wa)
    return xa


def random_problem(n=20, nv=50, ndof=1, p=30, seed=0):
    rng = np.random.default_rng(seed)
    xb = 1.0 + rng.standard_normal((n, nv, ndof))
    r_var = rng.uniform(0.3, 2.0, p)
    yo = rng.standard_normal(p)
    return rng, xb, yo, r_var


def selection(rows_cols, shape):
    rows, cols = rows_cols
    return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=shape)


@pytest.mark.parametrize("rho", [1.0, 1.5])
def test_petsc_etkf_matches_dense_etkf(rho):
    """No localisation, 20 members, 50 state, 30 observations, a dense random linear H."""
    rng, xb, yo, r_var = random_problem()
    h = rng.standard_normal((30, 50))
    yb = xb[..., 0] @ h.T
    xa = petsc_letkf(xb, sp.csr_matrix(h), yo, r_var, coords=None, inflation=rho)
    ref = hunt_letkf(xb, yb, yo, r_var, rho=rho)
    assert np.abs(ref - xb).max() > 0.5                         # a real update
    assert np.abs(xa - ref).max() < 1e-12


KERNEL_WEIGHTS = {                     # PETSc's kernels of d / radius (letkf_kernels.h)
    "gaspari_cohn": gaspari_cohn,
    "gaussian": lambda r: np.where(r < 2.0, np.exp(-0.5 * r * r), 0.0),
    "boxcar": lambda r: np.where(r < 1.0, 1.0, 0.0),
}


@pytest.mark.parametrize("rho, kernel", [(1.0, "gaspari_cohn"), (1.4, "gaspari_cohn"),
                                         (1.0, "gaussian"), (1.0, "boxcar")])
def test_petsc_localised_letkf_matches_dense_letkf(rho, kernel):
    """Localisation on a line, 2 DOFs per vertex (only DOF 0 observed), vertices with no
    observation and with fewer observations than members."""
    rng, xb, yo, r_var = random_problem(n=10, nv=120, ndof=2, p=80, seed=1)
    x = np.sort(rng.uniform(0.0, 300.0, 120))
    at = rng.choice(np.flatnonzero((x < 120) | (x > 180)), 80, replace=False)   # a gap
    h = selection((np.arange(80), 2 * at), (80, 240))
    radius = 10.0
    weights = KERNEL_WEIGHTS[kernel](np.abs(x[:, None] - x[at][None, :]) / radius)
    counts = (weights > 0).sum(axis=1)
    assert counts.min() == 0 and ((counts > 0) & (counts < 10)).any() and counts.max() >= 10
    xa = petsc_letkf(xb, h, yo, r_var, coords=x, radius=radius, inflation=rho, kernel=kernel)
    ref = hunt_letkf(xb, (h @ xb.reshape(10, -1).T).T, yo, r_var, weights=weights, rho=rho)
    assert np.abs(xa - ref).max() < 1e-12
    # no observation in the support: the background, its anomalies inflated by sqrt(rho)
    free = counts == 0
    xbar = xb.mean(axis=0)
    assert np.allclose(xa[:, free], xbar[free] + np.sqrt(rho) * (xb - xbar)[:, free],
                       rtol=0, atol=1e-13)


def test_binding_yb_route_matches_h_route():
    """Giving PETSc the members' model equivalents (appended to the state) is the same
    analysis as giving it H."""
    rng, xb, yo, r_var = random_problem(n=8, nv=40, ndof=2, p=25, seed=2)
    x = np.sort(rng.uniform(0.0, 100.0, 40))
    at = rng.choice(40, 25, replace=False)
    h = selection((np.arange(25), 2 * at), (25, 80))
    yb = (h @ xb.reshape(8, -1).T).T
    for coords in (None, x):
        via_h = petsc_letkf(xb, h, yo, r_var, coords=coords, radius=15.0)
        via_yb = petsc_letkf(xb, yb, yo, r_var, coords=coords, radius=15.0,
                             obs_coords=x[at])
        assert np.abs(via_h - via_yb).max() < 1e-12


@pytest.mark.parametrize("inflation", ["none", "rtps", "rtpp"])
def test_landia_matches_petsc_without_localisation(inflation):
    """landia's letkf_analysis with infinite localisation (relaxation factor 0) against PETSc's
    global analysis, 2 variables per cell, a random sparse H on the whole state."""
    rng, xb, yo, r_var = random_problem(n=20, nv=50, ndof=2, p=30, seed=3)
    h = sp.random(30, 100, density=0.1, random_state=4, format="csr")
    yb = (h @ xb.reshape(20, -1).T).T
    lat, lon = rng.uniform(-60, 60, 50), rng.uniform(0, 360, 50)
    loc = localise(lat, lon, rng.uniform(-60, 60, 30), rng.uniform(0, 360, 30), np.inf)
    ours = letkf_analysis(xb, yb, yo, r_var, loc, inflation=inflation, inflation_factor=0.0)
    theirs = petsc_letkf(xb, h, yo, r_var, coords=None)
    assert np.abs(theirs - xb).max() > 0.1
    assert np.abs(ours.xa - theirs).max() < TOL


def equator_case(seed=5, n=16, n_cells=72, n_obs=90, length_km=600.0):
    """Cells and observations on the equator, across 0/360 E: there the great-circle distance
    is R |dlon| (lon in radians, folded to [-pi, pi]), a periodic 1-D Euclidean distance."""
    rng, xb, yo, r_var = random_problem(n=n, nv=n_cells, ndof=2, p=n_obs, seed=seed)
    cell_lon = np.sort(rng.uniform(0.0, 360.0, n_cells))
    # half of the observations in a cluster across 0 E, the others anywhere
    obs_lon = np.concatenate([rng.uniform(-10.0, 10.0, n_obs // 2) % 360.0,
                              rng.uniform(0.0, 360.0, n_obs - n_obs // 2)])
    yb = 0.5 * xb[:, rng.integers(0, n_cells, n_obs), 0] + rng.standard_normal((n, n_obs))
    zeros_c, zeros_o = np.zeros(n_cells), np.zeros(n_obs)
    loc = localise(zeros_c, cell_lon, zeros_o, obs_lon, length_km)
    # no pair within rounding of the support's edge (where the two could disagree on 0 / > 0)
    d = great_circle_km(0.0, cell_lon[:, None], 0.0, obs_lon[None, :])
    assert np.abs(d / (2 * length_km) - 1.0).min() > 1e-9
    def km(lon):
        return EARTH_RADIUS_KM * np.radians(lon)
    geometry = {"coords": km(cell_lon), "obs_coords": km(obs_lon), "radius": length_km,
                "periods": [2 * np.pi * EARTH_RADIUS_KM]}
    return xb, yb, yo, r_var, loc, geometry


def test_landia_matches_petsc_with_gaspari_cohn():
    """landia's localise + letkf_analysis against PETSc's Gaspari-Cohn LETKF; the members'
    model equivalents are not a linear function of the state (PETSc gets them as y_b)."""
    xb, yb, yo, r_var, loc, geometry = equator_case()
    counts = loc.counts
    assert counts.min() == 0 and counts.max() > 16                  # gaps and dense spots
    ours = letkf_analysis(xb, yb, yo, r_var, loc, inflation="none")
    theirs = petsc_letkf(xb, yb, yo, r_var, **geometry)
    assert np.abs(theirs - xb).max() > 0.5
    assert np.abs(ours.xa - theirs).max() < TOL


def test_petsc_inflation_is_landia_on_inflated_anomalies():
    """PETSc's multiplicative prior inflation rho = landia's analysis of the background with
    its anomalies (state and observation space) scaled by sqrt(rho)."""
    xb, yb, yo, r_var, loc, geometry = equator_case(seed=6)
    rho = 1.5
    def inflate(a):
        return a.mean(axis=0) + np.sqrt(rho) * (a - a.mean(axis=0))
    ours = letkf_analysis(inflate(xb), inflate(yb), yo, r_var, loc, inflation="none")
    theirs = petsc_letkf(xb, yb, yo, r_var, inflation=rho, **geometry)
    assert np.abs(ours.xa - theirs).max() < TOL
    # ... and landia's own prior inflation, where a cell has observations (PETSc also
    # inflates the cells without any; landia keeps their members)
    own = letkf_analysis(xb, yb, yo, r_var, loc, inflation="none", prior_inflation=rho)
    seen = loc.counts > 0
    assert seen.any()
    assert np.abs(own.xa[:, seen] - theirs[:, seen]).max() < TOL
    assert np.array_equal(own.xa[:, ~seen], xb[:, ~seen])


@pytest.mark.parametrize("inflation", ["rtps", "rtpp"])
def test_landia_relaxation_on_petsc_analysis(inflation):
    """landia's RTPS/RTPP against PETSc's analysis relaxed by the textbook formulae."""
    xb, yb, yo, r_var, loc, geometry = equator_case(seed=7)
    alpha = 0.6
    ours = letkf_analysis(xb, yb, yo, r_var, loc, inflation=inflation, inflation_factor=alpha)
    xa = petsc_letkf(xb, yb, yo, r_var, **geometry)
    n = xb.shape[0]
    xa_mean, xb_p = xa.mean(axis=0), xb - xb.mean(axis=0)
    xa_p = xa - xa_mean
    if inflation == "rtpp":            # Zhang et al. (2004)
        relaxed = (1 - alpha) * xa_p + alpha * xb_p
    else:                              # Whitaker and Hamill (2012)
        sb, sa = xb_p.std(axis=0, ddof=1), xa_p.std(axis=0, ddof=1)
        relaxed = xa_p * (1 + alpha * (sb - sa) / sa)
    assert n == 16
    assert np.abs(ours.xa - (xa_mean + relaxed)).max() < TOL
