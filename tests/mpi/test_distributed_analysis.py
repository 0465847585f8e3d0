"""The analysis on every rank (``mpirun -n 2``): the layers solved on different ranks equal
the serial layer-by-layer analysis bit for bit, and the joint analysis to the stated
tolerance; a layer's failure reaches the root and every rank returns.

Every rank runs these functions; rank 0 also computes the serial references.
"""

from __future__ import annotations

import numpy as np
import pytest

mpi4py = pytest.importorskip("mpi4py")
from mpi4py import MPI  # noqa: E402

from landia.analysis import run_analysis  # noqa: E402
from landia.analysis.layered import combine_layers, run_layered_analysis  # noqa: E402
from landia.config import settings_from_dict  # noqa: E402
from landia.cycling.distributed import analyse_layers_on_ranks, layers_of_rank  # noqa: E402
from tests.conftest import make_case  # noqa: E402
from tests.unit.analysis.test_layered import TOLERANCE  # noqa: E402

COMM = MPI.COMM_WORLD


def _settings(**analysis):
    return settings_from_dict({"analysis": {"terms": ["background", "point", "image"],
                                            "layers": 3, "image_error_method": "desroziers",
                                            "local_image_error": False, **analysis}})


def test_layers_of_rank_cover_every_layer_once():
    for size in (1, 2, 3, 5):
        got = sorted(k for r in range(size) for k in layers_of_rank(3, size, r))
        assert got == [0, 1, 2]
    assert layers_of_rank(3, 2, 0) == [0, 2] and layers_of_rank(3, 2, 1) == [1]


@pytest.mark.parametrize("length", [0.0, 300.0])
def test_distributed_analysis_equals_the_serial_layered_one(length):
    s = _settings(correlation_length_km=length)
    bg, obs = make_case(shape=(32, 31), layers=3, seed=11)
    carried = None  # the configured variance at every scale
    outcome = analyse_layers_on_ranks(COMM, s, (bg, obs, carried) if COMM.rank == 0 else None)
    if COMM.rank != 0:
        assert outcome is None
        return
    assert outcome.failure is None
    assert sorted({p.layer for p in outcome.parts}) == [0, 1, 2]
    distributed = combine_layers(outcome.parts, bg, obs, s)
    serial = run_layered_analysis(bg, obs, s, image_error_variance=carried)
    np.testing.assert_array_equal(distributed.analysis_field, serial.analysis_field)
    assert distributed.minimiser.cost == serial.minimiser.cost
    assert distributed.terms_after == serial.terms_after
    np.testing.assert_array_equal(distributed.image_error.next, serial.image_error.next)
    joint = run_analysis(bg, obs, s, image_error_variance=carried)
    land = np.isfinite(joint.analysis_field)
    assert np.abs(joint.analysis_field[land] - distributed.analysis_field[land]).max() \
        < TOLERANCE


def test_a_layer_without_observations_is_reported_to_the_root():
    s = _settings()
    bg, obs = make_case(shape=(16, 16), layers=3, seed=2)
    obs.values[1] = np.nan  # the joint analysis takes it; the layer alone has no observation
    outcome = analyse_layers_on_ranks(COMM, s, (bg, obs, None) if COMM.rank == 0 else None)
    if COMM.rank == 0:
        assert outcome.parts is None and "layer 2" in outcome.failure


def test_no_task_returns_on_every_rank():
    assert analyse_layers_on_ranks(COMM, _settings(), None) is None


def _cycle_settings():
    """The cycle of tests/mpi/test_mpi_cycle.py with the layers on different ranks and
    Desroziers image-error variances carried from analysis to analysis."""
    from tests.mpi.test_mpi_cycle import GRID

    return settings_from_dict({"grid": GRID, "cycle": {"start": "2016-05-01T00:00",
                                                       "end": "2016-05-02T00:00",
                                                       "observations": "obs"},
                               # without the local error estimate (on by default with JI),
                               # which couples the layers: the layers' path, not the joint one
                               "analysis": {"distribute": True, "local_image_error": False,
                                            "image_error_method": "desroziers"}})


@pytest.fixture(scope="module")
def cycle_folder():
    from tests.mpi.test_mpi_cycle import shared_folder

    yield from shared_folder("landia-mpi-layers-", ("layers_serial", "layers_mpi", "joint"))


def test_a_distributed_cycle_gives_the_one_rank_bits(cycle_folder):
    from landia.cycling.carried import CHECKPOINT_KEY
    from landia.cycling.run import run_cycles
    from landia.io.analysis_file import read_analysis
    from tests.mpi.test_mpi_cycle import _final

    from landia.cycling.distributed import distribution

    assert distribution(_cycle_settings(), COMM.size) == "layers"
    if COMM.rank == 0:
        run_cycles(MPI.COMM_SELF, _cycle_settings(), cycle_folder / "layers_serial",
                   progress=False)
        run_cycles(MPI.COMM_SELF, _cycle_settings().replace("analysis", distribute=False),
                   cycle_folder / "joint", progress=False)
    COMM.Barrier()
    run_cycles(COMM, _cycle_settings(), cycle_folder / "layers_mpi", progress=False)
    if COMM.rank != 0:
        return
    # both ranks stored the correlated B's normalisation at once: one whole file remains
    assert [p.suffix for p in (cycle_folder / "layers_mpi" / "cache").iterdir()] == [".npz"]
    a, b = _final(cycle_folder / "layers_serial"), _final(cycle_folder / "layers_mpi")
    for k in a:
        assert np.array_equal(a[k], b[k]), k
    files = sorted((cycle_folder / "layers_serial" / "cycles").glob("analysis_*.nc"))
    assert files
    for f in files:
        x, y = read_analysis(f), read_analysis(cycle_folder / "layers_mpi" / "cycles" / f.name)
        assert np.array_equal(x.analysis, y.analysis, equal_nan=True)
        assert np.array_equal(x.cost, y.cost)
    import h5py

    newest = [sorted((cycle_folder / r / "checkpoints").glob("checkpoint-*.h5"))[-1]
              for r in ("layers_serial", "layers_mpi")]
    with h5py.File(newest[0], "r") as f, h5py.File(newest[1], "r") as g:
        assert np.array_equal(f["extra"][CHECKPOINT_KEY][...], g["extra"][CHECKPOINT_KEY][...])
    # Against the joint analysis of the same settings on the root (same truth and
    # observations): the first analysis agrees to the stated tolerance.
    first = files[0].name
    joint = read_analysis(cycle_folder / "joint" / "cycles" / first)
    layered = read_analysis(cycle_folder / "layers_serial" / "cycles" / first)
    land = np.isfinite(joint.analysis)
    assert np.abs(joint.analysis[land] - layered.analysis[land]).max() < TOLERANCE
