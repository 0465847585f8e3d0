"""Decomposition of the land cells over ranks: pure arithmetic, no MPI."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from landia.columns.model import STATE_FIELDS, ModelState
from landia.columns.state import ColumnState
from landia.exchange import Decomposition, local_state
from landia.grid import LatLonGrid

PAIRS = [(n, s) for n in (0, 1, 2, 3, 5, 7, 10, 31, 64, 100, 992, 1001) for s in range(1, 18)]


def random_state(n: int, nl: int = 4, seed: int = 0) -> ModelState:
    rng = np.random.default_rng(seed)
    cols = ColumnState(w_liq=rng.uniform(0, 100, (n, nl)), w_ice=rng.uniform(0, 5, (n, nl)),
                       t_soil=rng.uniform(250, 300, (n, nl)), pond=rng.uniform(0, 10, n),
                       snow=rng.uniform(0, 50, n), wa=rng.uniform(0, 5000, n),
                       z_wt=rng.uniform(0, 80, n))
    return ModelState(columns=cols, t_snow=rng.uniform(240, 273.15, n))


@pytest.mark.parametrize("n,size", PAIRS)
def test_blocks_cover_every_cell_once_contiguously_and_balanced(n, size):
    d = Decomposition(n, size)
    assert len(d.counts) == len(d.displacements) == size
    assert sum(d.counts) == n
    assert max(d.counts) - min(d.counts) <= 1
    # First n % size ranks have one more.
    assert list(d.counts) == [n // size + (r < n % size) for r in range(size)]
    seen = np.zeros(n, dtype=int)
    start = 0
    for r in range(size):
        b = d.block(r)
        assert b.step is None and b.start == start == d.displacements[r]
        assert b.stop - b.start == d.count(r) == d.counts[r]
        seen[b] += 1
        start = b.stop
    assert start == n
    np.testing.assert_array_equal(seen, 1)
    if n:
        owners = d.owner(np.arange(n))
        for r in range(size):
            np.testing.assert_array_equal(np.flatnonzero(owners == r), np.arange(n)[d.block(r)])


def test_more_ranks_than_cells_gives_empty_blocks_at_the_end():
    d = Decomposition(3, 5)
    assert d.counts == (1, 1, 1, 0, 0)
    assert d.displacements == (0, 1, 2, 3, 3)
    assert d.block(4) == slice(3, 3)
    assert np.arange(3)[d.block(4)].size == 0
    d = Decomposition(1, 2)
    assert d.counts == (1, 0) and d.block(1) == slice(1, 1)


def test_known_split():
    d = Decomposition(10, 3)
    assert d.counts == (4, 3, 3) and d.displacements == (0, 4, 7)
    assert d.owner(3) == 0 and d.owner(4) == 1 and d.owner(9) == 2


@pytest.mark.parametrize("n,size", [(-1, 2), (2.0, 2), ("4", 2), (True, 2), (4, 0), (4, -1),
                                    (4, 1.5), (4, None)])
def test_invalid_inputs_are_refused(n, size):
    with pytest.raises(ValueError, match="expected an integer"):
        Decomposition(n, size)


def test_invalid_rank_and_cell():
    d = Decomposition(10, 3)
    for rank in (-1, 3, 1.0, True):
        with pytest.raises(ValueError, match=r"rank: expected an integer in \[0, 2\]"):
            d.block(rank)
    for cell in (-1, 10, 2.5):
        with pytest.raises(ValueError, match="cell: expected integer"):
            d.owner(cell)
    with pytest.raises(ValueError, match="first axis of 10 cells"):
        d.local(np.zeros(9), 0)


def test_numpy_integers_accepted():
    d = Decomposition(np.int64(7), np.int32(2))
    assert d.counts == (4, 3) and isinstance(d.n_cells, int)
    assert d.block(np.int64(1)) == slice(4, 7)


def test_for_grid_counts_land_cells():
    land = np.array([[True, False, True], [False, True, True]])
    grid = LatLonGrid(np.array([10.0, 11.0]), np.array([100.0, 101.0, 102.0]), land)
    d = Decomposition.for_grid(grid, 3)
    assert d.n_cells == 4 and d.counts == (2, 1, 1)
    # Global order = row-major land index.
    np.testing.assert_array_equal(d.local(grid.land_index, 0), [0, 2])


def test_state_fields_are_every_model_state_array():
    names = [f.name for f in dataclasses.fields(ColumnState)]
    assert list(STATE_FIELDS) == names + ["t_snow"]
    assert [f.name for f in dataclasses.fields(ModelState)] == ["columns", "t_snow"]


def test_state_arrays_round_trip_and_local_state():
    s = random_state(10)
    arrays = s.arrays()
    assert list(arrays) == list(STATE_FIELDS)
    back = ModelState.from_arrays(arrays)
    for n in STATE_FIELDS:
        assert np.array_equal(back.arrays()[n], arrays[n])
    d = Decomposition(10, 4)
    parts = [local_state(s, d, r) for r in range(4)]
    for n in STATE_FIELDS:
        joined = np.concatenate([p.arrays()[n] for p in parts])
        assert joined.tobytes() == arrays[n].tobytes()
    assert local_state(random_state(1), Decomposition(1, 2), 1) is None


def test_state_from_arrays_names_missing_fields():
    arrays = random_state(3).arrays()
    del arrays["wa"]
    with pytest.raises(ValueError, match=r"missing \['wa'\]"):
        ModelState.from_arrays(arrays)
    arrays = random_state(3).arrays()
    arrays["t_snow"] = arrays["t_snow"][:2]
    with pytest.raises(ValueError, match=r"t_snow: expected shape \(3,\)"):
        ModelState.from_arrays(arrays)


def test_decomposition_and_checkpoint_import_no_mpi():
    import subprocess
    import sys

    code = ("import sys, landia.exchange, landia.exchange.decomposition, landia.checkpoint; "
            "bad = [m for m in sys.modules if m.split('.')[0] == 'mpi4py']; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)
