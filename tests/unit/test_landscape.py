"""The synthetic landscape of the embedded experiment."""

import numpy as np

from landia.columns.roots import LAND_COVER_ROOTS
from landia.columns.soil import SoilParameters
from landia.landscape import build_landscape
from landia.grid import LatLonGrid

GRID = LatLonGrid.from_box(23, 68, 73, 117, 1.4)


def test_landscape_is_physical_and_follows_the_climate():
    land = build_landscape(GRID)
    n = GRID.n_land
    assert land.sand.shape == land.clay.shape == (n,) and land.lai_monthly.shape == (12, n)
    assert np.all(land.sand + land.clay <= 95.0 + 1e-9) and land.sand.min() >= 0
    SoilParameters.from_sand_clay(land.sand, land.clay)  # valid Cosby input
    assert set(land.land_cover) <= set(LAND_COVER_ROOTS)
    cover = np.array(land.land_cover)
    lat2, lon2 = np.meshgrid(GRID.lat, GRID.lon, indexing="ij")
    lat, lon = lat2[GRID.land], lon2[GRID.land]
    assert np.all(cover[(lat > 37) & (lat < 43) & (lon < 88)] == "bare_soil")  # Taklamakan
    assert np.all(np.isin(cover[(lat < 28) & (lon > 110)], ["evergreen_forest"]))
    assert np.all(land.lai_monthly[:, cover == "bare_soil"] == 0.0)
    deciduous = cover == "deciduous_forest"
    jul, jan = land.lai_monthly[6, deciduous], land.lai_monthly[0, deciduous]
    assert np.all(jul >= jan) and jul.mean() > jan.mean() + 1.0


def test_texture_seed_gives_another_texture_over_the_same_climate():
    a, b = build_landscape(GRID, 11), build_landscape(GRID, 12)
    assert a.land_cover == b.land_cover
    r = np.corrcoef(a.sand, b.sand)[0, 1]
    assert 0.0 < r < 0.9
    np.testing.assert_array_equal(build_landscape(GRID, 11).sand, a.sand)
