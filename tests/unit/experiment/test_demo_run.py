"""The embedded experiment, short version: image DA raises the SCC over CTRL."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from landia.experiment.demo_run import DemoSettings, run_config, run_experiment
from landia.grid import depth_weights


def test_depth_weights():
    w = depth_weights(0.0, 0.07)
    assert w.sum() == pytest.approx(1.0) and w[3:].sum() == 0
    w = depth_weights(0.07, 0.28)
    assert w.sum() == pytest.approx(1.0) and w[0] == w[1] == 0 and w[2] > 0 and w[5:].sum() == 0


def test_run_configs_differ_only_where_they_should():
    ds = DemoSettings()
    truth, ctrl, image = (run_config(n, ds) for n in ("truth", "ctrl", "image"))
    assert "precipitation_seed = 2" in truth and "texture_seed = 12" in truth
    assert "[analysis]" not in ctrl and '"background", "image"' in image
    assert 'assimilation_end = "2016-06-30T00:00:00"' in image


@pytest.mark.slow
def test_short_experiment_image_da_beats_ctrl(tmp_path):
    if shutil.which("mpirun") is None and shutil.which("mpiexec") is None:
        pytest.skip("no mpirun on PATH")
    ds = DemoSettings(discard_days=1, assimilation_days=1, forecast_days=1,
                      grid=(40.0, 49.8, 110.0, 124.0, 1.4),
                      runs=("truth", "ctrl", "image", "point"))
    results = run_experiment(tmp_path / "demo", ds, progress=lambda *a, **k: None,
                             report=False)
    table = results["table"]
    assert table["image"]["assimilation"]["surface_scc"] > table["ctrl"]["assimilation"][
        "surface_scc"] + 0.1
    assert table["image"]["assimilation"]["surface_rmse"] < table["ctrl"]["assimilation"][
        "surface_rmse"]
    saved = json.loads((tmp_path / "demo" / "results.json").read_text())
    assert set(saved["series"]) == {"ctrl", "image", "point"}
    assert len(saved["minimiser"]["image"]["iterations"]) == 8  # 2 days of 6-hourly analyses
    assert np.all(np.array(saved["minimiser"]["image"]["J_after"])
                  < np.array(saved["minimiser"]["image"]["J_before"]))
