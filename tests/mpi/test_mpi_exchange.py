"""Gather/scatter under ``mpirun -n 2``: bit-identical to the serial arrays, any rank count.

Run by ``./run test`` as ``mpirun -n 2 python -m pytest tests/mpi``; every rank runs the same
test functions and builds the same serial (global-order) arrays from the same seed, so each
rank can compare its own block and the root the gathered whole. Also passes with one rank.
"""

from __future__ import annotations

import numpy as np
import pytest

mpi4py = pytest.importorskip("mpi4py")
from mpi4py import MPI  # noqa: E402

from landia.columns.model import STATE_FIELDS  # noqa: E402
from landia.exchange import (Decomposition, gather_state, gather_to_root,  # noqa: E402
                             local_state, scatter_from_root, scatter_state)
from tests.unit.exchange.test_decomposition import random_state  # noqa: E402

COMM = MPI.COMM_WORLD


def serial_array(n: int, trailing=(), seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, *trailing))
    if a.size:  # bits a copy must keep: NaN payload, -0.0, subnormal, inf
        flat = a.reshape(-1)
        flat[0] = np.frombuffer(np.uint64(0x7FF8_0000_DEAD_BEEF).tobytes(), np.float64)[0]
        flat[-1] = -0.0
        flat[len(flat) // 2] = 5e-324
        if flat.size > 3:
            flat[1] = -np.inf
    return a


def same_bits(a, b) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("n", [0, 1, 2, 7, 992])
@pytest.mark.parametrize("trailing", [(), (3,), (2, 5)])
def test_gather_and_scatter_are_bit_identical_to_serial(n, trailing):
    d = Decomposition(n, COMM.size)
    serial = serial_array(n, trailing, seed=n)
    local = scatter_from_root(COMM, d, serial if COMM.rank == 0 else None, trailing)
    assert same_bits(local, serial[d.block(COMM.rank)])
    gathered = gather_to_root(COMM, d, local)
    if COMM.rank == 0:
        assert same_bits(gathered, serial)
    else:
        assert gathered is None


def test_gather_from_local_blocks_to_a_nonzero_root():
    d = Decomposition(11, COMM.size)
    serial = serial_array(11, (4,), seed=4)
    root = COMM.size - 1
    gathered = gather_to_root(COMM, d, serial[d.block(COMM.rank)].copy(), root=root)
    assert (gathered is not None) == (COMM.rank == root)
    if COMM.rank == root:
        assert same_bits(gathered, serial)


def test_zero_column_rank():
    """One column over all ranks: every rank but 0 owns nothing."""
    d = Decomposition(1, COMM.size)
    serial = serial_array(1, (10,), seed=1)
    local = scatter_from_root(COMM, d, serial if COMM.rank == 0 else None, (10,))
    assert local.shape == ((1, 10) if COMM.rank == 0 else (0, 10))
    gathered = gather_to_root(COMM, d, local)
    if COMM.rank == 0:
        assert same_bits(gathered, serial)
    state = random_state(1, nl=10, seed=5)
    mine = scatter_state(COMM, d, state if COMM.rank == 0 else None)
    assert (mine is None) == (COMM.rank > 0)
    back = gather_state(COMM, d, mine)
    if COMM.rank == 0:
        for n in STATE_FIELDS:
            assert same_bits(back.arrays()[n], state.arrays()[n]), n


@pytest.mark.parametrize("n", [1, 3, 50])
def test_state_round_trip_is_bit_identical_to_serial(n):
    d = Decomposition(n, COMM.size)
    state = random_state(n, nl=10, seed=n)  # the same serial state on every rank
    mine = scatter_state(COMM, d, state if COMM.rank == 0 else None)
    expected = local_state(state, d, COMM.rank)
    if expected is None:
        assert mine is None
    else:
        for name in STATE_FIELDS:
            assert same_bits(mine.arrays()[name], expected.arrays()[name]), name
    # Gather the blocks each rank cut out itself: independent of the scatter.
    back = gather_state(COMM, d, expected)
    if COMM.rank == 0:
        for name in STATE_FIELDS:
            assert same_bits(back.arrays()[name], state.arrays()[name]), name
    else:
        assert back is None


def test_wrong_local_shape_raises_on_every_rank():
    d = Decomposition(6, COMM.size)
    local = np.zeros((d.count(COMM.rank) + (1 if COMM.rank == COMM.size - 1 else 0), 2))
    with pytest.raises(ValueError, match=f"rank {COMM.size - 1}: local array: expected a "
                                         "first axis of"):
        gather_to_root(COMM, d, local)
    with pytest.raises(ValueError, match="expected dtype float64"):
        gather_to_root(COMM, d, np.zeros((d.count(COMM.rank), 2), dtype=np.float32))
    with pytest.raises(ValueError, match="expected shape"):
        scatter_from_root(COMM, d, np.zeros((5, 2)) if COMM.rank == 0 else None, (2,))
    with pytest.raises(ValueError, match="decomposition expects"):
        gather_to_root(COMM, Decomposition(6, COMM.size + 1), np.zeros((1,)))
    if COMM.size > 1:
        # Different trailing shapes on different ranks.
        local = np.zeros((d.count(COMM.rank), 2 + COMM.rank))
        with pytest.raises(ValueError, match="same trailing shape on every rank"):
            gather_to_root(COMM, d, local)
    COMM.Barrier()  # all ranks still in step


def test_results_do_not_depend_on_the_number_of_ranks():
    """The root's gathered array equals the array gathered by a 1-rank communicator."""
    n, trailing = 37, (3,)
    serial = serial_array(n, trailing, seed=37)
    d = Decomposition(n, COMM.size)
    gathered = gather_to_root(COMM, d, serial[d.block(COMM.rank)].copy())
    solo = COMM.Split(color=COMM.rank, key=0)  # one rank each
    try:
        alone = gather_to_root(solo, Decomposition(n, 1), serial.copy())
    finally:
        solo.Free()
    if COMM.rank == 0:
        assert same_bits(gathered, alone) and same_bits(gathered, serial)
