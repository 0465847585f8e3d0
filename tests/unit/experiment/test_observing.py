"""The demo's observing system: the error model (bias, correlated and random parts, the
misspecified region), the withheld cells and the files."""

from __future__ import annotations

import numpy as np
import pytest

from landia.experiment.observing import (MIN_CELLS, SETS, TRUE_ERROR_SET, ObservingSystem,
                                         make_daily_observations, observe_day, surface_of)
from landia.forcing.perturbation import grid_lengths
from landia.grid import LatLonGrid, colm_node_depths
from landia.io.fields import SoilMoistureField, read_field, write_field
from landia.io.naming import observation_name, state_name

NY, NX = 40, 48
LAT = 20.0 + 1.4 * np.arange(NY)
LON = 90.0 + 1.4 * np.arange(NX)
SYSTEM = ObservingSystem(region=(40.0, 60.0, 100.0, 130.0))
DAY = np.datetime64("2016-05-10T00:00", "s")


def truth_state(t=DAY, seed=0) -> SoilMoistureField:
    """Ten layers of a smooth 0.1-0.4 field, NaN on a 'sea' corner."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:NY, 0:NX]
    top = 0.25 + 0.1 * np.sin(yy / 6.0) * np.cos(xx / 7.0) + 0.01 * rng.standard_normal((NY, NX))
    values = np.repeat(top[None], 10, axis=0)
    values[:, :5, :5] = np.nan
    return SoilMoistureField(lat=LAT, lon=LON, depth=colm_node_depths(), values=values,
                             porosity=np.where(np.isfinite(values), 0.45, np.nan),
                             valid_time=t)


def test_the_errors_have_the_stated_parts_and_the_region_its_larger_random_error():
    truth = truth_state()
    land = np.isfinite(truth.values[0])
    seen = land.copy()
    seen[:, :3] = False
    day = observe_day(truth, seen, SYSTEM, seed=5)
    y, ym = day["values"]["obs"], day["values"]["obs_misspecified"]
    assert np.array_equal(np.isfinite(y), seen) and np.array_equal(np.isfinite(ym), seen)
    region = SYSTEM.region_mask(LAT, LON) & seen
    outside = seen & ~region
    np.testing.assert_array_equal(y[outside], ym[outside])      # one draw for both sets
    top = surface_of(truth.values)
    distortion = SYSTEM.bias_offset + SYSTEM.bias_slope * top
    random = (ym - y) / (SYSTEM.region_factor - 1.0)             # inside the region
    assert random[region].std() == pytest.approx(SYSTEM.random_std, rel=0.1)
    correlated = y - distortion - random
    assert correlated[region].std() == pytest.approx(SYSTEM.correlated_std, rel=0.3)
    c = np.where(region, correlated, np.nan)
    lag1 = np.nanmean(c[:, 1:] * c[:, :-1]) / np.nanmean(c**2)
    ly, lx = grid_lengths(LatLonGrid(LAT, LON, land), SYSTEM.correlated_km)
    assert lag1 == pytest.approx(np.exp(-1 / (2 * lx**2)), abs=0.15)
    total = y - distortion
    assert total[outside].std() == pytest.approx(np.sqrt(SYSTEM.stated_variance), rel=0.15)
    # the bias against the truth is the linear distortion's
    assert np.mean(y[seen] - top[seen]) == pytest.approx(
        SYSTEM.bias_offset + (SYSTEM.bias_slope - 1) * top[seen].mean(), abs=0.01)
    # inside the region the actual error is 2-4 times the stated one
    actual = (ym - distortion)[region].std()
    assert 2.0 < actual / np.sqrt(SYSTEM.stated_variance) < 4.0


def test_a_swath_part_adds_one_offset_per_swath_and_leaves_the_other_draws():
    """``swath_std`` adds a part constant along each swath (its own stream: the random and
    correlated draws are those of the system without it) and is stated."""
    truth = truth_state()
    seen = np.isfinite(truth.values[0])
    swath = ObservingSystem(region=SYSTEM.region, swath_std=0.04)
    plain, striped = (observe_day(truth, seen, system, seed=5)["values"]["obs"]
                      for system in (SYSTEM, swath))
    part = striped - plain
    part = part[np.isfinite(part)]
    # clipped cells aside, a few distinct offsets (the grid spans 66 deg: 7-8 swaths of 10)
    offsets = np.unique(np.round(part[np.abs(part) > 0], 12))
    assert 5 <= offsets.size <= 9
    assert np.mean(np.isin(np.round(part, 12), offsets)) > 0.95
    assert swath.stated_variance == pytest.approx(SYSTEM.stated_variance + 0.04**2, rel=1e-12)
    assert swath.region_variance == pytest.approx(SYSTEM.region_variance + 0.04**2, rel=1e-12)
    assert ObservingSystem().stated_variance == 0.04**2 + 0.02**2  # the demo's, bit for bit


def test_a_tenth_of_the_observed_cells_is_withheld_from_the_used_ones():
    truth = truth_state()
    seen = np.isfinite(truth.values[0])
    day = observe_day(truth, seen, SYSTEM, seed=5)
    assert not np.any(day["withheld"] & day["used"])
    np.testing.assert_array_equal(day["withheld"] | day["used"], seen)
    assert day["withheld"].sum() / seen.sum() == pytest.approx(0.1, abs=0.03)
    again = observe_day(truth, seen, SYSTEM, seed=5)
    np.testing.assert_array_equal(again["values"]["obs"], day["values"]["obs"])
    other = observe_day(truth, seen, SYSTEM, seed=6)
    assert not np.array_equal(other["withheld"], day["withheld"])


class HalfSeen:
    """Gaps: the west half of the grid on even days, the east half on odd days; nothing on
    2016-05-12."""

    def mask(self, day):
        n = int((np.datetime64(day, "D") - np.datetime64("2016-05-01", "D"))
                // np.timedelta64(1, "D"))
        m = np.zeros((NY, NX), dtype=bool)
        if n != 11:
            m[:, : NX // 2] = n % 2 == 0
            m[:, NX // 2:] = n % 2 == 1
        return m


def test_the_files_of_each_day_and_the_missing_feed(tmp_path):
    states = tmp_path / "truth" / "states"
    states.mkdir(parents=True)
    times = [DAY + np.timedelta64(h, "h") for h in range(0, 72, 12)]  # 10-12 May, twice a day
    for k, t in enumerate(times):
        write_field(states / state_name(t), truth_state(t, seed=k))
    summary = make_daily_observations(tmp_path / "truth", tmp_path, SYSTEM, HalfSeen(), seed=2)
    assert summary["days"] == 2 and summary["missing"] == ["2016-05-12T00:00"]
    for name, held_name in SETS.items():
        files = sorted((tmp_path / name).glob("obs_*.nc"))
        assert [f.name for f in files] == [observation_name(t) for t in times[:3:2]]
        for f in files:
            obs = read_field(f, "observation")
            held = read_field(tmp_path / held_name / f.name, "observation")
            used, withheld = np.isfinite(obs.values[0]), np.isfinite(held.values[0])
            assert used.sum() >= MIN_CELLS and not np.any(used & withheld)
            assert obs.values.shape[0] == SYSTEM.layers
            stated = np.broadcast_to(SYSTEM.stated_variance, used.shape)
            if name == TRUE_ERROR_SET:  # the variance its values have, inside the region
                stated = np.where(SYSTEM.region_mask(LAT, LON), SYSTEM.region_variance, stated)
            np.testing.assert_allclose(obs.error_variance[:, used],
                                       np.broadcast_to(stated[used], (SYSTEM.layers, used.sum())))
            assert obs.valid_time in times
    # the reference set: the misspecified set's values, with the region's true error stated
    assert SYSTEM.region_variance == pytest.approx(
        (SYSTEM.region_factor * SYSTEM.random_std) ** 2 + SYSTEM.correlated_std**2)
    for f in sorted((tmp_path / TRUE_ERROR_SET).glob("obs_*.nc")):
        reference = read_field(f, "observation")
        misspecified = read_field(tmp_path / "obs_misspecified" / f.name, "observation")
        np.testing.assert_array_equal(reference.values, misspecified.values)
        region = SYSTEM.region_mask(LAT, LON) & np.isfinite(reference.values[0])
        assert region.any()
        assert np.all(reference.error_variance[:, region] > 7 * SYSTEM.stated_variance)
    # 10 May (day 9: odd) sees the east half only, 11 May the west half only
    first = read_field(tmp_path / "obs" / observation_name(times[0]), "observation").values[0]
    second = read_field(tmp_path / "obs" / observation_name(times[2]), "observation").values[0]
    assert not np.isfinite(first[:, : NX // 2]).any() and np.isfinite(first[:, NX // 2:]).any()
    assert not np.isfinite(second[:, NX // 2:]).any() and np.isfinite(second[:, : NX // 2]).any()
