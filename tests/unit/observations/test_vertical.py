"""Vertical mapping of product layers to CoLM layers (landia.observations.vertical)."""

from __future__ import annotations

import numpy as np
import pytest

from landia.errors import InputError
from landia.grid import colm_node_depths
from landia.observations.product import ProductField
from landia.observations.vertical import (map_field, map_layers, observed_layers,
                                          vertical_weights)

ERA5 = ([0.0, 0.07, 0.28, 1.00], [0.07, 0.28, 1.00, 2.89])
GLDAS = ([0.0, 0.10, 0.40, 1.00], [0.10, 0.40, 1.00, 2.00])
SATELLITE = ([0.0], [0.05])


def test_node_depths_are_colm():
    np.testing.assert_allclose(colm_node_depths()[:3], [0.0071, 0.0279, 0.0623], atol=1e-4)


@pytest.mark.parametrize("layering, expect", [
    (ERA5, [0, 0, 0, 1, 1, 2, 2, 3, 3, 3]),        # node 10 at 2.865 m < 2.89 m
    (GLDAS, [0, 0, 0, 1, 1, 1, 2, 3, 3, -1]),      # node 10 below 2 m: not observed
    (SATELLITE, [0, 0, -1, -1, -1, -1, -1, -1, -1, -1]),
])
def test_node_in_range(layering, expect):
    z = colm_node_depths()
    top, bot = map(np.asarray, layering)
    w = vertical_weights(top, bot)
    got = [int(np.flatnonzero(row)[0]) if row.any() else -1 for row in w]
    assert got == expect
    # the chosen layer really contains the node
    for j, k in enumerate(got):
        if k >= 0:
            assert top[k] <= z[j] < bot[k]
        else:
            assert not np.any((top <= z[j]) & (z[j] < bot))
    np.testing.assert_array_equal(observed_layers(top, bot), np.array(expect) >= 0)


def test_satellite_observes_layers_one_and_two():
    z = colm_node_depths()
    obs = observed_layers(*SATELLITE)
    np.testing.assert_array_equal(np.flatnonzero(obs), [0, 1])
    assert z[1] < 0.05 < z[2]
    v, _ = map_layers(np.full((1, 2, 3), 0.3), *SATELLITE)
    assert v.shape == (10, 2, 3)
    np.testing.assert_allclose(v[:2], 0.3)
    assert np.all(np.isnan(v[2:]))


def test_paper_era_top_three_layers():
    v = np.array([0.31, 0.25, 0.2, 0.15])[:, None, None] * np.ones((4, 3, 2))
    out, _ = map_layers(v, *ERA5, node_depths=colm_node_depths()[:3])
    assert out.shape == (3, 3, 2)
    np.testing.assert_allclose(out, 0.31)


def test_linear():
    top, bot = map(np.asarray, ERA5)
    mid = 0.5 * (top + bot)
    z = colm_node_depths()
    vals = np.array([0.30, 0.26, 0.22, 0.18])
    out, _ = map_layers(vals, top, bot, method="linear")
    np.testing.assert_allclose(out, np.interp(z, mid, vals), rtol=1e-13)
    assert out[0] == out[1] == 0.30                  # above the first mid-depth 0.035 m
    gl, _ = map_layers(vals, *GLDAS, method="linear")
    assert np.isnan(gl[-1]) and np.all(np.isfinite(gl[:-1]))
    w = vertical_weights(*GLDAS, method="linear")
    np.testing.assert_allclose(w.sum(axis=1)[:-1], 1.0)
    sat, _ = map_layers(np.array([0.2]), *SATELLITE, method="linear")
    np.testing.assert_array_equal(np.isfinite(sat), observed_layers(*SATELLITE, method="linear"))
    assert np.isfinite(sat[:2]).all() and np.isnan(sat[2:]).all()


def test_nan_propagation_and_error_variance():
    v = np.full((4, 2, 2), 0.25)
    v[0, 0, 0] = np.nan
    v[3, 1, 1] = np.nan
    ev = np.full((4, 2, 2), 1e-3)
    ev[1] = 4e-3
    out, oev = map_layers(v, *ERA5, error_variance=ev)
    assert np.all(np.isnan(out[:3, 0, 0])) and np.all(np.isfinite(out[3:, 0, 0]))
    assert np.all(np.isnan(out[7:, 1, 1])) and np.all(np.isfinite(out[:7, 1, 1]))
    np.testing.assert_allclose(oev[3:5], 4e-3)
    np.testing.assert_allclose(oev[:3], 1e-3)
    # linear: a NaN in an unused layer does not spread
    lin, _ = map_layers(v, *ERA5, method="linear")
    w = vertical_weights(*ERA5, method="linear")
    uses_first = w[:, 0] > 0
    np.testing.assert_array_equal(np.isnan(lin[:, 0, 0]), uses_first)


def test_map_field():
    f = ProductField(time="2016-05-01", lat=[30.0, 31.0], lon=[100.0, 101.0],
                     values=np.full((4, 2, 2), 0.2), layer_top=GLDAS[0],
                     layer_bottom=GLDAS[1], source="gldas-test")
    v, ev, obs = map_field(f)
    assert v.shape == (10, 2, 2) and ev is None
    assert obs.sum() == 9


@pytest.mark.parametrize("top, bot, match", [
    ([0.0, 0.05], [0.07], "same"),
    ([0.0], [0.0], "top < bottom"),
    ([-0.1], [0.05], "top < bottom"),
    ([0.0, 0.05], [0.07, 0.2], "overlap"),
    ([0.1, 0.0], [0.2, 0.1], "overlap"),
    ([np.nan], [0.1], "finite"),
])
def test_bad_layers(top, bot, match):
    with pytest.raises(InputError, match=match):
        vertical_weights(top, bot)


def test_bad_input():
    with pytest.raises(InputError, match="method"):
        vertical_weights(*ERA5, method="cubic")
    with pytest.raises(InputError, match="increasing"):
        vertical_weights(*ERA5, node_depths=[0.1, 0.05])
    with pytest.raises(InputError, match="product layers first"):
        map_layers(np.zeros((3, 2, 2)), *ERA5)
    with pytest.raises(InputError, match="error variance"):
        map_layers(np.zeros((4, 2)), *ERA5, error_variance=np.zeros((4, 3)))
