"""The embedded experiment: its run configurations, and a short version of it end to end."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from landia.config import settings_from_dict
from landia.cycling.config_hash import config_hash
from landia.experiment import demo_run, runs
from landia.experiment.demo_run import (DemoSettings, results_table, run_config,
                                        run_experiment, run_settings)
from landia.cycling.run import run_cycles
from landia.grid import depth_weights
from landia.io.fields import read_field
from landia.launch import toml_text


def test_depth_weights():
    w = depth_weights(0.0, 0.07)
    assert w.sum() == pytest.approx(1.0) and w[3:].sum() == 0
    w = depth_weights(0.07, 0.28)
    assert w.sum() == pytest.approx(1.0) and w[0] == w[1] == 0 and w[2] > 0 and w[5:].sum() == 0


def test_run_configs_differ_only_where_they_should():
    ds = DemoSettings()
    configs = {n: run_settings(n, ds, seed=2) for n in runs.RUNS}
    for name, values in configs.items():  # every one is a valid landia configuration
        settings_from_dict(json.loads(json.dumps(values)), source=name)
        assert values["cycle"]["window_hours"] == 24
        assert values["cycle"]["analysis_hours"] == [ds.observing.overpass_hour]
    truth, ctrl, image = configs["truth"], configs["ctrl"], configs["image"]
    assert truth["cycle"]["precipitation_seed"] == 2 and truth["cycle"]["texture_seed"] == 12
    assert truth["perturbation"] == {"enabled": True, "length_km": 300.0,
                                     "time_scale_hours": 24.0, "seed": 2}
    assert "perturbation" not in ctrl and "analysis" not in ctrl
    assert ctrl["cycle"]["texture_seed"] == 11 and "precipitation_seed" not in ctrl["cycle"]
    assert image["analysis"]["terms"] == ["background", "image"]
    assert image["analysis"]["observation_error_variance"] == pytest.approx(
        0.04**2 + 0.02**2)
    assert image["cycle"]["assimilation_end"] == "2016-06-10T00:00:00"   # 10 + 30 days
    # the image runs estimate the local error (the library's default with JI), the hybrid
    # splits; point DA trusts the stated error
    resolved = {n: settings_from_dict(json.loads(json.dumps(v)), source=n)
                for n, v in configs.items()}
    assert all(resolved[n].local_image_error_on for n in
               ("image", "hybrid", "image_misspecified", "image_cdf", "image_offset",
                "enhybrid"))
    assert not any(resolved[n].local_image_error_on for n in
                   ("point", "point_misspecified", "point_true_error", "letkf", "ctrl"))
    assert "local_image_error" not in image["analysis"]
    assert resolved["hybrid"].analysis.hybrid_split     # the default
    # JI's variances are estimated per scale (the library's default), from the stated one,
    # which is also their floor; the runs keep the hashes they had when the demo gave the
    # method and the floor itself, and the runs without JI those of the fixed variance
    stated = ds.observing.stated_variance
    for n in ("image", "hybrid", "image_misspecified", "enhybrid"):
        a = resolved[n].analysis
        assert a.image_error_method_used == "desroziers" and a.image_error_bands == "scale"
        assert a.image_error_variance == a.image_error_floor_value == stated
        assert "image_error_method" not in configs[n]["analysis"]
        explicit = json.loads(json.dumps(configs[n]))
        explicit["analysis"].update(image_error_method="desroziers", image_error_floor=stated)
        assert config_hash(resolved[n]) == config_hash(settings_from_dict(explicit))
    for n in ("point", "point_misspecified", "point_true_error", "letkf", "ctrl"):
        fixed = json.loads(json.dumps(configs[n]))
        fixed.setdefault("analysis", {})["image_error_method"] = "fixed"
        assert config_hash(resolved[n]) == config_hash(settings_from_dict(fixed))
    assert image["cycle"]["observations"] == "../../obs"
    assert configs["point_misspecified"]["cycle"]["observations"] == "../../obs_misspecified"
    # the reference run: point DA as point_misspecified, of the set stating the true error
    assert configs["point_true_error"]["cycle"]["observations"] == "../../obs_true_error"
    assert {**configs["point_true_error"], "cycle": None} == {**configs["point_misspecified"],
                                                               "cycle": None}
    # the withheld observations are never given to a run
    assert "withheld" not in "".join(run_config(n, ds) for n in runs.RUNS)
    # only the seed changes between the seeds' configurations
    other = run_settings("truth", ds, seed=3)
    assert other["perturbation"]["seed"] == 3 and {**other, "perturbation": None} == {
        **truth, "perturbation": None}
    assert run_settings("image", ds, seed=3) == image


def test_a_new_analysis_setting_is_one_line(monkeypatch):
    """A key in DA_SETTINGS reaches every DA run; a key in a run's settings that run only."""
    monkeypatch.setitem(runs.DA_SETTINGS, "analysis",
                        {**runs.DA_SETTINGS["analysis"], "min_valid_cells": 7})
    monkeypatch.setitem(runs.RUNS["hybrid"], "settings", {"curvelet": {"scales": 3}})
    ds = DemoSettings()
    for name, spec in runs.RUNS.items():
        values = run_settings(name, ds, 1)
        assert (values.get("analysis", {}).get("min_valid_cells") == 7) == bool(
            spec["terms"] or spec.get("ensemble"))
        assert (values.get("curvelet", {}).get("scales") == 3) == (name == "hybrid")
        settings_from_dict(json.loads(json.dumps(values)))
    assert "min_valid_cells = 7" in toml_text(run_settings("image", ds, 1))


def test_one_window_a_day_gives_the_states_of_four_six_hour_windows(tmp_path):
    """The daily windows keep the physics: the perturbed truth's 00 UTC states are those of
    6 h windows, bit for bit (the forcing is a function of time, not of the windows)."""
    mpi = pytest.importorskip("mpi4py.MPI")
    ds = DemoSettings(discard_days=0, assimilation_days=1, forecast_days=1,
                      grid=(40.0, 49.8, 110.0, 124.0, 1.4))
    states = {}
    for hours in (24, 6):
        values = run_settings("truth", ds, seed=1)
        values["cycle"].update(window_hours=hours, analysis_hours=[0, 6, 12, 18])
        run_cycles(mpi.COMM_SELF, settings_from_dict(values), tmp_path / str(hours),
                   progress=False)
        states[hours] = {p.name: read_field(p).values
                         for p in sorted((tmp_path / str(hours) / "states").glob("*.nc"))}
    assert len(states[6]) == 4 * len(states[24]) == 8
    for name, values in states[24].items():
        np.testing.assert_array_equal(values, states[6][name])


def test_the_jobs_run_ctrl_once_and_truths_first(tmp_path):
    ds = DemoSettings(seeds=(1, 2))
    jobs = demo_run._jobs(tmp_path, ds)
    names = [(j.seed, j.name) for j in jobs]
    assert names[:3] == [(1, "truth"), (2, "truth"), (1, "ctrl")]
    assert len(names) == 2 * (len(runs.DEFAULT_RUNS) - 1) + 1
    assert {j.folder.name for j in jobs} == {"seed1", "seed2"}


@pytest.mark.slow
def test_short_experiment_over_two_seeds(tmp_path):
    if shutil.which("mpirun") is None and shutil.which("mpiexec") is None:
        pytest.skip("no mpirun on PATH")
    ds = DemoSettings(discard_days=1, assimilation_days=3, forecast_days=1,
                      grid=(40.0, 49.8, 110.0, 124.0, 1.4), seeds=(1, 2),
                      runs=("truth", "ctrl", "image", "point"))
    out = tmp_path / "demo"
    results = run_experiment(out, ds, progress=lambda *a, **k: None, report=False)
    table, spread = results["table"], results["spread"]
    image, ctrl = table["image"]["assimilation"], table["ctrl"]["assimilation"]
    assert image["surface_rmse"] < ctrl["surface_rmse"]
    assert image["surface_scc"] > ctrl["surface_scc"]
    # At the few withheld cells of 3 days the biased product (about +0.03 against the truth)
    # can outweigh CTRL's error in RMSE; the structure there is what the analysis improves.
    assert image["withheld_surface_scc"] > ctrl["withheld_surface_scc"] + 0.3
    assert spread["image"]["assimilation"]["surface_scc"]["n"] == 2
    assert (out / "seed2" / "runs" / "ctrl").is_symlink()
    assert not (out / "seed2" / "runs" / "ctrl" / "run_log.jsonl").is_symlink()
    for seed in ("seed1", "seed2"):
        folder = out / seed
        assert json.loads((folder / "results.json").read_text())["experiment"]["seeds"] == [
            int(seed[-1])]
        obs_files = sorted(p.name for p in (folder / "obs").glob("obs_*.nc"))
        held_files = sorted(p.name for p in (folder / "withheld").glob("obs_*.nc"))
        assert obs_files == held_files and len(obs_files) <= 4  # daily, at 00 UTC
        log = [json.loads(x) for x in (folder / "runs" / "image" / "run_log.jsonl")
               .read_text().splitlines()]
        assert len(log) == 5 and sum(r["analysed"] for r in log) == len(obs_files)
        assert all(r["time"].endswith("T00:00:00Z") for r in log)
    saved = json.loads((out / "results.json").read_text())
    assert set(saved["series"]) == {"ctrl", "image", "point"}
    assert np.all(np.array(saved["minimiser"]["image"]["J_after"])
                  < np.array(saved["minimiser"]["image"]["J_before"]))
    assert saved["iterations"]["image"]["max"] <= 200
    text = results_table(results)
    assert "image DA (JB+JI)" in text and "±" in text
