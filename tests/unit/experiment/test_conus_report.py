"""The conus-smap report: a self-contained page from a tiny output folder."""

from __future__ import annotations

import json
import re

import pytest

from landia.experiment.conus_output import ConusOutput
from landia.experiment.conus_scores import score_experiment
from landia.experiment.report.conus import build_conus_report, persistence_table, reading
from tests.unit.experiment.conus_case import make_conus_out


@pytest.fixture(scope="module")
def conus(tmp_path_factory):
    root = tmp_path_factory.mktemp("conus_report")
    make_conus_out(root)
    out = ConusOutput(root)  # read once, for the scores and the report
    results = score_experiment(out, ["ctrl", "point", "image", "letkf"], min_pairs=20,
                               discard_days=10)
    json.dumps(results)  # what the experiment writes to results.json
    return out, results


def test_the_report_embeds_its_figures_and_tables(conus):
    out, results = conus
    root = out.root
    path = build_conus_report(out, results)
    text = path.read_text()
    assert path == root / "report.html"
    assert len(re.findall(r'src="data:image/png;base64,', text)) == 4
    assert "Figure skipped" not in text and "failed" not in text
    assert (root / "figures" / "conus_maps.png").stat().st_size > 10_000
    # the local error estimate's map: image DA's, the hybrid being absent
    assert (root / "figures" / "conus_observation_error_excess.png").stat().st_size > 10_000
    assert "Not shown: hybrid DA (JB+JO+JI)." in text
    # the tables hold the scores of results.json
    assert f"{results['image']['withheld']['anomaly_r']:.3f}" in text
    assert f"{results['letkf']['innovation']['std']:.4f}" in text
    assert "image DA (JB+JI)" in text and "LETKF" in text and "MAM" in text
    assert "runs absent</dt><dd>point" in text
    assert "http://" not in text and "https://" not in text  # nothing fetched


def test_the_reading_states_each_aim(conus):
    _, results = conus
    text = reading(results)
    assert "image DA (JB+JI): anomaly R" in text and "aim +0.05" in text
    assert "O-F standard deviation" in text
    assert "day it halves" in persistence_table(results)


def test_a_folder_without_image_da_notes_what_is_missing(conus, tmp_path):
    root = conus[0].root
    copy = tmp_path / "out"
    (copy / "runs").mkdir(parents=True)
    for name in ("smap", "climatology.nc", "withheld_cells.nc", "runs/ctrl", "runs/letkf"):
        (copy / name).symlink_to(root / name)
    partial = score_experiment(copy, ["ctrl", "image"], min_pairs=20, discard_days=10)
    text = build_conus_report(copy, partial).read_text()
    assert "Not shown: image DA (JB+JI)" in text
    assert "No free-year runs" in text
