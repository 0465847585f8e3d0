"""The observation error beyond the stated one, estimated per cell from the image's fine-scale
curvelet innovations (analysis.local_image_error), and the terms it loosens."""

from __future__ import annotations

import numpy as np
import pytest

from landia.analysis import build_problem, run_analysis
from landia.analysis.image_diagnostics import _background_sqrt
from landia.analysis.local_error import cycled_excess, local_estimate, loosened_terms
from landia.analysis.terms import ImageTerm, PointObservationTerm
from landia.config import settings_from_dict
from landia.errors import ConfigError
from landia.grid import colm_node_depths
from landia.io.fields import SoilMoistureField
from landia.operators import dot_test, taylor_test

SHAPE = (40, 40)
STATED = 0.03 ** 2          # the stated observation-error variance, (m3 m-3)^2
FACTOR = 3.0                # the actual random error inside the region, times the stated one


def _settings(terms=("background", "image"), **analysis):
    return settings_from_dict({"analysis": {"terms": list(terms), "layers": 1,
                                            "upper_bound": 1.0,
                                            "background_error_variance": 2.5e-3,
                                            "image_error_variance": STATED,
                                            "local_image_error": False, "hybrid_split": False,
                                            **analysis}})


def _field(values, variance=None):
    ny, nx = SHAPE
    return SoilMoistureField(lat=np.linspace(25.0, 25.0 + 1.4 * (ny - 1), ny),
                             lon=np.linspace(80.0, 80.0 + 1.4 * (nx - 1), nx),
                             depth=colm_node_depths()[:1], values=values[None],
                             error_variance=None if variance is None else variance[None],
                             source="synthetic")


def _region():
    region = np.zeros(SHAPE, dtype=bool)
    region[8:24, 10:26] = True
    return region


def case(seed, terms=("background", "image"), **analysis):
    """A truth drawn from the correlated B about a smooth background, observed everywhere with
    a white error of the stated variance, FACTOR times larger (in standard deviation) inside
    the region; the problem built with local_image_error."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:SHAPE[0], 0:SHAPE[1]]
    xb = 0.4 + 0.05 * np.sin(yy / 7.0) * np.cos(xx / 9.0)
    settings = _settings(terms, **analysis)
    draft = build_problem(_field(xb), _field(xb, np.full(SHAPE, STATED)),
                          settings.replace("analysis", local_image_error=False))
    sqrt_b, _ = _background_sqrt(draft)
    truth = xb + draft.grid.to_field(sqrt_b(rng.standard_normal(xb.size)))
    std = np.where(_region(), FACTOR, 1.0) * np.sqrt(STATED)
    obs = truth + std * rng.standard_normal(SHAPE)
    return (_field(xb), _field(obs, np.full(SHAPE, STATED)), settings,
            truth)


def test_a_region_of_three_times_the_stated_error_comes_out_about_eight_times_in_excess():
    """(3^2 - 1) = 8 times the stated variance in excess inside, about 0 outside (5 seeds)."""
    inside, outside = [], []
    region = _region()[np.ones(SHAPE, dtype=bool)]
    core = np.zeros(SHAPE, dtype=bool)
    core[11:21, 13:23] = True           # away from the region's edge (the window blurs it)
    far = np.ones(SHAPE, dtype=bool)
    far[3:29, 5:31] = False
    for seed in range(5):
        bg, obs, settings, _ = case(seed, local_image_error=True)
        p = build_problem(bg, obs, settings)
        stated = np.full(p.background.size, STATED)
        estimate, coverage, scales = local_estimate(p, stated, 2.0)
        assert np.all(coverage > 0.2) and scales[-1] == p.curvelet.scales - 1
        inside.append(np.mean(estimate[core.ravel()]))
        outside.append(np.mean(estimate[far.ravel()]))
    assert np.mean(inside) / STATED == pytest.approx(FACTOR ** 2 - 1, rel=0.25)
    assert abs(np.mean(outside)) / STATED < 0.5
    assert region.sum() == 256


def test_the_analysis_uses_the_estimate_and_stays_closer_to_the_truth_in_the_region():
    bg, obs, settings, truth = case(11, local_image_error=True)
    on = run_analysis(bg, obs, settings)
    off = run_analysis(bg, obs, settings.replace("analysis", local_image_error=False))
    assert off.local_error is None
    e = on.local_error.used
    region = _region().ravel()
    assert np.mean(e[region]) > 4 * STATED and np.mean(e[~region]) < STATED
    err = {name: np.sqrt(np.mean((r.analysis_field[0][_region()] - truth[_region()]) ** 2))
           for name, r in (("on", on), ("off", off))}
    assert err["on"] < 0.95 * err["off"]          # measured: 0.0263 against 0.0290
    assert on.minimiser.iterations <= 25


def test_zero_excess_leaves_every_term_exactly_as_it_was():
    bg, obs, settings, _ = case(2, terms=("background", "point", "image"))
    p = build_problem(bg, obs, settings)
    loose = loosened_terms(p.cost.terms, p, np.zeros(p.grid.n_land))
    x = p.background + 0.01 * np.random.default_rng(0).standard_normal(p.background.size)
    for a, b in zip(p.cost.terms, loose):
        va, ga = a.value_and_gradient(x)
        vb, gb = b.value_and_gradient(x)
        assert va == vb and np.array_equal(ga, gb), a.name


def test_the_loosened_terms_are_exact_linear_operators_with_the_stated_weights():
    bg, obs, settings, _ = case(3, terms=("background", "point", "image"))
    p = build_problem(bg, obs, settings)
    excess = np.where(_region().ravel(), 8 * STATED, 0.0)
    loose = loosened_terms(p.cost.terms, p, excess)
    point = next(t for t in loose if isinstance(t, PointObservationTerm))
    np.testing.assert_array_equal(point.variance, STATED + excess[point.operator.index])
    image = next(t for t in loose if isinstance(t, ImageTerm))
    for layer in image.layers:
        assert dot_test(layer.operator) < 1e-12
    np.testing.assert_array_equal(image.cell_variance, STATED + excess)
    # JI is the squared norm of the standardised residual: value, gradient and Hessian agree
    x = p.background + 0.01 * np.random.default_rng(1).standard_normal(p.background.size)
    ratios = taylor_test(image.value_and_gradient, x,
                         direction=np.random.default_rng(3).standard_normal(x.size) * 0.02)
    assert np.all(np.diff(np.log10(ratios[:4])) < -0.9)
    d = np.random.default_rng(2).standard_normal(x.size)
    g0 = image.value_and_gradient(x)[1]
    g1 = image.value_and_gradient(x + d)[1]
    np.testing.assert_allclose(g1 - g0, image.hessian_vector(d), rtol=1e-9, atol=1e-12)


def test_the_cycled_excess_moves_by_the_memory_and_the_coverage_and_is_capped():
    prev = np.array([0.0, 0.01, 0.02, -0.5])
    est = np.array([0.02, np.nan, 0.5, 0.0])
    cov = np.array([1.0, 1.0, 0.5, 1.0])
    out = cycled_excess(prev, est, cov, memory=0.5, cap=0.1)
    np.testing.assert_allclose(out, [0.01, 0.01, 0.1, -0.1])


def test_local_image_error_needs_an_observation_term():
    bg, obs, settings, _ = case(4, terms=("background",), local_image_error=True)
    with pytest.raises(ConfigError, match="local_image_error"):
        build_problem(bg, obs, settings)


def test_point_3dvar_takes_the_same_estimate_without_the_image_term():
    """JB + JO with local_image_error: the observed image is built for the estimate alone (no
    JI in J), the estimate is image DA's to round-off, and JO's variances become r + e+; the
    analysis stays closer to the truth in the region than point 3D-Var trusting the stated
    error."""
    bg, obs, settings, truth = case(11, terms=("background", "point"), local_image_error=True)
    on = run_analysis(bg, obs, settings)
    assert [t.name for t in on.problem.cost.terms] == ["background", "point"]
    image = run_analysis(bg, obs, _settings(("background", "image"), local_image_error=True))
    np.testing.assert_allclose(on.local_error.used, image.local_error.used, rtol=1e-10,
                               atol=1e-12)
    point = on.problem.cost.terms[1]
    cells = point.operator.index
    excess = np.clip(on.local_error.used, 0.0, settings.analysis.image_error_cap)
    np.testing.assert_allclose(point.variance, STATED + excess[cells % on.problem.grid.n_land],
                               rtol=1e-14)
    off = run_analysis(bg, obs, settings.replace("analysis", local_image_error=False))
    err = {name: np.sqrt(np.mean((r.analysis_field[0][_region()] - truth[_region()]) ** 2))
           for name, r in (("on", on), ("off", off))}
    assert err["on"] < 0.95 * err["off"]
    assert on.image_statistics is None  # no JI: no per-band statistics
