"""The image term over the whole analysis image (analysis.image_gap_weight)."""

from __future__ import annotations

import numpy as np
import pytest

from landia.analysis import build_problem, run_analysis
from landia.analysis.terms import ImageTerm
from landia.config import settings_from_dict
from landia.operators import HarmonicEmbedding, dot_test, taylor_test
from tests.conftest import make_case


def settings(weight, length=0.0, **analysis):
    return settings_from_dict({"analysis": {"terms": ["background", "image"], "layers": 2,
                                            "upper_bound": 0.9, "image_gap_weight": weight,
                                            "correlation_length_km": length, **analysis},
                               "minimiser": {"gttol": 1e-7}})


def _image_term(problem) -> ImageTerm:
    return next(t for t in problem.cost.terms if isinstance(t, ImageTerm))


def test_layers_cover_every_land_cell_with_exact_adjoints():
    bg, obs = make_case(obs_missing=0.3)
    p = build_problem(bg, obs, settings(0.3))
    n = p.grid.n_land
    for k, layer in enumerate(_image_term(p).layers):
        np.testing.assert_array_equal(layer.cells, k * n + np.arange(n))
        assert dot_test(layer.operator, np.random.default_rng(k)) < 1e-12
    x = p.background + 0.01
    ratios = taylor_test(p.cost.value_and_gradient, x,
                         direction=np.random.default_rng(0).standard_normal(x.size) * 0.02)
    assert ratios[3] < 2e-3 * ratios[0]


def _completed(problem, k=0):
    """y~: the observations, and the observed image's screened fill on the other land cells."""
    obs = problem.observation[k]
    valid = np.isfinite(obs)
    emb = HarmonicEmbedding(valid, problem.curvelet.image_shape, decay=1.5)
    y = obs[valid]
    ny, nx = valid.shape
    filled = emb.matvec(y - y.mean()).reshape(problem.curvelet.image_shape)[:ny, :nx] + y.mean()
    return filled[problem.grid.land], valid[problem.grid.land]


def test_the_term_vanishes_at_the_completed_observed_image():
    bg, obs = make_case(obs_missing=0.3, layers=1)
    p = build_problem(bg, obs, settings(0.5, layers=1))
    y_tilde, observed = _completed(p)
    np.testing.assert_allclose(y_tilde[observed], p.observation[0][p.grid.land][observed],
                               atol=1e-12)
    term = _image_term(p)
    np.testing.assert_allclose(term.layers[0].operator.matvec(y_tilde), term.layers[0].target,
                               atol=1e-12)
    assert term.value_and_gradient(y_tilde)[0] < 1e-20
    assert term.value_and_gradient(p.background)[0] > 1.0


@pytest.mark.parametrize("length", [0.0, 600.0])
def test_cells_without_an_observation_follow_the_gap_fill_by_its_weight(length):
    bg, obs = make_case(obs_missing=0.3, layers=1)
    runs = {w: run_analysis(bg, obs, settings(w, length, layers=1)) for w in (0.0, 0.1, 1.0)}
    p = runs[0.0].problem
    y_tilde, observed = _completed(build_problem(bg, obs, settings(0.5, layers=1)))
    gaps = ~observed
    if length == 0.0:   # the paper's term and a diagonal B: the background is kept exactly
        assert np.all(runs[0.0].minimiser.x[:p.grid.n_land][gaps] == p.background[gaps])
    distance = {w: np.sqrt(np.mean((r.minimiser.x[:p.grid.n_land][gaps] - y_tilde[gaps]) ** 2))
                for w, r in runs.items()}
    assert distance[1.0] < distance[0.1] < distance[0.0]
