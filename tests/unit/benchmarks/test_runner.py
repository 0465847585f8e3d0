"""The benchmark driver: its case list, and one case run as the driver runs it (a child)."""

import math

from landia.benchmarks.runner import (
    CASES,
    MEMORY_GIB,
    QUICK_SKIPS,
    _run_case,
    available_gib,
)


def test_every_quick_skip_names_a_case():
    assert QUICK_SKIPS <= set(CASES)


def test_cases_with_a_memory_need_are_cases_left_out_of_quick_runs():
    assert set(MEMORY_GIB) <= QUICK_SKIPS


def test_the_available_memory_is_read_on_linux():
    free = available_gib()
    assert free is None or 0 < free < 2**20


def test_a_case_runs_in_its_own_process():
    # ``python -m landia.benchmarks --case NAME``, as run_benchmarks starts each case.
    figures = _run_case("curvelet_256x256")
    assert figures is not None
    assert figures["curvelet_ratio_256x256"] > 0
    assert math.isfinite(figures["curvelet_peak_mb_256x256"])
