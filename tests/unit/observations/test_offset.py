"""The cycled observation offset (observations.offset_correction): arithmetic and a cycle."""

from __future__ import annotations

import numpy as np
import pytest

from landia.observations.offset import cycled_offset, mean_departure, remove_offset


def test_mean_departure_over_cells_where_both_are_finite():
    y = np.array([[[0.3, np.nan], [0.2, 0.4]], [[np.nan, np.nan], [np.nan, np.nan]]])
    xb = np.array([[[0.25, 0.1], [np.nan, 0.3]], [[0.2, 0.2], [0.2, 0.2]]])
    d = mean_departure(y, xb)
    assert d[0] == pytest.approx((0.05 + 0.1) / 2, abs=1e-15)
    assert np.isnan(d[1])
    with pytest.raises(ValueError, match="shape"):
        mean_departure(y, xb[:1])


def test_the_running_mean_converges_to_a_constant_offset():
    beta = None
    for k in range(200):
        beta = cycled_offset(beta, np.array([0.03, np.nan if k % 2 else -0.01]), 0.9)
        if k == 0:
            np.testing.assert_array_equal(beta, [0.03, -0.01])  # the first takes its own
    np.testing.assert_allclose(beta, [0.03, -0.01], atol=1e-12)
    # a layer never seen yet takes its first departure; one not seen now keeps its value
    np.testing.assert_array_equal(cycled_offset(np.array([np.nan, 0.02]),
                                                np.array([0.05, np.nan]), 0.9), [0.05, 0.02])
    with pytest.raises(ValueError, match="layer"):
        cycled_offset(np.zeros(3), np.zeros(2), 0.9)


def test_remove_offset_clips_to_the_bounds_and_keeps_nan():
    y = np.array([[[0.02, np.nan], [0.3, 0.44]]])
    out = remove_offset(y, np.array([0.03]), 0.0, 0.4)
    np.testing.assert_allclose(out[0], [[0.0, np.nan], [0.27, 0.4]])
    out = remove_offset(y, np.array([-0.05]), 0.0, np.full((1, 2, 2), 0.45))
    np.testing.assert_allclose(out[0], [[0.07, np.nan], [0.35, 0.45]])
    np.testing.assert_array_equal(remove_offset(y, np.array([np.nan]), 0.0, 1.0), y)
