"""Model grid with a real land mask (landia.landmask).

The land queries run ``global_land_mask`` in a child process (4-10 s each, cached in memory
and on disk per box), so the grids are built once per module.
"""

from __future__ import annotations

import numpy as np
import pytest

from landia.errors import InputError
from landia.landmask import global_grid, model_grid, paper_grid, wrap_lon

pytest.importorskip("global_land_mask")


@pytest.fixture(scope="module")
def paper():
    return paper_grid()


def test_paper_grid(paper):
    grid, frac = paper
    assert grid.shape == (32, 31) and frac.shape == (32, 31)
    assert np.all((frac >= 0) & (frac <= 1))
    np.testing.assert_array_equal(grid.land, frac >= 0.5)
    # 23-67.8 N, 73-116.4 E stays inland: the Bay of Bengal (< 22 N), the Yellow Sea and
    # Bohai (> 117 E) and the Sea of Japan lie outside the box. Measured: 991 of 992 cells
    # are land, the sea cell being the Gulf of Ob (NW corner, 66.6-68 N, 73-74.4 E), and a
    # few cells are partly water (Baikal, Ob estuary).
    assert 0.97 < grid.land.mean() <= 1.0
    assert not grid.land[-1, 0]
    assert frac[-1, 0] < 0.5
    assert (frac < 0.99).sum() >= 2
    # a stricter threshold removes the partly-water cells
    strict, _ = paper_grid(land_threshold=0.99)
    assert strict.n_land < grid.n_land


def test_global_land_fraction():
    grid, frac = global_grid(5.0)
    assert grid.shape == (36, 72)
    w = np.cos(np.deg2rad(grid.lat))[:, None] * np.ones(grid.shape)
    # Earth's land (Antarctica included) is 29 % of its surface; measured 0.289
    assert (frac * w).sum() / w.sum() == pytest.approx(0.29, abs=0.01)
    assert 0.26 < (grid.land * w).sum() / w.sum() < 0.32
    # ocean and land where they must be
    j = lambda lat, lon: (int((lat + 90) // 5), int((lon + 180) // 5))
    assert frac[j(-30, -140)] == 0.0          # South Pacific
    assert frac[j(-80, 60)] == 1.0            # Antarctica
    assert frac[j(22, 12)] == 1.0             # Sahara


def test_longitude_convention():
    """The mask is asked in -180..180 whatever the grid's convention."""
    np.testing.assert_allclose(wrap_lon([-540.0, -190.0, -180.0, 0.0, 179.9, 180.0, 350.0]),
                               [-180.0, 170.0, -180.0, 0.0, 179.9, -180.0, -10.0])


@pytest.mark.parametrize("args, match", [
    ((30, 30, 100, 110, 1.0), "empty box"),
    ((40, 30, 100, 110, 1.0), "empty box"),
    ((30, 40, 110, 110, 1.0), "empty box"),
    ((30, 40, 100, 90, 1.0), "empty box"),
    ((-95, 40, 100, 110, 1.0), "south"),
    ((30, 40, 100, 110, 0.0), "resolution"),
    ((30, 40, 0, 400, 1.0), "west"),
])
def test_bad_box(args, match):
    with pytest.raises(InputError, match=match):
        model_grid(*args)


def test_bad_options():
    with pytest.raises(InputError, match="land_threshold"):
        model_grid(30, 40, 100, 110, 1.0, land_threshold=0.0)
    with pytest.raises(InputError, match="samples"):
        model_grid(30, 40, 100, 110, 1.0, samples=0)
