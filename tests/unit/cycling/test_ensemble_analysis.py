"""The LETKF of an ensemble cycle on one rank: observations, local increments, statistics."""

from __future__ import annotations

import numpy as np
import pytest

mpi4py = pytest.importorskip("mpi4py")
from mpi4py import MPI  # noqa: E402

from landia.config import EnsembleSettings, Settings, settings_from_dict  # noqa: E402
from landia.cycling.ensemble_analysis import (EnsembleAnalysis, ObservationSet,  # noqa: E402
                                              gathered_statistics)
from landia.exchange.decomposition import Decomposition  # noqa: E402
from landia.grid import LatLonGrid, colm_node_depths  # noqa: E402
from landia.io.fields import SoilMoistureField  # noqa: E402


def grid() -> LatLonGrid:
    land = np.ones((6, 10), dtype=bool)
    land[0, :3] = False
    return LatLonGrid(np.arange(40.0, 46.0), np.arange(110.0, 120.0), land)


def observation_image(g: LatLonGrid, cells: dict) -> SoilMoistureField:
    """An image of 3 layers with values at ``{(layer, row, col): value}``."""
    values = np.full((3, *g.land.shape), np.nan)
    for (k, i, j), v in cells.items():
        values[k, i, j] = v
    return SoilMoistureField(lat=g.lat, lon=g.lon, depth=colm_node_depths()[:3], values=values)


def settings(**analysis) -> Settings:
    return settings_from_dict({"analysis": {"min_valid_cells": 1, **analysis}})


def test_observations_are_kept_in_global_order_after_qc():
    g = grid()
    image = observation_image(g, {(1, 2, 4): 0.2, (0, 2, 4): 0.25, (0, 1, 0): 0.3,
                                  (0, 0, 0): 0.3,      # sea: dropped
                                  (2, 5, 9): 0.9})     # above the porosity: dropped
    obs = ObservationSet.from_image(image, g, np.full((g.n_land, 10), 0.45), settings())
    order = np.flatnonzero(g.land.ravel())
    expected = [np.searchsorted(order, 1 * 10 + 0)] + [np.searchsorted(order, 2 * 10 + 4)] * 2
    assert obs.cells.tolist() == expected and obs.layers.tolist() == [0, 0, 1]
    assert obs.values.tolist() == [0.3, 0.25, 0.2]
    assert np.all(obs.error_variance == settings().analysis.observation_error_variance)


def test_letkf_moves_observed_cells_and_leaves_far_cells_alone():
    g = grid()
    n, members = g.n_land, 8
    rng = np.random.default_rng(4)
    xb = 0.25 + 0.03 * rng.standard_normal((members, n, 3))
    image = observation_image(g, {(0, 3, 5): 0.35, (0, 3, 6): 0.33})
    obs = ObservationSet.from_image(image, g, np.full((n, 10), 0.45), settings())
    analysis = EnsembleAnalysis(g, Decomposition(n, 1), 0,
                                EnsembleSettings(localisation_km=60.0, inflation="none"))
    out = analysis.analyse(MPI.COMM_SELF, xb, obs)
    increment = out.xa - xb
    assert np.all(np.abs(increment[:, obs.cells, 0]) > 0)
    # the mean moves towards the observations, the spread shrinks there
    assert np.all(out.xa[:, obs.cells, 0].mean(0) - xb[:, obs.cells, 0].mean(0) != 0)
    assert np.all(out.xa[:, obs.cells, 0].std(0) < xb[:, obs.cells, 0].std(0))
    lat2, lon2 = np.meshgrid(g.lat, g.lon, indexing="ij")
    far = (np.abs(lat2[g.land] - 43.0) > 1.5) | (np.abs(lon2[g.land] - 115.5) > 2.5)
    assert far.any() and np.array_equal(out.xa[:, far], xb[:, far])
    stats = gathered_statistics(MPI.COMM_SELF, out, members, cycle=0)
    assert stats["obs_used"] == 2 and stats["obs_rejected"] == 0
    assert sum(stats["rank_histogram"]) == 2


def test_a_gross_error_is_rejected_and_counted():
    g = grid()
    n, members = g.n_land, 6
    xb = 0.25 + 0.01 * np.random.default_rng(5).standard_normal((members, n, 3))
    image = observation_image(g, {(0, 3, 5): 0.44, (0, 4, 5): 0.26})  # 0.44: > 5 sigma off
    obs = ObservationSet.from_image(image, g, np.full((n, 10), 0.45), settings())
    out = EnsembleAnalysis(g, Decomposition(n, 1), 0, EnsembleSettings()).analyse(MPI.COMM_SELF, xb, obs)
    assert out.kept.tolist() == [False, True]
    stats = gathered_statistics(MPI.COMM_SELF, out, members, cycle=0)
    assert (stats["obs_used"], stats["obs_rejected"]) == (1, 1)
