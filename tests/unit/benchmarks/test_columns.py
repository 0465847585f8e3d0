"""The column benchmarks' smallest cases, run in-process (figures, not timings)."""

import math

from landia.benchmarks.columns import columns_soilwater_case, columns_step_case


def test_small_column_cases_report_their_figures():
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
