"""Scores of two fields or series (landia.scores)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from landia.scores import (all_scores, bias, count, rmse, spatial_correlation,
                           temporal_correlation, ubrmse)


def test_scores_hand_computed():
    m = np.array([1.0, 2.0, 3.0, 4.0, np.nan])
    r = np.array([0.0, 2.0, 2.0, 5.0, 1.0])
    # d = 1, 0, 1, -1: bias 1/4, RMSE^2 3/4, ubRMSE^2 = mean((d - 1/4)^2) = 11/16
    assert bias(m, r) == pytest.approx(0.25)
    assert rmse(m, r) == pytest.approx(math.sqrt(0.75))
    assert ubrmse(m, r) == pytest.approx(math.sqrt(11 / 16))
    assert ubrmse(m, r) ** 2 + bias(m, r) ** 2 == pytest.approx(rmse(m, r) ** 2, rel=1e-14)
    assert count(m, r) == 4
    s = all_scores(m, r, mask=np.array([True, True, True, False, True]))
    assert s["n"] == 3 and s["bias"] == pytest.approx(2 / 3)
    assert s["scc"] == pytest.approx(spatial_correlation([1, 2, 3], [0, 2, 2]))
    # a constant offset: no unbiased error, RMSE = |bias|
    assert ubrmse(r + 0.1, r) == pytest.approx(0.0, abs=1e-15)
    assert rmse(r + 0.1, r) == pytest.approx(0.1)


def test_temporal_correlation_map():
    t = np.arange(6.0)
    m = np.stack([np.full((2, 2), x) for x in t])
    r = m.copy()
    r[:, 0, 1] = -t  # anticorrelated
    r[:, 1, 0] = 5.0  # constant: NaN
    r[:4, 1, 1] = np.nan  # two times only: NaN
    out = temporal_correlation(m, r)
    assert out[0, 0] == pytest.approx(1.0) and out[0, 1] == pytest.approx(-1.0)
    assert np.isnan(out[1, 0]) and np.isnan(out[1, 1])
