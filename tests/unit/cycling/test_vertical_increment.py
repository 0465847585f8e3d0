"""analysis.vertical_length_m in the cycle: the deterministic 3D-Var's increment of the
deepest analysed layer reaches the layers below, exactly as the weights say, with its water
in the budget, the same bits on 2 ranks; an ensemble takes it too; the key is hashed only
when on."""

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

from landia.analysis.vertical import vertical_weights  # noqa: E402
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


def assimilated(run: Path) -> float:
    line = json.loads((run / "run_log.jsonl").read_text().splitlines()[-1])
    return line["budget_mm"]["assimilation"]


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
    return root


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


@pytest.mark.slow
def test_two_ranks_give_the_serial_bits(case):
    if shutil.which("mpirun") is None and shutil.which("mpiexec") is None:
        pytest.skip("no mpirun on PATH")
    config = case / "z.toml"
    config.write_text(toml_text(raw(case / "obs", 0.1)))
    subprocess.run(cycle_command(config, case / "z2ranks", 2, log_level="error"),
                   env=launch_environment(openmpi_defaults=True), check=True, timeout=120)
    serial, ranks = newest(case / "z0.1"), newest(case / "z2ranks")
    for k in serial:
        assert np.array_equal(serial[k], ranks[k]), k


def test_an_ensemble_carries_each_members_increment_below(case):
    """The LETKF's members: the layers below move by each member's increment of layer 3 times
    the weights; the analysed layers are those of the run without the key."""
    ens = {"perturbation": {"enabled": True},
           "ensemble": {"enabled": True, "members": 3, "localisation_km": 300.0}}
    runs = {}
    for length in (0.0, 0.1):
        run = case / f"ens{length}"
        run_here(run, raw(case / "obs", length, **ens))
        runs[length] = newest(run)["w_liq"].reshape(3, -1, 10)
    off, on = runs[0.0], runs[0.1]
    np.testing.assert_array_equal(off[..., :3], on[..., :3])
    assert np.abs(on[..., 3:] - off[..., 3:]).max() > 1e-2  # mm


def test_the_key_is_hashed_only_when_on_and_refused_beside_update_layers(tmp_path):
    base = raw(tmp_path, 0.0)
    assert config_hash(settings_from_dict(base)) == config_hash(
        settings_from_dict({k: v for k, v in base.items() if k != "analysis"}
                           | {"analysis": {"layers": 3, "terms": ["background", "image"]}}))
    assert config_hash(settings_from_dict(raw(tmp_path, 0.1))) != config_hash(
        settings_from_dict(base))
    with pytest.raises(ConfigError, match=r"update_layers = 5 and analysis.vertical_length_m"):
        settings_from_dict(raw(tmp_path, 0.1, perturbation={"enabled": True},
                               ensemble={"enabled": True, "update_layers": 5}))
    with pytest.raises(ConfigError, match="analysis.vertical_length_m"):
        settings_from_dict(raw(tmp_path, -0.1))
