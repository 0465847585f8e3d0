"""The analysis benchmark's smallest case, run in-process (figures, not timings)."""

import math

from landia.benchmarks.analysis import analysis_case


def test_paper_grid_case_reports_its_figures():
    figures = analysis_case("paper_32x31")
    prefix = "analysis_paper_32x31_"
    expected = {"ny", "nx", "land_cells", "unknowns", "build_s", "minimise_s", "total_s",
                "iterations", "evaluations", "reason", "cost_share", "curvelet_share",
                "embedding_share", "pair_s", "total_in_pairs", "peak_mb", "import_mb",
                "control_vector_mb", "image_mb", "peak_in_images", "scc_before", "scc_after",
                # the default correlated B
                "correlation_build_s", "correlation_mb", "normalisation",
                "preconditioner_build_s", "preconditioner_mb", "transform_share", "clipped"}
    assert {prefix + k for k in expected} <= set(figures)
    assert prefix + "error" not in figures
    f = {k[len(prefix):]: v for k, v in figures.items()}
    assert (f["ny"], f["nx"]) == (32, 31)
    assert 0 < f["land_cells"] < 32 * 31 and f["unknowns"] == 3 * f["land_cells"]
    assert f["iterations"] > 0 and f["evaluations"] >= f["iterations"]
    assert f["reason"].startswith("CONVERGED")
    assert 0 < f["curvelet_share"] < 1 and 0 < f["embedding_share"] < 1
    assert f["peak_mb"] >= f["import_mb"] > 0
    assert all(math.isfinite(f[k]) and f[k] > 0 for k in ("build_s", "minimise_s", "total_s",
                                                         "pair_s", "control_vector_mb"))
    assert f["scc_after"] > f["scc_before"]
    assert f["normalisation"] == "exact" and f["iterations"] <= 25
    assert 0 < f["transform_share"] < 1 and f["correlation_mb"] > 0 and f["clipped"] >= 0
