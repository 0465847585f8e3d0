"""The aims table: evaluated on fabricated figures (a pure function; nothing is timed)."""

import math

import pytest

from landia.benchmarks.aims import AIMS, Aim, evaluate, format_table
from landia.benchmarks.runner import CASES, QUICK_SKIPS


def _by_key(rows):
    return {r["key"]: r for r in rows}


def test_every_aim_reads_a_bench_case_or_says_where_it_is_measured():
    for aim in AIMS:
        if aim.case is None:
            assert aim.note
        else:
            assert aim.case in CASES


def test_at_most_aims_pass_at_the_threshold_and_miss_above_it_with_the_factor():
    aim = Aim("pair", "c", "c_ratio", 3.0, "<=", "x")
    at, above, below = (evaluate({"c_ratio": v}, {"c"}, [aim])[0] for v in (3.0, 4.5, 2.0))
    assert at["verdict"] == "PASS" and below["verdict"] == "PASS"
    assert above["verdict"] == "MISS" and above["factor"] == pytest.approx(1.5)
    assert at["factor"] is None and above["measured"] == 4.5


def test_at_least_aims_pass_at_the_threshold_and_miss_below_it_with_the_factor():
    aim = Aim("rate", "c", "c_rate", 4e6, ">=", "column-steps/s")
    at, below = (evaluate({"c_rate": v}, {"c"}, [aim])[0] for v in (4e6, 2e6))
    assert at["verdict"] == "PASS"
    assert below["verdict"] == "MISS" and below["factor"] == pytest.approx(2.0)


def test_a_quotient_aim_reads_the_ratio_of_its_two_keys():
    aim = Aim("speedup", "cyc", ("cyc_1rank_s", "cyc_2rank_s"), 1.7, ">=", "x")
    row = evaluate({"cyc_1rank_s": 0.9, "cyc_2rank_s": 0.6}, {"cyc"}, [aim])[0]
    assert row["measured"] == pytest.approx(1.5) and row["verdict"] == "MISS"
    assert row["key"] == "cyc_1rank_s/cyc_2rank_s"
    row = evaluate({"cyc_1rank_s": 0.9, "cyc_2rank_s": 0.5}, {"cyc"}, [aim])[0]
    assert row["verdict"] == "PASS"


def test_cases_left_out_failed_or_without_the_key_are_not_judged():
    aim = Aim("pair", "c", "c_ratio", 3.0, "<=", "x")
    assert evaluate({"c_ratio": 1.0}, set(), [aim])[0]["verdict"] == "not run"
    assert evaluate({"c_failed": True}, {"c"}, [aim])[0]["verdict"] == "failed"
    skipped = evaluate({"c_skipped": "needs 24 GiB of memory, 20.0 available"}, {"c"}, [aim])
    assert skipped[0]["verdict"] == "skipped: needs 24 GiB of memory, 20.0 available"
    assert evaluate({"c_other": 1.0}, {"c"}, [aim])[0]["verdict"] == "no figure"
    assert evaluate({"c_ratio": math.nan}, {"c"}, [aim])[0]["verdict"] == "MISS"
    unmeasured = Aim("setup", None, "", 10.0, "<=", "min", note="see deploy/README.md")
    row = evaluate({}, set(), [unmeasured])[0]
    assert row["verdict"] == "not measured here" and row["measured"] is None


def test_a_quick_run_judges_only_the_small_cases():
    # The figures a --quick run could hold for the 256x256 transform, and nothing else.
    ran = set(CASES) - QUICK_SKIPS
    rows = _by_key(evaluate({"curvelet_ratio_256x256": 2.0}, ran))
    assert rows["curvelet_ratio_256x256"]["verdict"] == "PASS"
    assert rows["curvelet_ratio_1800x3600"]["verdict"] == "not run"
    assert rows["columns_step_100000_column_steps_per_s"]["verdict"] == "not run"
    assert {r["verdict"] for r in rows.values()} <= {"PASS", "not run", "not measured here"}


def test_the_table_prints_one_line_per_aim_with_measured_and_verdict():
    figures = {"curvelet_ratio_256x256": 1.8, "curvelet_ratio_1800x3600": 6.0,
               "columns_soilwater_100000_column_steps_per_s": 2.34e6}
    lines = format_table(evaluate(figures, set(CASES)))
    assert "ratios are the robust figures" in lines[0]
    body = lines[2:]
    assert len(body) == len(AIMS)
    assert all(line.count(" | ") == 2 for line in body)
    assert "curvelet forward+adjoint / FFT pair, 256 x 256 (<= 4 x) | 1.8 x | PASS" in body
    assert any(line.endswith("| MISS by 2.00x") and "1800 x 3600" in line for line in body)
    assert any("2.34 M column-steps/s | MISS by 1.71x" in line for line in body)
    assert any(line.startswith("setup") and "not measured here (measured by deploy" in line
               for line in body)


def test_an_aim_needs_a_direction():
    with pytest.raises(ValueError, match="direction"):
        Aim("x", "c", "k", 1.0, "<", "s")
