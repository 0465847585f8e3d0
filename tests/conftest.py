"""Shared fixtures: real data location and small synthetic analysis cases."""

from __future__ import annotations

# One BLAS thread, as the CLI sets it, before numpy loads OpenBLAS: threaded reductions
# differ at 1e-14 from run to run, and the tests compare bits (serial against MPI, resumed
# against whole runs). Importing landia as a library leaves the threads alone (docs/api.md).
from landia.cli import one_thread_per_process  # isort: skip

one_thread_per_process()

from pathlib import Path

import numpy as np
import pytest

from landia.experiment.cases import random_case, standardised_noise

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
    return standardised_noise(rng, shape, scale)


def make_case(shape=(16, 16), layers=2, seed=0, land_fraction=0.8, obs_missing=0.1,
              porosity=0.45):
    """A small background/observation pair with sea cells and observation gaps
    (:func:`landia.experiment.cases.random_case`)."""
    return random_case(shape, layers, seed, land_fraction, obs_missing, porosity)


@pytest.fixture
def small_case():
    return make_case()
