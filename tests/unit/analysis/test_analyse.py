"""Cost terms, gradients, the BLUE and the minimisers."""

from __future__ import annotations

import numpy as np
import pytest

from landia.analysis import build_problem, run_analysis
from landia.analysis.minimisers import minimise
from landia.config import Settings, settings_from_dict
from landia.errors import ConfigError, InputError
from landia.operators import taylor_test
from tests.conftest import make_case

ALL_TERMS = ["background", "point", "image"]


def settings(**sections) -> Settings:
    """The paper's analysis: diagonal B, image term on the observed cells (the correlated B and
    the whole-image term are tested in test_control.py and test_whole_image.py)."""
    raw = {"analysis": {"terms": ALL_TERMS, "upper_bound": 0.5, "layers": 2,
                        "correlation_length_km": 0.0, "image_gap_weight": 0.0}}
    for name, values in sections.items():
        raw.setdefault(name, {}).update(values)
    return settings_from_dict(raw)


@pytest.mark.parametrize("terms", [["background"], ["point"], ["image"], ALL_TERMS])
def test_taylor_test_of_each_term_and_of_J(terms):
    bg, obs = make_case()
    problem = build_problem(bg, obs, settings(analysis={"terms": terms}))
    x = problem.background + 0.01
    ratios = taylor_test(problem.cost.value_and_gradient, x,
                         direction=np.random.default_rng(0).standard_normal(x.size) * 0.02)
    # First-order remainder / first-order term -> 0 linearly in h for a correct gradient.
    assert np.all(np.diff(np.log10(ratios[:4])) < -0.9)
    assert ratios[3] < 2e-3 * ratios[0]


def test_hessian_vector_matches_gradient_differences():
    bg, obs = make_case()
    problem = build_problem(bg, obs, settings())
    rng = np.random.default_rng(1)
    x, d = problem.background, rng.standard_normal(problem.background.size)
    _, g0 = problem.cost.value_and_gradient(x)
    _, g1 = problem.cost.value_and_gradient(x + d)
    np.testing.assert_allclose(g1 - g0, problem.cost.hessian_vector(d), rtol=1e-9, atol=1e-9)


def _dense_blue(problem):
    """Closed-form minimiser of the quadratic J: solve (Hessian) x = -grad J(0)."""
    n = problem.background.size
    hess = np.column_stack([problem.cost.hessian_vector(e) for e in np.eye(n)])
    _, g0 = problem.cost.value_and_gradient(np.zeros(n))
    return np.linalg.solve(hess, -g0)


@pytest.mark.parametrize("backend", ["tao", "scipy"])
def test_unbounded_analysis_equals_blue(backend):
    pytest.importorskip("petsc4py") if backend == "tao" else None
    bg, obs = make_case(shape=(16, 16), layers=2)
    s = settings(minimiser={"backend": backend, "gttol": 1e-8, "max_iterations": 2000})
    problem = build_problem(bg, obs, s)
    blue = _dense_blue(problem)
    wide = np.full(blue.size, 1e3)
    result = minimise(problem.cost, problem.background, -wide, wide, s.minimiser)
    rel = np.linalg.norm(result.x - blue) / np.linalg.norm(blue)
    assert rel < 1e-8, rel


def test_point_only_analysis_is_the_scalar_blue():
    """JB + JO with a diagonal B and obs on model cells: x = xb + b/(b+r) (y - xb)."""
    bg, obs = make_case(shape=(16, 16), layers=1)
    s = settings(analysis={"terms": ["background", "point"], "layers": 1,
                           "background_error_variance": 0.003,
                           "observation_error_variance": 0.001},
                 minimiser={"gttol": 1e-8, "max_iterations": 500})
    result = run_analysis(bg, obs, s)
    xb, y = bg.values[0], obs.values[0]
    expected = np.where(np.isfinite(y), xb + 0.75 * (y - xb), xb)
    land = np.isfinite(xb)
    np.testing.assert_allclose(result.analysis_field[0][land], expected[land], rtol=1e-8, atol=1e-10)


def test_tao_and_scipy_give_the_same_bounded_analysis():
    pytest.importorskip("petsc4py")
    bg, obs = make_case(shape=(32, 31), layers=3)
    base = {"analysis": {"terms": ["background", "image"], "upper_bound": "porosity"},
            "minimiser": {"gttol": 1e-8, "max_iterations": 1000}}
    a = run_analysis(bg, obs, settings_from_dict(base))
    base["minimiser"]["backend"] = "scipy"
    b = run_analysis(bg, obs, settings_from_dict(base))
    land = np.isfinite(a.analysis_field)
    assert np.max(np.abs(a.analysis_field[land] - b.analysis_field[land])) < 1e-7
    assert a.minimiser.solver == "tao:blmvm" and b.minimiser.solver == "scipy:L-BFGS-B"


@pytest.mark.parametrize("backend", ["tao", "scipy"])
def test_bounds_are_honoured_and_kkt_holds(backend):
    if backend == "tao":
        pytest.importorskip("petsc4py")
    bg, obs = make_case(shape=(16, 16), layers=2)
    # gttol 1e-7 (not 1e-8): L-BFGS-B stops on its relative reduction of J at machine
    # precision near |g| = 1e-8 g0 with some BLAS kernels (AVX-512 OpenBLAS), short of 1e-8.
    s = settings(minimiser={"backend": backend, "gttol": 1e-7, "max_iterations": 1000})
    problem = build_problem(bg, obs, s)
    blue = _dense_blue(problem)
    # Upper bounds below the unbounded optimum on every third unknown, far above elsewhere.
    upper = np.full(blue.size, 1.0)
    upper[::3] = blue[::3] - 0.02
    lower = np.zeros(blue.size)
    result = minimise(problem.cost, problem.background, lower, upper, s.minimiser)
    x = result.x
    assert np.all(x <= upper) and np.all(x >= lower)
    at_upper = x >= upper - 1e-9
    assert at_upper.sum() > 10  # the bound is active
    _, g = problem.cost.value_and_gradient(x)
    g0 = result.gradient_norm[0]
    assert np.all(g[at_upper] <= 1e-6 * g0)        # the gradient pushes outward only
    assert np.abs(g[~at_upper]).max() < 1e-6 * g0  # stationary on free unknowns


def test_switched_off_terms_change_nothing():
    bg, obs = make_case()
    only_b = run_analysis(bg, obs, settings(analysis={"terms": ["background"]}))
    np.testing.assert_array_equal(only_b.analysis_field, np.clip(only_b.background_field, 0, 0.5))
    assert only_b.minimiser.iterations == 0
    # The point-observation error variance is ignored while JO is off.
    a = run_analysis(bg, obs, settings(analysis={"terms": ["background", "image"]}))
    b = run_analysis(bg, obs, settings(analysis={"terms": ["background", "image"],
                                                 "observation_error_variance": 0.5}))
    # Equal to round-off (TAO runs were seen to differ by 1 ulp about once in 30 repeats).
    np.testing.assert_allclose(a.analysis_field, b.analysis_field, rtol=0, atol=1e-14)
    assert set(a.terms_after) == {"background", "image"}


def test_image_term_weighting_controls_its_strength():
    bg, obs = make_case(shape=(32, 32), layers=1)
    def scc(var):
        # the paper's one fixed variance (an estimated one would have it as its floor)
        r = run_analysis(bg, obs, settings(analysis={"terms": ["background", "image"],
                                                     "layers": 1, "image_error_variance": var,
                                                     "image_error_method": "fixed"}))
        return r.scores["background"]["layer1"]["scc"], r.scores["analysis"]["layer1"]["scc"]
    before, weak = scc(1.0)      # the paper's unweighted term barely moves the analysis
    _, strong = scc(4e-4)        # weighted near the observation error it counts
    assert abs(weak - before) < 0.05
    assert strong > before + 0.1


def test_bad_inputs_are_clear_errors():
    bg, obs = make_case()
    with pytest.raises(InputError, match="layer"):
        build_problem(bg, obs, settings(analysis={"layers": 3}))
    s = settings_from_dict({"analysis": {"upper_bound": "porosity", "layers": 2}})
    obs_nopor = make_case()[1]
    with pytest.raises(ConfigError, match="porosity"):
        build_problem(obs_nopor, obs, s)
    empty = make_case()[1]
    empty.values[:] = np.nan
    with pytest.raises(InputError, match="no usable observation"):
        build_problem(bg, empty, settings())
    shifted = make_case()[1]
    shifted.lat = shifted.lat + 1.0
    with pytest.raises(InputError, match="lat"):
        build_problem(bg, shifted, settings())


def test_observations_outside_bounds_are_rejected_and_counted():
    bg, obs = make_case()
    (i1, j1), (i2, j2) = np.argwhere(np.isfinite(obs.values[0]))[[0, 5]]
    obs.values[0, i1, j1] = 0.9
    obs.values[0, i2, j2] = -0.2
    problem = build_problem(bg, obs, settings())
    assert problem.qc["above_upper_bound"] == 1 and problem.qc["below_lower_bound"] == 1
    assert np.isnan(problem.observation[0, i1, j1]) and np.isnan(problem.observation[0, i2, j2])


def test_diverged_minimisation_is_a_clear_error():
    pytest.importorskip("petsc4py")
    from landia.errors import MinimisationError

    bg, obs = make_case(shape=(32, 32), layers=1)
    s = settings(analysis={"layers": 1}, minimiser={"max_iterations": 1, "gttol": 1e-14})
    with pytest.raises(MinimisationError, match="MAXITS"):
        run_analysis(bg, obs, s)


def test_scipy_serves_where_petsc4py_is_absent(monkeypatch):
    import landia.analysis.minimisers.tao as tao

    monkeypatch.setattr(tao, "petsc_available", lambda: False)
    bg, obs = make_case()
    result = run_analysis(bg, obs, settings())
    assert result.minimiser.solver == "scipy:L-BFGS-B"
    assert result.minimiser.reason.startswith("CONVERGED")


@pytest.mark.parametrize("local", [False, True])
def test_the_split_hybrid_gives_each_observation_term_half_the_information(local):
    """analysis.hybrid_split: JO and JI each at half their weight, JB unchanged."""
    bg, obs = make_case(shape=(24, 24), layers=2)
    raw = {"analysis": {"terms": ["background", "point", "image"], "layers": 2,
                        "upper_bound": 0.5, "local_image_error": local,
                        "hybrid_split": False}}
    plain = build_problem(bg, obs, settings_from_dict(raw))
    raw["analysis"]["hybrid_split"] = True
    split = build_problem(bg, obs, settings_from_dict(raw))
    x = plain.background + 0.01
    a, b = plain.cost.term_values(x), split.cost.term_values(x)
    assert b["background"] == a["background"]
    for name in ("point", "image"):
        assert b[name] == pytest.approx(0.5 * a[name], rel=1e-12), name
    # a run without both observation terms is not changed by the key
    raw["analysis"]["terms"] = ["background", "image"]
    alone = build_problem(bg, obs, settings_from_dict(raw))
    raw["analysis"]["hybrid_split"] = False
    assert alone.cost.term_values(x) == build_problem(
        bg, obs, settings_from_dict(raw)).cost.term_values(x)


def test_the_split_hybrid_carries_the_stated_image_error_variance_not_the_doubled_one():
    """With an estimated variance the cycle carries s2 as stated; the split doubles it at use."""
    bg, obs = make_case(shape=(24, 24), layers=2)
    raw = {"analysis": {"terms": ["background", "point", "image"], "layers": 2,
                        "upper_bound": 0.5, "image_error_method": "desroziers",
                        "hybrid_split": False}}
    plain = run_analysis(bg, obs, settings_from_dict(raw))
    raw["analysis"]["hybrid_split"] = True
    split = run_analysis(bg, obs, settings_from_dict(raw))
    np.testing.assert_array_equal(split.image_error.used, plain.image_error.used)
    term = next(t for t in split.problem.cost.terms if t.name == "image")
    np.testing.assert_array_equal(term.scale_variance, 2.0 * plain.image_error.used)
