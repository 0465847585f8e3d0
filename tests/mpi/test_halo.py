"""Halo exchange under ``mpirun -n 2`` (and 3, by hand): each rank gets exactly the values a
serial lookup of the global array gives, bit for bit. Also passes with one rank.

Every rank builds the same global array from the same seed, hands the exchange its own block
and compares what comes back with the rows of its halo cells in the global array.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

mpi4py = pytest.importorskip("mpi4py")
from mpi4py import MPI  # noqa: E402

from landia.exchange.decomposition import Decomposition  # noqa: E402
from landia.exchange.halo import HaloPlan, exchange_halo  # noqa: E402
from tests.mpi.test_mpi_exchange import same_bits, serial_array  # noqa: E402
from tests.unit.exchange.test_halo import (brute_force_distances,  # noqa: E402
                                           brute_force_halo, global_grid, regional_grid)

COMM = MPI.COMM_WORLD


@pytest.mark.parametrize("grid_name", ["regional", "global"])
@pytest.mark.parametrize("radius", [0.0, 400.0, 2500.0, math.inf])
def test_exchange_gives_the_serial_values_for_two_ks(grid_name, radius):
    grid = regional_grid() if grid_name == "regional" else global_grid()
    d = Decomposition.for_grid(grid, COMM.size)
    plan = HaloPlan.build(grid, d, radius)
    distances = brute_force_distances(grid)
    for k in (1, 20):
        serial = serial_array(grid.n_land, (k,), seed=k)
        cells, values = exchange_halo(COMM, plan, d.local(serial, COMM.rank).copy())
        np.testing.assert_array_equal(cells, brute_force_halo(distances, d, COMM.rank, radius))
        assert same_bits(values, serial[cells])


def test_ranks_without_cells_take_part():
    # Two land cells: with 3 ranks the last owns nothing and receives nothing.
    grid = regional_grid()
    land = np.zeros(grid.shape, dtype=bool)
    land[0, :2] = True
    grid = type(grid)(grid.lat, grid.lon, land)
    d = Decomposition.for_grid(grid, COMM.size)
    plan = HaloPlan.build(grid, d, 500.0)
    for k in (0, 3):
        serial = serial_array(2, (k,), seed=3)
        cells, values = exchange_halo(COMM, plan, d.local(serial, COMM.rank).copy())
        assert values.shape == (cells.size, k)
        assert same_bits(values, serial[cells])
        assert cells.tolist() == ([] if d.count(COMM.rank) == 0 else [0, 1])


def test_a_bad_array_on_one_rank_is_raised_on_every_rank():
    grid = regional_grid()
    d = Decomposition.for_grid(grid, COMM.size)
    plan = HaloPlan.build(grid, d, 300.0)
    last = COMM.size - 1
    k = 4 if COMM.rank == last else 3
    local = np.zeros((d.count(COMM.rank), k))
    if COMM.size > 1:
        with pytest.raises(ValueError, match="same k"):
            exchange_halo(COMM, plan, local)
    bad = local.astype(np.float32) if COMM.rank == last else local
    with pytest.raises(ValueError, match=f"rank {last}: local values: expected dtype float64"):
        exchange_halo(COMM, plan, bad)
    short = local[1:] if COMM.rank == last else local
    with pytest.raises(ValueError, match=f"rank {last}: local values: expected shape"):
        exchange_halo(COMM, plan, short)


def test_a_plan_for_another_number_of_ranks_is_refused():
    grid = regional_grid()
    plan = HaloPlan.build(grid, Decomposition.for_grid(grid, COMM.size + 1), 300.0)
    with pytest.raises(ValueError, match="halo plan expects"):
        exchange_halo(COMM, plan, np.zeros((1, 1)))
