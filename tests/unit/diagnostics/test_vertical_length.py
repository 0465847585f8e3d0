"""The vertical correlation length from a run's changes: recovered from changes drawn with a
known exponential vertical correlation, per-pair domain means removed, gaps skipped."""

from __future__ import annotations

import numpy as np
import pytest

from landia.diagnostics.vertical_length import vertical_length
from landia.grid import colm_node_depths

Z = colm_node_depths()


def changes_with_length(length: float, pairs: int = 40, cells: int = 3000, seed: int = 0):
    """States whose successive changes are N(0, exp(-|z_i - z_k| / length)) plus a domain
    mean of each pair (which the estimate must ignore)."""
    rng = np.random.default_rng(seed)
    cov = np.exp(-np.abs(Z[:, None] - Z[None, :]) / length)
    root = np.linalg.cholesky(cov)
    steps = np.einsum("kl,tlc->tkc", root, rng.normal(size=(pairs, Z.size, cells)))
    steps += rng.normal(0.0, 5.0, size=(pairs, Z.size, 1))  # a domain mean per pair and layer
    return np.concatenate([np.zeros((1, Z.size, cells)), np.cumsum(steps, axis=0)])


@pytest.mark.parametrize("length", [0.05, 0.08, 0.15])
def test_a_known_exponential_length_is_recovered(length):
    est = vertical_length(changes_with_length(length), Z, analysed=3)
    assert est.pairs == 40
    np.testing.assert_allclose(est.length_m, length, rtol=0.05)
    np.testing.assert_allclose(est.regression, np.exp(-(Z[3:5] - Z[2]) / length), atol=0.01)
    np.testing.assert_allclose(est.layer_lengths_m, length, rtol=0.08)


def test_cells_with_a_gap_are_left_out_of_their_pair_and_sea_everywhere():
    states = changes_with_length(0.08)
    states[:, :, :500] = np.nan                      # sea
    states[7, 4, 500:900] = np.nan                   # a gap in one state and layer
    est = vertical_length(states, Z, analysed=3)
    np.testing.assert_allclose(est.length_m, 0.08, rtol=0.05)
    assert est.pairs == 40


def test_no_exponential_or_bad_shapes_say_what_was_expected():
    flat = np.zeros((5, Z.size, 10))
    with pytest.raises(ValueError, match="no pair of states with a change"):
        vertical_length(flat, Z, analysed=3)
    anti = changes_with_length(0.08)
    anti[:, 3:5] *= -1.0                             # deeper layers move against layer 3
    assert np.isnan(vertical_length(anti, Z, analysed=3).length_m)
    with pytest.raises(ValueError, match=r"states: expected shape \(T, 10, n_cells\)"):
        vertical_length(np.zeros((5, 3, 10)), Z, analysed=3)
    with pytest.raises(ValueError, match="analysed 9, layers_below 2"):
        vertical_length(flat, Z, analysed=9)
    with pytest.raises(ValueError, match="increasing node depths"):
        vertical_length(flat, Z[::-1], analysed=3)
    with pytest.raises(ValueError, match="lag 5: expected 1 <= lag < 5"):
        vertical_length(flat, Z, analysed=3, lag=5)
