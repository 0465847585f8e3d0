"""``landia analyse`` under ``mpirun -n 2``: same analysis as the serial computation.

Run by ``./run test`` as ``mpirun -n 2 python -m pytest tests/mpi``; every rank
runs the same test functions (the pylops-mpi pattern) and rank 0 compares with
the serial result computed in-process.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import netCDF4
import numpy as np
import pytest

mpi4py = pytest.importorskip("mpi4py")
from mpi4py import MPI  # noqa: E402

from landia.analysis import run_analysis  # noqa: E402
from landia.cli import main  # noqa: E402
from landia.config import load_settings  # noqa: E402
from landia.io.fields import write_field  # noqa: E402
from tests.conftest import make_case  # noqa: E402

COMM = MPI.COMM_WORLD


@pytest.fixture
def shared_dir():
    """A temporary folder created by rank 0 and known to every rank."""
    path = tempfile.mkdtemp(prefix="landia-mpi-") if COMM.rank == 0 else None
    path = Path(COMM.bcast(path, root=0))
    yield path
    COMM.Barrier()
    if COMM.rank == 0:
        shutil.rmtree(path, ignore_errors=True)


def _files(d: Path):
    if COMM.rank == 0:
        bg, obs = make_case(shape=(32, 31), layers=3, seed=11)
        write_field(d / "bg.nc", bg, "background")
        write_field(d / "obs.nc", obs, "observation")
        (d / "c.toml").write_text('[analysis]\nterms = ["background", "point", "image"]\n')
    COMM.Barrier()


def test_mpi_analysis_equals_serial(shared_dir):
    d = shared_dir
    _files(d)
    status = main(["analyse", "--config", str(d / "c.toml"), "--background", str(d / "bg.nc"),
                   "--obs", str(d / "obs.nc"), "--output", str(d / "an.nc")])
    assert status == 0  # every rank learns the root's status
    if COMM.rank == 0:
        from landia.io.fields import read_field

        serial = run_analysis(read_field(d / "bg.nc", "background"),
                              read_field(d / "obs.nc", "observation"),
                              load_settings(d / "c.toml"))
        with netCDF4.Dataset(d / "an.nc") as ds:
            analysis = ds["analysis"][:].filled(np.nan)
        # The same bits: TAO's vector reductions no longer depend on memory layout
        # (-vec_mdot_use_gemv 0, -vec_maxpy_use_gemv 0; see minimisers/tao.py).
        np.testing.assert_array_equal(analysis, serial.analysis_field)


def test_failure_status_reaches_every_rank(shared_dir):
    d = shared_dir
    _files(d)
    status = main(["analyse", "--config", str(d / "c.toml"), "--background", str(d / "bg.nc"),
                   "--obs", str(d / "missing.nc"), "--output", str(d / "an2.nc")])
    assert status == 2
    assert not (d / "an2.nc").exists()


def test_rank_and_size_are_bound_to_log_events(capsys):
    from landia.log import configure_logging, get_logger

    configure_logging("json", "info", COMM.rank, COMM.size)
    get_logger("t").warning("hello")
    err = capsys.readouterr().err
    assert f'"rank": {COMM.rank}' in err and f'"size": {COMM.size}' in err
