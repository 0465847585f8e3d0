"""The increment below the analysed layers (``analysis.vertical_length_m``): its weights are
the conditional mean of an exponential vertical correlation (checked against the dense
Gaussian regression), and the analysed layers are left alone; ``vertical_carry = "anomaly"``
carries the deepest analysed layer's increment less its land mean."""

from __future__ import annotations

import numpy as np
import pytest

from landia.analysis.vertical import extend_increment, land_mean, vertical_weights
from landia.grid import colm_node_depths

Z = colm_node_depths()


def test_the_weights_decay_with_depth_below_the_deepest_analysed_layer():
    w = vertical_weights(Z, 3, 0.1)
    assert w.shape == (Z.size - 3,)
    np.testing.assert_allclose(w, np.exp(-(Z[3:] - Z[2]) / 0.1), rtol=0, atol=0)
    assert np.all((w > 0) & (w < 1)) and np.all(np.diff(w) < 0)
    assert np.all(vertical_weights(Z, 3, 0.05) < w)  # a shorter length reaches less deep


@pytest.mark.parametrize("analysed", [1, 2, 3, 5])
def test_the_weights_are_the_conditional_mean_of_an_exponential_correlation(analysed):
    """x ~ N(0, s2 exp(-|z_i - z_k| / L)) over the 10 CoLM nodes: E[x_below | x_top] =
    S_below,top S_top,top^-1 x_top equals the weights times the deepest analysed value
    (Markov), for any values of the analysed layers."""
    length, s2 = 0.08, 0.0025
    cov = s2 * np.exp(-np.abs(Z[:, None] - Z[None, :]) / length)
    top = np.random.default_rng(analysed).normal(0.0, 0.05, analysed)
    dense = cov[analysed:, :analysed] @ np.linalg.solve(cov[:analysed, :analysed], top)
    np.testing.assert_allclose(dense, vertical_weights(Z, analysed, length) * top[-1],
                               rtol=1e-10, atol=1e-15)


def test_the_analysed_layers_keep_their_increment_and_nan_means_no_change_below():
    inc = np.array([[0.01, 0.02, 0.03], [-0.02, np.nan, -0.01], [0.0, 0.0, np.nan]])
    out = extend_increment(inc, Z, 0.1)
    assert out.shape == (3, Z.size)
    assert np.array_equal(out[:, :3], inc, equal_nan=True)
    np.testing.assert_allclose(out[0, 3:], 0.03 * vertical_weights(Z, 3, 0.1), rtol=1e-15)
    assert np.all(out[1, 3:] < 0) and np.all(np.isnan(out[2, 3:]))
    # 0 (the default) and an analysis of every layer leave the increment as it is
    assert np.array_equal(extend_increment(inc, Z, 0.0), inc, equal_nan=True)
    full = np.ones((2, Z.size))
    assert np.array_equal(extend_increment(full, Z, 0.1), full)


def test_the_anomaly_is_carried_below_and_the_analysed_layers_keep_their_own():
    rng = np.random.default_rng(5)
    inc = rng.normal(0.02, 0.01, (50, 3))
    inc[7, 2] = np.nan
    mean = land_mean(inc[:, 2])
    assert mean == float(np.mean(np.delete(inc[:, 2], 7)))  # the finite values only
    out = extend_increment(inc, Z, 0.1, mean)
    assert np.array_equal(out[:, :3], inc, equal_nan=True)
    w = vertical_weights(Z, 3, 0.1)
    np.testing.assert_allclose(out[:, 3:], (inc[:, 2:] - mean) * w[None, :], rtol=0,
                               atol=1e-17)
    # the carried increment has no land mean left; NaN still means no change below
    np.testing.assert_allclose(np.nanmean(out[:, 3:], axis=0), 0.0, atol=1e-17)
    assert np.all(np.isnan(out[7, 3:]))
    # an offset of 0 is the whole increment's bits, and a land without a finite value
    # has a mean of 0
    assert np.array_equal(extend_increment(inc, Z, 0.1, 0.0), extend_increment(inc, Z, 0.1),
                          equal_nan=True)
    assert land_mean([np.nan, np.inf]) == 0.0 and land_mean([]) == 0.0


def test_bad_arguments_say_what_was_expected():
    with pytest.raises(ValueError, match="length_m: expected a length > 0"):
        vertical_weights(Z, 3, -1.0)
    with pytest.raises(ValueError, match=r"analysed: expected 1 <= L <= 10"):
        vertical_weights(Z, 0, 0.1)
    with pytest.raises(ValueError, match="increasing node depths"):
        vertical_weights(Z[::-1], 3, 0.1)
    with pytest.raises(ValueError, match=r"increment: expected shape \(N, L\)"):
        extend_increment(np.zeros(3), Z, 0.1)
    with pytest.raises(ValueError, match="offset: expected a finite number"):
        extend_increment(np.zeros((2, 3)), Z, 0.1, np.nan)
