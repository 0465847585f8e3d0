"""Shared fixtures: real data location and small synthetic analysis cases."""

from __future__ import annotations

# landia first: it pins BLAS to one thread before numpy loads OpenBLAS, which makes
# results bit-reproducible (threaded reductions differ at 1e-14 from run to run).
import landia  # noqa: F401  isort: skip

from pathlib import Path

import numpy as np
import pytest

from landia.grid import colm_node_depths
from landia.io.fields import SoilMoistureField

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` beside the project; tests using it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not available: {SHARED_DATA} is absent (a fresh clone has no "
                    "../shared); these tests run where the project's shared/ folder is present")
    return SHARED_DATA


def smooth_field(rng: np.random.Generator, shape, scale: float = 3.0) -> np.ndarray:
    """Smooth random field with zero mean and unit standard deviation."""
    from scipy.ndimage import gaussian_filter

    f = gaussian_filter(rng.standard_normal(shape), scale, mode="wrap")
    return (f - f.mean()) / f.std()


def make_case(shape=(16, 16), layers=2, seed=0, land_fraction=0.8, obs_missing=0.1,
              porosity=0.45):
    """A small background/observation pair with sea cells and observation gaps."""
    rng = np.random.default_rng(seed)
    ny, nx = shape
    sea_score = smooth_field(rng, shape, 2.0)
    land = sea_score < np.quantile(sea_score, land_fraction)
    truth = 0.25 + 0.06 * smooth_field(rng, shape, 2.0)
    bg = truth + 0.04 * smooth_field(rng, shape, 3.0)
    obs = truth + 0.01 * rng.standard_normal(shape)
    depth = colm_node_depths()[:layers]
    stack = lambda f: np.repeat(f[None], layers, axis=0)
    bgv, obv = stack(bg), stack(obs)
    bgv[:, ~land] = np.nan
    obv[:, ~land] = np.nan
    obv[:, rng.random(shape) < obs_missing] = np.nan
    por = np.where(land, porosity, np.nan)
    lat = np.linspace(20, 60, ny)
    lon = np.linspace(80, 130, nx)
    background = SoilMoistureField(lat=lat, lon=lon, depth=depth, values=bgv,
                                   porosity=stack(por), source="test:background")
    observation = SoilMoistureField(lat=lat, lon=lon, depth=depth, values=obv,
                                    source="test:observation")
    return background, observation


@pytest.fixture
def small_case():
    return make_case()
