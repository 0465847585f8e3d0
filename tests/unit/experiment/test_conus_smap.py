"""`landia experiment conus-smap` end to end on ten days of the real set (skipped without
../shared): inputs, spin-up, climatology, tuning, CTRL and image DA, scores and report; and a
rerun resumes without running anything again."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mpi4py")

from landia.experiment.conus_smap import ConusSettings, run_experiment, run_settings  # noqa: E402
from landia.io.fields import read_field  # noqa: E402
from landia.observations.cell_product import read_withheld_cells  # noqa: E402

DATA = Path("/work/shared/data")
for parent in Path(__file__).resolve().parents:
    if (parent / "shared/data/conus_nldas_smap").is_dir():
        DATA = parent / "shared/data"
        break

SHORT = dict(start="2016-06-01T12:00", first_year_end="2016-06-07T12:00",
             assimilation_end="2016-06-09T12:00", end="2016-06-11T12:00", spinup_passes=1,
             runs=("ctrl", "image"), data_dir=str(DATA), min_climatology_samples=3,
             discard_days=0)


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    if not (DATA / "conus_nldas_smap" / "smap_l3_am_2015-2017.nc").is_file():
        pytest.skip(f"real data absent: {DATA / 'conus_nldas_smap'}")
    out = tmp_path_factory.mktemp("conus")
    results = run_experiment(out, ConusSettings(**SHORT))
    return out, results


def test_withheld_cells_never_reach_an_analysis(experiment):
    out, results = experiment
    withheld = read_withheld_cells(out / "withheld_cells.nc")
    assert results["experiment"]["withheld_cells"] == int(withheld.sum()) > 0
    files = sorted((out / "obs").glob("obs_*.nc"))
    assert len(files) == 8                          # 2 June .. 9 June at 12 UTC
    for path in files:
        assert not np.isfinite(read_field(path, "observation").values[:, withheld]).any()
    held = read_field(out / "obs_withheld" / files[0].name, "observation").values
    assert np.isfinite(held).any() and not np.isfinite(held[:, ~withheld]).any()


def test_runs_scores_and_report(experiment):
    out, results = experiment
    on_disk = json.loads((out / "results.json").read_text())
    for run in ("ctrl", "image"):
        assert set(on_disk[run]["withheld"]) >= {"anomaly_r", "ubrmse", "n"}
        assert set(on_disk[run]["innovation"]) >= {"mean", "std"}
    tuning = on_disk["experiment"]["tuning"]
    assert 0 < tuning["background_error_variance"] < tuning["innovation_variance"]
    cfg = run_settings("image", ConusSettings(**SHORT), out)
    assert cfg["analysis"]["observation_error_variance"] == \
        tuning["observation_error_variance"]
    log = [json.loads(x) for x in (out / "runs/image/run_log.jsonl").read_text().splitlines()]
    assert len(log) == 10 and sum(r["analysed"] for r in log) == 8   # then 2 free days
    assert (out / "report.html").stat().st_size > 10000
    assert on_disk["persistence"]["image"]["days"] == 3


def test_rerun_resumes(experiment):
    out, _ = experiment
    before = (out / "runs/image/run_log.jsonl").read_text()
    results = run_experiment(out, ConusSettings(**SHORT), report=False)
    assert (out / "runs/image/run_log.jsonl").read_text() == before
    assert results["experiment"]["seconds"]["runs"] == {}


def test_every_run_is_a_valid_configuration(tmp_path):
    """Each run of the experiment (the point-centred ensemble hybrid included) passes the
    configuration checks; the two ensemble hybrids differ only in their 3D-Var's terms."""
    from landia.config import settings_from_dict
    from landia.experiment.conus_smap import RUNS

    tuning = {"background_error_variance": 6.7e-4, "observation_error_variance": 9.7e-4,
              "correlation_length_km": 226.0}
    cs = ConusSettings(**SHORT)
    configs = {name: run_settings(name, cs, tmp_path, tuning) for name in RUNS}
    for name, cfg in configs.items():
        settings_from_dict(cfg)  # raises on a refused combination
    image, point = configs["enhybrid"], configs["enhybrid_point"]
    assert image["ensemble"] == point["ensemble"] and image["ensemble"]["analysis"] == "hybrid"
    assert image["analysis"]["terms"] == ["background", "image"]
    assert point["analysis"]["terms"] == ["background", "point"]
