"""The LETKF's adaptive prior inflation (Miyoshi 2011): the observed inflation recovers a known
one, the Gaussian update by hand, a per-cell inflation equal to the scalar one cell by cell,
the estimate against a dense per-cell reference, and the split of the cells."""

import numpy as np
import pytest

from landia.analysis.letkf import (MAX_INFLATION, MIN_INFLATION, adaptive_inflation,
                                   letkf_analysis, localise)
from landia.grid import great_circle_km


def test_the_observed_inflation_recovers_a_known_one():
    """Departures drawn with E[d d^T] = rho Yb Yb^T / (N - 1) + R give
    (d^T R^-1 d - p) / tr(Yb^T R^-1 Yb / (N - 1)) = rho in the mean (an unbiased estimate),
    within 3 standard errors over 400 draws."""
    rng = np.random.default_rng(5)
    n, p, rho = 16, 60, 2.5
    estimates = []
    for _ in range(400):
        yp = 0.03 * rng.standard_normal((n, p))
        yp -= yp.mean(axis=0)
        r_var = rng.uniform(2e-4, 8e-4, p)
        d = np.sqrt(rho / (n - 1)) * (rng.standard_normal(n) @ yp) \
            + np.sqrt(r_var) * rng.standard_normal(p)
        trace = np.sum(yp * yp / r_var) / (n - 1)
        # a huge prior variance: the update returns the observed estimate itself
        estimates.append(adaptive_inflation(np.array([1.0]), np.array([np.sum(d * d / r_var)]),
                                            np.array([trace]), np.array([float(p)]),
                                            std=1e6)[0])
    est = np.array(estimates)
    assert abs(est.mean() - rho) < 3 * est.std() / np.sqrt(est.size)
    assert est.std() > 0.1  # single estimates are noisy: hence the Gaussian update


def test_the_gaussian_update_by_hand():
    rho_f, dd, t, pw, sb = 1.5, 30.0, 4.0, 10.0, 0.2
    rho_o = (dd - pw) / t                                  # 5.0
    v_o = 2.0 / pw * ((rho_f * t + pw) / t) ** 2           # 0.2 * 4 = 0.8
    expected = rho_f + sb**2 / (sb**2 + v_o) * (rho_o - rho_f)
    got = adaptive_inflation([rho_f], [dd], [t], [pw], sb)
    assert got[0] == pytest.approx(expected, rel=1e-15)
    assert rho_f < got[0] < rho_o
    # bounds: never below 1 (departures smaller than R explains), at most MAX_INFLATION
    assert adaptive_inflation([1.0], [0.0], [4.0], [10.0], 10.0)[0] == MIN_INFLATION
    assert adaptive_inflation([9.0], [1e9], [1e-3], [10.0], 10.0)[0] == MAX_INFLATION
    # no spread at the observations: nothing to estimate, the carried value stays
    assert adaptive_inflation([1.7], [30.0], [0.0], [10.0], 0.2)[0] == 1.7


def cells(seed=9, n=12, m=200, nobs=90):
    rng = np.random.default_rng(seed)
    lat, lon = rng.uniform(25, 45, m), rng.uniform(90, 120, m)
    lat[:5] = 70.0  # five cells far from every observation
    xb = 0.3 + 0.05 * rng.standard_normal((n, m, 3))
    observed = np.sort(5 + rng.choice(m - 5, nobs, replace=False))
    yb = xb[:, observed, 0]
    yo = 0.33 + 0.06 * rng.standard_normal(nobs)
    r_var = rng.uniform(2e-4, 6e-4, nobs)
    return lat, lon, xb, observed, yb, yo, r_var


def test_a_per_cell_inflation_is_the_scalar_one_cell_by_cell():
    lat, lon, xb, observed, yb, yo, r_var = cells()
    loc = localise(lat, lon, lat[observed], lon[observed], 250.0)
    rho = np.random.default_rng(2).uniform(1.0, 3.0, lat.size)
    per_cell = letkf_analysis(xb, yb, yo, r_var, loc, "rtps", 0.7, prior_inflation=rho).xa
    for k in (0, 17, 101, 199):
        one = letkf_analysis(xb, yb, yo, r_var, loc, "rtps", 0.7,
                             prior_inflation=float(rho[k])).xa
        assert np.array_equal(per_cell[:, k], one[:, k])
    # the same value everywhere: the scalar run's bits
    same = letkf_analysis(xb, yb, yo, r_var, loc, "rtps", 0.7,
                          prior_inflation=np.full(lat.size, 1.4)).xa
    assert np.array_equal(same, letkf_analysis(xb, yb, yo, r_var, loc, "rtps", 0.7,
                                               prior_inflation=1.4).xa)


def test_the_estimate_against_a_dense_reference_per_cell():
    """Each cell's update from its own localised departures, written out: d^T R~^-1 d,
    tr(Yb^T R~^-1 Yb)/(N-1) and the sum of the weights; cells without observations keep
    theirs, and the analysis itself used the carried (given) inflation."""
    lat, lon, xb, observed, yb, yo, r_var = cells(seed=3)
    loc = localise(lat, lon, lat[observed], lon[observed], 200.0)
    rho = np.random.default_rng(4).uniform(1.0, 2.0, lat.size)
    res = letkf_analysis(xb, yb, yo, r_var, loc, "rtps", 0.7, prior_inflation=rho,
                         adaptive_std=0.3)
    n = xb.shape[0]
    yp = yb - yb.mean(axis=0)
    dep = yo - yb.mean(axis=0)
    for k in range(lat.size):
        j = loc.indices[loc.indptr[k]:loc.indptr[k + 1]]
        w = loc.weights[loc.indptr[k]:loc.indptr[k + 1]]
        if j.size == 0:
            assert res.inflation[k] == rho[k]
            continue
        dd = float(np.sum(w * dep[j] ** 2 / r_var[j]))
        t = float(np.sum(w[None, :] * yp[:, j] ** 2 / r_var[j][None, :])) / (n - 1)
        expected = adaptive_inflation([rho[k]], [dd], [t], [w.sum()], 0.3)[0]
        assert res.inflation[k] == pytest.approx(expected, rel=1e-12), k
    assert (loc.counts == 0).any() and np.any(res.inflation != rho)
    assert np.array_equal(res.xa, letkf_analysis(xb, yb, yo, r_var, loc, "rtps", 0.7,
                                                 prior_inflation=rho).xa)
    # no estimate asked: none returned
    assert letkf_analysis(xb, yb, yo, r_var, loc, prior_inflation=rho).inflation is None


def test_the_estimate_does_not_depend_on_how_the_cells_are_split():
    lat, lon, xb, observed, yb, yo, r_var = cells(seed=11)
    c = 250.0
    rho = np.full(lat.size, 1.3)
    whole = letkf_analysis(xb, yb, yo, r_var, localise(lat, lon, lat[observed], lon[observed],
                                                       c), prior_inflation=rho,
                           adaptive_std=0.1)
    for part in np.array_split(np.arange(lat.size), 3):
        d = great_circle_km(lat[part][:, None], lon[part][:, None], lat[observed][None, :],
                            lon[observed][None, :])
        halo = np.flatnonzero((d < 2 * c * 1.01).any(axis=0))
        loc = localise(lat[part], lon[part], lat[observed][halo], lon[observed][halo], c)
        sub = letkf_analysis(xb[:, part], yb[:, halo], yo[halo], r_var[halo], loc,
                             prior_inflation=rho[part], adaptive_std=0.1)
        assert np.array_equal(sub.inflation, whole.inflation[part])
        assert np.array_equal(sub.xa, whole.xa[:, part])


@pytest.mark.parametrize("kwargs, match", [
    (dict(prior_inflation=np.full(3, 1.2)), "one per target"),
    (dict(prior_inflation=np.array([1.2, 0.9])), "factors >= 1"),
    (dict(prior_inflation=1.2, adaptive_std=0.0), "adaptive_std"),
])
def test_bad_arguments(kwargs, match):
    xb = np.zeros((4, 2, 1)) + np.arange(4)[:, None, None]
    with pytest.raises(ValueError, match=match):
        letkf_analysis(xb, xb[:, :1, 0], [1.0], [0.1],
                       localise([0.0, 0.0], [0.0, 0.1], [0.0], [0.0], 10.0), **kwargs)
