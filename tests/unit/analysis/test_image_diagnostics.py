"""Per-scale/per-wedge O-B and O-A statistics of the image term, the Desroziers estimate of
the image-error variance per scale and its cycled update."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from landia.analysis import build_problem, run_analysis
from landia.analysis.image_diagnostics import (cycled_variance, desroziers_estimate,
                                               innovation_estimate, white_noise_energy)
from landia.config import settings_from_dict
from landia.grid import LatLonGrid, colm_node_depths
from landia.io.fields import SoilMoistureField
from landia.operators import HarmonicEmbedding
from landia.operators.correlation import diffusion_correlation
from tests.conftest import make_case


#: The paper's diagonal B and its image term on the observed cells.
#: (Without the local error estimate, which would loosen the term the statistics are of.)
WHITE_B = {"correlation_length_km": 0.0, "image_gap_weight": 0.0, "local_image_error": False}


def _settings(**analysis):
    return settings_from_dict({"analysis": {"terms": ["background", "image"], "layers": 2,
                                            "upper_bound": 0.5, **analysis}})


@pytest.fixture(scope="module")
def analysed():
    bg, obs = make_case(shape=(32, 31), layers=2, obs_missing=0.2)
    return run_analysis(bg, obs, _settings(image_error_method="desroziers"))


@pytest.mark.parametrize("gap_weight", [0.0, 0.3])
def test_per_band_sums_add_up_to_the_totals(gap_weight):
    """The O-B and O-A of the observed cells, for the paper's term on those cells (where they
    are JI's residuals) and for the term over the whole image."""
    bg, obs = make_case(shape=(32, 31), layers=2, obs_missing=0.2)
    r = run_analysis(bg, obs, _settings(image_error_method="desroziers",
                                        image_gap_weight=gap_weight))
    p, st = r.problem, r.image_statistics
    term = next(t for t in p.cost.terms if t.name == "image")
    xb, xa = p.background, r.minimiser.x
    s2 = term.scale_variance[0]
    if gap_weight == 0:  # the kept coefficients: the residuals of JI
        for name, x in (("omb_kept", xb), ("oma_kept", xa)):
            assert np.nansum(getattr(st, name)) / s2 == pytest.approx(
                2 * term.value_and_gradient(x)[0], rel=1e-12), name
    else:
        assert all(layer.innovation_cells.size < layer.cells.size for layer in term.layers)
    # all coefficients: Parseval, ||C E (y - S x)||^2 = ||E (y - S x)||^2 (E built here)
    for name, x in (("omb_all", xb), ("oma_all", xa)):
        total = sum(float(np.sum(_filled_departure(p, layer, x) ** 2))
                    for layer in term.layers)
        assert np.nansum(getattr(st, name)) == pytest.approx(total, rel=1e-12), name
    # and per band, from the coefficients directly
    C = p.curvelet
    direct = np.zeros(C.band_sizes.size)
    for layer in term.layers:
        d = (layer.innovation_observed - layer.innovation_transform.matvec(
            xb[layer.innovation_cells])).reshape(-1, 2)
        k = layer.selection.kept
        np.add.at(direct, C.coefficient_band[k], (d[k] ** 2).sum(axis=1))
    np.testing.assert_allclose(C.band_table(direct), st.omb_kept, rtol=1e-12)
    assert st.kept.sum() == sum(layer.selection.kept.size for layer in term.layers)
    assert st.coefficients.sum() == len(term.layers) * C.n_coefficients
    assert np.all(st.kept <= st.coefficients)
    # wedges a scale does not have are empty
    for j, n in enumerate(st.wedges_per_scale):
        assert np.all(st.coefficients[j, n:] == 0) and np.all(np.isnan(st.omb_all[j, n:]))
        assert np.all(st.coefficients[j, :n] > 0)
    np.testing.assert_allclose(st.per_scale("omb_kept"), np.nansum(st.omb_kept, axis=1))
    ms = st.mean_square("omb_kept")
    ok = st.kept > 0
    np.testing.assert_allclose(ms[ok], st.omb_kept[ok] / st.kept[ok])
    assert np.all(np.isnan(ms[~ok]))


def _filled_departure(problem, layer, x):
    """E (y - S x) of one image layer's observed cells, with its own embedding (for the
    Parseval check)."""
    cs = _settings().curvelet
    k = int(layer.cells[0] // problem.grid.n_land)
    valid = np.isfinite(problem.observation[k])
    emb = HarmonicEmbedding(valid, problem.curvelet.image_shape, cs.fill_sweeps,
                            cs.exact_fill_cells, cs.fill_decay)
    cells = k * problem.grid.n_land + np.flatnonzero(valid[problem.grid.land])
    return emb.matvec(problem.observation[k][valid] - x[cells])


def test_the_white_noise_normaliser_is_the_trace_it_estimates():
    bg, obs = make_case(shape=(12, 14), layers=1, obs_missing=0.2)
    p = build_problem(bg, obs, _settings(layers=1))
    layer = next(t for t in p.cost.terms if t.name == "image").layers[0]
    n = layer.cells.size
    exact = np.zeros(layer.transform.shape[0] // 2)
    for i in range(n):  # E |(C E z)_k|^2 = sum_i |(C E e_i)_k|^2 for unit white z
        e = np.zeros(n)
        e[i] = 1.0
        exact += (layer.transform.matvec(e).reshape(-1, 2) ** 2).sum(axis=1)
    estimate = white_noise_energy(layer.transform, n, probes=400)
    band = p.curvelet.coefficient_band
    per_band = np.bincount(band, exact), np.bincount(band, estimate)
    np.testing.assert_allclose(per_band[1], per_band[0], rtol=0.1)
    assert exact.sum() == pytest.approx(np.sum(estimate), rel=0.05)
    # the estimate is a fixed function of its seed: the same on every call
    np.testing.assert_array_equal(white_noise_energy(layer.transform, n),
                                  white_noise_energy(layer.transform, n))


def _smooth(rng, shape, cells):
    f = gaussian_filter(rng.standard_normal(shape), cells, mode="wrap")
    return (f - f.mean()) / f.std()


def _consistent_case(seed=0, shape=(64, 64), b=0.02 ** 2, r=0.03 ** 2, bg_cells=0.0):
    """(background, observation, truth): a background error of variance b (white, or
    correlated over ``bg_cells``), a white observation error of variance r (stated in the
    file), sea and gaps. With a white one the Desroziers relations hold when JB and JI state
    these variances."""
    rng = np.random.default_rng(seed)
    truth = 0.25 + 0.05 * _smooth(rng, shape, 3)
    error = _smooth(rng, shape, bg_cells) if bg_cells else rng.standard_normal(shape)
    bg = truth + np.sqrt(b) * error
    obs = truth + np.sqrt(r) * rng.standard_normal(shape)
    sea = gaussian_filter(rng.standard_normal(shape), 4, mode="wrap")
    land = sea < np.quantile(sea, 0.7)
    bg[~land] = np.nan
    obs[~land | (rng.random(shape) < 0.3)] = np.nan
    lat, lon = np.linspace(20, 60, shape[0]), np.linspace(80, 130, shape[1])
    depth = colm_node_depths()[:1]
    stated = np.where(np.isfinite(obs), r, np.nan)[None]
    return (SoilMoistureField(lat, lon, depth, bg[None]),
            SoilMoistureField(lat, lon, depth, obs[None], error_variance=stated),
            np.where(land, truth, np.nan))


def test_cycled_desroziers_estimates_recover_a_white_observation_error():
    """Desroziers' fixed point, started 4 times too low, converges to the true variance at
    every scale (to a few % at the fine scales; the coarse ones have few coefficients)."""
    r = 0.03 ** 2
    bg, obs, _ = _consistent_case(r=r)
    s = settings_from_dict({"analysis": {"terms": ["background", "image"], "layers": 1,
                                         "upper_bound": 1.0, "background_error_variance": 4e-4,
                                         **WHITE_B,
                                         "image_error_variance": r / 4,
                                         "image_error_method": "desroziers",
                                         "image_error_memory": 0.0, "image_error_floor": 1e-6},
                            "curvelet": {"sigma": 1.0, "scales": 3},
                            "minimiser": {"gttol": 1e-9}})
    variance = None
    for _ in range(10):
        result = run_analysis(bg, obs, s, image_error_variance=variance)
        variance = result.image_error.next
    ratio = result.image_error.estimate / r
    assert abs(ratio[-1] - 1) < 0.06 and abs(ratio[-2] - 1) < 0.15, ratio
    assert np.all(np.abs(ratio - 1) < 0.35), ratio
    np.testing.assert_allclose(result.image_error.next, result.image_error.estimate, rtol=1e-3)


def _innovation_settings(b, method="innovation", scales=3, sigma=1.0, **analysis):
    return settings_from_dict({"analysis": {"terms": ["background", "image"], "layers": 1,
                                            "upper_bound": 1.0, "background_error_variance": b,
                                            "image_error_method": method, **analysis},
                               "curvelet": {"sigma": sigma, "scales": scales}})


def test_innovation_estimate_is_the_observation_error_when_b_is_right():
    """V_j = b + r at every scale for white errors, so the optimal gain b / (b + r) needs
    s2_j = r: the estimate recovers the observation-error variance, in one analysis."""
    b, r = 0.02 ** 2, 0.03 ** 2
    ratios = []
    for seed in range(4):
        bg, obs, _ = _consistent_case(seed=seed, b=b, r=r)
        result = run_analysis(bg, obs, _innovation_settings(b, image_error_floor=1e-6,
                                                            **WHITE_B))
        err, st = result.image_error, result.image_statistics
        assert err.observation_variance == pytest.approx(r)
        np.testing.assert_allclose(err.background_variance, b, rtol=1e-12)  # a white B: b
        v = st.per_scale("omb_kept") / st.per_scale("white_kept")
        assert np.all(np.abs(v / (b + r) - 1) < 0.15), v / (b + r)
        ratios.append(err.estimate / r)
    # s2 = b r / (V - r) amplifies V's sampling error (by (b + r) / b here)
    ratios = np.array(ratios)
    assert np.all(np.abs(ratios - 1) < 0.4), ratios
    assert abs(ratios[:, -1].mean() - 1) < 0.1, ratios


def test_innovation_estimate_with_a_right_correlated_b():
    """A background error drawn from the correlated B the analysis states (300 km): B puts
    most of its variance into the coarse scales (a_j), the innovations agree with it, and the
    estimate is again the observation-error variance (noisier where a_j << r)."""
    b, r, length = 0.03 ** 2, 0.02 ** 2, 300.0
    ratios = []
    for seed in range(4):
        rng = np.random.default_rng(seed)
        shape = (48, 48)
        lat, lon = np.linspace(20, 60, shape[0]), np.linspace(80, 130, shape[1])
        sea = gaussian_filter(rng.standard_normal(shape), 4, mode="wrap")
        land = sea < np.quantile(sea, 0.7)
        u = diffusion_correlation(LatLonGrid(lat, lon, land), length, 4).sqrt(1)
        truth = 0.25 + 0.05 * _smooth(rng, shape, 3)
        bg = np.full(shape, np.nan)
        bg[land] = truth[land] + np.sqrt(b) * u.matvec(rng.standard_normal(int(land.sum())))
        obs = truth + np.sqrt(r) * rng.standard_normal(shape)
        obs[~land | (rng.random(shape) < 0.3)] = np.nan
        depth = colm_node_depths()[:1]
        stated = np.where(np.isfinite(obs), r, np.nan)[None]
        result = run_analysis(SoilMoistureField(lat, lon, depth, bg[None]),
                              SoilMoistureField(lat, lon, depth, obs[None], error_variance=stated),
                              _innovation_settings(b, image_error_floor=1e-6,
                                                   correlation_length_km=length))
        a = result.image_error.background_variance
        assert a[0] > 5 * b and a[-1] < 0.1 * b and np.all(np.diff(a) < 0), a / b
        ratios.append(result.image_error.estimate / r)
    ratios = np.array(ratios)
    assert np.all((ratios > 0.5) & (ratios < 2.0)), ratios
    assert abs(ratios[:, 0].mean() - 1) < 0.15, ratios


def test_innovation_variances_beat_the_fixed_one_on_a_correlated_background_error():
    """A large-scale background error: the coarse scales follow the observations, the fine
    ones are smoothed, and the analysis is closer to the truth than with one fixed s2 (the
    Desroziers variances, which need a right B, are further)."""
    b = 0.05 ** 2
    for seed in (0, 1):
        bg, obs, truth = _consistent_case(seed=seed, shape=(48, 48), b=b, bg_cells=6.0)
        land = np.isfinite(truth)
        error = {}
        for method in ("fixed", "innovation", "desroziers"):
            s = _innovation_settings(b, method, sigma=0.5, image_error_memory=0.0, **WHITE_B)
            variance = None
            for _ in range(1 if method == "fixed" else 3):  # Desroziers' fixed point, cycled
                result = run_analysis(bg, obs, s, image_error_variance=variance)
                variance = result.image_error.next
            a = result.analysis_field[0]
            error[method] = np.sqrt(np.mean((a[land] - truth[land]) ** 2))
            assert result.minimiser.iterations <= 25
        assert error["innovation"] < 0.9 * error["fixed"] < 0.9 * error["desroziers"], error


def test_the_innovation_estimate_is_the_formula_of_the_stored_sums(analysed):
    st = analysed.image_statistics
    v = np.nansum(st.omb_kept, axis=1) / np.nansum(st.white_kept, axis=1)
    b, r = 2.5e-3, 1e-4
    expected = np.where(v > r, b * r / (v - r), np.inf)
    np.testing.assert_allclose(innovation_estimate(st, r, b), expected, rtol=1e-12)
    huge = innovation_estimate(st, 10.0, b)  # no innovation beyond the observation error
    assert np.all(np.isposinf(huge))
    assert np.all(cycled_variance(np.full(huge.size, 1e-3), huge, 0.0, 1e-4, 0.05) == 0.05)


def test_the_estimate_is_the_ratio_of_the_stored_sums(analysed):
    st, err = analysed.image_statistics, analysed.image_error
    expected = np.nansum(st.cross_kept, axis=1) / np.nansum(st.white_kept, axis=1)
    np.testing.assert_allclose(err.estimate, expected, rtol=1e-12)
    np.testing.assert_array_equal(desroziers_estimate(st), err.estimate)
    cfg = _settings(image_error_method="desroziers").analysis
    assert err.method == "desroziers" and err.observation_variance is None
    np.testing.assert_array_equal(err.next, cycled_variance(
        err.used, err.estimate, cfg.image_error_memory, cfg.image_error_floor_value,
        cfg.image_error_cap))


def test_the_default_method_estimates_from_the_stated_variance_as_its_floor():
    """'desroziers' with the floor 'variance' (the defaults): the first analysis uses
    image_error_variance, and the carried variances never fall below it."""
    bg, obs = make_case(shape=(16, 16), layers=2)
    cfg = _settings().analysis
    assert (cfg.image_error_method_used, cfg.image_error_floor) == ("desroziers", "variance")
    r = run_analysis(bg, obs, _settings())
    assert r.image_error.method == "desroziers" and r.image_error.estimate is not None
    np.testing.assert_array_equal(r.image_error.used, np.full(r.problem.curvelet.scales, 4e-4))
    assert np.all(r.image_error.next >= cfg.image_error_variance)
    tight = np.nanmin(r.image_error.estimate)
    assert tight < cfg.image_error_variance  # an estimate below the floor is not taken
    np.testing.assert_array_equal(r.image_error.next, cycled_variance(
        r.image_error.used, r.image_error.estimate, cfg.image_error_memory, 4e-4,
        cfg.image_error_cap))
    # a single analysis is the fixed method's, bit for bit: the estimate acts on the next one
    fixed = run_analysis(bg, obs, _settings(image_error_method="fixed"))
    np.testing.assert_array_equal(r.analysis_field, fixed.analysis_field)
    assert r.minimiser.iterations == fixed.minimiser.iterations


def test_the_default_method_follows_the_background_error_correlation():
    """'auto' (the default): Desroziers with a correlated B, the innovation estimate with the
    diagonal B (on which Desroziers reads the background's large-scale error as the
    observations'; docs/analysis.md); an explicit method is kept either way."""
    assert _settings().analysis.image_error_method == "auto"
    assert _settings().analysis.image_error_method_used == "desroziers"
    diagonal = _settings(correlation_length_km=0.0)
    assert diagonal.analysis.image_error_method_used == "innovation"
    for method in ("fixed", "desroziers", "innovation"):
        for length in (0.0, 300.0):
            assert _settings(image_error_method=method, correlation_length_km=length) \
                .analysis.image_error_method_used == method
    bg, obs = make_case(shape=(16, 16), layers=2)
    r = run_analysis(bg, obs, diagonal)
    explicit = run_analysis(bg, obs, _settings(correlation_length_km=0.0,
                                               image_error_method="innovation"))
    assert r.image_error.method == "innovation"
    np.testing.assert_array_equal(r.image_error.estimate, explicit.image_error.estimate)
    np.testing.assert_array_equal(r.image_error.next, explicit.image_error.next)
    assert run_analysis(bg, obs, _settings()).image_error.method == "desroziers"


def test_the_fixed_method_estimates_nothing_and_carries_its_variance():
    bg, obs = make_case(shape=(16, 16), layers=2)
    r = run_analysis(bg, obs, _settings(image_error_method="fixed"))
    assert r.image_error.estimate is None and r.image_statistics.white_kept is None
    np.testing.assert_array_equal(r.image_error.used, np.full(r.problem.curvelet.scales, 4e-4))
    np.testing.assert_array_equal(r.image_error.next, r.image_error.used)
    with pytest.raises(ValueError, match="white-noise normaliser"):
        desroziers_estimate(r.image_statistics)
    with pytest.raises(ValueError, match="white-noise normaliser"):
        innovation_estimate(r.image_statistics, 1e-4, 1e-3)
    only_b = run_analysis(bg, obs, _settings(terms=["background", "point"]))
    assert only_b.image_statistics is None and only_b.image_error is None


def test_cycled_update_memory_floor_cap_and_missing_estimates():
    prev = np.array([1e-3, 1e-3, 1e-3, 1e-3])
    est = np.array([3e-3, np.nan, -1.0, 10.0])
    out = cycled_variance(prev, est, memory=0.5, floor=1e-5, cap=1e-2)
    np.testing.assert_allclose(out, [2e-3, 1e-3, 0.5 * (1e-3 + 1e-5), 0.5 * (1e-3 + 1e-2)])
    np.testing.assert_array_equal(cycled_variance(prev, est, 0.0, 1e-5, 1e-2),
                                  [3e-3, 1e-3, 1e-5, 1e-2])
    assert np.all(cycled_variance(np.array([1.0]), np.array([1.0]), 0.3, 1e-6, 0.1) == 0.1)
