"""The report's figure of the carried image-error variances (``image_error_variance.png``),
drawn from the analysis files of a real tuned cycle."""

from __future__ import annotations

import json

import numpy as np
import pytest

from landia.experiment.report.build import build_report
from landia.experiment.report.demo_output import DemoOutput
from landia.experiment.report.variances import (NAME, has_estimates, per_scale,
                                                variance_figure, variance_series)
from landia.io.analysis_file import read_analysis
from tests.unit.cycling import test_run as plain
from tests.unit.cycling.test_carried import _run


@pytest.fixture(scope="module")
def observations(tmp_path_factory):
    """The observation images of test_run's truth run (as test_carried's)."""
    return plain.truth_observations(tmp_path_factory.mktemp("truth"))


def test_per_scale_takes_the_geometric_mean_over_each_scales_wedges():
    wedges = np.array([1, 2, 3])
    bands = np.array([1e-3, 1e-3, 4e-3, 2e-3, 2e-3, 16e-3])
    np.testing.assert_allclose(per_scale(bands, wedges), [1e-3, 2e-3, 4e-3], rtol=1e-12)
    np.testing.assert_array_equal(per_scale(np.array([1.0, 2.0, 3.0]), wedges), [1, 2, 3])
    with pytest.raises(ValueError, match="4 image-error variances for 3 scales of 6 bands"):
        per_scale(np.ones(4), wedges)


@pytest.mark.parametrize("bands", ["scale", "wedge"])
def test_the_figure_draws_the_variances_each_analysis_used(tmp_path, observations, bands):
    out = tmp_path / "out"
    run = _run(out / "runs", observations, "image", analysis={"image_error_bands": bands})
    (out / "results.json").write_text(json.dumps({"experiment": {
        "stated_error_variance": 4e-4}}))
    output = DemoOutput(out)
    assert has_estimates(output)
    times, values = variance_series(output, "image")
    files = [read_analysis(p) for p in sorted((run / "cycles").glob("analysis_*.nc"))]
    assert len(times) == len(files) == values.shape[0] == 4
    for row, a in zip(values, files):
        np.testing.assert_allclose(row, per_scale(a.image_error["image_error_variance"],
                                                  a.bands["wedges_per_scale"]), rtol=1e-12)
    np.testing.assert_allclose(values[0], 4e-4, rtol=1e-12)  # starts from the stated variance
    path, caption, note = variance_figure(output)
    assert path.name == NAME and path.stat().st_size > 10_000
    assert "stated variance dashed" in caption and note == ""
    page = build_report(out).read_text(encoding="utf-8")
    assert NAME in page


def test_a_fixed_variance_leaves_the_figure_out(tmp_path, observations):
    out = tmp_path / "out"
    _run(out / "runs", observations, "image", tuned=False)
    output = DemoOutput(out)
    assert not has_estimates(output)
    path, _, note = variance_figure(output)
    assert path is None and "image_error_method 'fixed'" in note
    assert NAME not in build_report(out).read_text(encoding="utf-8")
