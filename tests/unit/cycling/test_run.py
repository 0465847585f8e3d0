"""landia cycle (serial): DA against a truth, exact restarts, kills, faults."""

from __future__ import annotations

import json
import shutil
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

mpi4py = pytest.importorskip("mpi4py")
from mpi4py import MPI  # noqa: E402

from landia.config import settings_from_dict  # noqa: E402
from landia.columns.run import monthly_lai  # noqa: E402
from landia.cycling.run import config_hash, run_cycles  # noqa: E402
from landia.checkpoint.store import CheckpointError, load_checkpoint  # noqa: E402
from landia.errors import InputError  # noqa: E402
from landia.experiment.osse import make_observations  # noqa: E402
from landia.grid import depth_weights  # noqa: E402

GRID = {"south": 40.0, "north": 49.8, "west": 110.0, "east": 124.0, "resolution": 1.4}
PERIOD = {"start": "2016-05-01T00:00", "end": "2016-05-02T00:00"}


def settings(**cycle):
    raw = {"grid": GRID, "cycle": {**PERIOD, "observations": "obs", **cycle},
           "analysis": {"layers": 3, "terms": ["background", "image"]}}
    return settings_from_dict(raw)


def toml(path: Path, **cycle) -> Path:
    c = {**PERIOD, "observations": "obs", **cycle}
    lines = ["[grid]"] + [f"{k} = {v}" for k, v in GRID.items()] + ["[cycle]"]
    for k, v in c.items():
        lines.append(f"{k} = {json.dumps(v)}")
    lines += ["[analysis]", "layers = 3", 'terms = ["background", "image"]']
    path.write_text("\n".join(lines) + "\n")
    return path


def truth_observations(root: Path, **cycle) -> list:
    """A truth run (other rain and texture) under ``root`` and its observation images: the
    observations of the cycling tests."""
    run_cycles(MPI.COMM_SELF, settings(mode="ctrl", precipitation_seed=2, texture_seed=12,
                                       **cycle), root / "truth", progress=False)
    return make_observations(root / "truth", root / "obs", noise_std=0.02, seed=3)


def prepared_run(tmp: Path, name: str, observations) -> Path:
    """A run directory ``tmp/name`` with the observation images in its ``obs/``."""
    run = tmp / name
    (run / "obs").mkdir(parents=True)
    for f in observations:
        (run / "obs" / f.name).write_bytes(f.read_bytes())
    return run


@pytest.fixture(scope="module")
def observations(tmp_path_factory):
    """A truth run (other rain and texture) and its observation images."""
    return truth_observations(tmp_path_factory.mktemp("truth"))


def da_run(tmp: Path, observations, name="da", **kw) -> Path:
    run = tmp / name
    (run / "obs").mkdir(parents=True, exist_ok=True)
    for f in observations:
        target = run / "obs" / f.name
        if not target.exists():
            target.write_bytes(f.read_bytes())
    run_cycles(MPI.COMM_SELF, settings(**kw), run, progress=False)
    return run


def final_state(run: Path) -> dict:
    newest = sorted((run / "checkpoints").glob("checkpoint-*.h5"))[-1]
    with h5py.File(newest, "r") as f:
        return {k: f["state"][k][...] for k in f["state"]}


def log_lines(run: Path, name="run_log.jsonl") -> list[dict]:
    p = run / name
    return [json.loads(x) for x in p.read_text().splitlines()] if p.exists() else []


def test_assimilation_cycle_moves_towards_the_truth_and_logs_every_cycle(tmp_path, observations):
    run = da_run(tmp_path, observations)
    lines = log_lines(run)
    assert [r["cycle"] for r in lines] == [0, 1, 2, 3]
    assert all(r["analysed"] for r in lines)
    for r in lines:
        assert r["J_after"] < r["J_before"] and r["scc_after"] > r["scc_before"]
        assert r["budget_mm"]["max_abs_step_residual"] < 1e-9
        assert set(r["seconds"]) >= {"model", "gather", "analysis", "scatter", "output",
                                      "checkpoint"}
    assert not (run / "alerts.jsonl").read_text().strip()
    # the correlated B's normalisation, kept for the next process (io/normalisation_cache.py)
    assert [p.name[:12] for p in (run / "cache").iterdir()] == ["correlation-"]
    xr = pytest.importorskip("xarray")
    with xr.open_dataset(run / "cycles" / "analysis_20160501T1200.nc") as ds:
        assert {"analysis", "background", "increment", "observation", "cost"} <= set(ds)
    with xr.open_dataset(run / "states" / "state_20160502T0000.nc") as ds:
        assert ds["soil_moisture"].shape == (1, 10, 7, 10) and "time" in ds.coords


def test_a_run_stopped_and_resumed_ends_bit_for_bit_identical(tmp_path, observations):
    whole = da_run(tmp_path, observations, "whole")
    part = tmp_path / "part"
    (part / "obs").mkdir(parents=True)
    for f in observations:
        (part / "obs" / f.name).write_bytes(f.read_bytes())
    run_cycles(MPI.COMM_SELF, settings(), part, end="2016-05-01T12:00", progress=False)
    assert [r["cycle"] for r in log_lines(part)] == [0, 1]
    run_cycles(MPI.COMM_SELF, settings(), part, progress=False)
    a, b = final_state(whole), final_state(part)
    for k in a:
        assert np.array_equal(a[k], b[k]), k
    assert [r["cycle"] for r in log_lines(part)] == [0, 1, 2, 3]


def test_a_corrupt_newest_checkpoint_falls_back_to_the_previous_one(tmp_path, observations):
    run = da_run(tmp_path, observations, "corrupt")
    reference = final_state(run)
    newest = sorted((run / "checkpoints").glob("checkpoint-*.h5"))[-1]
    raw = bytearray(newest.read_bytes())
    raw[len(raw) // 2: len(raw) // 2 + 64] = b"\x00" * 64
    newest.write_bytes(bytes(raw[: len(raw) * 3 // 4]))  # damaged and cut short
    with pytest.raises(CheckpointError):  # it is corrupt: the resume must skip it
        load_checkpoint(newest)
    run_cycles(MPI.COMM_SELF, settings(), run, progress=False)  # redoes the last cycle
    again = final_state(run)
    for k in reference:
        assert np.array_equal(reference[k], again[k]), k
    assert [r["cycle"] for r in log_lines(run)] == [0, 1, 2, 3]  # no duplicate line


def test_a_run_directory_of_another_configuration_is_refused(tmp_path, observations):
    run = da_run(tmp_path, observations, "other")
    with pytest.raises(InputError, match="another configuration"):
        run_cycles(MPI.COMM_SELF, settings(texture_seed=99), run, progress=False)
    assert config_hash(settings()) == config_hash(settings(end="2016-05-03T00:00"))


def test_missing_corrupt_and_failed_analyses_keep_the_background(tmp_path, observations,
                                                                 monkeypatch):
    run = tmp_path / "faults"
    (run / "obs").mkdir(parents=True)
    for f in observations:
        (run / "obs" / f.name).write_bytes(f.read_bytes())
    (run / "obs" / "obs_20160501T0600.nc").unlink()                       # missing
    (run / "obs" / "obs_20160501T1200.nc").write_bytes(b"not netCDF")     # corrupt
    import landia.cycling.run as cycle_run
    from landia.errors import MinimisationError

    real = cycle_run.run_analysis

    def failing(background, obs, s, **kwargs):
        if obs.valid_time == np.datetime64("2016-05-01T18:00"):
            raise MinimisationError("TAO blmvm diverged (test)")
        return real(background, obs, s, **kwargs)

    monkeypatch.setattr(cycle_run, "run_analysis", failing)
    run_cycles(MPI.COMM_SELF, settings(), run, progress=False)
    alerts = log_lines(run, "alerts.jsonl")
    assert [(a["cycle"], a["alert"]) for a in alerts] == [
        (0, "observation_missing"), (1, "observation_rejected"), (2, "analysis_failed")]
    assert "obs_20160501T1200.nc" in alerts[1]["file"]
    lines = log_lines(run)
    assert [r["analysed"] for r in lines] == [False, False, False, True]
    assert all(r["budget_mm"]["assimilation"] == 0.0 for r in lines[:3])


@pytest.mark.slow
def test_sigkill_at_any_moment_then_restart_is_bit_for_bit(tmp_path, observations):
    whole = da_run(tmp_path, observations, "reference")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for delay in (2.5, 4.0):
        run = tmp_path / f"killed{delay}"
        (run / "obs").mkdir(parents=True)
        for f in observations:
            (run / "obs" / f.name).write_bytes(f.read_bytes())
        cfg = toml(tmp_path / "c.toml")
        cmd = [sys.executable, "-m", "landia", "--log-level", "error", "cycle", "--config",
               str(cfg), "--run-dir", str(run), "--no-progress"]
        proc = subprocess.Popen(cmd, env=env)
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        subprocess.run(cmd, env=env, check=True)
        a, b = final_state(whole), final_state(run)
        for k in a:
            assert np.array_equal(a[k], b[k]), (delay, k)
        assert [r["cycle"] for r in log_lines(run)] == [0, 1, 2, 3]


def test_helpers():
    lai = np.array([[float(m)] for m in range(12)])
    assert monthly_lai(lai, np.datetime64("2016-01-16T12:00"))[0] == pytest.approx(0.0, abs=0.02)
    assert monthly_lai(lai, np.datetime64("2016-01-01T00:00"))[0] == pytest.approx(5.5, abs=0.05)
    w = depth_weights(0.0, 0.07)
    assert w.sum() == pytest.approx(1.0) and w[3:].sum() == 0.0 and w[2] > 0


def _gldas_like(folder: Path, stamps) -> None:
    """GLDAS-2.1-like 3-hourly files on a 1-degree grid over the test box."""
    from tests.unit.forcing.forcing_files import field, write_grid
    from tests.unit.forcing.test_gridded import GLDAS_RANGE, GLDAS_UNITS

    folder.mkdir(parents=True, exist_ok=True)
    lat, lon = np.arange(38.5, 52, 1.0), np.arange(108.5, 127, 1.0)
    for t in stamps:
        rng = np.random.default_rng(int(t.astype(np.int64)))
        data = {n: field(rng, (1, lat.size, lon.size), *GLDAS_RANGE[n]) for n in GLDAS_UNITS}
        name = f"GLDAS_NOAH025_3H.A{str(t)[:10].replace('-', '')}.{str(t)[11:13]}00.021.nc4"
        write_grid(folder / name, lat, lon, [t],
                   {n: (v, {"units": GLDAS_UNITS[n], "_FillValue": -9999.0})
                    for n, v in data.items()},
                   time_units="minutes since 2000-01-01 03:00:00",
                   time_bounds=[[t - np.timedelta64(3, "h"), t]])


def test_missing_forcing_stops_cleanly_and_the_run_resumes_when_it_arrives(tmp_path):
    stamps = np.arange(np.datetime64("2016-05-01T00:00"), np.datetime64("2016-05-01T15:01"),
                       np.timedelta64(3, "h")).astype("datetime64[s]")
    _gldas_like(tmp_path / "forcing", stamps)  # covers cycles 0 and 1 only
    s = settings(forcing=str(tmp_path / "forcing" / "GLDAS_*.nc4"), forcing_format="gldas",
                 mode="ctrl")
    run = tmp_path / "run"
    with pytest.raises(InputError, match="rank 0: InputError: .*2016-05-01T12:00"):
        run_cycles(MPI.COMM_SELF, s, run, progress=False)
    assert [r["cycle"] for r in log_lines(run)] == [0, 1]
    assert len(list((run / "checkpoints").glob("checkpoint-*.h5"))) == 2
    more = np.arange(np.datetime64("2016-05-01T18:00"), np.datetime64("2016-05-02T03:01"),
                     np.timedelta64(3, "h")).astype("datetime64[s]")
    _gldas_like(tmp_path / "forcing", more)
    assert run_cycles(MPI.COMM_SELF, s, run, progress=False) == 0
    assert [r["cycle"] for r in log_lines(run)] == [0, 1, 2, 3]
    assert all(r["budget_mm"]["precipitation"] > 0 for r in log_lines(run))


def test_sigterm_stops_after_a_complete_cycle_and_the_rerun_finishes(tmp_path, observations):
    whole = da_run(tmp_path, observations, "reference")
    run = tmp_path / "terminated"
    (run / "obs").mkdir(parents=True)
    for f in observations:
        (run / "obs" / f.name).write_bytes(f.read_bytes())
    cmd = [sys.executable, "-m", "landia", "--log-level", "warning", "cycle", "--config",
           str(toml(tmp_path / "c.toml")), "--run-dir", str(run), "--no-progress"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 120
    while not list((run / "checkpoints").glob("checkpoint-*.h5")) and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=120)
    done = [r["cycle"] for r in log_lines(run)]
    if proc.returncode == 0:  # it had finished already: nothing to test
        pytest.skip("the run finished before SIGTERM arrived")
    assert proc.returncode == 75, out
    assert "cycle_interrupted" in out and done == list(range(len(done))) and len(done) < 4
    subprocess.run(cmd, check=True)
    a, b = final_state(whole), final_state(run)
    for k in a:
        assert np.array_equal(a[k], b[k]), k


def test_death_inside_the_checkpoint_write_leaves_the_previous_checkpoint(tmp_path, observations,
                                                                          monkeypatch):
    """A process that dies half-way through writing checkpoint 3 (its temporary file is left
    behind, the rename never happens) resumes from checkpoint 2 and ends identical."""
    whole = da_run(tmp_path, observations, "reference")
    run = tmp_path / "died"
    (run / "obs").mkdir(parents=True)
    for f in observations:
        (run / "obs" / f.name).write_bytes(f.read_bytes())
    import landia.checkpoint.store as store

    real = store._write_hdf5
    calls = {"n": 0}

    class Died(BaseException):
        """Stands for SIGKILL: not an Exception, so nothing handles it."""

    def dying(path, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            real(path, *args, **kwargs)
            data = Path(path).read_bytes()
            Path(path).write_bytes(data[: len(data) // 2])  # half written
            stray = Path(path).with_name(Path(path).name + ".kept")
            stray.write_bytes(data[: len(data) // 2])
            raise Died()
        return real(path, *args, **kwargs)

    monkeypatch.setattr(store, "_write_hdf5", dying)
    with pytest.raises(Died):
        run_cycles(MPI.COMM_SELF, settings(), run, progress=False)
    # what SIGKILL leaves: the temporary file itself (atomic_path removed ours on unwind)
    kept = next((run / "checkpoints").glob("*.kept"))
    kept.rename(run / "checkpoints" / kept.name[:-5])  # .checkpoint-...h5.XXXX.tmp
    assert len(list((run / "checkpoints").glob("checkpoint-*.h5"))) == 2
    monkeypatch.setattr(store, "_write_hdf5", real)
    run_cycles(MPI.COMM_SELF, settings(), run, progress=False)
    a, b = final_state(whole), final_state(run)
    for k in a:
        assert np.array_equal(a[k], b[k]), k
    assert not [p for p in (run / "checkpoints").iterdir() if p.name.startswith(".")]
    assert [r["cycle"] for r in log_lines(run)] == [0, 1, 2, 3]


@pytest.mark.slow
def test_three_ranks_give_the_serial_bits(tmp_path, observations):
    mpirun = shutil.which("mpirun") or shutil.which("mpiexec")
    if mpirun is None:
        pytest.skip("no mpirun on PATH")
    whole = da_run(tmp_path, observations, "serial")
    run = tmp_path / "three"
    (run / "obs").mkdir(parents=True)
    for f in observations:
        (run / "obs" / f.name).write_bytes(f.read_bytes())
    env = {**os.environ, "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
           "OMPI_MCA_rmaps_base_oversubscribe": "1"}
    subprocess.run([mpirun, "-n", "3", sys.executable, "-m", "landia", "--log-level", "error",
                    "cycle", "--config", str(toml(tmp_path / "c.toml")), "--run-dir", str(run),
                    "--no-progress"], env=env, check=True, timeout=300)
    a, b = final_state(whole), final_state(run)
    for k in a:
        assert np.array_equal(a[k], b[k]), k
    assert all(r["ranks"] == 3 for r in log_lines(run))


def test_repeated_tao_solves_are_bit_identical():
    """The analysis must not depend on where PETSc's allocator puts its work vectors."""
    pytest.importorskip("petsc4py")
    from landia.analysis.analyse import build_problem
    from landia.analysis.minimisers import minimise
    from landia.config import Settings
    from landia.experiment.cases import build_demo_case

    bg, obs = build_demo_case()[:2]
    s = Settings().replace("analysis", correlation_length_km=0.0)  # bounded, in x
    p = build_problem(bg, obs, s)
    x0 = np.clip(p.background, p.lower, p.upper)
    results = []
    for k in range(6):  # the same start vector at different addresses
        buf = np.empty(x0.size + 16)
        a = buf[k:k + x0.size]
        a[:] = x0
        results.append(minimise(p.cost, a, p.lower, p.upper, s.minimiser).x.copy())
    for r in results[1:]:
        assert np.array_equal(r, results[0])
    # The default correlated B: unbounded, in the control vector.
    from landia.analysis.control import minimise_in_control_space

    s = Settings()
    p = build_problem(bg, obs, s)
    results = [minimise_in_control_space(p.cost, p.transform, p.lower, p.upper, s.minimiser).x
               for _ in range(6)]
    for r in results[1:]:
        assert np.array_equal(r, results[0])


def test_log_events_of_a_cycle_carry_its_cycle_and_rank(tmp_path, observations, capsys):
    from landia.log import configure_logging

    configure_logging("json", "info", 0, 1)
    try:
        da_run(tmp_path, observations, "logged")
    finally:
        configure_logging("console", "info", 0, 1)
    events = [json.loads(line) for line in capsys.readouterr().err.splitlines()
              if line.startswith("{")]
    analysis = [e for e in events if e.get("event") == "analysis_done"]
    assert [e["cycle"] for e in analysis] == [0, 1, 2, 3]
    assert all(e["rank"] == 0 and e["cycle_time"].endswith("Z") for e in analysis)
    done = [e for e in events if e.get("event") == "run_done"]
    assert done and "cycle" not in done[0]  # unbound after the loop


def test_the_run_directory_keeps_the_log_events(tmp_path, observations):
    run = da_run(tmp_path, observations, "events")
    events = [json.loads(x) for x in (run / "logs" / "events.rank0.jsonl").read_text().splitlines()]
    assert [e["cycle"] for e in events if e["event"] == "cycle_done"] == [0, 1, 2, 3]
    assert events[-1]["event"] == "run_done" and all(e["rank"] == 0 for e in events)


def test_analysis_files_carry_their_valid_time(tmp_path, observations):
    import netCDF4

    run = da_run(tmp_path, observations, "timed")
    with netCDF4.Dataset(run / "cycles" / "analysis_20160501T1200.nc") as ds:
        t = netCDF4.num2date(ds["time"][...], ds["time"].units)
        assert [str(x) for x in t] == ["2016-05-01 12:00:00"]
        assert ds["analysis"].dimensions == ("time", "layer", "lat", "lon")
