"""analysis.vertical_length_m in the cycle: the deterministic 3D-Var's increment of the
deepest analysed layer reaches the layers below, exactly as the weights say, with its water
in the budget, the same bits on 2 ranks; an ensemble takes it too; the key is hashed only
when on. ``analysis.vertical_carry = "anomaly"`` carries it less its land mean."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import h5py
import netCDF4
import numpy as np
import pytest

mpi4py = pytest.importorskip("mpi4py")
from mpi4py import MPI  # noqa: E402

from landia.analysis.vertical import land_mean, vertical_weights  # noqa: E402
from landia.config import settings_from_dict  # noqa: E402
from landia.cycling.ensemble_run import runner_class  # noqa: E402
from landia.cycling.run import config_hash, run_cycles  # noqa: E402
from landia.errors import ConfigError  # noqa: E402
from landia.experiment.osse import make_observations  # noqa: E402
from landia.grid import colm_layer_thickness, colm_node_depths  # noqa: E402
from landia.launch import cycle_command, launch_environment, toml_text  # noqa: E402

GRID = {"south": 40.0, "north": 49.8, "west": 110.0, "east": 124.0, "resolution": 1.4}
PERIOD = {"start": "2016-05-01T00:00", "end": "2016-05-01T06:00"}  # one analysed window
DZ = colm_layer_thickness(10)


def raw(obs: Path, length: float, **extra) -> dict:
    values = {"grid": GRID, "cycle": {**PERIOD, "observations": str(obs)},
              "analysis": {"layers": 3, "terms": ["background", "image"],
                           "vertical_length_m": length}}
    for section, keys in extra.items():
        values[section] = {**values.get(section, {}), **keys}
    return values


def run_here(run: Path, values: dict) -> None:
    s = settings_from_dict(values)
    assert run_cycles(MPI.COMM_SELF, s, run, progress=False, runner_class=runner_class(s)) == 0


def newest(run: Path) -> dict:
    with h5py.File(sorted((run / "checkpoints").glob("checkpoint-*.h5"))[-1], "r") as f:
        return {k: f["state"][k][...] for k in f["state"]}


def last_line(run: Path) -> dict:
    return json.loads((run / "run_log.jsonl").read_text().splitlines()[-1])


def assimilated(run: Path) -> float:
    return last_line(run)["budget_mm"]["assimilation"]


ANOMALY = {"analysis": {"vertical_carry": "anomaly"}}


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    root = tmp_path_factory.mktemp("vertical")
    truth = settings_from_dict({"grid": GRID, "cycle": {**PERIOD, "mode": "ctrl",
                                                        "precipitation_seed": 2,
                                                        "texture_seed": 12}})
    run_cycles(MPI.COMM_SELF, truth, root / "truth", progress=False)
    make_observations(root / "truth", root / "obs", noise_std=0.02, seed=3)
    for length in (0.0, 0.1):
        run_here(root / f"z{length}", raw(root / "obs", length))
    run_here(root / "anomaly", raw(root / "obs", 0.1, **ANOMALY))
    return root


def below_offset(anomaly: np.ndarray, whole: np.ndarray, offset: float) -> None:
    """The layers below of a run that carries the anomaly against one that carries the whole
    increment (w_liq, mm, (..., 10)): exactly the weights times the land mean less, except
    where a bound bites."""
    moved = (anomaly[..., 3:] - whole[..., 3:]) / (1000.0 * DZ[3:])  # m3 m-3
    expected = -offset * vertical_weights(colm_node_depths(), 3, 0.1)
    clipped = np.abs(moved - expected) > 1e-12
    assert clipped.mean() < 0.01
    np.testing.assert_allclose(moved[~clipped], np.broadcast_to(expected, moved.shape)[~clipped],
                               rtol=0, atol=1e-12)


def test_the_layers_below_take_the_deepest_analysed_increment_times_the_weights(case):
    off, on = newest(case / "z0.0"), newest(case / "z0.1")
    for k in off:
        if k != "w_liq":
            assert np.array_equal(off[k], on[k]), k
    # the analysed layers: the same analysis (the first background is the same)
    assert np.array_equal(off["w_liq"][:, :3], on["w_liq"][:, :3])
    with netCDF4.Dataset(sorted((case / "z0.1" / "cycles").glob("analysis_*.nc"))[-1]) as ds:
        a, b = (np.asarray(ds[v][0, 2]) for v in ("analysis", "background"))
    land = np.isfinite(a)
    increment = (a - b)[land]  # the deepest analysed layer's, per land cell
    assert np.abs(increment).max() > 1e-3
    gained = (on["w_liq"][:, 3:] - off["w_liq"][:, 3:]) / (1000.0 * DZ[3:])  # m3 m-3
    expected = increment[:, None] * vertical_weights(colm_node_depths(), 3, 0.1)[None, :]
    clipped = np.abs(gained - expected) > 1e-12
    assert clipped.mean() < 0.01  # only where a bound (porosity minus ice, the floor) bites
    np.testing.assert_allclose(gained[~clipped], expected[~clipped], rtol=0, atol=1e-12)
    # the water the layers below gained is the budget's extra assimilation, mm per land cell
    mm = (on["w_liq"][:, 3:] - off["w_liq"][:, 3:]).sum(axis=1).mean()
    assert abs(mm) > 1e-2
    assert abs((assimilated(case / "z0.1") - assimilated(case / "z0.0")) - mm) < 1e-9


def test_the_anomaly_carries_the_increment_less_its_land_mean(case):
    """vertical_carry = "anomaly": the analysed layers as with the whole increment; below,
    the land mean of the deepest analysed layer's increment (the analysis file's, the run
    log's ``vertical_offset``) times the weights less; the budget still closes."""
    whole, anomaly = newest(case / "z0.1"), newest(case / "anomaly")
    assert np.array_equal(whole["w_liq"][:, :3], anomaly["w_liq"][:, :3])
    with netCDF4.Dataset(sorted((case / "anomaly" / "cycles").glob("analysis_*.nc"))[-1]) as ds:
        a, b = (np.asarray(ds[v][0, 2]) for v in ("analysis", "background"))
    land = np.isfinite(a)
    offset = last_line(case / "anomaly")["vertical_offset"]
    assert abs(offset) > 1e-3  # the observations' level differs from the model's
    assert offset == pytest.approx(land_mean((a - b)[land]), rel=0, abs=1e-15)
    below_offset(anomaly["w_liq"], whole["w_liq"], offset)
    mm = (anomaly["w_liq"][:, 3:] - whole["w_liq"][:, 3:]).sum(axis=1).mean()
    assert abs((assimilated(case / "anomaly") - assimilated(case / "z0.1")) - mm) < 1e-9
    assert "vertical_offset" not in last_line(case / "z0.1")


ENSEMBLE = {"perturbation": {"enabled": True},
            "ensemble": {"enabled": True, "members": 3, "localisation_km": 300.0}}


@pytest.mark.slow
@pytest.mark.parametrize("serial_run, extra", [("z0.1", {}), ("anomaly", ANOMALY),
                                                ("ens-anomaly-serial", {**ENSEMBLE, **ANOMALY})])
def test_two_ranks_give_the_serial_bits(case, serial_run, extra):
    if shutil.which("mpirun") is None and shutil.which("mpiexec") is None:
        pytest.skip("no mpirun on PATH")
    if not (case / serial_run).exists():
        run_here(case / serial_run, raw(case / "obs", 0.1, **extra))
    config = case / f"{serial_run}.toml"
    config.write_text(toml_text(raw(case / "obs", 0.1, **extra)))
    subprocess.run(cycle_command(config, case / f"{serial_run}-2ranks", 2, log_level="error"),
                   env=launch_environment(openmpi_defaults=True), check=True, timeout=120)
    serial, ranks = newest(case / serial_run), newest(case / f"{serial_run}-2ranks")
    for k in serial:
        assert np.array_equal(serial[k], ranks[k]), k
    line = last_line(case / f"{serial_run}-2ranks")
    assert line.get("vertical_offset") == last_line(case / serial_run).get("vertical_offset")


def test_an_ensemble_carries_each_members_increment_below(case):
    """The LETKF's members: the layers below move by each member's increment of layer 3 times
    the weights; the analysed layers are those of the run without the key."""
    ens = ENSEMBLE
    runs = {}
    for length in (0.0, 0.1):
        run = case / f"ens{length}"
        run_here(run, raw(case / "obs", length, **ens))
        runs[length] = newest(run)["w_liq"].reshape(3, -1, 10)
    off, on = runs[0.0], runs[0.1]
    np.testing.assert_array_equal(off[..., :3], on[..., :3])
    assert np.abs(on[..., 3:] - off[..., 3:]).max() > 1e-2  # mm
    # "anomaly": every member's layers below take the same land mean less, that of the
    # members' mean increment of layer 3 (here from the whole-increment run, where unclipped)
    run = case / "ens-anomaly"
    run_here(run, raw(case / "obs", 0.1, **ens, **ANOMALY))
    anomaly = newest(run)["w_liq"].reshape(3, -1, 10)
    np.testing.assert_array_equal(anomaly[..., :3], on[..., :3])
    offset = last_line(run)["vertical_offset"]
    below_offset(anomaly, on, offset)
    layer3 = (on[..., 3] - off[..., 3]) / (1000.0 * DZ[3])
    layer3 /= vertical_weights(colm_node_depths(), 3, 0.1)[0]
    assert offset == pytest.approx(layer3.mean(), abs=2e-4)


def test_the_key_is_hashed_only_when_on_and_refused_beside_update_layers(tmp_path):
    base = raw(tmp_path, 0.0)
    assert config_hash(settings_from_dict(base)) == config_hash(
        settings_from_dict({k: v for k, v in base.items() if k != "analysis"}
                           | {"analysis": {"layers": 3, "terms": ["background", "image"]}}))
    assert config_hash(settings_from_dict(raw(tmp_path, 0.1))) != config_hash(
        settings_from_dict(base))
    # vertical_carry: left out at "increment"; "anomaly" needs something carried down
    assert config_hash(settings_from_dict(raw(tmp_path, 0.1))) == config_hash(
        settings_from_dict(raw(tmp_path, 0.1, analysis={"vertical_carry": "increment"})))
    assert config_hash(settings_from_dict(raw(tmp_path, 0.1, **ANOMALY))) != config_hash(
        settings_from_dict(raw(tmp_path, 0.1)))
    with pytest.raises(ConfigError, match=r"vertical_carry = 'anomaly' .* needs "
                                          r"vertical_length_m > 0"):
        settings_from_dict(raw(tmp_path, 0.0, **ANOMALY))
    with pytest.raises(ConfigError, match="vertical_carry"):
        settings_from_dict(raw(tmp_path, 0.1, analysis={"vertical_carry": "mean"}))
    with pytest.raises(ConfigError, match=r"update_layers = 5 and analysis.vertical_length_m"):
        settings_from_dict(raw(tmp_path, 0.1, perturbation={"enabled": True},
                               ensemble={"enabled": True, "update_layers": 5}))
    with pytest.raises(ConfigError, match="analysis.vertical_length_m"):
        settings_from_dict(raw(tmp_path, -0.1))
