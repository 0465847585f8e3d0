"""SMAP's daily valid masks on a model grid, and the synthetic swaths used without the data."""

from __future__ import annotations

import numpy as np
import pytest

from landia.experiment.satellite_gaps import (SMAP_FILE, GapSampler, SyntheticSwaths,
                                              read_smap_masks, satellite_gaps)
from landia.grid import LatLonGrid

PAPER = LatLonGrid.from_box(23.0, 68.0, 73.0, 117.0, 1.4)
SUMMER = [np.datetime64("2016-05-11", "D") + k for k in range(60)]


@pytest.fixture(scope="module")
def masks(shared_data):
    return read_smap_masks(shared_data / SMAP_FILE)


def _neighbour_agreement(m: np.ndarray) -> float:
    """Share of east-west neighbours with the same validity."""
    return float(np.mean(m[:, 1:] == m[:, :-1]))


def test_the_smap_masks_are_the_files_lattice_and_coverage(masks):
    assert masks.valid.shape == (731, 18, 38) and masks.land.sum() == 412
    assert masks.days[0] == np.datetime64("2015-04-01") and masks.days[-1] == np.datetime64(
        "2017-03-31")
    assert masks.valid_fraction == pytest.approx(0.416, abs=0.005)  # the README's ~42 %
    assert not masks.valid[:, ~masks.land].any()


def test_the_model_grid_gets_smaps_coverage_and_moving_swaths(masks):
    gaps = GapSampler(masks, PAPER, "2016-05-01", "2016-07-30", seed=1)
    cover = np.array([gaps.mask(d)[PAPER.land].mean() for d in SUMMER])
    assert 0.35 < cover[cover > 0].mean() < 0.6  # SMAP's summer coverage (42 % all year)
    first = gaps.mask(SUMMER[0])
    assert not first[~PAPER.land].any()
    # swaths: coherent in space (far from a coin toss's 50 % agreement), moving day to day
    assert _neighbour_agreement(first) > 0.8
    assert np.mean(gaps.mask(SUMMER[0]) != gaps.mask(SUMMER[1])) > 0.2
    # the season is kept: the SMAP day is the model day of another year, +- 10 days
    for d in SUMMER[::10]:
        lag = (gaps.smap_day(d) - d).astype(int) % 365
        assert min(lag, 365 - lag) <= 11
    again = GapSampler(masks, PAPER, "2016-05-01", "2016-07-30", seed=1)
    np.testing.assert_array_equal(again.mask(SUMMER[3]), gaps.mask(SUMMER[3]))
    other = GapSampler(masks, PAPER, "2016-05-01", "2016-07-30", seed=2)
    assert not np.array_equal(other.mask(SUMMER[3]), gaps.mask(SUMMER[3]))


def test_a_small_box_takes_a_piece_of_the_lattice_one_to_one(masks):
    box = LatLonGrid.from_box(40.0, 49.8, 110.0, 124.0, 1.4)
    gaps = GapSampler(masks, box, "2016-05-01", "2016-05-05", seed=3)
    rows, cols = np.unravel_index(gaps.index, masks.land.shape)
    assert masks.land[rows, cols].all()
    # 10 columns of 1.4 deg on a lattice of 1.494 deg: about 9-10 distinct lattice columns
    assert 8 <= np.unique(cols).size <= 10


def test_without_the_file_the_gaps_are_synthetic_swaths(tmp_path):
    gaps, what = satellite_gaps(tmp_path, PAPER, "2016-05-01", "2016-06-01", seed=1)
    assert isinstance(gaps, SyntheticSwaths) and "synthetic swaths" in what
    cover = np.array([gaps.mask(d)[PAPER.land].mean() for d in SUMMER])
    assert 0.35 < cover.mean() < 0.6
    assert _neighbour_agreement(gaps.mask(SUMMER[0])) > 0.8
    assert np.mean(gaps.mask(SUMMER[0]) != gaps.mask(SUMMER[1])) > 0.2
    np.testing.assert_array_equal(SyntheticSwaths(PAPER, 1).mask(SUMMER[2]),
                                  gaps.mask(SUMMER[2]))
