"""JI split by curvelet wedges (landia.analysis.wedge_split): the parts, evaluated in one
process, give the serial JI, gradient and Hessian action to 1e-12 relative, and an analysis
with the split equals the serial one to the stated tolerance."""

from __future__ import annotations

import numpy as np
import pytest

from landia.analysis import build_problem, run_analysis
from landia.analysis.terms import ImageTerm
from landia.analysis.wedge_split import (InProcessWedges, SplitImageTerm, image_split,
                                         part_specs, wedge_bounds)
from landia.config import settings_from_dict
from tests.conftest import make_case

#: The stated agreement of an analysis with JI split by wedges and the serial analysis
#: (docs/distributed-analysis.md): max |x_split - x_serial|, m3 m-3.
TOLERANCE = 1e-10


def settings(**analysis):
    raw = {"analysis": {"terms": ["background", "point", "image"], "upper_bound": 0.5,
                        "layers": 3, "correlation_length_km": 0.0, "image_gap_weight": 0.0,
                        **analysis}}
    return settings_from_dict(raw)


def _image_term(problem) -> ImageTerm:
    return next(t for t in problem.cost.terms if isinstance(t, ImageTerm))


@pytest.mark.parametrize("parts", [1, 2, 3, 5, 200])
def test_wedge_bounds_cover_whole_wedges_in_balanced_ranges(parts):
    sizes = np.array([400, 60, 60, 60, 90, 90, 90, 90, 300, 300, 300, 300])
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    bounds = wedge_bounds(offsets, parts)
    assert len(bounds) == parts and bounds[0][0] == 0 and bounds[-1][1] == offsets[-1]
    assert all(a[1] == b[0] for a, b in zip(bounds[:-1], bounds[1:]))
    assert all(lo in offsets and hi in offsets and lo <= hi for lo, hi in bounds)
    counts = [hi - lo for lo, hi in bounds]
    # no range exceeds its fair share by more than the largest wedge
    assert max(counts) <= offsets[-1] / parts + sizes.max()
    assert bounds == wedge_bounds(offsets, parts)  # deterministic


CASES = {
    "one s2": {},
    "per-scale s2": {"image_error_variance": None},
    "whole image": {"image_gap_weight": 0.3},
    "local image error": {"local_image_error": True},
    "hybrid": {"hybrid_split": True},
}


def _problem(case):
    bg, obs = make_case(shape=(24, 20), layers=3, seed=2)
    analysis = dict(CASES[case])
    variance = None
    if "image_error_variance" in analysis:
        analysis.pop("image_error_variance")
        variance = np.array([0.02, 0.01, 0.005, 0.004, 0.003])
    problem = build_problem(bg, obs, settings(**analysis), image_error_variance=variance)
    if analysis.get("local_image_error"):  # a carried excess: JI's residual is loosened
        excess = np.full(problem.grid.n_land, 1e-2)
        problem = build_problem(bg, obs, settings(**analysis), local_error_excess=excess)
        assert _image_term(problem).cell_variance is not None
    if variance is not None:
        assert not _image_term(problem)._uniform
    return problem


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("parts", [1, 2, 3, 4])
def test_split_term_equals_the_serial_term(case, parts):
    problem = _problem(case)
    term = _image_term(problem)
    exchange = InProcessWedges(parts)
    exchange.start(part_specs(term, problem.curvelet, parts), problem.curvelet)
    split = SplitImageTerm(term, problem.curvelet, exchange)
    rng = np.random.default_rng(parts)
    x = problem.background + 0.05 * rng.standard_normal(problem.background.size)
    value, grad = term.value_and_gradient(x)
    split_value, split_grad = split.value_and_gradient(x)
    assert abs(split_value - value) <= 1e-12 * abs(value)
    assert np.max(np.abs(split_grad - grad)) <= 1e-12 * np.max(np.abs(grad))
    d = rng.standard_normal(x.size)
    hd = term.hessian_vector(d)
    assert np.max(np.abs(split.hessian_vector(d) - hd)) <= 1e-12 * np.max(np.abs(hd))
    # every kept coefficient is in exactly one part
    specs = exchange.members
    for k, layer in enumerate(term.layers):
        assert sum(p.spec.kept[k].size for p in specs) == layer.selection.kept.size


def test_split_gradient_passes_a_taylor_test():
    """J(x + h d) - J(x) - h g.d = h^2/2 d^T H d: the remainder falls 4x as h halves."""
    problem = _problem("per-scale s2")
    term = _image_term(problem)
    exchange = InProcessWedges(3)
    exchange.start(part_specs(term, problem.curvelet, 3), problem.curvelet)
    split = SplitImageTerm(term, problem.curvelet, exchange)
    rng = np.random.default_rng(11)
    x = problem.background.copy()
    d = rng.standard_normal(x.size)
    j0, g0 = split.value_and_gradient(x)
    remainders = []
    for h in (1e-2, 5e-3, 2.5e-3):
        jh, _ = split.value_and_gradient(x + h * d)
        remainders.append(jh - j0 - h * float(np.dot(g0, d)))
    ratios = [remainders[i] / remainders[i + 1] for i in range(2)]
    np.testing.assert_allclose(ratios, 4.0, rtol=1e-5)
    curvature = float(np.dot(d, split.hessian_vector(d)))
    np.testing.assert_allclose(remainders[0], 0.5 * 1e-4 * curvature, rtol=1e-6)


@pytest.mark.parametrize("length", [0.0, 300.0])
def test_analysis_with_the_split_equals_the_serial_analysis(length):
    bg, obs = make_case(shape=(24, 20), layers=3, seed=4)
    s = settings(correlation_length_km=length)
    serial = run_analysis(bg, obs, s)
    split = run_analysis(bg, obs, s, image_exchange=InProcessWedges(2))
    land = np.isfinite(serial.analysis_field)
    diff = np.abs(split.analysis_field[land] - serial.analysis_field[land])
    increment = np.abs(serial.increment_field[land]).max()
    assert diff.max() <= TOLERANCE < increment, (diff.max(), increment)
    assert split.minimiser.iterations == serial.minimiser.iterations
    np.testing.assert_allclose(sum(split.terms_after.values()),
                               sum(serial.terms_after.values()), rtol=1e-10)
    # the term is restored after the minimisation
    assert isinstance(_image_term(split.problem), ImageTerm)
    assert not any(isinstance(t, SplitImageTerm) for t in split.problem.cost.terms)


def test_a_term_that_cannot_be_split_is_left_serial():
    bg, obs = make_case(shape=(16, 16), layers=2)
    s = settings_from_dict({"analysis": {"terms": ["background", "image"], "layers": 2,
                                         "upper_bound": 0.5, "correlation_length_km": 0.0},
                            "curvelet": {"backend": "udct-reference"}})
    problem = build_problem(bg, obs, s)
    exchange = InProcessWedges(2)
    with image_split(problem, exchange) as split:
        assert split is None
        assert isinstance(_image_term(problem), ImageTerm)
    assert exchange.members == []
