"""Ensemble statistics of the hybrid: the correlation length from perturbations and the
image-error variance per curvelet scale from the members' spread of P C E."""

from __future__ import annotations

import numpy as np
import pytest

from landia.analysis.ensemble_covariance import (MAX_LENGTH_KM, ImageSpread, adjacent_pairs,
                                                 correlation_length_km,
                                                 image_error_variance_from_members,
                                                 matern_correlation)
from landia.config import settings_from_dict
from landia.grid import LatLonGrid
from landia.operators.correlation import EARTH_RADIUS_KM, diffusion_correlation
from tests.conftest import make_case


def _draws(grid, length_km, members, seed=1):
    """Members U z of landia's own correlation (C = U U^T) minus their mean."""
    u = diffusion_correlation(grid, length_km, 4).sqrt()
    z = np.random.default_rng(seed).standard_normal((members, grid.n_land))
    x = np.stack([u.matvec(v) for v in z])
    return x - x.mean(axis=0)


def test_matern_is_one_at_zero_and_its_daley_length_is_l():
    """rho(0) = 1 and the curvature at 0 gives L^2 = -1 / rho''(0) (Daley's definition)."""
    length = 300.0
    assert matern_correlation(0.0, length) == 1.0
    h = 1.0
    second = 2.0 * (matern_correlation(h, length) - 1.0) / h**2   # rho even in d
    assert -1.0 / second == pytest.approx(length**2, rel=1e-3)


@pytest.mark.parametrize("length_km, resolution", [(300.0, 0.5), (150.0, 0.25)])
def test_correlation_length_from_landias_own_correlation(length_km, resolution):
    """Perturbations drawn from operators/correlation.py with a known L give L back."""
    grid = LatLonGrid.from_box(30, 50, 90, 120, resolution)
    found = correlation_length_km(_draws(grid, length_km, 40), grid)
    assert found == pytest.approx(length_km, rel=0.15)


def test_correlation_length_follows_the_land_mask():
    """Sea cells carry no pair: a coast does not stop the fit."""
    grid = LatLonGrid.from_box(30, 50, 90, 120, 0.5)
    land = grid.land.copy()
    land[:, :15] = False                 # a sea in the west
    coast = LatLonGrid(grid.lat, grid.lon, land)
    found = correlation_length_km(_draws(coast, 300.0, 40), coast)
    assert found == pytest.approx(300.0, rel=0.15)


def test_pairs_and_their_distances():
    grid = LatLonGrid(np.array([0.0, 1.0]), np.array([10.0, 11.0, 12.0]),
                      np.array([[True, True, False], [True, True, True]]))
    i, j, d = adjacent_pairs(grid)
    pairs = sorted(zip(i.tolist(), j.tolist()))
    # land order: (0,0)=0 (0,1)=1 (1,0)=2 (1,1)=3 (1,2)=4
    assert pairs == [(0, 1), (0, 2), (1, 3), (2, 3), (3, 4)]
    one_degree = EARTH_RADIUS_KM * np.radians(1.0)
    by_pair = dict(zip(zip(i.tolist(), j.tolist()), d))
    assert by_pair[(0, 2)] == pytest.approx(one_degree)
    assert by_pair[(2, 3)] == pytest.approx(one_degree * np.cos(np.radians(1.0)))


def test_degenerate_samples_give_the_shortest_spacing():
    grid = LatLonGrid.from_box(30, 40, 90, 100, 1.0)
    shortest = adjacent_pairs(grid)[2].min()
    assert correlation_length_km(np.zeros((5, grid.n_land)), grid) == shortest
    assert correlation_length_km(np.ones((1, grid.n_land)), grid) == shortest
    # anti-correlated neighbours: no correlation to fit, the lower bound
    checker = np.where((np.indices(grid.shape).sum(axis=0) % 2) == 0, 1.0, -1.0)[grid.land]
    a = np.stack([checker, -checker, 2 * checker, -2 * checker])
    assert correlation_length_km(a, grid) == pytest.approx(shortest, rel=1e-2)
    # identical perturbations everywhere: correlation 1, the upper bound
    flat = np.outer([1.0, -1.0, 0.5, -0.5], np.ones(grid.n_land))
    assert correlation_length_km(flat, grid) == pytest.approx(MAX_LENGTH_KM, rel=1e-2)
    with pytest.raises(Exception, match="members"):
        correlation_length_km(np.zeros((3, grid.n_land + 1)), grid)


# -- image-error variance per scale ---------------------------------------------------------

def _settings(**analysis):
    return settings_from_dict({"analysis": {"terms": ["background", "image"], "layers": 1,
                                            **analysis}})


@pytest.fixture(scope="module")
def white_members():
    """60 members = mean + white noise of variance s2 on land (NaN at sea)."""
    bg, obs = make_case(shape=(32, 31), layers=1, obs_missing=0.3)
    land = np.isfinite(bg.values[0])
    s2 = 1.0e-3
    noise = np.random.default_rng(3).standard_normal((60,) + land.shape)
    members = bg.values[0] + np.sqrt(s2) * noise
    members[:, ~land] = np.nan
    return members, obs.values[0], land, s2


def test_white_member_noise_gives_its_variance_at_every_scale(white_members):
    """White noise of variance s2 gives s2 per scale with the white-noise normaliser; the plain
    per-coefficient mean gives less (the redundant Parseval frame and the fill share the
    noise's energy unevenly between the scales: 0.25-0.7 s2 here)."""
    members, observed, land, s2 = white_members
    spread = ImageSpread(observed, land, _settings(image_error_floor=1e-8))
    for m in members:
        spread.add(m)
    ratio = spread.raw_variance() / s2
    assert np.all(np.abs(ratio - 1.0) < 0.2), ratio
    assert abs(np.mean(ratio) - 1.0) < 0.1
    v = spread.coefficient_variance()
    plain = np.array([v[spread.scale == j].mean() for j in range(spread.scales)]) / s2
    assert np.all(plain < 0.8), plain


def test_accumulator_equals_the_batch_computation(white_members):
    """Member by member (Welford) equals the variance over the stacked coefficients."""
    members, observed, land, _ = white_members
    members = members[:7]
    spread = ImageSpread(observed, land, _settings())
    for m in members:
        spread.add(m)
    batch = np.stack([spread.coefficients(m) for m in members])       # (N, kept, 2)
    expected = np.var(batch, axis=0, ddof=1).sum(axis=1)
    np.testing.assert_allclose(spread.coefficient_variance(), expected, rtol=1e-10, atol=0)
    np.testing.assert_array_equal(image_error_variance_from_members(members, observed,
                                                                    _settings()),
                                  spread.variance())


def test_clipped_to_floor_and_cap(white_members):
    members, observed, land, s2 = white_members
    out = image_error_variance_from_members(members[:10], observed,
                                            _settings(image_error_floor=1e-6,
                                                      image_error_cap=5e-4))
    assert np.all(out == 5e-4)
    same = np.repeat(members[:1], 4, axis=0)                            # no spread at all
    out = image_error_variance_from_members(same, observed, _settings(image_error_floor=2e-4))
    assert np.all(out == 2e-4)


def test_needs_two_members_and_an_observed_cell(white_members):
    members, observed, land, _ = white_members
    spread = ImageSpread(observed, land, _settings())
    spread.add(members[0])
    with pytest.raises(Exception, match="at least 2"):
        spread.variance()
    with pytest.raises(Exception, match="no observed land cell"):
        ImageSpread(np.full(observed.shape, np.nan), land, _settings())
