"""Ensemble diagnostics: variances, spread, gross-error check, rank histogram, spread-skill."""

from __future__ import annotations

import numpy as np

from landia.diagnostics.ensemble import (gross_error_mask, innovation_statistics, member_mean,
                                         member_variance, rank_histogram, spread)


def test_mean_and_unbiased_variance():
    x = np.array([[1.0, 2.0], [3.0, 2.0], [5.0, 2.0]])
    assert np.array_equal(member_mean(x), [3.0, 2.0])
    assert np.allclose(member_variance(x), np.var(x, axis=0, ddof=1))
    assert spread(np.array([4.0, 0.0])) == np.sqrt(2.0)
    assert spread(np.zeros(0)) == 0.0


def test_gross_error_check_rejects_beyond_five_sigma():
    ok = gross_error_mask(np.array([0.0, 0.6, 0.49]), np.zeros(3), np.full(3, 0.005),
                          np.full(3, 0.005))
    assert ok.tolist() == [True, False, True]


def test_a_consistent_ensemble_has_a_flat_histogram_and_a_spread_skill_near_one():
    rng = np.random.default_rng(0)
    n, p, sb, so = 10, 20000, 0.03, 0.02
    truth = rng.normal(0.3, 0.05, p)
    centre = truth + rng.normal(0, sb, p)          # the background mean's error
    hx = centre + rng.normal(0, sb, (n, p))         # members spread like that error
    yo = truth + rng.normal(0, so, p)
    stats = innovation_statistics(yo, hx, np.full(p, so**2), np.random.default_rng(1))
    assert 0.9 < stats["spread_skill"] < 1.1
    counts = np.array(stats["rank_histogram"])
    assert counts.sum() == p and counts.size == n + 1
    assert counts.max() / counts.min() < 1.3
    assert abs(stats["innovation_mean"]) < 0.002


def test_an_underdispersed_ensemble_has_a_u_shaped_histogram():
    rng = np.random.default_rng(2)
    hx = rng.normal(0, 0.001, (5, 4000))
    yo = rng.normal(0, 0.05, 4000)
    counts = rank_histogram(yo, hx, np.full(4000, 1e-8), np.random.default_rng(3))
    assert counts[0] > 5 * counts[2] and counts[-1] > 5 * counts[2]
    stats = innovation_statistics(yo, hx, np.full(4000, 1e-8), np.random.default_rng(3))
    assert stats["spread_skill"] < 0.2


def test_no_observation_gives_empty_statistics():
    stats = innovation_statistics(np.zeros(0), np.zeros((4, 0)), np.zeros(0),
                                  np.random.default_rng(0))
    assert stats["spread_skill"] is None and stats["rank_histogram"] == [0] * 5
