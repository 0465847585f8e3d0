"""Withheld observations: which cells, reproducibly, and the departures at them."""

from __future__ import annotations

import numpy as np
import pytest

from landia.errors import InputError
from landia.observations.withhold import (departures, top_layer_summary, withheld_cells,
                                          withhold)
from tests.conftest import make_case


def test_the_withheld_cells_are_a_reproducible_cycle_dependent_fraction_of_the_observed():
    rng = np.random.default_rng(0)
    observed = rng.random((30, 40)) < 0.6
    a = withheld_cells(observed, 0.1, seed=3, cycle=5)
    assert a.sum() == round(0.1 * observed.sum()) and not np.any(a & ~observed)
    np.testing.assert_array_equal(a, withheld_cells(observed, 0.1, seed=3, cycle=5))
    assert not np.array_equal(a, withheld_cells(observed, 0.1, seed=3, cycle=6))
    assert not np.array_equal(a, withheld_cells(observed, 0.1, seed=4, cycle=5))
    assert not withheld_cells(observed, 0.0, seed=3, cycle=5).any()
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        withheld_cells(observed, 1.0, seed=3, cycle=5)


def test_withhold_removes_whole_cells_from_every_layer():
    bg, obs = make_case(shape=(16, 16), layers=3)
    land = np.isfinite(bg.values[0])
    obs.error_variance = np.where(np.isfinite(obs.values), 1e-4, np.nan)
    used, held = withhold(obs, land, 0.25, seed=1, cycle=2)
    mask = np.isfinite(held).any(axis=0)
    assert np.all(np.isfinite(held)[:, mask])  # every layer of a withheld cell
    assert np.all(np.isnan(used.values[:, mask])) and np.all(np.isnan(used.error_variance[:, mask]))
    kept = np.isfinite(obs.values) & ~mask[None]
    np.testing.assert_array_equal(used.values[kept], obs.values[kept])
    np.testing.assert_array_equal(held[:, mask], obs.values[:, mask])
    assert mask.sum() == round(0.25 * (land & np.isfinite(obs.values).any(axis=0)).sum())
    assert not np.any(mask & ~land)
    with pytest.raises(InputError, match=r"observation grid \(16, 16\) differs from the model "
                                         r"grid \(16, 15\)"):
        withhold(obs, land[:, :15], 0.25, seed=1, cycle=2)


def test_departures_are_the_statistics_of_the_qc_passed_withheld_values():
    ny, nx = 6, 7
    land = np.ones((ny, nx), dtype=bool)
    land[0, 0] = False
    held = np.full((2, ny, nx), np.nan)
    held[:, 1, 1], held[:, 2, 3], held[:, 4, 4] = 0.30, 0.20, 0.90  # 0.90 > porosity: rejected
    held[:, 0, 0] = 0.25                                                # off land: rejected
    bg = np.full((2, ny, nx), 0.25)
    an = np.full((2, ny, nx), 0.27)
    out = departures(held, bg, an, land, 0.0, 0.5)
    assert list(out["count"]) == [2, 2]
    assert out["omb_mean"][0] == pytest.approx(0.0) and out["omb_rmse"][0] == pytest.approx(0.05)
    assert out["oma_mean"][0] == pytest.approx(-0.02)
    assert out["oma_rmse"][0] == pytest.approx(np.sqrt((0.03 ** 2 + 0.07 ** 2) / 2))
    assert np.isnan(out["observation"][0, 4, 4]) and np.isnan(out["observation"][0, 0, 0])
    summary = top_layer_summary(out)
    assert summary["count"] == 2 and isinstance(summary["omb_rmse"], float)
    none = departures(np.full((2, ny, nx), np.nan), bg, an, land, 0.0, 0.5)
    assert list(none["count"]) == [0, 0] and top_layer_summary(none)["oma_rmse"] is None


def test_nothing_is_withheld_at_fraction_zero():
    bg, obs = make_case(shape=(8, 8), layers=1)
    used, held = withhold(obs, np.isfinite(bg.values[0]), 0.0, seed=1, cycle=2)
    assert used is obs and held is None
