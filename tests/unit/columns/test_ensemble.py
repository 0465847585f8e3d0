"""Member-major ensembles of columns: stacking, splitting, tiling, member textures."""

from __future__ import annotations

import numpy as np
import pytest

from landia.columns.ensemble import (block_parameters, block_state, join_blocks,
                                     member_blocks, member_texture, member_values,
                                     split_members, stack_members, tile_parameters)
from landia.columns.model import STATE_FIELDS, ModelState, step
from landia.columns.soil import SoilParameters
from landia.columns.state import ColumnParameters

FORCING = {"tair": 290.0, "qair": 0.008, "psurf": 1.0e5, "wind": 3.0, "swdown": 500.0,
           "lwdown": 330.0, "precip": 2e-4}


def params(n=4):
    soil = SoilParameters.from_sand_clay(np.linspace(20, 70, n), np.linspace(30, 10, n))
    return ColumnParameters.from_land_cover(soil, "grassland")


def states(p, members=3):
    return [ModelState.default(p.soil, saturation=0.3 + 0.1 * m) for m in range(members)]


def test_stack_and_split_are_inverse_and_member_major():
    p = params()
    members = states(p)
    stacked = stack_members(members)
    assert stacked.columns.n_columns == 12
    assert np.array_equal(stacked.columns.w_liq[4:8], members[1].columns.w_liq)
    for a, b in zip(split_members(stacked, 3), members):
        for name in STATE_FIELDS:
            assert np.array_equal(a.arrays()[name], b.arrays()[name])
    assert member_values(stacked.columns.w_liq, 3).shape == (3, 4, 10)
    with pytest.raises(ValueError, match="do not split"):
        split_members(stacked, 5)


def test_one_step_of_the_stack_is_the_members_steps():
    p = params()
    members = states(p)
    stacked, _ = step(stack_members(members), tile_parameters(p, 3), FORCING, 2.0)
    for m, (alone, together) in enumerate(zip(members, split_members(stacked, 3))):
        one, _ = step(alone, p, FORCING, 2.0)
        assert np.allclose(one.columns.w_liq, together.columns.w_liq, rtol=1e-12, atol=0)


def test_member_texture_is_reproducible_independent_of_the_split_and_physical():
    sand, clay = np.full(500, 60.0), np.full(500, 35.0)
    s1, c1 = member_texture(sand, clay, 10.0, seed=1, member=2)
    s2, c2 = member_texture(sand, clay, 10.0, seed=1, member=2)
    assert np.array_equal(s1, s2) and np.array_equal(c1, c2)
    s3, _ = member_texture(sand, clay, 10.0, seed=1, member=3)
    assert not np.array_equal(s1, s3)
    assert s1.min() >= 0 and (s1 + c1).max() <= 100.0 + 1e-12 and c1.min() >= 0
    assert 8.0 < np.std(s1) < 12.0
    SoilParameters.from_sand_clay(s1, c1)  # the pedotransfer function accepts them
    same = member_texture(sand, clay, 0.0, seed=1, member=2)
    assert same[0] is not None and np.array_equal(same[0], sand)
    layered, _ = member_texture(np.repeat(sand[:, None], 10, 1), np.repeat(clay[:, None], 10, 1),
                                10.0, seed=1, member=2)
    assert np.array_equal(layered[:, 4], s1)


def test_stepping_in_member_blocks_gives_the_bits_of_one_call():
    p = params(5)
    members = states(p, members=7)
    whole = stack_members(members)
    tiled = tile_parameters(p, 7)
    blocks = member_blocks(7, 5, limit=15)                 # 3 members (15 columns) a block
    assert blocks == [(0, 3), (3, 6), (6, 7)]
    assert member_blocks(2, 100, limit=15) == [(0, 1), (1, 2)]
    one, _ = step(whole, tiled, FORCING, 2.0)
    parts = [step(block_state(whole, 5, a, b), block_parameters(tiled, 5, a, b), FORCING,
                  2.0)[0] for a, b in blocks]
    again = join_blocks(parts)
    for name in STATE_FIELDS:
        assert np.array_equal(one.arrays()[name], again.arrays()[name]), name
    for m, alone in enumerate(members):                     # and of each member alone
        single, _ = step(alone, p, FORCING, 2.0)
        assert np.array_equal(single.columns.w_liq, one.columns.w_liq[5 * m:5 * m + 5])
