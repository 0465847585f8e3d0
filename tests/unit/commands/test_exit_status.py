"""The one error -> exit status mapping, and root-only commands (serially: one rank)."""

from __future__ import annotations

import pytest

from landia.commands.exit_status import EXIT_FAILED, exit_status, root_only
from landia.errors import ConfigError
from landia.log import configure_logging

mpi4py = pytest.importorskip("mpi4py")


def _fail():
    raise ConfigError("c.toml: analysis.layers: expected a value <= 10")


def _bug():
    raise KeyError("a bug")


def test_exit_status_logs_a_landia_error_and_gives_2(capsys):
    configure_logging("console", "info")
    assert exit_status(lambda: 0) == 0
    assert exit_status(lambda: 75) == 75
    assert exit_status(_fail) == EXIT_FAILED == 2
    err = capsys.readouterr().err
    assert "failed" in err and "analysis.layers: expected a value <= 10" in err
    assert "ConfigError" in err
    with pytest.raises(KeyError):  # a bug is not an input error: its traceback stays
        exit_status(_bug)


def test_root_only_on_one_rank(capsys):
    from mpi4py import MPI

    configure_logging("console", "info")
    comm = MPI.COMM_WORLD
    if comm.Get_size() != 1:
        pytest.skip("serial test (tests/mpi covers several ranks)")
    assert root_only(comm, lambda: 0) == 0
    assert root_only(comm, lambda: 2) == 2
    assert root_only(comm, _fail) == 2
    assert "analysis.layers" in capsys.readouterr().err
    with pytest.raises(KeyError):
        root_only(comm, _bug)
