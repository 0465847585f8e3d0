"""The diffusion correlation operator: adjoints, unit variance, kernel shape and length,
coasts, periodicity, the preconditioner's factor, bad input, a given normalisation and its
key."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import gamma, kv

from landia.errors import OperatorError
from landia.experiment.real_fields import PAPER_BOX
from landia.grid import LatLonGrid
from landia.operators import (CoefficientSelection, CurveletTransform, DiffusionCorrelation,
                              HarmonicEmbedding, PointSelection, diffusion_correlation,
                              dot_test)
from landia.operators.correlation import (MIN_COS_LAT, diffusion_coefficient,
                                          diffusion_stiffness, normalisation_key)

RTOL = 1e-12
KM_PER_DEG = np.pi * 6371.0 / 180.0


def _paper_grid(seed=0, sea=0.3) -> LatLonGrid:
    g = LatLonGrid.from_box(*PAPER_BOX)
    land = np.random.default_rng(seed).random(g.shape) >= sea
    return LatLonGrid(g.lat, g.lon, land)


def _uniform_grid(n=61, deg=0.1) -> LatLonGrid:
    """n x n cells of ``deg`` degrees centred on the equator: nearly uniform, ~11 km cells."""
    c = (np.arange(n) - n // 2) * deg
    return LatLonGrid(c, c + 10.0, np.ones((n, n), dtype=bool))


def _column(op, j: int) -> np.ndarray:
    e = np.zeros(op.shape[1])
    e[j] = 1.0
    return op.matvec(e)


def _matern(r_km, length_km, steps):
    """The continuous kernel: Matern of smoothness m - 1 and scale sqrt(kappa)."""
    nu, ell = steps - 1, np.sqrt(diffusion_coefficient(length_km, steps))
    x = np.maximum(np.asarray(r_km, dtype=float), 1e-12) / ell
    return 2.0 ** (1 - nu) / gamma(nu) * x**nu * kv(nu, x)


@pytest.mark.parametrize("layers", [1, 3])
@pytest.mark.parametrize("steps", [4, 6])
def test_dot_tests_of_U_C_and_their_inverses(layers, steps):
    model = DiffusionCorrelation(_paper_grid(), 230.0, steps)
    rng = np.random.default_rng(3)
    for op in (model.sqrt(layers), model.correlation(layers), model.inverse_sqrt(layers),
               model.inverse(layers)):
        assert dot_test(op, rng) < RTOL, op.name


def test_dot_tests_of_compositions_with_the_image_and_point_operators():
    grid = _paper_grid(seed=1)
    model = DiffusionCorrelation(grid, 230.0, 4)
    rng = np.random.default_rng(4)
    n = grid.n_land
    observed = grid.land & (rng.random(grid.shape) < 0.6)
    cells = np.flatnonzero(observed[grid.land])          # observed cells among the land cells
    curvelet = CurveletTransform.unpadded_for(grid.shape)
    embed = HarmonicEmbedding(observed, curvelet.image_shape, decay=1.5)
    select = CoefficientSelection(curvelet.matvec(embed.matvec(rng.random(cells.size))), 0.5)
    pick = PointSelection(n, cells)
    U, C = model.sqrt(), model.correlation()
    assert dot_test(select @ curvelet @ embed @ pick @ U, rng) < RTOL
    assert dot_test(pick @ C @ pick.H, rng) < RTOL           # H C H^T
    assert dot_test(model.inverse_sqrt() @ U, rng) < RTOL


def test_inverses_invert():
    model = DiffusionCorrelation(_paper_grid(), 300.0, 4)
    v = np.random.default_rng(5).standard_normal(model.n)
    np.testing.assert_allclose(model.inverse_sqrt().matvec(model.sqrt().matvec(v)), v,
                               atol=1e-12)
    np.testing.assert_allclose(model.inverse().matvec(model.correlation().matvec(v)), v,
                               atol=1e-9)


@pytest.mark.parametrize("length", [100.0, 230.0, 500.0])
def test_exact_normalisation_gives_unit_variance_on_land(length):
    model = DiffusionCorrelation(_paper_grid(seed=2), length, 4)
    assert model.method == "exact"
    C = model.correlation()
    diag = np.array([_column(C, j)[j] for j in range(model.n)])
    np.testing.assert_allclose(diag, 1.0, atol=1e-12)
    # A correlation: every other entry of a column lies within [0, 1).
    col = _column(C, model.n // 2)
    assert np.all(col > -1e-12) and np.all(np.delete(col, model.n // 2) < 1.0)


def test_randomised_normalisation_is_within_its_documented_accuracy():
    """v_hat / v has mean 1 and standard deviation sqrt(2/K) (chi-square with K degrees)."""
    grid = _paper_grid(seed=3)
    exact = DiffusionCorrelation(grid, 230.0, 4)
    samples = 200
    est = DiffusionCorrelation(grid, 230.0, 4, exact_cells=0, samples=samples)
    assert est.method == "randomised" and est.samples == samples
    ratio = (exact.normalisation / est.normalisation) ** 2        # v_hat / v
    expected = np.sqrt(2.0 / samples)
    assert abs(ratio.mean() - 1.0) < 4 * expected / np.sqrt(ratio.size) + 0.005
    assert 0.8 * expected < ratio.std() < 1.2 * expected
    assert np.max(np.abs(ratio - 1.0)) < 5 * expected
    # Its C has that diagonal: sqrt(v / v_hat)^2, near 1.
    C = est.correlation()
    diag = np.array([_column(C, j)[j] for j in range(0, est.n, 37)])
    np.testing.assert_allclose(diag, 1.0 / ratio[::37], rtol=1e-10)


@pytest.mark.parametrize("steps", [4, 8])
def test_kernel_is_the_matern_function_of_length_L(steps):
    """On a fine nearly uniform grid the kernel follows the continuous Matern function with
    kappa = L^2 / (2m - 4), and its Daley length (from the curvature at the origin) is L."""
    grid = _uniform_grid()
    length = 60.0                                          # km: about 5.4 cells
    model = DiffusionCorrelation(grid, length, steps)
    centre = grid.shape[0] // 2
    col = _column(model.correlation(), centre * grid.shape[1] + centre).reshape(grid.shape)
    dy = (grid.lat - grid.lat[centre]) * KM_PER_DEG
    dx = (grid.lon - grid.lon[centre]) * KM_PER_DEG * np.cos(np.radians(grid.lat[centre]))
    r = np.hypot(dy[:, None], dx[None, :])
    near = r < 3 * length
    assert np.max(np.abs(col[near] - _matern(r[near], length, steps))) < 0.01
    # Daley length from the second differences at the centre (both directions).
    h = dx[centre + 1]
    curvature = (col[centre, centre + 1] + col[centre, centre - 1] - 2.0) / h**2
    assert np.sqrt(-1.0 / curvature) == pytest.approx(length, rel=0.05)


def test_length_is_in_km_not_in_cells():
    """On the paper grid (cells 155 km N-S, 58-143 km E-W) the correlation at a given distance
    in km is about the same along a row and along a column."""
    g = LatLonGrid.from_box(*PAPER_BOX)
    grid = LatLonGrid(g.lat, g.lon, np.ones(g.shape, dtype=bool))
    model = DiffusionCorrelation(grid, 400.0, 4)
    j, i = 20, 15                                          # 51.7 N: cells 97 km E-W
    col = _column(model.correlation(), j * grid.shape[1] + i).reshape(grid.shape)
    north = col[j + 2, i]                                  # 311 km north
    dx = KM_PER_DEG * 1.4 * np.cos(np.radians(grid.lat[j]))
    east = np.interp(2 * 155.7, dx * np.arange(1, 8), col[j, i + 1:i + 8])
    assert east == pytest.approx(north, abs=0.03)
    assert col[j, i + 2] > north + 0.1                     # 2 cells east is nearer in km


def test_nothing_correlates_across_the_sea():
    """Two land blocks joined by no land edge are uncorrelated, however near; land bridges
    carry correlation around a bay."""
    g = LatLonGrid.from_box(*PAPER_BOX)
    land = np.ones(g.shape, dtype=bool)
    land[:, 15] = False                                    # a one-cell sea strait
    grid = LatLonGrid(g.lat, g.lon, land)
    model = DiffusionCorrelation(grid, 500.0, 4)
    index = np.full(g.shape, -1)
    index[land] = np.arange(grid.n_land)
    col = grid.to_field(_column(model.correlation(), index[16, 14]))
    assert np.all(col[:, 16:] == 0.0)
    assert col[16, 13] > 0.5
    land[30, 15] = True                                    # a bridge at the northern edge
    model = DiffusionCorrelation(LatLonGrid(g.lat, g.lon, land), 500.0, 4)
    index[land] = np.arange(int(land.sum()))
    col = LatLonGrid(g.lat, g.lon, land).to_field(_column(model.correlation(), index[16, 14]))
    assert 0.0 < col[16, 16] < 1e-3                        # the long way round only


def test_global_grid_is_periodic_in_longitude():
    lat = np.arange(-30.0, 30.0, 2.0) + 1.0
    lon = np.arange(0.0, 360.0, 2.0) + 1.0
    grid = LatLonGrid(lat, lon, np.ones((lat.size, lon.size), dtype=bool))
    assert grid.is_global
    model = DiffusionCorrelation(grid, 400.0, 4, exact_cells=grid.n_land)
    C = model.correlation()
    nx = lon.size
    at_edge = _column(C, 15 * nx + 0).reshape(grid.shape)
    inside = _column(C, 15 * nx + 90).reshape(grid.shape)
    np.testing.assert_allclose(at_edge[15, -3:], inside[15, 87:90], rtol=1e-10)
    np.testing.assert_allclose(np.roll(at_edge, 90, axis=1), inside, atol=1e-12)


def test_shifted_root_factor_solves_its_matrix():
    model = DiffusionCorrelation(_paper_grid(), 230.0, 4)
    g = np.random.default_rng(6).random(model.n) * 3.0
    factor = model.shifted_root(g)
    x = np.random.default_rng(7).standard_normal((model.n, 2))
    root_x = model.power(x, 2) + g[:, None] * x            # (A^2 + diag g) x
    np.testing.assert_allclose(factor.solve(root_x), x, atol=1e-10)
    np.testing.assert_allclose(factor.solve(root_x, transpose=True), x, atol=1e-10)


def test_built_once_per_grid_and_parameters():
    grid = _paper_grid(seed=4)
    a = diffusion_correlation(grid, 230.0, 4)
    assert diffusion_correlation(LatLonGrid(grid.lat, grid.lon, grid.land.copy()), 230.0, 4) is a
    assert diffusion_correlation(grid, 231.0, 4) is not a
    assert a.build_seconds > 0 and a.factor_mb > 0


def test_bad_parameters_are_clear_errors():
    grid = _paper_grid()
    with pytest.raises(OperatorError, match="even"):
        DiffusionCorrelation(grid, 230.0, 3)
    with pytest.raises(OperatorError, match="even and >= 4"):
        DiffusionCorrelation(grid, 230.0, 2)
    with pytest.raises(OperatorError, match="length scale"):
        DiffusionCorrelation(grid, 0.0, 4)
    with pytest.raises(OperatorError, match="no land"):
        DiffusionCorrelation(LatLonGrid(grid.lat, grid.lon, np.zeros(grid.shape, bool)),
                             230.0, 4)


def test_metric_is_the_sphere_below_75_degrees_and_floored_towards_the_poles():
    """-W^-1 K is the 5-point Laplacian with dx = R cos(lat) dlon, dy = R dlat (km); poleward
    of 75.5 deg cos(lat) is floored at 0.25, which bounds A's entries at 0.25 deg."""
    d = 0.25
    for band, cos_expected in (((40.0, 45.0), None), ((88.0, 90.0), MIN_COS_LAT)):
        lat = np.arange(band[0], band[1], d) + d / 2
        lon = np.arange(0.0, 360.0, d) + d / 2
        grid = LatLonGrid(lat, lon, np.ones((lat.size, lon.size), dtype=bool))
        stiffness, area = diffusion_stiffness(grid)
        rate = (stiffness.diagonal() / area).reshape(grid.shape)   # 2/dx^2 + 2/dy^2 inside
        j = lat.size // 2
        cos = np.cos(np.radians(lat[j])) if cos_expected is None else cos_expected
        dx, dy = np.radians(d) * 6371.0 * cos, np.radians(d) * 6371.0
        assert rate[j, 5] == pytest.approx(2 / dx**2 + 2 / dy**2, rel=2e-3)
    # The largest entry of A at 0.25 deg for L = 300 km: ~1.9e3, not the 6e6 of the sphere.
    kappa = diffusion_coefficient(300.0, 4)
    assert kappa * rate.max() < 2e3


def test_given_variances_give_the_computed_operator_to_the_bit():
    """The randomised path (exact_cells=0): the same N, U and key, without the solves."""
    grid = _paper_grid(seed=5)
    computed = DiffusionCorrelation(grid, 230.0, 4, exact_cells=0, samples=32)
    given = DiffusionCorrelation(grid, 230.0, 4, exact_cells=0, samples=32,
                                 variance=computed.variance.copy())
    assert computed.method == given.method == "randomised" and given.variance_given
    assert np.array_equal(given.normalisation.view(np.int64),
                          computed.normalisation.view(np.int64))
    assert given.cache_key() == computed.cache_key()
    assert given.factor_mb == 0.0   # A was not factorised for the normalisation
    x = np.random.default_rng(0).standard_normal(2 * grid.n_land)
    assert np.array_equal(given.sqrt(2).matvec(x), computed.sqrt(2).matvec(x))
    assert given.factor_mb > 0


def test_the_key_changes_with_every_input_of_the_normalisation():
    grid = _paper_grid(seed=6)
    key = normalisation_key(grid, 230.0, 4)
    assert key == normalisation_key(LatLonGrid(grid.lat.copy(), grid.lon.copy(),
                                               grid.land.copy()), 230.0, 4)
    assert key == DiffusionCorrelation(grid, 230.0, 4).cache_key()
    land = grid.land.copy()
    land[0, 0] = not land[0, 0]
    others = {normalisation_key(grid, 231.0, 4), normalisation_key(grid, 230.0, 6),
              normalisation_key(grid, 230.0, 4, exact_cells=0),
              normalisation_key(grid, 230.0, 4, exact_cells=0, samples=64),
              normalisation_key(LatLonGrid(grid.lat, grid.lon, land), 230.0, 4),
              normalisation_key(LatLonGrid(grid.lat + 0.01, grid.lon, grid.land), 230.0, 4),
              normalisation_key(LatLonGrid(grid.lat, grid.lon - 0.01, grid.land), 230.0, 4)}
    assert len(others) == 7 and key not in others
    # the samples do not enter the exact normalisation
    assert normalisation_key(grid, 230.0, 4, samples=64) == key


@pytest.mark.parametrize("variance, match", [
    (np.ones(3), r"shape \(\d+,\)"), (np.ones((2, 2)), "shape"),
    ("nan", "finite and > 0, 1 of"), ("zero", "finite and > 0, 1 of"),
    (np.array([1]), "float array")])
def test_given_variances_are_checked(variance, match):
    grid = _paper_grid(seed=7)
    n = grid.n_land
    if isinstance(variance, str):
        bad = np.ones(n)
        bad[n // 2] = np.nan if variance == "nan" else 0.0
        variance = bad
    elif variance.shape == (1,):
        variance = np.ones(n, dtype=np.int64)
    with pytest.raises(OperatorError, match=match):
        DiffusionCorrelation(grid, 230.0, 4, variance=variance)
