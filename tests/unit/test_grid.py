"""Model grid and CoLM layer geometry against the science notes' table (section 5)."""

from __future__ import annotations

import numpy as np
import pytest

from landia.errors import InputError
from landia.grid import (LatLonGrid, colm_interface_depths, colm_layer_thickness,
                         colm_node_depths)


def test_colm_layers_match_the_table():
    z_cm = [0.71, 2.79, 6.23, 11.89, 21.22, 36.61, 61.98, 103.8, 172.8, 286.5]
    dz_cm = [1.75, 2.76, 4.55, 7.50, 12.36, 20.38, 33.60, 55.39, 91.33, 113.7]
    zi_cm = [1.75, 4.51, 9.06, 16.55, 28.91, 49.29, 82.89, 138.3, 229.6, 343.3]
    np.testing.assert_allclose(colm_node_depths() * 100, z_cm, rtol=2e-3, atol=0.006)
    np.testing.assert_allclose(colm_layer_thickness() * 100, dz_cm, rtol=2e-3, atol=0.006)
    np.testing.assert_allclose(colm_interface_depths() * 100, zi_cm, rtol=2e-3, atol=0.006)
    # Thicknesses tile the column from the surface to the last interface.
    assert colm_layer_thickness().sum() == pytest.approx(colm_interface_depths()[-1])


def test_paper_grid_and_land_order():
    g = LatLonGrid.from_box(23, 68, 73, 117, 1.4)
    assert g.shape == (32, 31)
    assert g.lat[0] == pytest.approx(23.7) and g.lon[-1] == pytest.approx(73 + 1.4 * 30.5)
    assert not g.is_global
    land = np.zeros(g.shape, bool)
    land[3, 4] = land[10, 2] = True
    g = LatLonGrid(g.lat, g.lon, land)
    values = np.array([1.0, 2.0])
    field = g.to_field(values)
    np.testing.assert_array_equal(g.to_land(field), values)
    assert np.isnan(field[0, 0]) and list(g.land_index) == [3 * 31 + 4, 10 * 31 + 2]


def test_global_grid_and_bad_coordinates():
    lat = 90 - (np.arange(180) + 0.5)
    lon = -180 + (np.arange(360) + 0.5)
    assert LatLonGrid(lat, lon, np.ones((180, 360), bool)).is_global
    with pytest.raises(InputError, match="monotonic"):
        LatLonGrid(np.array([1.0, 3.0, 2.0]), lon, np.ones((3, 360), bool))
    with pytest.raises(InputError, match="land mask shape"):
        LatLonGrid(lat, lon, np.ones((10, 10), bool))
    with pytest.raises(InputError, match="within"):
        LatLonGrid(np.array([80.0, 95.0]), lon, np.ones((2, 360), bool))
