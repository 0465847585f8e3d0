"""The demo's ensemble scores (spread-skill ratios, rank histograms) from small synthetic run
folders, their place in the per-seed and over-seed results, and the report's table and figure."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import numpy as np
import pytest

from landia.config import settings_from_dict
from landia.experiment.demo_run import DemoSettings, run_settings
from landia.experiment.ensemble_scores import (ensemble_scores, read_spread,
                                               summed_histograms)
from landia.experiment.report.demo_output import DemoOutput
from landia.experiment.report.ensemble import ensemble_table, rank_histogram_figure
from landia.experiment.runs import DEFAULT_RUNS, ENSEMBLE_SEED_OFFSET, RUNS
from landia.experiment.scoring import over_seeds
from landia.grid import colm_node_depths
from landia.io.fields import SoilMoistureField, write_field
from landia.io.netcdf import create_grid_file, field_dimensions, write_record

NY, NX = 5, 6
LAT = 30.0 + 1.4 * np.arange(NY)
LON = 80.0 + 1.4 * np.arange(NX)
T0 = datetime(2016, 5, 2)
TIMES = [T0 + timedelta(days=k) for k in range(4)]
PERIOD = {"discard_end": np.datetime64(TIMES[0], "s"),      # the first day is spin-up
          "assimilation_end": np.datetime64(TIMES[-1], "s")}


def _stamp(t):
    return t.strftime("%Y%m%dT%H%M")


def _write_state(path, values, t):
    write_field(path, SoilMoistureField(lat=LAT, lon=LON, depth=colm_node_depths()[:2],
                                        values=values, valid_time=np.datetime64(t, "s")))


def _write_ensemble(path, mean, spread, t):
    """An ensemble file as docs/ensemble.md describes it: mean and spread with their
    cell_methods (the names are not what the reader looks for)."""
    with create_grid_file(path, LAT, LON, colm_node_depths()[:2], "test ensemble",
                          valid_time=t) as ds:
        for name, values, method in (("soil_moisture_mean", mean, "realization: mean"),
                                     ("soil_moisture_spread", spread,
                                      "realization: standard_deviation")):
            v = ds.createVariable(name, "f8", field_dimensions(ds), fill_value=np.nan)
            v.units = "m3 m-3"
            v.cell_methods = method
            write_record(v, values)


def make_seed(root, error=0.02, spread=0.01, ratios=(5.0, 0.9, 1.1, 1.0), members=4):
    """truth, an LETKF run (mean = truth + error everywhere, spread constant) and CTRL."""
    base = 0.2 + 0.05 * np.sin(np.add.outer(np.arange(NY), np.arange(NX)))
    truth = np.repeat(base[None], 2, axis=0)
    truth[:, 0, 0] = np.nan                                   # a sea cell
    for run in ("truth", "letkf", "ctrl"):
        (root / "runs" / run / "states").mkdir(parents=True)
    (root / "runs" / "letkf" / "ensemble").mkdir()
    lines = []
    for k, t in enumerate(TIMES):
        _write_state(root / "runs" / "truth" / "states" / f"state_{_stamp(t)}.nc", truth, t)
        _write_state(root / "runs" / "ctrl" / "states" / f"state_{_stamp(t)}.nc", truth + 0.1,
                     t)
        _write_state(root / "runs" / "letkf" / "states" / f"state_{_stamp(t)}.nc",
                     truth + error, t)
        _write_ensemble(root / "runs" / "letkf" / "ensemble" / f"ens_{_stamp(t)}.nc",
                        truth + error, np.where(np.isfinite(truth), spread, np.nan), t)
        hist = [0] * (members + 1)
        hist[k % (members + 1)] = 10 + k
        lines.append({"cycle": k, "time": t.strftime("%Y-%m-%dT%H:%M:%S") + "Z",
                      "analysed": True,
                      "ensemble": {"members": members, "spread_skill": ratios[k],
                                   "rank_histogram": hist}})
    (root / "runs" / "letkf" / "run_log.jsonl").write_text(
        "".join(json.dumps(x) + "\n" for x in lines))
    (root / "runs" / "ctrl" / "run_log.jsonl").write_text(
        json.dumps({"cycle": 0, "time": "2016-05-03T00:00:00Z", "analysed": False}) + "\n")
    return root


def test_spread_skill_after_the_spin_up(tmp_path):
    seed = make_seed(tmp_path)
    out = ensemble_scores(seed, ["ctrl", "letkf"], PERIOD)
    assert set(out["table"]) == {"letkf"}                    # CTRL has no ensemble
    row = out["table"]["letkf"]["assimilation"]
    assert row["analyses"] == 3                              # the spin-up day left out
    assert row["spread_skill_obs"] == pytest.approx(1.0)     # mean of 0.9, 1.1, 1.0
    assert row["spread"] == pytest.approx(0.01)
    assert row["rmse"] == pytest.approx(0.02)
    assert row["spread_skill_truth"] == pytest.approx(0.5)
    assert out["rank_histogram"]["letkf"] == [0, 11, 12, 13, 0]


def test_rms_spread_not_mean_spread(tmp_path):
    """A spread of 0 and 0.02 on half the cells each is an RMS spread of sqrt(2e-4)."""
    seed = make_seed(tmp_path)
    for path in sorted((seed / "runs" / "letkf" / "ensemble").glob("ens_*.nc")):
        t = datetime.strptime(path.stem.split("_", 1)[1], "%Y%m%dT%H%M")
        s = np.where(np.arange(NX)[None, None, :] % 2 == 0, 0.0, 0.02) * np.ones((2, NY, NX))
        _write_ensemble(path, np.full((2, NY, NX), 0.2), s, t)
    assert read_spread(path).shape == (2, NY, NX)
    row = ensemble_scores(seed, ["letkf"], PERIOD)["table"]["letkf"]["assimilation"]
    land = np.ones((NY, NX), bool)
    land[0, 0] = False
    s0 = np.where(np.arange(NX)[None, :] % 2 == 0, 0.0, 0.02) * np.ones((NY, NX))
    assert row["spread"] == pytest.approx(float(np.sqrt(np.mean(s0[land] ** 2))))


def test_over_seeds_and_summed_histograms(tmp_path):
    a = ensemble_scores(make_seed(tmp_path / "s1"), ["letkf"], PERIOD)
    b = ensemble_scores(make_seed(tmp_path / "s2", error=0.01), ["letkf"], PERIOD)
    mean, spread = over_seeds({1: a["table"], 2: b["table"]})
    assert mean["letkf"]["assimilation"]["spread_skill_truth"] == pytest.approx(0.75)
    assert spread["letkf"]["assimilation"]["spread_skill_truth"]["n"] == 2
    summed = summed_histograms({1: a["rank_histogram"], 2: b["rank_histogram"]})
    assert summed["letkf"] == [0, 22, 24, 26, 0]


def test_report_table_and_rank_histogram(tmp_path):
    a = ensemble_scores(make_seed(tmp_path / "s1"), ["letkf"], PERIOD)
    mean, spread = over_seeds({1: a["table"]})
    results = {"runs": {"letkf": {"label": RUNS["letkf"]["label"]}},
               "ensemble": {"table": mean, "spread": spread,
                            "rank_histogram": summed_histograms({1: a["rank_histogram"]})}}
    (tmp_path / "results.json").write_text(json.dumps(results))
    output = DemoOutput(tmp_path)
    html = ensemble_table(output)
    assert "LETKF, 16 members" in html and "0.50" in html and "1.00" in html
    path, caption, note = rank_histogram_figure(output)
    assert path.exists() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and not note
    (tmp_path / "results.json").write_text(json.dumps({"runs": {}}))
    assert ensemble_table(DemoOutput(tmp_path)) == ""
    assert rank_histogram_figure(DemoOutput(tmp_path))[0] is None


def test_ensemble_runs_and_their_seed():
    """In the demo; the members draw 1000 + seed, the truth the seed itself."""
    assert "letkf" in DEFAULT_RUNS and "enhybrid" in DEFAULT_RUNS
    assert DemoSettings().runs == DEFAULT_RUNS
    ds = DemoSettings()
    truth = run_settings("truth", ds, 2)
    letkf, hybrid = run_settings("letkf", ds, 2), run_settings("enhybrid", ds, 2)
    assert truth["perturbation"]["seed"] == 2
    assert letkf["perturbation"]["seed"] == hybrid["perturbation"]["seed"] == \
        2 + ENSEMBLE_SEED_OFFSET
    assert letkf["ensemble"]["analysis"] == "letkf" and hybrid["ensemble"]["analysis"] == "hybrid"
    assert letkf["ensemble"]["members"] == 16 and letkf["ensemble"]["localisation_km"] == 300.0
    assert hybrid["analysis"]["terms"] == ["background", "image"]
    # the default 'auto' estimates the local error in the hybrid's image 3D-Var, not in the
    # LETKF (whose analysis section keeps the default terms, which it does not use)
    assert settings_from_dict(hybrid).local_image_error_on
    assert not settings_from_dict(letkf).local_image_error_on
    assert "terms" not in letkf["analysis"] and letkf["analysis"]["layers"] == 3
