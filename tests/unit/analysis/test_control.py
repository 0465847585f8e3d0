"""The correlated B: the control-variable transform, its preconditioner, J in the control
vector, the BLUE with the same B, spreading to unobserved cells, coasts and clipping; the
normalisation cached on disk."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from structlog.testing import capture_logs

import landia.operators.correlation as correlation_module
from landia.analysis import build_problem, run_analysis
from landia.analysis.checks import online_checks
from landia.analysis.control import (ControlSpaceCost, ControlVariableTransform,
                                     CorrelatedBackgroundTerm)
from landia.analysis.minimisers import minimise
from landia.analysis.terms import BackgroundTerm
from landia.config import settings_from_dict
from landia.errors import ConfigError
from landia.log import get_logger
from landia.operators import PointSelection, dot_test, taylor_test
from tests.conftest import make_case

ALL_TERMS = ["background", "point", "image"]
LENGTH = 600.0   # km: about two cells of the 16 x 16 test grid (20-60 N, 80-130 E)


def settings(terms=ALL_TERMS, length=LENGTH, **sections):
    raw = {"analysis": {"terms": terms, "upper_bound": 0.9, "layers": 2,
                        "correlation_length_km": length},
           "minimiser": {"gttol": 1e-8, "gatol": 0.0, "max_iterations": 500}}
    for name, values in sections.items():
        raw.setdefault(name, {}).update(values)
    return settings_from_dict(raw)


def _dense(op) -> np.ndarray:
    return np.column_stack([op.matvec(e) for e in np.eye(op.shape[1])])


def _only(field, keep: np.ndarray):
    """``field`` with its values NaN outside ``keep`` (every layer)."""
    values = field.values.copy()
    values[:, ~keep] = np.nan
    return dataclasses.replace(field, values=values)


def test_a_correlation_length_gives_the_correlated_term_and_zero_the_diagonal():
    bg, obs = make_case()
    p = build_problem(bg, obs, settings())
    assert isinstance(p.cost.terms[0], CorrelatedBackgroundTerm) and p.transform is not None
    p0 = build_problem(bg, obs, settings(length=0.0))
    assert isinstance(p0.cost.terms[0], BackgroundTerm) and p0.transform is None


def test_odd_diffusion_steps_are_refused_by_the_configuration():
    with pytest.raises(ConfigError, match="correlation_steps.*even"):
        settings(analysis={"correlation_steps": 5})


@pytest.mark.parametrize("terms", [["background", "point"], ["background", "image"], ALL_TERMS])
def test_transform_adjoints_and_the_gradient_in_the_control_vector(terms):
    bg, obs = make_case()
    p = build_problem(bg, obs, settings(terms))
    rng = np.random.default_rng(1)
    t = p.transform
    assert dot_test(t.increment, rng) < 1e-12
    assert dot_test(t.control, rng) < 1e-12
    pick = PointSelection(t.size, np.flatnonzero(rng.random(t.size) < 0.5))
    assert dot_test(pick @ t.increment, rng) < 1e-12
    for term in p.cost.terms[1:]:
        for layer in getattr(term, "layers", []):
            cells = PointSelection(t.size, layer.cells)
            assert dot_test(layer.operator @ cells @ t.increment, rng) < 1e-12
    cost = ControlSpaceCost(p.cost, t)
    w = rng.standard_normal(t.size)
    ratios = taylor_test(cost.value_and_gradient, w, direction=rng.standard_normal(t.size))
    assert np.all(np.diff(np.log10(ratios[:4])) < -0.9)
    d = rng.standard_normal(t.size)
    _, g0 = cost.value_and_gradient(w)
    _, g1 = cost.value_and_gradient(w + d)
    np.testing.assert_allclose(g1 - g0, cost.hessian_vector(d), rtol=1e-8, atol=1e-8)


def test_jb_in_x_is_half_v_squared_and_its_gradient_is_b_inverse():
    bg, obs = make_case()
    p = build_problem(bg, obs, settings())
    jb, t = p.cost.terms[0], p.transform
    w = np.random.default_rng(2).standard_normal(t.size)
    x, v = t.state_and_control(w)
    value, grad = jb.value_and_gradient(x)
    assert value == pytest.approx(0.5 * np.dot(v, v), rel=1e-10)
    # B from the operator (D^1/2 C D^1/2, C = U U^T), B^-1 from the term's Hessian.
    corr = jb.correlation.correlation(jb.nlayers)
    b = jb.std[:, None] * _dense(corr) * jb.std[None, :]
    d = np.random.default_rng(3).standard_normal(t.size)
    np.testing.assert_allclose(jb.hessian_vector(b @ d), d, rtol=1e-7, atol=1e-7)
    np.testing.assert_allclose(b @ grad, x - jb.background, atol=1e-12)
    ratios = taylor_test(jb.value_and_gradient, x)
    assert ratios[3] < 2e-3 * ratios[0]


def _blue(problem):
    """x_a = x_b + B H^T (H B H^T + R)^-1 (y - H x_b) with the problem's B, H, R (dense)."""
    jb, jo = problem.cost.terms[0], problem.cost.terms[1]
    corr = _dense(jb.correlation.correlation(jb.nlayers))
    b = jb.std[:, None] * corr * jb.std[None, :]
    h = _dense(jo.operator)
    innovation = jo.observations - h @ jb.background
    gain = b @ h.T @ np.linalg.inv(h @ b @ h.T + np.diag(jo.variance))
    return jb.background + gain @ innovation


@pytest.mark.parametrize("backend", ["tao", "scipy"])
def test_variational_analysis_equals_the_closed_form_blue(backend):
    if backend == "tao":
        pytest.importorskip("petsc4py")
    bg, obs = make_case(layers=2, obs_missing=0.4)
    s = settings(["background", "point"], minimiser={"backend": backend})
    result = run_analysis(bg, obs, s)
    blue = _blue(result.problem)
    assert result.minimiser.clipped == 0                 # no bound active
    x = result.minimiser.x
    assert np.max(np.abs(x - blue)) < 1e-6 * np.max(np.abs(blue - result.problem.background))
    # Unobserved cells moved too: information reached them through B.
    unobserved = ~np.isfinite(result.problem.observation) & result.problem.grid.land
    inc = np.abs(result.increment_field[unobserved])
    assert inc.min() > 0 and np.median(inc) > 1e-3


@pytest.mark.parametrize("backend", ["tao", "scipy"])
def test_analysis_with_the_image_term_is_the_minimiser_of_the_quadratic(backend):
    if backend == "tao":
        pytest.importorskip("petsc4py")
    bg, obs = make_case(layers=2)
    s = settings(minimiser={"backend": backend})
    result = run_analysis(bg, obs, s)
    cost = result.problem.cost                           # J in x, with B^-1 for JB
    n = result.problem.background.size
    hess = np.column_stack([cost.hessian_vector(e) for e in np.eye(n)])
    xb = result.problem.background
    expected = xb - np.linalg.solve(hess, cost.value_and_gradient(xb)[1])
    scale = np.max(np.abs(expected - xb))
    assert np.max(np.abs(result.minimiser.x - expected)) < 1e-6 * scale


def test_a_single_observation_spreads_as_the_correlation_kernel():
    """B H^T (...) with one observation and constant D: the increment is a column of C.

    gatol 1e-7: the gradient's round-off floor is about 3e-8 here with AVX-512 OpenBLAS
    kernels (1e-9 converged only with Haswell ones), and 1e-7 meets the 1e-7 shape check."""
    bg, obs = make_case(layers=1, land_fraction=1.0)
    centre = np.zeros(bg.shape, dtype=bool)
    centre[8, 8] = True
    s = settings(["background", "point"], analysis={"layers": 1, "min_valid_cells": 1},
                 minimiser={"gatol": 1e-7})
    result = run_analysis(bg, _only(obs, centre), s)
    inc = result.increment_field[0]
    grid = result.problem.grid
    corr = result.problem.cost.terms[0].correlation
    j = int(np.flatnonzero(centre[grid.land])[0])
    column = grid.to_field(corr.correlation().matvec(np.eye(1, corr.n, j).ravel()))
    land = grid.land
    np.testing.assert_allclose(inc[land] / inc[8, 8], column[land], atol=1e-7)
    # It decays with distance on the configured scale: about exp(-1/2) one length away.
    km_per_cell_ns = 40.0 / 15 * 111.19
    profile = np.abs(inc[8:, 8] / inc[8, 8])
    assert np.all(np.diff(profile) < 0)
    at_length = np.interp(LENGTH, km_per_cell_ns * np.arange(8), profile)
    assert 0.5 < at_length < 0.75
    assert profile[-1] < 0.05


def test_no_increment_crosses_the_sea():
    bg, obs = make_case(layers=1, land_fraction=1.0)
    land = np.ones(bg.shape, dtype=bool)
    land[:, 7:9] = False                                 # a sea two cells wide (~650 km)
    bg, obs = _only(bg, land), _only(obs, land)
    left = land.copy()
    left[:, 8:] = False
    s = settings(["background", "point"], length=1500.0, analysis={"layers": 1})
    inc = run_analysis(bg, _only(obs, left), s).increment_field[0]
    assert np.all(inc[:, 9:] == 0.0)
    assert np.abs(inc[:, :7]).min() > 0


def test_values_beyond_the_bounds_are_clipped_and_counted():
    bg, obs = make_case(layers=1, porosity=0.45)
    s = settings(["background", "point"], analysis={"layers": 1, "upper_bound": "porosity"})
    values = obs.values.copy()
    values[np.isfinite(values)] = 0.449                  # every observation near porosity
    result = run_analysis(bg, dataclasses.replace(obs, values=values), s)
    x = result.minimiser.x
    assert result.minimiser.clipped > 0
    assert np.max(x) <= 0.45 and np.sum(x == 0.45) == result.minimiser.clipped


def test_the_preconditioner_cuts_the_iterations():
    bg, obs = make_case(shape=(24, 24), layers=1, obs_missing=0.0)
    s = settings(["background", "point"], length=900.0, analysis={"layers": 1},
                 minimiser={"gttol": 1e-6})
    p = build_problem(bg, obs, s)
    plain = ControlVariableTransform(p.cost.terms[0])     # S = I: x = xb + D^1/2 U v
    iterations = {}
    for name, t in (("plain", plain), ("preconditioned", p.transform)):
        r = minimise(ControlSpaceCost(p.cost, t), np.zeros(t.size), np.full(t.size, -np.inf),
                     np.full(t.size, np.inf), s.minimiser)
        iterations[name] = (r.iterations, t.to_state(r.x))
    # Measured: 145 iterations plain, 8 preconditioned.
    assert iterations["preconditioned"][0] <= 10
    assert iterations["plain"][0] > 5 * iterations["preconditioned"][0]
    np.testing.assert_allclose(iterations["plain"][1], iterations["preconditioned"][1],
                               atol=1e-6)


def test_online_checks_cover_the_transform():
    bg, obs = make_case()
    report = online_checks(build_problem(bg, obs, settings()), get_logger("test"))
    assert report["dot_test_transform_increment"] < 1e-12
    assert report["dot_test_transform_control"] < 1e-12
    ratios = report["taylor_ratios_control"]
    assert ratios[3] < 1e-2 * ratios[0]


def _fresh_analysis(monkeypatch, bg, obs, cache=None):
    """An analysis in a process that has not built C yet (its process cache emptied)."""
    monkeypatch.setattr(correlation_module, "_CACHE", {})
    return run_analysis(bg, obs, settings(), normalisation_cache=cache)


def test_a_cached_normalisation_gives_the_same_analysis_to_the_bit(monkeypatch, tmp_path):
    """Randomised normalisation (EXACT_CELLS lowered): computed and stored by the first
    process, read by the next, the analysis identical to one without the cache."""
    monkeypatch.setattr(correlation_module, "EXACT_CELLS", 0)
    bg, obs = make_case()
    plain = _fresh_analysis(monkeypatch, bg, obs)
    cold = _fresh_analysis(monkeypatch, bg, obs, tmp_path / "cache")
    warm = _fresh_analysis(monkeypatch, bg, obs, tmp_path / "cache")
    c = [r.problem.transform.correlation for r in (plain, cold, warm)]
    assert [x.method for x in c] == ["randomised"] * 3
    assert [x.variance_given for x in c] == [False, False, True]
    assert [p.name for p in (tmp_path / "cache").iterdir()] == \
        [f"correlation-{c[0].cache_key()}.npz"]
    for other in (cold, warm):
        assert np.array_equal(other.problem.transform.correlation.normalisation.view(np.int64),
                              c[0].normalisation.view(np.int64))
        assert np.array_equal(other.minimiser.x.view(np.int64), plain.minimiser.x.view(np.int64))
        assert other.minimiser.iterations == plain.minimiser.iterations


def test_a_corrupt_cached_normalisation_is_logged_and_replaced(monkeypatch, tmp_path):
    bg, obs = make_case()
    plain = _fresh_analysis(monkeypatch, bg, obs, tmp_path)
    [path] = tmp_path.iterdir()
    good = path.read_bytes()
    path.write_bytes(good[:len(good) // 3])
    with capture_logs() as logs:
        again = _fresh_analysis(monkeypatch, bg, obs, tmp_path)
    assert [e["file"] for e in logs if e["event"] == "normalisation_cache_rejected"] == \
        [str(path)]
    assert not again.problem.transform.correlation.variance_given
    assert path.read_bytes() == good          # recomputed to the bit and written again
    assert np.array_equal(again.minimiser.x, plain.minimiser.x)
