"""``landia climatology`` from a small real cycle run, and biased observations corrected with it."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from landia.cli import main
from landia.commands.climatology import add_parser, climatology
from landia.config import load_settings
from landia.errors import InputError
from landia.io.climatology_file import read_climatology
from landia.io.fields import read_field, write_field
from landia.observations.bias import BiasCorrection

pytest.importorskip("mpi4py")

GAIN, OFFSET = 0.8, 0.13       # the product's bias: y = GAIN * truth + OFFSET (+ noise)


def smoke_variant(path: Path, **cycle) -> Path:
    """The shipped smoke configuration with some [cycle] keys changed, as a TOML file."""
    smoke = load_settings("smoke")
    lines = []
    for section in ("grid", "cycle", "analysis"):
        values = {**dataclasses.asdict(getattr(smoke, section)),
                  **(cycle if section == "cycle" else {})}
        lines += [f"[{section}]"] + [f"{k} = {json.dumps(v)}" for k, v in values.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def parse(*argv):
    """The parsed arguments of ``landia climatology ARGV``."""
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    return parser.parse_args(["climatology", *map(str, argv)])


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """An open-loop run of the smoke case (`landia cycle --config smoke`: model-only cycles,
    no observation folder), a truth run with other rain and soils, and biased observations
    made from the truth by `landia make-obs`."""
    root = tmp_path_factory.mktemp("clim")
    assert main(["cycle", "--config", "smoke", "--run-dir", str(root / "ctrl")]) == 0
    truth_cfg = smoke_variant(root / "truth.toml", mode="ctrl", precipitation_seed=2,
                              texture_seed=12)
    assert main(["cycle", "--config", str(truth_cfg), "--run-dir", str(root / "truth")]) == 0
    assert main(["make-obs", "--truth-run", str(root / "truth"), "--output-dir",
                 str(root / "obs_truth"), "--noise-std", "0.02", "--seed", "5"]) == 0
    (root / "obs").mkdir()
    for f in sorted((root / "obs_truth").glob("obs_*.nc")):
        o = read_field(f, "observation")
        o.values = GAIN * o.values + OFFSET
        write_field(root / "obs" / f.name, o, "observation")
    return root


def build(root: Path, *extra) -> Path:
    out = root / "clim.nc"
    status = main(["climatology", "--model-run", str(root / "ctrl"), "--obs", str(root / "obs"),
                   "--quantiles", "5", "--output", str(out), *extra])
    assert status == 0
    return out


def test_the_climatology_pairs_every_observation_with_the_state_at_its_time(runs, capsys):
    clim = read_climatology(build(runs))
    states = sorted((runs / "ctrl" / "states").glob("state_*.nc"))
    assert len(states) == 8 and "8 (model, observation) pairs" in capsys.readouterr().out
    land = np.isfinite(read_field(states[0]).values[0])
    assert clim.n_layers == 3 and clim.shape == land.shape
    np.testing.assert_array_equal(clim.count, np.where(land, 8, 0)[None].repeat(3, 0))
    model = np.stack([read_field(p).values[:3] for p in states])
    obs = np.stack([read_field(runs / "obs" / p.name.replace("state_", "obs_"),
                               "observation").values for p in states])
    np.testing.assert_allclose(clim.model_mean, model.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(clim.observation_std, obs.std(axis=0, ddof=1), rtol=1e-12)
    np.testing.assert_array_equal(clim.model_quantiles[-1], model.max(axis=0))
    assert clim.start == np.datetime64("2016-05-01T06:00") and clim.end == np.datetime64(
        "2016-05-03T00:00")


@pytest.mark.parametrize("method, tolerance", [("cdf", 2e-3), ("mean_std", 1e-12),
                                               ("anomaly", 1e-12)])
def test_rescaling_removes_the_bias_against_the_model_over_the_training_period(runs, method,
                                                                              tolerance):
    clim = read_climatology(build(runs))
    correction = BiasCorrection(method, clim, min_samples=5)
    raw, rescaled = [], []
    for state in sorted((runs / "ctrl" / "states").glob("state_*.nc")):
        model = read_field(state).values[:3]
        obs = read_field(runs / "obs" / state.name.replace("state_", "obs_"), "observation")
        raw.append(obs.values - model)
        rescaled.append(correction.apply(obs).values - model)
    raw, rescaled = np.stack(raw), np.stack(rescaled)
    assert np.isfinite(rescaled).sum() == np.isfinite(raw).sum()   # every value rescaled
    assert np.nanmean(raw) > 0.05                                    # the product's bias
    assert abs(np.nanmean(rescaled)) < tolerance
    # and cell by cell: the time mean of rescaled obs minus model is ~0 everywhere
    per_cell = np.nanmean(rescaled, axis=0)
    assert np.nanmax(np.abs(per_cell)) < (0.02 if method == "cdf" else 1e-12)
    assert np.nanmean(np.abs(np.nanmean(raw, axis=0))) > 0.05


def test_the_training_period_and_unpaired_images_are_respected(runs, capsys):
    extra = runs / "obs_extra"
    extra.mkdir(exist_ok=True)
    src = read_field(runs / "obs" / "obs_20160501T0600.nc", "observation")
    src.valid_time = np.datetime64("2016-05-04T00:00", "s")
    write_field(extra / "obs_20160504T0000.nc", src, "observation")
    out = runs / "clim_part.nc"
    assert main(["climatology", "--model-run", str(runs / "ctrl"), "--obs", str(runs / "obs"),
                 str(extra / "obs_20160504T0000.nc"), "--start", "2016-05-01T12:00",
                 "--end", "2016-05-02T00:00Z", "--quantiles", "3", "--output", str(out)]) == 0
    clim = read_climatology(out)
    assert clim.count.max() == 3                   # 12:00, 18:00, 00:00
    assert clim.start == np.datetime64("2016-05-01T12:00")
    assert main(["climatology", "--model-run", str(runs / "ctrl"), "--obs", str(runs / "obs"),
                 str(extra), "--quantiles", "3", "--output", str(out)]) == 0
    captured = capsys.readouterr()
    assert "observations_without_model_state" in captured.out + captured.err
    assert read_climatology(out).count.max() == 8


@pytest.mark.parametrize("args, match", [
    (["--quantiles", "1"], "--quantiles 1: expected at least 2"),
    (["--start", "2017-01-01"], "no observation image in the training period"),
    (["--start", "yesterday"], "--start 'yesterday': expected an ISO date-time"),
    (["--end", "2016-05-01", "--start", "2016-05-02"], "--end 2016-05-01: before --start"),
])
def test_bad_arguments_are_clear_errors(runs, args, match):
    with pytest.raises(InputError, match=match):
        climatology(parse("--model-run", runs / "ctrl", "--obs", runs / "obs", "--output",
                          runs / "x.nc", *args))
    assert not (runs / "x.nc").exists()


def test_a_run_without_states_and_observations_off_the_grid_are_refused(runs, tmp_path):
    def call(run, obs):
        return climatology(parse("--model-run", run, "--obs", obs, "--output",
                                 tmp_path / "c.nc"))

    with pytest.raises(InputError, match="no states/state_YYYYMMDDTHHMM.nc files"):
        call(tmp_path, runs / "obs")
    with pytest.raises(InputError, match="folder holds no obs_\\*.nc file"):
        call(runs / "ctrl", tmp_path)
    o = read_field(runs / "obs" / "obs_20160501T0600.nc", "observation")
    o.lat, o.values = o.lat[:-1], o.values[:, :-1]
    o.error_variance = o.error_variance[:, :-1]
    write_field(tmp_path / "obs_20160501T0600.nc", o, "observation")
    with pytest.raises(InputError, match="observations must be on the model grid"):
        call(runs / "ctrl", tmp_path / "obs_20160501T0600.nc")
    assert not (tmp_path / "c.nc").exists()
