"""The analysis layer by layer: the joint optimum, the joint analysis to the minimiser's
tolerance, and the carried image-error variances."""

from __future__ import annotations

import numpy as np
import pytest

from landia.analysis import build_problem, run_analysis
from landia.analysis.layered import (analyse_layer, combine_layers, run_layered_analysis,
                                     separable)
from landia.config import settings_from_dict
from tests.conftest import make_case

ALL_TERMS = ["background", "point", "image"]
#: The stated agreement of the layered and the joint analysis (docs/distributed-analysis.md):
#: max |x_layered - x_joint| over the analysed values, m3 m-3, at the default gttol.
TOLERANCE = 1e-4


def settings(**analysis):
    raw = {"analysis": {"terms": ALL_TERMS, "upper_bound": 0.5, "layers": 3,
                        "correlation_length_km": 0.0, "image_gap_weight": 0.0,
                        "local_image_error": False, **analysis}}
    return settings_from_dict(raw)


def _dense_blue(problem):
    """Closed-form minimiser of the quadratic J: solve (Hessian) x = -grad J(0)."""
    n = problem.background.size
    hess = np.column_stack([problem.cost.hessian_vector(e) for e in np.eye(n)])
    _, g0 = problem.cost.value_and_gradient(np.zeros(n))
    return np.linalg.solve(hess, -g0)


def test_layers_of_the_joint_hessian_do_not_couple():
    """The joint Hessian is block diagonal by layer (what makes J separate)."""
    bg, obs = make_case(shape=(12, 12), layers=3)
    problem = build_problem(bg, obs, settings())
    n = problem.grid.n_land
    hess = np.column_stack([problem.cost.hessian_vector(e) for e in np.eye(3 * n)])
    for k in range(3):
        for m in range(3):
            block = hess[k * n:(k + 1) * n, m * n:(m + 1) * n]
            assert (np.abs(block).max() == 0.0) == (k != m)


def test_layered_analysis_reaches_the_joint_blue():
    """Wide bounds, tight tolerance: the stacked layer minimisers are the joint BLUE."""
    bg, obs = make_case(shape=(12, 12), layers=3)
    s = settings_from_dict({"analysis": {"terms": ALL_TERMS, "upper_bound": 1.0, "layers": 3,
                                         "correlation_length_km": 0.0,
                                         "image_gap_weight": 0.0, "local_image_error": False},
                            "minimiser": {"backend": "scipy", "gttol": 1e-10,
                                          "max_iterations": 2000}})
    blue = _dense_blue(build_problem(bg, obs, s))
    result = run_layered_analysis(bg, obs, s)
    assert np.all((blue > 0.0) & (blue < 1.0))  # the bounds are inactive
    rel = np.linalg.norm(result.minimiser.x - blue) / np.linalg.norm(blue)
    assert rel < 1e-8, rel


@pytest.mark.parametrize("length", [0.0, 300.0])
def test_layered_analysis_equals_the_joint_one_to_the_tolerance(length):
    bg, obs = make_case(shape=(16, 16), layers=3)
    s = settings(correlation_length_km=length)
    joint, layered = run_analysis(bg, obs, s), run_layered_analysis(bg, obs, s)
    land = np.isfinite(joint.analysis_field)
    assert np.array_equal(land, np.isfinite(layered.analysis_field))
    diff = np.abs(joint.analysis_field[land] - layered.analysis_field[land])
    increment = np.abs(joint.increment_field[land]).max()
    assert diff.max() < TOLERANCE < increment, (diff.max(), increment)
    j_joint, j_layered = sum(joint.terms_after.values()), sum(layered.terms_after.values())
    assert abs(j_joint - j_layered) < 1e-3 * abs(j_joint)
    np.testing.assert_allclose(sum(layered.terms_before.values()),
                               sum(joint.terms_before.values()), rtol=1e-12)
    assert layered.problem.qc == joint.problem.qc


@pytest.mark.parametrize("method, bands", [("desroziers", "scale"), ("innovation", "scale"),
                                           ("desroziers", "wedge")])
def test_carried_image_error_variances_match_the_joint_estimate(method, bands):
    """The pooled per-layer statistics give the joint image-error estimate: the O-B sums
    exactly (to summation order), the O-A ones to the minimiser's tolerance; per scale or
    per band."""
    bg, obs = make_case(shape=(16, 16), layers=3)
    s = settings(image_error_method=method, image_error_bands=bands)
    scales = run_analysis(bg, obs, s).image_error.used.size
    carried = np.linspace(6e-4, 3e-4, scales)
    joint = run_analysis(bg, obs, s, image_error_variance=carried)
    layered = run_layered_analysis(bg, obs, s, image_error_variance=carried)
    np.testing.assert_array_equal(layered.image_error.used, joint.image_error.used)
    a, b = layered.image_statistics, joint.image_statistics
    np.testing.assert_array_equal(a.kept, b.kept)
    np.testing.assert_allclose(a.omb_kept, b.omb_kept, rtol=1e-12)
    np.testing.assert_allclose(a.white_kept, b.white_kept, rtol=1e-12)
    np.testing.assert_allclose(layered.image_error.next, joint.image_error.next, rtol=1e-2)
    if bands == "wedge":
        assert carried.size == joint.problem.curvelet.band_sizes.size


def test_layers_combine_in_any_order():
    bg, obs = make_case(shape=(12, 12), layers=3)
    s = settings()
    parts = [analyse_layer(bg, obs, s, k) for k in range(3)]
    a = combine_layers(parts, bg, obs, s)
    b = combine_layers(parts[::-1], bg, obs, s)
    np.testing.assert_array_equal(a.analysis_field, b.analysis_field)
    assert a.minimiser.cost == b.minimiser.cost
    # The summed cost history ends at the summed J after the minimisation.
    np.testing.assert_allclose(a.minimiser.cost[-1], sum(a.terms_after.values()), rtol=1e-10)


def test_separable_says_why_not():
    assert separable(settings()) is None
    assert "local_image_error" in separable(settings(local_image_error=True))
    assert separable(settings(layers=1)) == "one analysed layer"
    with pytest.raises(ValueError, match="local_image_error"):
        bg, obs = make_case(shape=(12, 12), layers=3)
        run_layered_analysis(bg, obs, settings(local_image_error=True))
