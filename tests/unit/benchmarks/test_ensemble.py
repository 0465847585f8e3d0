"""The ensemble benchmarks: the stacked step's smallest case in-process, and the tiling."""

import math

import numpy as np

from landia.benchmarks.columns import step_problem
from landia.benchmarks.ensemble import ensemble_step_case, tile_problem
from landia.columns.model import step


def test_small_ensemble_step_case_reports_its_figures():
    f = ensemble_step_case("paper", members=3, columns=40)
    prefix = "ensemble_step_paper_"
    expected = {"columns", "members", "deterministic_step_s", "ensemble_step_s", "steps",
                "ratio", "block_members", "blocked_step_s", "blocked_ratio", "peak_mb"}
    assert set(f) == {prefix + k for k in expected}
    f = {k[len(prefix):]: v for k, v in f.items()}
    assert (f["columns"], f["members"], f["block_members"]) == (40, 3, 3)
    assert all(math.isfinite(f[k]) and f[k] > 0 for k in expected)


def test_tiled_members_step_as_the_columns_alone():
    """Member-major tiling: every member of the stacked step is the step of the n columns,
    bit for bit (the step is column by column)."""
    state, params, forcings, lai = step_problem(30)
    one, _ = step(state, params, forcings[0], lai)
    big_state, big_params, big_forcings, big_lai = tile_problem(state, params, forcings, lai, 4)
    big, _ = step(big_state, big_params, big_forcings[0], big_lai)
    for name, value in big.arrays().items():
        np.testing.assert_array_equal(value.reshape((4,) + one.arrays()[name].shape),
                                      np.broadcast_to(one.arrays()[name],
                                                      (4,) + one.arrays()[name].shape))
