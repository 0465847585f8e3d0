"""The LETKF core: Gaspari-Cohn, localisation, the dense ETKF and BLUE limits, relaxation,
independence of how the cells are split."""

import numpy as np
import pytest

from landia.analysis.letkf import (
    Localisation,
    gaspari_cohn,
    letkf_analysis,
    localise,
    transform_weights,
)
from landia.grid import great_circle_km


def dense_etkf(xb, hmat, yo, r_var):
    """An ETKF written independently in state space: the mean by the Kalman gain of the sample
    covariance, the perturbations by the symmetric square root of the analysis covariance in
    ensemble space computed with an SVD of R^-1/2 Y."""
    n = xb.shape[0]
    x = xb.T                                   # (state, N)
    xbar = x.mean(axis=1)
    xp = x - xbar[:, None]
    pb = xp @ xp.T / (n - 1)
    r = np.diag(r_var)
    k = pb @ hmat.T @ np.linalg.inv(hmat @ pb @ hmat.T + r)
    xa_mean = xbar + k @ (yo - hmat @ xbar)
    s = (np.diag(1.0 / np.sqrt(r_var)) @ hmat @ xp) / np.sqrt(n - 1)
    u, sig, _ = np.linalg.svd(s.T, full_matrices=True)        # S^T S = U diag(sig^2) U^T
    lam = np.zeros(n)
    lam[:sig.size] = sig ** 2
    t = u @ np.diag(1.0 / np.sqrt(1.0 + lam)) @ u.T
    return (xa_mean[:, None] + xp @ t).T, xa_mean, pb, k


def problem(n=20, m=50, p=30, seed=0):
    rng = np.random.default_rng(seed)
    xb = 0.25 + 0.05 * rng.standard_normal((n, m))
    hmat = np.zeros((p, m))
    hmat[np.arange(p), rng.choice(m, p, replace=False)] = 1.0
    truth = 0.25 + 0.05 * rng.standard_normal(m)
    r_var = rng.uniform(1e-4, 9e-4, p)
    yo = hmat @ truth + np.sqrt(r_var) * rng.standard_normal(p)
    return xb, hmat, yo, r_var


def test_gaspari_cohn_shape():
    r = np.linspace(0, 2.5, 2501)
    rho = gaspari_cohn(r)
    assert rho[0] == 1.0
    assert np.all(rho[r >= 2.0] == 0.0)
    assert np.all(np.diff(rho) <= 1e-15)                     # non-increasing
    # continuous at r = 1 and r = 2, value 5/24 at 1 (Gaspari and Cohn 1999)
    assert gaspari_cohn(1.0) == pytest.approx(5.0 / 24.0, rel=1e-12)
    assert gaspari_cohn(1.0 + 1e-9) == pytest.approx(5.0 / 24.0, rel=1e-7)
    assert gaspari_cohn(2.0 - 1e-6) == pytest.approx(0.0, abs=1e-12)
    # eq. 4.10 by hand at r = 0.5 and r = 1.5
    assert gaspari_cohn(0.5) == pytest.approx(-1 / 128 + 1 / 32 + 5 / 64 - 5 / 12 + 1, rel=1e-14)
    b = 1.5
    assert gaspari_cohn(b) == pytest.approx(b**5 / 12 - b**4 / 2 + 5 * b**3 / 8 + 5 * b**2 / 3
                                            - 5 * b + 4 - 2 / (3 * b), rel=1e-13)


def test_great_circle_known_distances():
    assert great_circle_km(0, 0, 0, 1) == pytest.approx(2 * np.pi * 6371 / 360, rel=1e-12)
    assert great_circle_km(0, 179.5, 0, -179.5) == pytest.approx(2 * np.pi * 6371 / 360,
                                                                 rel=1e-9)
    assert great_circle_km(90, 0, -90, 0) == pytest.approx(np.pi * 6371, rel=1e-12)


def test_localise_matches_brute_force():
    rng = np.random.default_rng(3)
    tlat, tlon = rng.uniform(20, 60, 70), rng.uniform(70, 130, 70)
    olat, olon = rng.uniform(20, 60, 200), rng.uniform(70, 130, 200)
    c = 400.0
    loc = localise(tlat, tlon, olat, olon, c)
    d = great_circle_km(tlat[:, None], tlon[:, None], olat[None, :], olon[None, :])
    rho = gaspari_cohn(d / c)
    for t in range(70):
        idx = loc.indices[loc.indptr[t]:loc.indptr[t + 1]]
        assert np.array_equal(idx, np.flatnonzero(rho[t] > 0))
        assert np.array_equal(loc.weights[loc.indptr[t]:loc.indptr[t + 1]], rho[t, idx])
    everything = localise(tlat, tlon, olat, olon, np.inf)
    assert np.all(everything.counts == 200) and np.all(everything.weights == 1.0)
    with pytest.raises(ValueError, match="length_km"):
        localise(tlat, tlon, olat, olon, 0.0)


def test_global_etkf_equals_dense_etkf():
    """Infinite localisation: LETKF = an independently written dense ETKF, to 1e-10."""
    xb, hmat, yo, r_var = problem()
    n, m = xb.shape
    loc = Localisation(indptr=np.arange(m + 1, dtype=np.int64) * yo.size,
                       indices=np.tile(np.arange(yo.size, dtype=np.int64), m),
                       weights=np.ones(m * yo.size))
    res = letkf_analysis(xb[:, :, None], (hmat @ xb.T).T, yo, r_var, loc, inflation="none")
    xa_dense, mean, pb, k = dense_etkf(xb, hmat, yo, r_var)
    assert np.max(np.abs(res.xa[:, :, 0] - xa_dense)) < 1e-10
    # the mean is the BLUE with the sample covariance; the spread is (I - KH) Pb
    assert np.max(np.abs(res.xa[:, :, 0].mean(axis=0) - mean)) < 1e-10
    xp = res.xa[:, :, 0] - res.xa[:, :, 0].mean(axis=0)
    pa = xp.T @ xp / (n - 1)
    assert np.max(np.abs(pa - (np.eye(m) - k @ hmat) @ pb)) < 1e-12


def test_single_observation_scalar_blue():
    """One state, one observation: the mean and variance of the scalar Kalman filter."""
    rng = np.random.default_rng(5)
    xb = 0.3 + 0.04 * rng.standard_normal((30, 1, 1))
    vb = float(np.var(xb, ddof=1))
    r = 0.02 ** 2
    loc = localise([40.0], [100.0], [40.0], [100.0], 100.0)
    res = letkf_analysis(xb, xb[:, :, 0], [0.35], [r], loc, inflation="none")
    gain = vb / (vb + r)
    assert res.xa.mean() == pytest.approx(xb.mean() + gain * (0.35 - xb.mean()), rel=1e-12)
    assert np.var(res.xa, ddof=1) == pytest.approx((1 - gain) * vb, rel=1e-12)


def test_relaxation():
    xb, hmat, yo, r_var = problem(seed=2)
    m = xb.shape[1]
    lat = np.linspace(30, 50, m)
    loc = localise(lat, np.full(m, 100.0), lat[hmat.argmax(axis=1)], np.full(yo.size, 100.0),
                   300.0)
    yb = (hmat @ xb.T).T
    plain = letkf_analysis(xb[:, :, None], yb, yo, r_var, loc, "none").xa[:, :, 0]
    sb = xb.std(axis=0, ddof=1)
    rtps = letkf_analysis(xb[:, :, None], yb, yo, r_var, loc, "rtps", 1.0).xa[:, :, 0]
    assert np.allclose(rtps.std(axis=0, ddof=1), sb, rtol=1e-12)         # alpha 1: prior spread
    assert np.allclose(rtps.mean(axis=0), plain.mean(axis=0), atol=1e-15)  # mean untouched
    rtpp = letkf_analysis(xb[:, :, None], yb, yo, r_var, loc, "rtpp", 1.0).xa[:, :, 0]
    assert np.allclose(rtpp - rtpp.mean(axis=0), xb - xb.mean(axis=0), atol=1e-15)
    half = letkf_analysis(xb[:, :, None], yb, yo, r_var, loc, "rtps", 0.5).xa[:, :, 0]
    sa = plain.std(axis=0, ddof=1)
    assert np.allclose(half.std(axis=0, ddof=1), 0.5 * sa + 0.5 * sb, rtol=1e-12)


def test_split_targets_bit_identical():
    """Any subset of the cells, with the observations of its halo only, gives the same bits
    (what makes the cycle's LETKF independent of the number of ranks)."""
    rng = np.random.default_rng(9)
    n, m, nv = 12, 300, 3
    lat, lon = rng.uniform(25, 45, m), rng.uniform(90, 120, m)
    xb = 0.3 + 0.05 * rng.standard_normal((n, m, nv))
    observed = np.sort(rng.choice(m, 120, replace=False))
    yb, yo = xb[:, observed, 0], 0.3 + 0.05 * rng.standard_normal(120)
    r_var = np.full(120, 4e-4)
    c = 250.0
    whole = letkf_analysis(xb, yb, yo, r_var, localise(lat, lon, lat[observed],
                                                       lon[observed], c), "rtps", 0.7).xa
    for part in np.array_split(np.arange(m), 3):
        d = great_circle_km(lat[part][:, None], lon[part][:, None], lat[observed][None, :],
                            lon[observed][None, :])
        halo = np.flatnonzero((d < 2 * c * 1.01).any(axis=0))   # ascending global order
        loc = localise(lat[part], lon[part], lat[observed][halo], lon[observed][halo], c)
        sub = letkf_analysis(xb[:, part], yb[:, halo], yo[halo], r_var[halo], loc, "rtps",
                             0.7).xa
        assert np.array_equal(sub, whole[:, part])
    assert not np.array_equal(whole, xb)


def test_cells_without_observations_keep_their_members():
    xb = np.random.default_rng(1).standard_normal((5, 4, 2))
    loc = localise([0, 0, 50, 50], [0, 1, 100, 101], [50.0], [100.0], 100.0)
    res = letkf_analysis(xb, xb[:, 2:3, 0], [0.5], [0.1], loc, "rtps", 0.5)
    assert np.array_equal(res.xa[:, :2], xb[:, :2])
    assert list(res.n_obs) == [0, 0, 1, 1]


@pytest.mark.parametrize("bad, match", [
    (dict(inflation="multiplicative"), "inflation"),
    (dict(inflation_factor=1.5), "inflation_factor"),
    (dict(r_var=[0.0]), "r_var"),
])
def test_bad_arguments(bad, match):
    xb = np.zeros((4, 1, 1)) + np.arange(4)[:, None, None]
    args = dict(xb=xb, yb=xb[:, :, 0], yo=[1.0], r_var=[0.1],
                localisation=localise([0.0], [0.0], [0.0], [0.0], 10.0))
    args.update(bad)
    with pytest.raises(ValueError, match=match):
        letkf_analysis(**args)


@pytest.mark.parametrize("p", [1, 7, 19, 20, 33])
def test_the_two_ways_to_the_weights_agree(p):
    """Ensemble space (N x N eigenproblem) and observation space (p x p) give the same mean
    weights and transform (to round-off), fewer observations than members included."""
    rng = np.random.default_rng(p)
    n = 20
    s_mat = rng.standard_normal((6, p, n)) * rng.uniform(0.1, 3.0, (6, 1, 1))
    s_mat -= s_mat.mean(axis=2, keepdims=True)           # perturbations sum to zero
    s_dep = rng.standard_normal((6, p))
    we, te = transform_weights(s_mat, s_dep, "ensemble")
    wo, to = transform_weights(s_mat, s_dep, "observation")
    assert np.max(np.abs(we - wo)) < 1e-12 * max(1.0, np.max(np.abs(we)))
    assert np.max(np.abs(te - to)) < 1e-12
    # W_a 1 = 1: the analysis perturbations stay centred
    assert np.allclose(to.sum(axis=2), 1.0, atol=1e-12)


def test_prior_inflation_is_the_analysis_of_inflated_anomalies():
    """rho scales the background perturbations of observed cells by sqrt(rho) (state and
    observation space); cells without observations keep their members."""
    rng = np.random.default_rng(4)
    n, m = 10, 40
    lat, lon = np.linspace(30, 50, m), np.full(m, 100.0)
    xb = 0.3 + 0.04 * rng.standard_normal((n, m, 2))
    observed = np.arange(0, 20, 2)                       # the northern half has none near
    yb, yo, r_var = xb[:, observed, 0], 0.3 + 0.03 * rng.standard_normal(10), np.full(10, 4e-4)
    loc = localise(lat, lon, lat[observed], lon[observed], 150.0)
    rho = 1.6
    own = letkf_analysis(xb, yb, yo, r_var, loc, "rtps", 0.5, prior_inflation=rho).xa

    def inflate(a):
        return a.mean(axis=0) + np.sqrt(rho) * (a - a.mean(axis=0))
    ref = letkf_analysis(inflate(xb), inflate(yb), yo, r_var, loc, "rtps", 0.5).xa
    seen = loc.counts > 0
    assert seen.any() and not seen.all()
    assert np.allclose(own[:, seen], ref[:, seen], rtol=0, atol=1e-14)
    assert np.array_equal(own[:, ~seen], xb[:, ~seen])
    with pytest.raises(ValueError, match="prior_inflation"):
        letkf_analysis(xb, yb, yo, r_var, loc, prior_inflation=0.9)
