"""The command line: analyse end to end, validate, logging, failures without partial output."""

from __future__ import annotations

import json
import subprocess
import sys

import netCDF4
import numpy as np
import pytest

from landia.cli import _split_petsc_args, main
from landia.io.fields import write_field
from tests.conftest import make_case
from tests.unit.commands.conftest import CONFIG





def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "landia", *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def test_analyse_writes_a_complete_cf_file(case_files):
    d = case_files
    status = main(["analyse", "--config", str(d / "c.toml"), "--background", str(d / "bg.nc"),
                   "--obs", str(d / "obs.nc"), "--output", str(d / "an.nc"), "--check"])
    assert status == 0
    with netCDF4.Dataset(d / "an.nc") as ds:
        assert ds.Conventions == "CF-1.8"
        for name in ("analysis", "increment", "background", "observation", "cost",
                     "gradient_norm", "cost_before", "cost_after", "term", "depth"):
            assert name in ds.variables, name
        assert ds["analysis"].dimensions == ("layer", "lat", "lon")
        assert ds["analysis"].units == "m3 m-3"
        assert ds.tao_type == "blmvm" and ds.converged_reason.startswith("CONVERGED")
        cost = ds["cost"][:]
        assert cost[-1] < cost[0]
        an, bg = ds["analysis"][:].filled(np.nan), ds["background"][:].filled(np.nan)
        np.testing.assert_allclose(ds["increment"][:].filled(np.nan), an - bg, equal_nan=True)
        assert ds["term"].flag_meanings == "background image"
        assert not [v for v in ds.variables.values() if v.dtype == str]  # CDO skips strings
        scores = json.loads(ds.scores)
        assert scores["analysis"]["layer1"]["scc"] > scores["background"]["layer1"]["scc"]


def test_petsc_options_pass_through_and_json_logs(case_files):
    d = case_files
    out = run_cli("--log-format", "json", "analyse", "--config", d / "c.toml", "--background",
                  d / "bg.nc", "--obs", d / "obs.nc", "--output", d / "an.nc",
                  "-tao_type", "lmvm")
    assert out.returncode == 0, out.stderr
    events = [json.loads(line) for line in out.stderr.splitlines() if line.startswith("{")]
    assert events and all(e["rank"] == 0 and e["size"] == 1 for e in events)
    assert any(e["event"] == "analysis_done" for e in events)
    with netCDF4.Dataset(d / "an.nc") as ds:
        assert ds.tao_type == "lmvm"


@pytest.mark.parametrize("problem", ["missing_obs", "bad_config", "nan_background", "bad_units",
                                     "no_output_dir"])
def test_failures_are_clear_and_write_nothing(case_files, problem, capsys):
    d = case_files
    args = {"config": d / "c.toml", "background": d / "bg.nc", "obs": d / "obs.nc"}
    if problem == "missing_obs":
        args["obs"] = d / "absent.nc"
        expect = "absent.nc: observation file not found"
    elif problem == "bad_config":
        (d / "bad.toml").write_text("[curvelet]\nsigmas = 0.5\n")
        args["config"] = d / "bad.toml"
        expect = "curvelet.sigmas: unknown key"
    elif problem == "nan_background":
        bg, _ = make_case(shape=(32, 31))
        bg.values[1, bg.values.shape[1] // 2, :] = np.nan
        bg.values[0, bg.values.shape[1] // 2, :] = 0.2
        write_field(d / "nanbg.nc", bg, "background")
        args["background"] = d / "nanbg.nc"
        expect = "layer 2 is missing"
    elif problem == "bad_units":
        with netCDF4.Dataset(d / "obs.nc", "a") as ds:
            ds["soil_moisture"].units = "percent"
        expect = "units 'percent'"
    # no_output_dir: its folder would be the file c.toml (a missing folder is created)
    output = d / "c.toml" / "out.nc" if problem == "no_output_dir" else d / "out.nc"
    if problem == "no_output_dir":
        expect = "cannot create the output directory"
    status = main(["analyse", "--config", str(args["config"]), "--background",
                   str(args["background"]), "--obs", str(args["obs"]), "--output",
                   str(output)])
    assert status == 2
    assert expect in capsys.readouterr().err
    assert not (d / "out.nc").exists()
    assert not list(d.glob(".out.nc*"))


def test_validate_and_config_keys(tmp_path, capsys):
    (tmp_path / "ok.toml").write_text(CONFIG)
    assert main(["validate", str(tmp_path / "ok.toml")]) == 0
    assert "valid landia configuration" in capsys.readouterr().out
    (tmp_path / "bad.toml").write_text("[analysis]\nlayers = 11\n")
    assert main(["validate", str(tmp_path / "bad.toml")]) == 2
    assert "analysis.layers: expected a value <= 10" in capsys.readouterr().err
    assert main(["config-keys"]) == 0
    assert "image_error_variance" in capsys.readouterr().out
    assert main(["validate", "image3dvar"]) == 0  # a shipped configuration by name


def test_version_and_help():
    out = run_cli("--version")
    assert out.returncode == 0 and out.stdout.startswith("landia ")


def test_petsc_argument_split():
    ours, petsc = _split_petsc_args(["analyse", "--config", "c", "-tao_type", "lmvm",
                                     "-tao_monitor", "--output", "o"])
    assert ours == ["analyse", "--config", "c", "--output", "o"]
    assert petsc == ["-tao_type", "lmvm", "-tao_monitor"]


def test_demo_analysis_only_runs_and_improves_the_correlation(tmp_path, capsys):
    assert main(["demo", "--analysis-only", "--output-dir", str(tmp_path / "demo")]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: [float(v) for v in line.split()[1:]] for line in out.splitlines()
            if line.startswith(("background ", "analysis "))}
    assert rows["analysis"][0] > rows["background"][0] + 0.2  # SCC vs truth
    assert rows["analysis"][2] < rows["background"][2]        # RMSE vs truth
    assert (tmp_path / "demo" / "analysis.nc").exists()


def test_outputs_open_in_xarray(case_files):
    xr = pytest.importorskip("xarray")
    d = case_files
    assert main(["analyse", "--config", str(d / "c.toml"), "--background", str(d / "bg.nc"),
                 "--obs", str(d / "obs.nc"), "--output", str(d / "an.nc")]) == 0
    with xr.open_dataset(d / "an.nc") as ds:
        assert ds["analysis"].dims == ("layer", "lat", "lon")
        assert ds["lat"].attrs["units"] == "degrees_north"
        assert int(ds["iteration"][-1]) == ds.attrs["iterations"]
        np.testing.assert_allclose(ds["increment"], ds["analysis"] - ds["background"])
    with xr.open_dataset(d / "bg.nc") as ds:
        assert float(ds["soil_moisture"].max()) < 1.0


def test_serve_never_initialises_mpi(tmp_path):
    """``landia serve`` launches mpirun jobs, which a process with MPI initialised cannot:
    its path through the entry point imports no mpi4py.MPI, and its errors are status 2."""
    code = ("import sys; from landia.cli import main; "
            f"status = main(['serve', '--config', {str(tmp_path / 'absent.toml')!r}]); "
            "print(status, 'mpi4py.MPI' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.stdout.split() == ["2", "False"], out.stderr
    assert "failed" in out.stderr and "absent.toml" in out.stderr
