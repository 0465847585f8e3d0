"""Root-only commands under ``mpirun -n 2``: the work runs on the root, every rank returns its
exit status, and a bug on the root does not leave the other ranks waiting."""

from __future__ import annotations

import pytest

mpi4py = pytest.importorskip("mpi4py")
from mpi4py import MPI  # noqa: E402

from landia.commands.exit_status import EXIT_CRASHED, root_only  # noqa: E402
from landia.errors import InputError  # noqa: E402

COMM = MPI.COMM_WORLD


def test_work_runs_on_the_root_and_its_status_reaches_every_rank():
    ran = []

    def work():
        ran.append(COMM.rank)
        return 7

    assert root_only(COMM, work) == 7
    assert ran == ([0] if COMM.rank == 0 else [])


def test_an_input_error_on_the_root_is_status_2_everywhere():
    def work():
        raise InputError("bg.nc: background file not found")

    assert root_only(COMM, work) == 2


def test_a_bug_on_the_root_is_raised_there_and_status_1_elsewhere():
    def work():
        raise KeyError("a bug")

    if COMM.rank == 0:
        with pytest.raises(KeyError):
            root_only(COMM, work)
    else:
        assert root_only(COMM, work) == EXIT_CRASHED == 1
