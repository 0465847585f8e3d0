"""The deterministic weather generator: rank independence, seeds, plausible climate."""

import numpy as np
import pytest

from landia.forcing.weather import WeatherGenerator, climatological_precipitation, elevation
from landia.grid import LatLonGrid

GRID = LatLonGrid.from_box(23, 68, 73, 117, 1.4)
FIELDS = ("tair", "qair", "psurf", "wind", "swdown", "lwdown", "precip")


def test_any_subset_of_cells_gets_the_same_forcing():
    full = WeatherGenerator(GRID, seed=7).forcing("2016-07-01", "2016-07-03")
    for cells in (np.array([0]), np.arange(300, 420), np.array([991, 3, 500])):
        part = WeatherGenerator(GRID, seed=7).forcing("2016-07-01", "2016-07-03", cells=cells)
        for name in FIELDS:
            np.testing.assert_array_equal(getattr(part, name), getattr(full, name)[:, cells],
                                          err_msg=name)


def test_a_day_does_not_depend_on_the_window_it_is_generated_in():
    long = WeatherGenerator(GRID, seed=7).forcing("2016-06-28", "2016-07-03")
    short = WeatherGenerator(GRID, seed=7).forcing("2016-07-02", "2016-07-03")
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(short, name), getattr(long, name)[-24:])


def test_the_precipitation_seed_changes_only_the_rain_and_its_clouds():
    a = WeatherGenerator(GRID, seed=7).forcing("2016-07-01", "2016-07-05")
    b = WeatherGenerator(GRID, seed=7, precipitation_seed=8).forcing("2016-07-01", "2016-07-05")
    np.testing.assert_array_equal(a.wind, b.wind)
    assert not np.array_equal(a.precip, b.precip)
    # same climate: totals within 30 % over the domain
    assert b.precip.sum() == pytest.approx(a.precip.sum(), rel=0.3)


def test_the_climate_is_east_asian():
    f = WeatherGenerator(GRID, seed=3).forcing("2016-01-01", "2017-01-01", step_hours=3)
    annual = f.precip.sum(axis=0) * 3 * 3600.0  # mm
    lat, lon = f.lat, f.lon
    south_east = (lat < 30) & (lon > 108)
    interior = (lat > 36) & (lat < 45) & (lon < 90)
    assert annual[south_east].mean() > 1000 and annual[interior].mean() < 250
    doy = np.arange(f.n_times) * 3 / 24
    summer = (doy > 151) & (doy < 243)
    share = f.precip[summer][:, south_east].sum() / f.precip[:, south_east].sum()
    assert share > 0.4  # monsoon: JJA carries > 40 % of the year in the south-east
    jan, jul = f.tair[:248].mean(axis=0), f.tair[1456:1704].mean(axis=0)
    north = lat > 60
    assert jan[north].mean() < 253 and jul[north].mean() > 283
    assert (f.swdown.max() < 1361 * 1.04) and f.swdown.min() == 0.0
    assert 250 < f.lwdown.mean() < 350


def test_closed_form_pieces():
    assert elevation(33.0, 88.0) == pytest.approx(4500 + 1500 * np.exp(-(14 / 6) ** 2 - 1.0))
    assert climatological_precipitation(40.0, 83.0, 0.0) < 0.5
    assert climatological_precipitation(25.0, 115.0, 1.0) > climatological_precipitation(
        25.0, 115.0, -1.0) * 3
