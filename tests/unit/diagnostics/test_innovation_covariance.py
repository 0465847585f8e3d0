"""Hollingsworth-Lonnberg error statistics (landia.diagnostics.innovation_covariance):
innovations drawn with a known background error (landia's own diffusion correlation) and a
known white observation error give those statistics back."""

from __future__ import annotations

import numpy as np
import pytest

from landia.diagnostics.innovation_covariance import (binned_covariance,
                                                      fit_error_statistics, matern)
from landia.errors import InputError
from landia.grid import LatLonGrid
from landia.operators.correlation import diffusion_correlation


def test_matern_is_one_at_zero_and_has_the_daley_length():
    assert matern(0.0, 300.0) == pytest.approx(1.0)
    # Daley length: L^2 = -c(0)/c''(0): the curvature at the origin, by finite differences
    h, L = 1.0, 300.0
    c2 = 2.0 * (matern(h, L) - matern(0.0, L)) / h ** 2      # c is even in r
    assert np.sqrt(-1.0 / c2) == pytest.approx(L, rel=1e-3)
    assert np.all(np.diff(matern(np.linspace(0, 2000, 50), L)) < 0)


def _innovations(sb2, so2, length, images=150, seed=5):
    """Binned covariance of innovations with a diffusion-correlated background error of
    variance sb2 over ``length`` km and a white observation error so2, half the cells seen."""
    lat = np.arange(25.0, 50.0, 1.25)
    lon = np.arange(-120.0, -70.0, 1.5)
    grid = LatLonGrid(lat, lon, np.ones((lat.size, lon.size), dtype=bool))
    u = diffusion_correlation(grid, length, 4).sqrt()
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(images):
        b = np.sqrt(sb2) * (u @ rng.standard_normal(grid.n_land))
        o = np.sqrt(so2) * rng.standard_normal(grid.n_land)
        d = grid.to_field(b + o)
        d[rng.random(d.shape) < 0.5] = np.nan                      # half the cells observed
        out.append(d)
    return binned_covariance(np.array(out), lat, lon,
                             edges_km=(0, 1, 150, 250, 350, 450, 600, 800, 1000))


def test_known_statistics_are_recovered():
    sb2, so2, length = 4e-4, 9e-4, 300.0
    cov = _innovations(sb2, so2, length)
    assert cov.variance == pytest.approx(sb2 + so2, rel=0.05)
    fit = fit_error_statistics(cov)
    assert fit.background_variance == pytest.approx(sb2, rel=0.2)
    assert fit.observation_variance == pytest.approx(so2, rel=0.1)
    assert fit.length_km == pytest.approx(length, rel=0.2)


def test_a_small_observation_error_is_fitted():
    """The first bin's covariance near the innovation variance (a long, dominant background
    error): the fit's start must stay inside its bounds (it raised scipy's ValueError)."""
    sb2, so2, length = 9e-4, 1e-4, 600.0
    cov = _innovations(sb2, so2, length)
    assert 1.5 * cov.covariance[1] > cov.variance                  # the case of the bug
    fit = fit_error_statistics(cov)
    assert fit.background_variance == pytest.approx(sb2, rel=0.2)
    assert fit.observation_variance == pytest.approx(so2, rel=0.5)
    assert fit.length_km == pytest.approx(length, rel=0.25)


def test_bad_input_is_refused():
    lat, lon = np.array([30.0, 31.0]), np.array([-100.0, -99.0])
    with pytest.raises(InputError, match="shape"):
        binned_covariance(np.zeros((3, 2, 3)), lat, lon)
    with pytest.raises(InputError, match="no finite"):
        binned_covariance(np.full((3, 2, 2), np.nan), lat, lon)
    with pytest.raises(InputError, match="edges"):
        binned_covariance(np.zeros((3, 2, 2)), lat, lon, edges_km=(5, 10, 20))
    white = np.random.default_rng(1).standard_normal((5, 2, 2))
    cov = binned_covariance(white, lat, lon, edges_km=(0, 1, 50))
    with pytest.raises(InputError, match="two distance bins"):
        fit_error_statistics(cov)
