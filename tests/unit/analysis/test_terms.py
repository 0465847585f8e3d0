"""The image term with one image-error variance per curvelet scale."""

from __future__ import annotations

import numpy as np
import pytest

from landia.analysis import build_problem
from landia.analysis.minimisers import minimise
from landia.analysis.terms import ImageTerm
from landia.config import settings_from_dict
from landia.errors import InputError
from landia.operators import taylor_test
from tests.conftest import make_case

PER_SCALE = np.array([2e-3, 6e-4, 2e-4])


def _settings(**minimiser):
    return settings_from_dict({"analysis": {"terms": ["background", "image"], "layers": 2,
                                            "upper_bound": 0.5},
                               "curvelet": {"scales": 3}, "minimiser": minimiser})


@pytest.fixture(scope="module")
def problem():
    bg, obs = make_case(shape=(16, 16), layers=2)
    return build_problem(bg, obs, _settings(), image_error_variance=PER_SCALE)


def _image(problem):
    return next(t for t in problem.cost.terms if t.name == "image")


def test_value_is_the_sum_over_scales_of_the_weighted_residuals(problem):
    term = _image(problem)
    x = problem.background + 0.01
    expected = 0.0
    for layer in term.layers:
        r = (layer.operator.matvec(x[layer.cells]) - layer.target).reshape(-1, 2)
        for j, s2 in enumerate(PER_SCALE):
            expected += 0.5 * np.sum(r[layer.kept_scale == j] ** 2) / s2
    assert term.value_and_gradient(x)[0] == pytest.approx(expected, rel=1e-12)
    assert {int(j) for layer in term.layers for j in layer.kept_scale} == {0, 1, 2}


def test_taylor_test_and_hessian_of_the_per_scale_term(problem):
    term = _image(problem)
    rng = np.random.default_rng(3)
    x = problem.background + 0.01
    ratios = taylor_test(term.value_and_gradient, x,
                         direction=rng.standard_normal(x.size) * 0.02)
    assert np.all(np.diff(np.log10(ratios[:4])) < -0.9)
    d = rng.standard_normal(x.size)
    g0, g1 = term.value_and_gradient(x)[1], term.value_and_gradient(x + d)[1]
    np.testing.assert_allclose(g1 - g0, term.hessian_vector(d), rtol=1e-9, atol=1e-9)
    # the Hessian is symmetric
    e = rng.standard_normal(x.size)
    assert np.dot(e, term.hessian_vector(d)) == pytest.approx(np.dot(d, term.hessian_vector(e)),
                                                              rel=1e-12)


def test_one_variance_for_every_scale_is_the_single_variance_bit_for_bit():
    bg, obs = make_case(shape=(16, 16), layers=2)
    s = _settings()
    single = build_problem(bg, obs, s)
    same = build_problem(bg, obs, s, image_error_variance=np.full(3, 4e-4))
    x = single.background + 0.01
    a, b = _image(single).value_and_gradient(x), _image(same).value_and_gradient(x)
    assert a[0] == b[0] and np.array_equal(a[1], b[1])


def test_unbounded_per_scale_analysis_is_the_blue(problem):
    """The closed-form minimiser of the quadratic J (dense Hessian) and TAO/scipy agree."""
    n = problem.background.size
    hess = np.column_stack([problem.cost.hessian_vector(e) for e in np.eye(n)])
    blue = np.linalg.solve(hess, -problem.cost.value_and_gradient(np.zeros(n))[1])
    wide = np.full(n, 1e3)
    s = _settings(gttol=1e-8, max_iterations=2000)
    for backend in ("tao", "scipy"):
        if backend == "tao":
            pytest.importorskip("petsc4py")
        cfg = s.replace("minimiser", backend=backend).minimiser
        x = minimise(problem.cost, problem.background, -wide, wide, cfg).x
        assert np.linalg.norm(x - blue) / np.linalg.norm(blue) < 1e-8, backend
    # a larger variance at a scale lets the analysis follow that scale of the observation less
    bg, obs = make_case(shape=(16, 16), layers=2)
    loose = build_problem(bg, obs, _settings(), image_error_variance=np.array([1.0, 6e-4, 2e-4]))
    g_tight = _image(problem).value_and_gradient(problem.background)[1]
    g_loose = _image(loose).value_and_gradient(loose.background)[1]
    assert np.linalg.norm(g_loose) < np.linalg.norm(g_tight)


def test_wrong_variances_are_clear_errors():
    bg, obs = make_case(shape=(16, 16), layers=2)
    with pytest.raises(InputError, match="expected 3 finite values > 0, one per curvelet scale"):
        build_problem(bg, obs, _settings(), image_error_variance=np.array([1e-3, 1e-3]))
    with pytest.raises(InputError, match="one per curvelet scale"):
        build_problem(bg, obs, _settings(), image_error_variance=np.array([1e-3, 0.0, 1e-3]))
    with pytest.raises(ValueError, match="finite and > 0"):
        ImageTerm([], np.array([np.nan]))


def test_the_preconditioner_takes_the_low_pass_scales_variance():
    """The correlated B's preconditioner models JI by 1/s2 on the image cells: the large
    scales set the largest eigenvalues, so with one variance per scale it is the low-pass
    scale's (the smallest, as before, made the Desroziers variances of the real-field case
    take 24-26 iterations instead of 14-16)."""
    from landia.analysis.control import observation_precision

    bg, obs = make_case(shape=(16, 16), layers=2)
    s = _settings().replace("analysis", correlation_length_km=300.0)
    p = build_problem(bg, obs, s, image_error_variance=np.array([3e-2, 2e-3, 5e-4]))
    omega = observation_precision(p.cost.terms, p.background.size)
    cells = np.unique(np.concatenate([layer.cells for layer in _image(p).layers]))
    counts = np.bincount(np.concatenate([layer.cells for layer in _image(p).layers]),
                         minlength=p.background.size)
    np.testing.assert_allclose(omega[cells], counts[cells] / 3e-2)
