"""The benchmark's smallest analysis and column cases, run in-process (figures, not timings)."""

import math

from landia.bench import analysis_case


def test_paper_grid_case_reports_its_figures():
    figures = analysis_case("paper_32x31")
    prefix = "analysis_paper_32x31_"
    expected = {"ny", "nx", "land_cells", "unknowns", "build_s", "minimise_s", "total_s",
                "iterations", "evaluations", "reason", "cost_share", "curvelet_share",
                "embedding_share", "pair_s", "total_in_pairs", "peak_mb", "import_mb",
                "control_vector_mb", "image_mb", "peak_in_images", "scc_before", "scc_after"}
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


def test_small_column_cases_report_their_figures():
    from landia.bench import columns_soilwater_case, columns_step_case

    f = columns_soilwater_case(100, n_reference=10)
    prefix = "columns_soilwater_100_"
    expected = {"column_steps_per_s", "checked_column_steps_per_s", "step_s", "steps",
                "reference_columns", "reference_column_steps_per_s", "reference_step_s",
                "speedup", "tridiagonal_share", "peak_mb", "import_mb"}
    assert set(f) == {prefix + k for k in expected}
    f = {k[len(prefix):]: v for k, v in f.items()}
    assert f["reference_columns"] == 10 and f["steps"] >= 5
    assert all(math.isfinite(f[k]) and f[k] > 0 for k in expected)
    assert 0 < f["tridiagonal_share"] < 1
    g = columns_step_case(100)
    assert set(g) == {f"columns_step_100_{k}" for k in
                      ("column_steps_per_s", "step_s", "steps", "peak_mb", "import_mb")}
    assert g["columns_step_100_column_steps_per_s"] > 0
