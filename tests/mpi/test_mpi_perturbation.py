"""A cycle with perturbed forcing under ``mpirun -n 2`` gives the serial run's bits: every
rank draws the perturbation fields on the whole grid and keeps its own cells.

Every rank runs these functions (``./run test``: ``mpirun -n 2 pytest tests/mpi``); rank 0
also computes the serial reference on ``COMM_SELF``.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import h5py
import numpy as np
import pytest

mpi4py = pytest.importorskip("mpi4py")
from mpi4py import MPI  # noqa: E402

from landia.config import settings_from_dict  # noqa: E402
from landia.cycling.run import run_cycles  # noqa: E402

COMM = MPI.COMM_WORLD
GRID = {"south": 40.0, "north": 49.8, "west": 110.0, "east": 124.0, "resolution": 1.4}


def _settings(**perturbation):
    return settings_from_dict({
        "grid": GRID,
        "cycle": {"start": "2016-05-01T00:00", "end": "2016-05-03T00:00", "mode": "ctrl",
                  "window_hours": 24, "analysis_hours": [0]},
        "perturbation": {"enabled": True, "length_km": 300.0, **perturbation}})


def _final(run: Path) -> dict:
    newest = sorted((run / "checkpoints").glob("checkpoint-*.h5"))[-1]
    with h5py.File(newest, "r") as f:
        return {k: f["state"][k][...] for k in f["state"]}


def test_two_ranks_give_the_serial_bits_of_a_perturbed_run():
    path = tempfile.mkdtemp(prefix="landia-mpi-perturbation-") if COMM.rank == 0 else None
    path = Path(COMM.bcast(path, root=0))
    try:
        if COMM.rank == 0:
            run_cycles(MPI.COMM_SELF, _settings(), path / "serial", progress=False)
            run_cycles(MPI.COMM_SELF, _settings(seed=2), path / "other", progress=False)
        COMM.Barrier()
        run_cycles(COMM, _settings(), path / "mpi", progress=False)
        if COMM.rank == 0:
            a, b, c = (_final(path / n) for n in ("serial", "mpi", "other"))
            for k in a:
                assert np.array_equal(a[k], b[k]), k
            assert any(not np.array_equal(a[k], c[k]) for k in a)  # the seed matters
    finally:
        COMM.Barrier()
        if COMM.rank == 0:
            shutil.rmtree(path, ignore_errors=True)
