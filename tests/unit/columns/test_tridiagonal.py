"""The vectorised Thomas solver against scipy's banded solver."""

import numpy as np
import pytest
from scipy.linalg import solve_banded

from landia.columns.tridiagonal import solve_tridiagonal


@pytest.mark.parametrize("n_systems, n", [(1, 1), (1, 10), (500, 10), (64, 3)])
def test_matches_solve_banded(n_systems, n):
    rng = np.random.default_rng(42 + n)
    lower = rng.normal(size=(n_systems, n))
    upper = rng.normal(size=(n_systems, n))
    diag = np.abs(lower) + np.abs(upper) + rng.uniform(0.1, 2.0, size=(n_systems, n))
    diag *= rng.choice([-1.0, 1.0], size=(n_systems, n))
    rhs = rng.normal(size=(n_systems, n))
    x = solve_tridiagonal(lower, diag, upper, rhs)
    assert x.shape == (n_systems, n)
    for i in range(n_systems):
        ab = np.zeros((3, n))
        ab[0, 1:] = upper[i, :-1]
        ab[1] = diag[i]
        ab[2, :-1] = lower[i, 1:]
        np.testing.assert_allclose(x[i], solve_banded((1, 1), ab, rhs[i]), rtol=1e-10, atol=1e-12)


def test_ignores_unused_corners_and_keeps_inputs():
    rng = np.random.default_rng(0)
    lower, upper = rng.normal(size=(2, 20, 10))
    diag = 3.0 + np.abs(lower) + np.abs(upper)
    rhs = rng.normal(size=(20, 10))
    copies = [a.copy() for a in (lower, diag, upper, rhs)]
    x = solve_tridiagonal(lower, diag, upper, rhs)
    lower2, upper2 = lower.copy(), upper.copy()
    lower2[:, 0] = 1e6
    upper2[:, -1] = -1e6
    np.testing.assert_array_equal(solve_tridiagonal(lower2, diag, upper2, rhs), x)
    for a, b in zip((lower, diag, upper, rhs), copies):
        np.testing.assert_array_equal(a, b)
    # the residual of the full system is round-off
    resid = diag * x - rhs
    resid[:, 1:] += lower[:, 1:] * x[:, :-1]
    resid[:, :-1] += upper[:, :-1] * x[:, 1:]
    assert np.abs(resid).max() < 1e-12


def test_shape_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match="same shape"):
        solve_tridiagonal(np.ones((2, 3)), np.ones((2, 3)), np.ones((2, 4)), np.ones((2, 3)))


def test_layer_major_path_gives_the_same_solution():
    from landia.columns.tridiagonal import solve_tridiagonal_layer_major

    rng = np.random.default_rng(7)
    lower, upper, rhs = rng.normal(size=(3, 300, 10))
    diag = 2.5 + np.abs(lower) + np.abs(upper)
    x = solve_tridiagonal(lower, diag, upper, rhs)
    x_lm = solve_tridiagonal_layer_major(*(np.array(m.T, order="C") for m in (lower, diag, upper, rhs)))
    np.testing.assert_array_equal(x_lm.T, x)


@pytest.mark.parametrize("n", [1, 2, 10])
def test_negated_lower_form_is_bit_identical_and_keeps_off_diagonals(n):
    from landia.columns.tridiagonal import (
        solve_tridiagonal_layer_major,
        solve_tridiagonal_negated_lower,
    )

    rng = np.random.default_rng(11 + n)
    neg_lower, upper = rng.normal(size=(2, n - 1, 200))
    diag = 2.5 + rng.random((n, 200)) + 2.0
    rhs = rng.normal(size=(n, 200))
    lower_band, upper_band = np.zeros((n, 200)), np.zeros((n, 200))
    lower_band[1:], upper_band[:-1] = -neg_lower, upper
    x_band = solve_tridiagonal_layer_major(lower_band, diag.copy(), upper_band, rhs.copy())
    kept = (neg_lower.copy(), upper.copy())
    x = solve_tridiagonal_negated_lower(neg_lower, diag.copy(), upper, rhs.copy())
    np.testing.assert_array_equal(x, x_band)
    np.testing.assert_array_equal(neg_lower, kept[0])
    np.testing.assert_array_equal(upper, kept[1])
    # and it solves the system: a_j x_{j-1} + b_j x_j + c_j x_{j+1} = d_j
    residual = diag * x - rhs
    residual[1:] -= neg_lower * x[:-1]
    residual[:-1] += upper * x[1:]
    np.testing.assert_allclose(residual, 0.0, atol=1e-12)
