"""The ensemble cycle: the same bits on 1, 2 and 3 ranks, a kill and resume, the size check,
and an LETKF that moves the members and shrinks their spread."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from pathlib import Path

import h5py
import netCDF4
import numpy as np
import pytest

mpi4py = pytest.importorskip("mpi4py")
from mpi4py import MPI  # noqa: E402

from landia.config import settings_from_dict  # noqa: E402
from landia.cycling.ensemble_run import EnsembleRunner, runner_class  # noqa: E402
from landia.cycling.run import CycleRunner, run_cycles  # noqa: E402
from landia.errors import ConfigError, InputError  # noqa: E402
from landia.experiment.osse import make_observations  # noqa: E402
from landia.grid import colm_layer_thickness  # noqa: E402
from landia.io.ensemble_file import read_ensemble_file  # noqa: E402
from landia.launch import cycle_command, launch_environment, toml_text  # noqa: E402

GRID = {"south": 40.0, "north": 49.8, "west": 110.0, "east": 124.0, "resolution": 1.4}
PERIOD = {"start": "2016-05-01T00:00", "end": "2016-05-02T00:00"}  # 4 windows, 70 land cells
MEMBERS = 5


def raw(obs: Path, members: int = MEMBERS, enabled: bool = True, **ensemble) -> dict:
    return {"grid": GRID, "cycle": {**PERIOD, "observations": str(obs)},
            "analysis": {"layers": 3, "terms": ["background", "image"]},
            "perturbation": {"enabled": True},
            "ensemble": {"enabled": enabled, "members": members, "localisation_km": 300.0,
                         "texture_std": 3.0, **ensemble}}


def run_here(run: Path, values: dict) -> int:
    s = settings_from_dict(values)
    return run_cycles(MPI.COMM_SELF, s, run, progress=False, runner_class=runner_class(s))


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    """Observations of a truth run (other rain and texture), the configuration file, and an
    uninterrupted serial ensemble run."""
    root = tmp_path_factory.mktemp("ensemble")
    truth = settings_from_dict({"grid": GRID, "cycle": {**PERIOD, "mode": "ctrl",
                                                        "precipitation_seed": 2,
                                                        "texture_seed": 12}})
    run_cycles(MPI.COMM_SELF, truth, root / "truth", progress=False)
    make_observations(root / "truth", root / "obs", noise_std=0.02, seed=3)
    config = root / "ensemble.toml"
    config.write_text(toml_text(raw(root / "obs")))
    assert run_here(root / "serial", raw(root / "obs")) == 0
    return root, config


def checkpoint(run: Path) -> tuple[dict, dict]:
    newest = sorted((run / "checkpoints").glob("checkpoint-*.h5"))[-1]
    with h5py.File(newest, "r") as f:
        return ({k: f["state"][k][...] for k in f["state"]}, json.loads(f.attrs["run_metadata"]))


def states(run: Path) -> dict:
    out = {}
    for p in sorted((run / "states").glob("*.nc")) + sorted((run / "ensemble").glob("*.nc")):
        with netCDF4.Dataset(p) as ds:
            out[p.name] = {v: np.asarray(ds[v][...]) for v in ds.variables
                           if v.startswith("soil_moisture")}
    return out


def log(run: Path) -> list[dict]:
    return [json.loads(x) for x in (run / "run_log.jsonl").read_text().splitlines()]


def same_bits(a: Path, b: Path) -> None:
    (sa, ma), (sb, mb) = checkpoint(a), checkpoint(b)
    assert ma["members"] == mb["members"] == MEMBERS
    for k in sa:
        assert np.array_equal(sa[k], sb[k]), k
    xa, xb = states(a), states(b)
    assert sorted(xa) == sorted(xb) and len(xa) == 8
    for name in xa:
        for v in xa[name]:
            assert np.array_equal(xa[name][v], xb[name][v], equal_nan=True), (name, v)
    # timings differ; a line restored from its checkpoint lacks the checkpoint's own size
    timing = ("letkf_seconds", "checkpoint_seconds_per_member", "checkpoint_bytes_per_member")
    for ra, rb in zip(log(a), log(b)):
        assert ra["budget_mm"] == rb["budget_mm"]
        assert {k: v for k, v in ra["ensemble"].items() if k not in timing} == \
               {k: v for k, v in rb["ensemble"].items() if k not in timing}


def stopped_and_resumed(part: Path, values: dict, whole: Path) -> None:
    """Run ``values`` in ``part`` to 12 UTC, resume it to the end: the checkpoint's state has
    the bits of the uninterrupted run ``whole``."""
    s = settings_from_dict(values)
    run_cycles(MPI.COMM_SELF, s, part, end="2016-05-01T12:00", progress=False,
               runner_class=runner_class(s))
    assert run_here(part, values) == 0
    (sa, _), (sb, _) = checkpoint(whole), checkpoint(part)
    for k in sa:
        assert np.array_equal(sa[k], sb[k]), k


def test_the_letkf_moves_the_members_and_shrinks_their_spread(case):
    root, _ = case
    lines = log(root / "serial")
    assert [r["cycle"] for r in lines] == [0, 1, 2, 3]
    state, meta = checkpoint(root / "serial")
    assert state["w_liq"].shape == (MEMBERS * lines[0]["land_cells"], 10)
    for r in lines:
        e = r["ensemble"]
        assert r["analysed"] and e["obs_used"] > 100
        assert e["spread_analysis"] < e["spread_background"]
        assert r["budget_mm"]["assimilation"] != 0.0
        assert len(e["rank_histogram"]) == MEMBERS + 1
        assert sum(e["rank_histogram"]) == e["obs_used"]
        assert 0.0 < e["spread_skill"] < 5.0
        assert e["checkpoint_bytes_per_member"] > 0
    # the members differ (forcing and texture), and the mean state file is their mean
    members = state["w_liq"].reshape(MEMBERS, -1, 10)
    assert np.all(np.std(members[:, :, 0], axis=0) > 0)


def test_the_ensemble_file_holds_the_mean_before_the_analysis(case):
    root, _ = case
    files = sorted((root / "serial" / "ensemble").glob("ens_*.nc"))
    assert files
    for p in files:
        ens = read_ensemble_file(p)
        assert ens.background is not None and ens.background.shape == ens.mean.shape
        land = np.isfinite(ens.mean)
        assert np.array_equal(land, np.isfinite(ens.background))
        # every window analyses here: the analysis moved the mean away from the forecast
        assert np.abs(ens.mean - ens.background)[land].max() > 1e-4


@pytest.mark.slow
def test_two_and_three_ranks_give_the_serial_bits(case):
    root, config = case
    if shutil.which("mpirun") is None and shutil.which("mpiexec") is None:
        pytest.skip("no mpirun on PATH")
    env = launch_environment(openmpi_defaults=True)
    for ranks in (2, 3):
        run = root / f"ranks{ranks}"
        subprocess.run(cycle_command(config, run, ranks, log_level="error"), env=env,
                       check=True, timeout=120)
        same_bits(root / "serial", run)
        assert all(r["ranks"] == ranks for r in log(run))


def test_a_killed_ensemble_run_resumes_bit_for_bit(case):
    root, config = case
    run = root / "killed"
    command = cycle_command(config, run, 1, log_level="error")
    proc = subprocess.Popen(command, env=launch_environment())
    deadline = time.monotonic() + 60
    # SIGKILL as soon as the first cycle is checkpointed: mid-run, wherever the next one is
    while proc.poll() is None and time.monotonic() < deadline and not list(
            (run / "checkpoints").glob("checkpoint-*.h5")):
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert len(log(run)) < 4  # it was stopped before the end
    subprocess.run(command, env=launch_environment(), check=True, timeout=60)
    same_bits(root / "serial", run)
    assert [r["cycle"] for r in log(run)] == [0, 1, 2, 3]


def test_another_ensemble_size_or_a_deterministic_run_is_refused(case):
    root, _ = case
    obs = root / "obs"
    newest = "checkpoint-20160502T0000.h5"
    with pytest.raises(InputError, match=rf"{newest}: the checkpoint holds an ensemble of 5 "
                                         rf"members; this configuration is an ensemble of 4 "
                                         rf"members.*set ensemble.members = 5"):
        run_here(root / "serial", raw(obs, members=4))
    with pytest.raises(InputError, match=r"holds an ensemble of 5 members; this configuration "
                                         r"is a deterministic run"):
        run_here(root / "serial", raw(obs, enabled=False))
    with pytest.raises(InputError, match=r"holds a deterministic run \(no ensemble\); this "
                                         r"configuration is an ensemble of 5 members"):
        run_here(root / "truth", raw(obs))
    # --cold-start moves the other run's outputs aside instead
    shutil.copytree(root / "truth", root / "over-truth")
    s = settings_from_dict(raw(obs))
    assert run_cycles(MPI.COMM_SELF, s, root / "over-truth", progress=False, cold_start=True,
                      runner_class=runner_class(s)) == 0
    assert checkpoint(root / "over-truth")[1]["members"] == MEMBERS


def test_the_deterministic_runner_refuses_an_ensemble_configuration(tmp_path):
    s = settings_from_dict(raw(tmp_path / "obs"))
    assert runner_class(s) is EnsembleRunner
    assert runner_class(s.replace("ensemble", enabled=False)) is CycleRunner
    with pytest.raises(ConfigError, match="ensemble.enabled"):
        run_cycles(MPI.COMM_SELF, s, tmp_path / "run", progress=False)


def test_the_hybrid_recentres_the_members_on_the_3dvar_of_their_mean(case):
    root, _ = case
    run = root / "hybrid"
    assert run_here(run, raw(root / "obs", analysis="hybrid")) == 0
    lines = log(run)
    assert len(list((run / "cycles").glob("analysis_*.nc"))) == 4
    for r in lines:
        e = r["ensemble"]
        assert r["analysed"] and r["iterations"] > 0 and r["J_after"] < r["J_before"]
        assert e["analysis"] == "hybrid" and e["spread_analysis"] < e["spread_background"]
    # the centre differs from the LETKF's: the 3D-Var of the mean moved it
    letkf = checkpoint(root / "serial")[0]["w_liq"].reshape(MEMBERS, -1, 10).mean(0)
    hybrid = checkpoint(run)[0]["w_liq"].reshape(MEMBERS, -1, 10).mean(0)
    assert not np.allclose(letkf[:, 0], hybrid[:, 0])
    # ... onto the 3D-Var analysis itself (no increment was clipped here)
    assert_centred_on_the_last_analysis(run)


def test_the_hybrid_with_a_diagonal_static_b_estimates_by_innovation(case):
    """The default image_error_method ('auto') in the ensemble hybrid whose static B is
    diagonal: the innovation estimate, carried from analysis to analysis, and still centred
    on the 3D-Var of the mean."""
    root, _ = case
    run = root / "hybrid_diagonal"
    values = raw(root / "obs", analysis="hybrid")
    values["analysis"]["correlation_length_km"] = 0.0
    assert run_here(run, values) == 0
    methods = []
    for p in sorted((run / "cycles").glob("analysis_*.nc")):
        with netCDF4.Dataset(p) as ds:
            methods.append(ds.image_error_method)
    assert methods == ["innovation"] * 4
    lines = log(run)
    assert lines[1]["image_error_variance"] == lines[0]["image_error_variance_next"]
    assert all(r["analysed"] and r["J_after"] < r["J_before"] for r in lines)
    assert_centred_on_the_last_analysis(run)


def assert_centred_on_the_last_analysis(run: Path) -> None:
    """The members' mean of the analysed layers is the last 3D-Var analysis (no increment
    clipped)."""
    state = checkpoint(run)[0]
    dz = colm_layer_thickness(10)
    theta = (state["w_liq"] / (1000.0 * dz) + state["w_ice"] / (917.0 * dz))
    mean = theta.reshape(MEMBERS, -1, 10).mean(0)[:, :3]
    with netCDF4.Dataset(sorted((run / "cycles").glob("analysis_*.nc"))[-1]) as ds:
        analysis = np.asarray(ds["analysis"][0])
    land = np.isfinite(analysis[0])
    assert np.abs(mean - np.stack([a[land] for a in analysis], axis=1)).max() < 1e-12


def test_the_hybrid_can_centre_the_members_on_a_point_3dvar(case):
    """``analysis.terms = [background, point]``: the centre is point 3D-Var's analysis of the
    mean (the control that tells what the image term adds to the hybrid)."""
    root, _ = case
    run = root / "hybrid_point"
    values = raw(root / "obs", analysis="hybrid")
    values["analysis"] = {"layers": 3, "terms": ["background", "point"]}
    assert run_here(run, values) == 0
    lines = log(run)
    for r in lines:
        assert r["analysed"] and r["iterations"] > 0 and r["J_after"] < r["J_before"]
        assert r["ensemble"]["analysis"] == "hybrid"
    if not (root / "hybrid" / "checkpoints").exists():  # this test run alone
        assert run_here(root / "hybrid", raw(root / "obs", analysis="hybrid")) == 0
    point = checkpoint(run)[0]["w_liq"].reshape(MEMBERS, -1, 10).mean(0)
    image = checkpoint(root / "hybrid")[0]["w_liq"].reshape(MEMBERS, -1, 10).mean(0)
    assert not np.allclose(point[:, 0], image[:, 0])  # another centre than the image 3D-Var's
    assert_centred_on_the_last_analysis(run)


def test_the_hybrid_takes_its_covariances_from_the_members_when_asked(case):
    """hybrid_weight blends B's variances; the correlation length and the image-error
    variance per scale are diagnosed from the members at every analysis (in the run log)."""
    root, _ = case
    run = root / "hybrid_diagnosed"
    assert run_here(run, raw(root / "obs", analysis="hybrid", hybrid_weight=0.5,
                             diagnose_correlation_length=True,
                             image_error_from_members=True)) == 0
    spacing = 1.4 * np.pi / 180 * 6371 * np.cos(np.radians(49.8))
    a = settings_from_dict(raw(root / "obs")).analysis
    for r in log(run):
        h = r["hybrid"]
        assert h["weight"] == 0.5 and h["ensemble_variance_mean"] > 0
        assert 0.9 * spacing <= h["correlation_length_km"] <= 2000.0
        s2 = np.array(h["image_error_variance"])
        assert s2.ndim == 1 and s2.size >= 2
        assert np.all((s2 >= a.image_error_floor_value) & (s2 <= a.image_error_cap))
    # the static half of B and the diagnosed covariances give another centre
    alone = checkpoint(root / "hybrid")[0]["w_liq"].reshape(MEMBERS, -1, 10).mean(0)
    blended = checkpoint(run)[0]["w_liq"].reshape(MEMBERS, -1, 10).mean(0)
    assert not np.array_equal(alone, blended)


def first_window(run: Path, values: dict) -> dict:
    """The checkpointed state after the first window (analysed) of a run of ``values``."""
    s = settings_from_dict(values)
    assert run_cycles(MPI.COMM_SELF, s, run, end="2016-05-01T06:00", progress=False,
                      runner_class=runner_class(s)) == 0
    return checkpoint(run)[0]


@pytest.mark.parametrize("analysis", ["letkf", "hybrid"])
def test_update_layers_moves_the_deeper_layers_through_the_members(case, analysis):
    """ensemble.update_layers = 5: the LETKF's weights, computed from the observations of the
    3 analysed layers, move layers 4-5 too (the members' covariances with the observed
    layers). The analysed layers get the analysis they get without it, to round-off (the
    weights and, in the hybrid, the 3D-Var depend on them alone; the perturbations' product
    with the weights runs over 5 layers instead of 3), layers 6-10 keep the forecast, and
    the water added is accounted in the budget."""
    root, _ = case
    obs = root / "obs"
    runs = {n: first_window(root / f"update{n}_{analysis}",
                            raw(obs, analysis=analysis, update_layers=n)) for n in (0, 5)}
    before = {k: v.reshape(MEMBERS, -1, 10) for k, v in runs[0].items() if k == "w_liq"}
    after = {k: v.reshape(MEMBERS, -1, 10) for k, v in runs[5].items() if k == "w_liq"}
    a, b = before["w_liq"], after["w_liq"]
    np.testing.assert_allclose(b[..., :3], a[..., :3], rtol=1e-12, atol=0)
    assert np.array_equal(a[..., 5:], b[..., 5:])
    moved = np.abs(b[..., 3:5] - a[..., 3:5])  # mm of water per layer
    assert moved.max() > 0.1 and np.mean(moved > 0) > 0.5
    for k in runs[0]:
        if k != "w_liq":
            assert np.array_equal(runs[0][k], runs[5][k]), k
    # the same forecast: the water the deeper layers gained is the budget's added water
    line0, line5 = log(root / f"update0_{analysis}")[0], log(root / f"update5_{analysis}")[0]
    gained = (b[..., 3:5] - a[..., 3:5]).sum(axis=-1).mean(axis=0).mean()
    added = line5["budget_mm"]["assimilation"] - line0["budget_mm"]["assimilation"]
    assert abs(gained) > 1e-3 and abs(added - gained) < 1e-9
    if analysis == "hybrid":  # the analysed layers stay centred on the 3D-Var analysis
        assert_centred_on_the_last_analysis(root / f"update5_{analysis}")


@pytest.mark.slow
def test_update_layers_gives_the_serial_bits_on_two_ranks(case):
    """The halo carries the deeper layers too: 2 ranks give the serial run's bits."""
    root, _ = case
    if shutil.which("mpirun") is None and shutil.which("mpiexec") is None:
        pytest.skip("no mpirun on PATH")
    values = raw(root / "obs", analysis="hybrid", update_layers=5)
    config = root / "update5.toml"
    config.write_text(toml_text(values))
    assert run_here(root / "update5_serial", values) == 0
    subprocess.run(cycle_command(config, root / "update5_ranks2", 2, log_level="error"),
                   env=launch_environment(openmpi_defaults=True), check=True, timeout=120)
    same_bits(root / "update5_serial", root / "update5_ranks2")


@pytest.mark.parametrize("analysis", ["letkf", "hybrid"])
def test_the_observation_offset_is_cycled_once_per_window_and_resumed_bit_for_bit(case,
                                                                                  analysis):
    """observations.offset_correction with an ensemble: the offset is measured against the
    members' mean and updated once per window (the hybrid's LETKF and 3D-Var both read the
    image), carried in the checkpoint; a run stopped and resumed ends with the same bits."""
    root, _ = case
    values = raw(root / "obs", analysis=analysis)
    values["observations"] = {"offset_correction": "cycled", "offset_memory": 0.5}
    whole, part = root / f"offset_{analysis}", root / f"offset_{analysis}_part"
    assert run_here(whole, values) == 0
    lines = [r for r in log(whole) if r.get("analysed")]
    assert len(lines) == 4
    previous = None
    for r in lines:
        d, used = np.array(r["observation_departure"]), np.array(r["observation_offset"])
        expected = d if previous is None else 0.5 * previous + 0.5 * d
        np.testing.assert_allclose(used, expected, rtol=0, atol=1e-15)
        previous = used
    assert abs(previous[0]) > 1e-3
    with h5py.File(sorted((whole / "checkpoints").glob("checkpoint-*.h5"))[-1], "r") as f:
        np.testing.assert_array_equal(f["extra"]["observation_offset"][...], previous)
    stopped_and_resumed(part, values, whole)
    assert [r["observation_offset"] for r in log(part) if r.get("analysed")] == \
           [r["observation_offset"] for r in lines]


def extra_inflation(run: Path) -> np.ndarray:
    with h5py.File(sorted((run / "checkpoints").glob("checkpoint-*.h5"))[-1], "r") as f:
        return f["extra"]["prior_inflation"][...]


@pytest.mark.parametrize("analysis", ["letkf", "hybrid"])
def test_adaptive_inflation_is_carried_between_analyses_and_resumed_bit_for_bit(case,
                                                                              analysis):
    """ensemble.adaptive_inflation: every cell starts from prior_inflation (the first analysis
    is the fixed-inflation run's, bit for bit), each analysis updates the cells' values, the
    run log summarises them and the checkpoint carries them; a run stopped and resumed ends
    with the same bits and the same inflation."""
    root, _ = case
    adaptive = raw(root / "obs", analysis=analysis, prior_inflation=1.2,
                   adaptive_inflation=True, adaptive_inflation_std=0.1)
    fixed = raw(root / "obs", analysis=analysis, prior_inflation=1.2)
    whole, part = root / f"adaptive_{analysis}", root / f"adaptive_{analysis}_part"
    assert run_here(whole, adaptive) == 0
    assert run_here(root / f"fixed_{analysis}", fixed) == 0
    a, f = states(whole), states(root / f"fixed_{analysis}")
    first, later = sorted(a)[0], sorted(a)[1:]
    assert all(np.array_equal(a[first][v], f[first][v], equal_nan=True) for v in a[first])
    assert any(not np.array_equal(a[k][v], f[k][v], equal_nan=True)
               for k in later for v in a[k] if k.startswith("state"))
    lines = log(whole)
    carried = extra_inflation(whole)
    assert carried.shape == (lines[0]["land_cells"],)
    assert np.all((carried >= 1.0) & (carried <= 10.0)) and np.any(carried != 1.2)
    summary = lines[-1]["ensemble"]["prior_inflation_next"]
    assert summary["mean"] == float(np.mean(carried)) and summary["max"] == carried.max()
    assert len({r["ensemble"]["prior_inflation_next"]["mean"] for r in lines}) == 4
    # the ensemble file maps the carried values on the land cells
    ens = read_ensemble_file(sorted((whole / "ensemble").glob("ens_*.nc"))[-1])
    land = np.isfinite(ens.mean[0])
    assert np.array_equal(np.isfinite(ens.inflation), land)
    assert np.array_equal(ens.inflation[land], carried)
    assert read_ensemble_file(sorted((root / f"fixed_{analysis}" / "ensemble").glob(
        "ens_*.nc"))[-1]).inflation is None
    assert "prior_inflation_next" not in log(root / f"fixed_{analysis}")[0]["ensemble"]
    stopped_and_resumed(part, adaptive, whole)
    assert np.array_equal(extra_inflation(part), carried)
    assert [r["ensemble"]["prior_inflation_next"] for r in log(part)] == \
           [r["ensemble"]["prior_inflation_next"] for r in lines]


@pytest.mark.slow
def test_adaptive_inflation_gives_the_serial_bits_on_two_ranks(case):
    """Each rank estimates its own cells' inflation; gathered for the checkpoint, it is the
    serial run's, and so are the states."""
    root, _ = case
    if shutil.which("mpirun") is None and shutil.which("mpiexec") is None:
        pytest.skip("no mpirun on PATH")
    values = raw(root / "obs", analysis="letkf", prior_inflation=1.2, adaptive_inflation=True,
                 adaptive_inflation_std=0.1)
    config = root / "adaptive.toml"
    config.write_text(toml_text(values))
    serial = root / "adaptive_letkf"
    if not serial.exists():
        assert run_here(serial, values) == 0
    subprocess.run(cycle_command(config, root / "adaptive_ranks2", 2, log_level="error"),
                   env=launch_environment(openmpi_defaults=True), check=True, timeout=120)
    same_bits(serial, root / "adaptive_ranks2")
    assert np.array_equal(extra_inflation(serial), extra_inflation(root / "adaptive_ranks2"))
