"""The run directory under ``mpirun -n N``: the root's lock decides for every rank, and the run
log (``budget_mm`` included) has the serial bits whatever the number of ranks.

Every rank runs these functions (``mpirun -n 2 pytest tests/mpi``; ``-n 3`` too); rank 0 also
computes the serial reference on ``COMM_SELF``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

mpi4py = pytest.importorskip("mpi4py")

from landia.commands import cycle as cycle_command  # noqa: E402
from landia.cycling.run import run_cycles  # noqa: E402
from landia.cycling.run_dir import EXIT_LOCKED, LOCK_NAME  # noqa: E402
from landia.io.lock import FileLock  # noqa: E402
from tests.mpi.test_mpi_cycle import COMM, _settings, shared_folder  # noqa: E402


@pytest.fixture(scope="module")
def folder():
    yield from shared_folder("landia-mpi-run-dir-", ("mpi",))


def _log(run: Path) -> list[dict]:
    lines = [json.loads(x) for x in (run / "run_log.jsonl").read_text().splitlines()]
    for r in lines:
        r.pop("seconds"), r.pop("ranks"), r.pop("observation", None)
    return lines


def test_the_run_log_has_the_serial_bits(folder):
    run_cycles(COMM, _settings(), folder / "mpi", progress=False)
    if COMM.rank == 0:
        serial, mpi = _log(folder / "serial"), _log(folder / "mpi")
        assert [r["cycle"] for r in mpi] == [0, 1, 2, 3]
        assert any(r["budget_mm"]["assimilation"] != 0.0 for r in serial)
        assert mpi == serial  # budget_mm to the last bit


def test_a_held_run_directory_stops_every_rank_with_status_75(folder):
    run = folder / "held"
    holder = None
    if COMM.rank == 0:
        holder = FileLock(run / LOCK_NAME, "test")
        holder.acquire()
    COMM.Barrier()
    try:
        args = argparse.Namespace(run_dir=str(run), end=None, no_progress=True,
                                  cold_start=False)
        assert cycle_command.run(args, _settings(), COMM) == EXIT_LOCKED
    finally:
        if holder is not None:
            holder.release()
    COMM.Barrier()
    if COMM.rank == 0:
        assert sorted(p.name for p in run.iterdir()) == [LOCK_NAME]
