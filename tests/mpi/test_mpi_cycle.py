"""``landia cycle`` under ``mpirun -n 2``: the same bits as the serial run, and a run
continued with another number of ranks ends where the serial run ends.

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
from landia.experiment.osse import make_observations  # noqa: E402

COMM = MPI.COMM_WORLD
GRID = {"south": 40.0, "north": 49.8, "west": 110.0, "east": 124.0, "resolution": 1.4}


def _settings(**cycle):
    return settings_from_dict({"grid": GRID, "cycle": {"start": "2016-05-01T00:00",
                                                       "end": "2016-05-02T00:00",
                                                       "observations": "obs", **cycle}})


def shared_folder(prefix: str, runs: tuple):
    """A temporary folder shared by the ranks: a truth run and its observations, a copy of
    them in ``runs``' ``obs/`` folders, and the serial reference run ``serial`` (made on rank
    0); removed afterwards. A generator for module fixtures."""
    path = tempfile.mkdtemp(prefix=prefix) if COMM.rank == 0 else None
    path = Path(COMM.bcast(path, root=0))
    if COMM.rank == 0:
        run_cycles(MPI.COMM_SELF, _settings(mode="ctrl", precipitation_seed=2, texture_seed=12),
                   path / "truth", progress=False)
        make_observations(path / "truth", path / "obs", seed=3)
        for name in ("serial",) + runs:
            shutil.copytree(path / "obs", path / name / "obs")
        run_cycles(MPI.COMM_SELF, _settings(), path / "serial", progress=False)
    COMM.Barrier()
    yield path
    COMM.Barrier()
    if COMM.rank == 0:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def folder():
    yield from shared_folder("landia-mpi-cycle-", ("mpi", "mixed"))


def _final(run: Path) -> dict:
    newest = sorted((run / "checkpoints").glob("checkpoint-*.h5"))[-1]
    with h5py.File(newest, "r") as f:
        return {k: f["state"][k][...] for k in f["state"]}


def test_two_ranks_give_the_serial_bits(folder):
    run_cycles(COMM, _settings(), folder / "mpi", progress=False)
    if COMM.rank == 0:
        a, b = _final(folder / "serial"), _final(folder / "mpi")
        for k in a:
            assert np.array_equal(a[k], b[k]), k
        import netCDF4

        for f in sorted((folder / "serial" / "states").glob("*.nc")):
            with netCDF4.Dataset(f) as x, netCDF4.Dataset(folder / "mpi" / "states" / f.name) as y:
                assert np.array_equal(x["soil_moisture"][:].filled(np.nan),
                                      y["soil_moisture"][:].filled(np.nan), equal_nan=True)


def test_a_run_continued_on_another_number_of_ranks_ends_where_the_serial_run_ends(folder):
    if COMM.rank == 0:
        run_cycles(MPI.COMM_SELF, _settings(), folder / "mixed", end="2016-05-01T12:00",
                   progress=False)
    COMM.Barrier()
    run_cycles(COMM, _settings(), folder / "mixed", progress=False)
    if COMM.rank == 0:
        a, b = _final(folder / "serial"), _final(folder / "mixed")
        for k in a:
            assert np.array_equal(a[k], b[k]), k


def _tuned(**cycle):
    """Desroziers image-error variances and the observation offset carried by the cycle,
    20 % of the observations withheld."""
    return settings_from_dict({"grid": GRID, "cycle": {"start": "2016-05-01T00:00",
                                                       "end": "2016-05-02T00:00",
                                                       "observations": "obs", **cycle},
                               "analysis": {"image_error_method": "desroziers"},
                               "observations": {"withhold_fraction": 0.2,
                                                "offset_correction": "cycled"}})


def test_carried_variances_and_withheld_cells_do_not_depend_on_the_ranks(folder):
    from landia.cycling.carried import CHECKPOINT_KEY, OFFSET_CHECKPOINT_KEY
    from landia.io.analysis_file import read_analysis

    if COMM.rank == 0:
        for name in ("tuned_serial", "tuned_mixed"):
            shutil.copytree(folder / "obs", folder / name / "obs")
        run_cycles(MPI.COMM_SELF, _tuned(), folder / "tuned_serial", progress=False)
        run_cycles(MPI.COMM_SELF, _tuned(), folder / "tuned_mixed", end="2016-05-01T12:00",
                   progress=False)
    COMM.Barrier()
    run_cycles(COMM, _tuned(), folder / "tuned_mixed", progress=False)
    if COMM.rank == 0:
        a, b = _final(folder / "tuned_serial"), _final(folder / "tuned_mixed")
        for k in a:
            assert np.array_equal(a[k], b[k]), k
        extra = []
        for run in ("tuned_serial", "tuned_mixed"):
            newest = sorted((folder / run / "checkpoints").glob("checkpoint-*.h5"))[-1]
            with h5py.File(newest, "r") as f:
                extra.append([f["extra"][key][...]
                              for key in (CHECKPOINT_KEY, OFFSET_CHECKPOINT_KEY)])
        for x, y in zip(*extra):
            assert np.array_equal(x, y)
        for f in sorted((folder / "tuned_serial" / "cycles").glob("analysis_*.nc")):
            x, y = read_analysis(f), read_analysis(folder / "tuned_mixed" / "cycles" / f.name)
            assert np.array_equal(x.withheld["observation"], y.withheld["observation"],
                                  equal_nan=True)
            assert np.array_equal(x.image_error["image_error_variance"],
                                  y.image_error["image_error_variance"])
