"""JI split by curvelet wedges across ranks (``mpirun -n 2``): an analysis and a day's cycle
with ``analysis.distribute = "wedges"`` equal the serial ones to the stated tolerance; a
failing part raises on the root and releases every rank.

Every rank runs these functions; rank 0 also computes the serial references.
"""

from __future__ import annotations

import numpy as np
import pytest

mpi4py = pytest.importorskip("mpi4py")
from mpi4py import MPI  # noqa: E402

from landia.analysis import build_problem, run_analysis  # noqa: E402
from landia.analysis.terms import ImageTerm  # noqa: E402
from landia.analysis.wedge_split import VALUE_AND_GRADIENT, part_specs  # noqa: E402
from landia.config import settings_from_dict  # noqa: E402
from landia.cycling.wedge_exchange import MpiWedgeExchange, serve  # noqa: E402
from tests.conftest import make_case  # noqa: E402
from tests.mpi.test_distributed_analysis import _settings  # noqa: E402
from tests.unit.analysis.test_wedge_split import TOLERANCE  # noqa: E402

COMM = MPI.COMM_WORLD




@pytest.mark.parametrize("length", [0.0, 300.0])
def test_analysis_with_wedges_on_every_rank_equals_the_serial_one(length):
    s = _settings(correlation_length_km=length)
    bg, obs = make_case(shape=(24, 28), layers=3, seed=5)
    if COMM.rank != 0:
        assert serve(COMM) is None
        return
    serial = run_analysis(bg, obs, s)
    exchange = MpiWedgeExchange(COMM)
    try:
        split = run_analysis(bg, obs, s, image_exchange=exchange)
    finally:
        exchange.close()
    assert exchange.evaluations > 0
    land = np.isfinite(serial.analysis_field)
    diff = np.abs(split.analysis_field[land] - serial.analysis_field[land]).max()
    assert diff <= TOLERANCE < np.abs(serial.increment_field[land]).max(), diff
    assert split.minimiser.iterations == serial.minimiser.iterations
    np.testing.assert_allclose(split.minimiser.cost, serial.minimiser.cost, rtol=1e-10)
    np.testing.assert_allclose(split.image_error.next, serial.image_error.next, rtol=1e-8)


def test_a_failing_part_raises_on_the_root_and_releases_every_rank():
    if COMM.rank != 0:
        message = serve(COMM)
        assert message is not None and "IndexError" in message, message
        return
    bg, obs = make_case(shape=(16, 16), layers=2, seed=1)
    problem = build_problem(bg, obs, _settings(layers=2, correlation_length_km=0.0))
    term = next(t for t in problem.cost.terms if isinstance(t, ImageTerm))
    specs = part_specs(term, problem.curvelet, COMM.size)
    specs[1].kept[0] = np.array([10 ** 9])  # rank 1's part indexes past its wedges
    exchange = MpiWedgeExchange(COMM)
    try:
        exchange.start(specs, problem.curvelet)
        payload = np.zeros(specs[0].payload_size)
        with pytest.raises(RuntimeError, match="failed on 1 other rank"):
            exchange.evaluate(VALUE_AND_GRADIENT, payload)
    finally:
        exchange.close()


def test_a_root_part_that_cannot_be_built_releases_every_rank():
    if COMM.rank != 0:
        assert serve(COMM) is None  # its own part was fine; DONE came before any evaluation
        return
    bg, obs = make_case(shape=(16, 16), layers=2, seed=1)
    problem = build_problem(bg, obs, _settings(layers=2, correlation_length_km=0.0))
    term = next(t for t in problem.cost.terms if isinstance(t, ImageTerm))
    specs = part_specs(term, problem.curvelet, COMM.size)
    specs[0].lo = 1  # not a wedge boundary
    exchange = MpiWedgeExchange(COMM)
    try:
        with pytest.raises(ValueError, match="whole wedges"):
            exchange.start(specs, problem.curvelet)
    finally:
        exchange.close()


def test_an_exchange_never_started_releases_every_rank():
    if COMM.rank == 0:
        MpiWedgeExchange(COMM).close()
    else:
        assert serve(COMM) is None


@pytest.fixture(scope="module")
def cycle_folder():
    from tests.mpi.test_mpi_cycle import shared_folder

    yield from shared_folder("landia-mpi-wedges-", ("wedges_mpi",))


def test_a_wedge_cycle_equals_the_one_rank_cycle(cycle_folder):
    """A day's cycle on 2 ranks with JI's wedges split equals the default 1-rank cycle (the
    joint analysis on the root) to the stated tolerance, analysis by analysis."""
    from landia.cycling.run import run_cycles
    from landia.io.analysis_file import read_analysis
    from tests.mpi.test_mpi_cycle import GRID, _final

    s = settings_from_dict({"grid": GRID, "cycle": {"start": "2016-05-01T00:00",
                                                    "end": "2016-05-02T00:00",
                                                    "observations": "obs"},
                            "analysis": {"distribute": "wedges"}})
    run_cycles(COMM, s, cycle_folder / "wedges_mpi", progress=False)
    if COMM.rank != 0:
        return
    import json

    log = [json.loads(line) for line in
           (cycle_folder / "wedges_mpi" / "run_log.jsonl").read_text().splitlines()]
    analysed = [r for r in log if r.get("iterations")]
    assert analysed and all(r["image_split"]["ranks"] == 2 and r["image_split"]["evaluations"]
                            > r["iterations"] for r in analysed)  # the split ran every time
    files = sorted((cycle_folder / "serial" / "cycles").glob("analysis_*.nc"))
    assert files
    for f in files:
        x = read_analysis(f)
        y = read_analysis(cycle_folder / "wedges_mpi" / "cycles" / f.name)
        land = np.isfinite(x.analysis)
        assert np.array_equal(land, np.isfinite(y.analysis))
        assert np.abs(x.analysis[land] - y.analysis[land]).max() <= TOLERANCE, f.name
    a, b = _final(cycle_folder / "serial"), _final(cycle_folder / "wedges_mpi")
    for k in a:
        np.testing.assert_allclose(b[k], a[k], rtol=0, atol=1e-9 * max(1.0, np.abs(a[k]).max()),
                                   err_msg=k)


@pytest.fixture(scope="module")
def command_folder():
    import shutil
    import tempfile
    from pathlib import Path

    from tests.unit.commands.conftest import write_case

    path = tempfile.mkdtemp(prefix="landia-mpi-wedges-cmd-") if COMM.rank == 0 else None
    path = Path(COMM.bcast(path, root=0))
    if COMM.rank == 0:
        config = '[analysis]\nlayers = 2\nterms = ["background", "point", "image"]\n'
        write_case(path, config)
        (path / "w.toml").write_text(config + 'distribute = "wedges"\n')
    COMM.Barrier()
    yield path
    COMM.Barrier()
    if COMM.rank == 0:
        shutil.rmtree(path, ignore_errors=True)


def _analyse(d, config, output, background="bg.nc"):
    from landia.cli import main

    return main(["analyse", "--config", str(d / config), "--background", str(d / background),
                 "--obs", str(d / "obs.nc"), "--output", str(d / output)])


def test_landia_analyse_with_wedges_equals_the_root_analysis(command_folder):
    from landia.io.analysis_file import read_analysis

    d = command_folder
    assert _analyse(d, "c.toml", "root.nc") == 0
    assert _analyse(d, "w.toml", "wedges.nc") == 0
    if COMM.rank == 0:
        a, b = read_analysis(d / "root.nc"), read_analysis(d / "wedges.nc")
        land = np.isfinite(a.analysis)
        assert np.abs(a.analysis[land] - b.analysis[land]).max() <= TOLERANCE


def test_landia_analyse_with_wedges_fails_with_status_2_on_every_rank(command_folder):
    assert _analyse(command_folder, "w.toml", "none.nc", background="missing.nc") == 2
