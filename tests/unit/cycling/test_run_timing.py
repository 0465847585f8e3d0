"""A cycle refuses an observation image valid at another time than its name says (issue 13,
item 2): an ``observation_rejected`` alert naming both times, and a model-only cycle."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

mpi4py = pytest.importorskip("mpi4py")
from mpi4py import MPI  # noqa: E402

from landia.config import settings_from_dict  # noqa: E402
from landia.cycling.run import run_cycles  # noqa: E402
from landia.experiment.osse import make_observations  # noqa: E402
from landia.io.fields import read_field, write_field  # noqa: E402
from landia.log import configure_logging  # noqa: E402

GRID = {"south": 40.0, "north": 49.8, "west": 110.0, "east": 124.0, "resolution": 1.4}
PERIOD = {"start": "2016-05-01T00:00", "end": "2016-05-02T00:00"}


def settings(**cycle):
    return settings_from_dict({"grid": GRID, "cycle": {**PERIOD, "observations": "obs", **cycle},
                               "analysis": {"layers": 3, "terms": ["background", "image"]}})


@pytest.fixture(scope="module")
def observations(tmp_path_factory):
    """Observation images of a truth run (other rain and texture), valid at 06, 12, 18, 00."""
    root = tmp_path_factory.mktemp("truth")
    run_cycles(MPI.COMM_SELF, settings(mode="ctrl", precipitation_seed=2, texture_seed=12),
               root / "truth", progress=False)
    return {f.name: f for f in make_observations(root / "truth", root / "obs", noise_std=0.02,
                                                 seed=3)}


def run_with(tmp: Path, name: str, observations, replace: dict) -> Path:
    """A DA run whose observation folder has the images, with ``replace`` {name: source
    name or None (no file)}."""
    run = tmp / name
    (run / "obs").mkdir(parents=True)
    for target, path in observations.items():
        source = replace.get(target, target)
        if source is not None:
            (run / "obs" / target).write_bytes(observations[source].read_bytes())
    run_cycles(MPI.COMM_SELF, settings(), run, progress=False)
    return run


def lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def final_state(run: Path) -> dict:
    newest = sorted((run / "checkpoints").glob("checkpoint-*.h5"))[-1]
    with h5py.File(newest, "r") as f:
        return {k: f["state"][k][...] for k in f["state"]}


def test_a_mis_timed_image_is_rejected_naming_both_times_and_the_cycle_runs_model_only(
        tmp_path, observations):
    # The image valid at 05-02 00:00 copied to the name of 05-01 12:00.
    run = run_with(tmp_path, "mistimed", observations,
                   {"obs_20160501T1200.nc": "obs_20160502T0000.nc"})
    alerts = lines(run / "alerts.jsonl")
    assert [(a["cycle"], a["alert"]) for a in alerts] == [(1, "observation_rejected")]
    message = alerts[0]["message"]
    assert "observation valid at 2016-05-02T00:00:00Z" in message
    assert "used for the analysis at 2016-05-01T12:00:00Z (12 h apart" in message
    assert alerts[0]["file"].endswith("obs_20160501T1200.nc")
    log = lines(run / "run_log.jsonl")
    assert [r["analysed"] for r in log] == [True, False, True, True]
    assert log[1]["budget_mm"]["assimilation"] == 0.0
    assert not (run / "cycles" / "analysis_20160501T1200.nc").exists()
    # Model-only: the same states, bit for bit, as a run without that cycle's file.
    missing = run_with(tmp_path, "missing", observations, {"obs_20160501T1200.nc": None})
    a, b = final_state(run), final_state(missing)
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_an_image_without_a_valid_time_is_still_assimilated(tmp_path, observations):
    configure_logging("json", "info", 0, 1)  # events also go to the run's events file
    run = tmp_path / "untimed"
    (run / "obs").mkdir(parents=True)
    for name, path in observations.items():
        (run / "obs" / name).write_bytes(path.read_bytes())
    untimed = read_field(run / "obs" / "obs_20160501T1200.nc", "observation")
    untimed.valid_time = None
    write_field(run / "obs" / "obs_20160501T1200.nc", untimed, "observation")
    run_cycles(MPI.COMM_SELF, settings(), run, progress=False)
    assert lines(run / "alerts.jsonl") == []
    assert [r["analysed"] for r in lines(run / "run_log.jsonl")] == [True] * 4
    events = (run / "logs" / "events.rank0.jsonl").read_text()
    assert "observation_without_valid_time" in events


def test_a_bad_petsc_option_stops_the_cycle_instead_of_failing_every_analysis(tmp_path,
                                                                              observations):
    """A configuration error is wrong for every cycle: the run stops with it at the first
    analysis (one line naming the option), it does not alert and run model-only for ever."""
    from landia.errors import InputError

    run = tmp_path / "bad_petsc"
    (run / "obs").mkdir(parents=True)
    for name, path in observations.items():
        (run / "obs" / name).write_bytes(path.read_bytes())
    bad = settings().replace("minimiser", backend="tao", petsc_options="-tao_type nonexistent")
    with pytest.raises(InputError, match="ConfigError: PETSc option -tao_type nonexistent"):
        run_cycles(MPI.COMM_SELF, bad, run, progress=False)
    alerts = run / "alerts.jsonl"
    assert not alerts.exists() or "analysis_failed" not in alerts.read_text()
    assert not list((run / "checkpoints").glob("checkpoint-*.h5"))[1:]  # stopped at cycle 1


def test_the_configuration_s_petsc_options_do_not_outlive_the_solve(tmp_path, observations):
    """minimiser.petsc_options belong to the analysis that reads them: a later analysis in the
    same process (here: a good run after the bad one) does not inherit them."""
    from landia.analysis.minimisers.tao import init_petsc

    init_petsc()
    from petsc4py import PETSc  # after init_petsc, as landia does

    bad = settings().replace("minimiser", backend="tao", petsc_options="-tao_type nonexistent")
    run = tmp_path / "bad"
    (run / "obs").mkdir(parents=True)
    for name, path in observations.items():
        (run / "obs" / name).write_bytes(path.read_bytes())
    with pytest.raises(Exception):
        run_cycles(MPI.COMM_SELF, bad, run, progress=False)
    assert not PETSc.Options().hasName("tao_type")
    good = run_with(tmp_path, "good", observations, {})
    assert (good / "checkpoints").exists()
