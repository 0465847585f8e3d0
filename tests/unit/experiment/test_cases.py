"""Synthetic analysis cases (landia.experiment.cases): deterministic for a seed, NaN off land,
layers damped towards the land mean with depth."""

from __future__ import annotations

import numpy as np
import pytest

from landia.experiment.cases import (
    benchmark_case,
    build_demo_case,
    damped_layers,
    random_case,
    standardised_noise,
)
from landia.grid import colm_node_depths


def _arrays(fields) -> list[np.ndarray]:
    return [a for f in fields for a in (f.lat, f.lon, f.depth, f.values, f.porosity)
            if a is not None]


def _identical(one, other) -> bool:
    a, b = _arrays(one), _arrays(other)
    return len(a) == len(b) and all(x.tobytes() == y.tobytes() for x, y in zip(a, b))


@pytest.mark.parametrize("build", [
    lambda seed: build_demo_case(seed, 3),
    lambda seed: random_case((16, 16), 2, seed),
    lambda seed: random_case((32, 31), 3, seed),
], ids=["demo", "random_16x16", "random_32x31"])
def test_a_case_is_deterministic_for_its_seed(build):
    first, again, other = build(5), build(5), build(6)
    assert _identical(first, again)
    assert not np.array_equal(first[0].values, other[0].values, equal_nan=True)


def test_the_paper_benchmark_case_is_deterministic_for_its_seed():
    pytest.importorskip("global_land_mask")
    first, again = benchmark_case("paper_32x31"), benchmark_case("paper_32x31")
    assert _identical(first, again)
    background, observation = first
    assert background.shape == (32, 31) and background.n_layers == 3
    land = np.isfinite(background.values[0])
    assert 0.97 < land.mean() < 1
    assert np.array_equal(np.isfinite(observation.values[0]), land)
    assert np.all(background.porosity[:, land] == 0.45)
    assert background.source == "bench:paper_32x31:background"
    other = benchmark_case("paper_32x31", seed=1)[0]
    assert not np.array_equal(other.values, background.values, equal_nan=True)


def test_demo_case_land_gaps_and_bounds():
    background, observation, truth = build_demo_case(layers=3)
    assert background.shape == (32, 31) and truth.n_layers == 3
    land = np.isfinite(truth.values[0])
    assert 0.5 < land.mean() < 1  # a sea behind a wavy coast in the south-east
    for f in (background, truth):
        assert np.array_equal(np.isfinite(f.values), np.broadcast_to(land, f.values.shape))
    assert np.array_equal(np.isfinite(background.porosity), np.isfinite(background.values))
    gaps = land & ~np.isfinite(observation.values[0])
    assert 0.03 < gaps.sum() / land.sum() < 0.2  # 10 % of the cells missing
    assert np.all((truth.values[:, land] >= 0.05) & (truth.values[:, land] <= 0.42))
    assert [f.source for f in (background, observation, truth)] == [
        "demo:background", "demo:observation", "demo:truth"]


def test_random_case_repeats_its_image_in_every_layer():
    background, observation = random_case(shape=(20, 24), layers=3, seed=2,
                                          land_fraction=0.7, obs_missing=0.2, porosity=0.4)
    land = np.isfinite(background.values[0])
    assert land.sum() == round(0.7 * 20 * 24)
    assert np.array_equal(background.values[1], background.values[0], equal_nan=True)
    assert np.array_equal(observation.values[2], observation.values[0], equal_nan=True)
    assert np.all(background.porosity[:, land] == 0.4)
    assert (land & ~np.isfinite(observation.values[0])).sum() > 0


def test_damped_layers_fade_the_land_anomaly_with_depth():
    rng = np.random.default_rng(0)
    image = rng.uniform(0.1, 0.4, (6, 7))
    land = rng.random((6, 7)) < 0.8
    depth = colm_node_depths()[:4]
    layers = damped_layers(image, land, depth)
    mean = image[land].mean()
    for k in range(4):
        np.testing.assert_allclose(layers[k] - mean, (image - mean) * np.exp(-depth[k] / 0.2),
                                   rtol=0, atol=1e-15)
    np.testing.assert_allclose(layers[:, land].mean(axis=1), mean, rtol=0, atol=1e-15)


def test_standardised_noise_has_zero_mean_and_unit_std():
    f = standardised_noise(np.random.default_rng(1), (30, 34), 2.0)
    assert abs(f.mean()) < 1e-12 and abs(f.std() - 1) < 1e-12
