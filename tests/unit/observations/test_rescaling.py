"""Rescaling observations to the model's climatology: CDF matching, mean/std, anomalies."""

from __future__ import annotations

import numpy as np
import pytest

from landia.errors import InputError
from landia.observations.rescaling import (cdf_map, climatology_statistics,
                                           nearest_rank_quantiles, quantile_levels, rescale)


def training_series(seed=0, nt=200, shape=(2, 4, 5), gaps=0.3):
    """Paired model and observation series whose climatologies differ per cell: the
    observations are a non-linear, cell-dependent, noisy function of the model, with gaps."""
    rng = np.random.default_rng(seed)
    model = 0.05 + 0.35 * rng.beta(2.0, 3.0, (nt, *shape))
    gain = rng.uniform(0.5, 1.5, shape)
    offset = rng.uniform(-0.05, 0.1, shape)
    obs = offset + gain * model**1.3 + 0.01 * rng.standard_normal((nt, *shape))
    obs[rng.random(obs.shape) < gaps] = np.nan
    model[rng.random(model.shape) < 0.05] = np.nan
    return model, obs


def stats(model, obs, nq=11):
    ny, nx = model.shape[2:]
    return climatology_statistics(model, obs, nq, lat=np.arange(ny, dtype=float),
                                  lon=np.arange(nx, dtype=float),
                                  depth=np.arange(model.shape[1], dtype=float) + 0.01,
                                  start="2016-05-01T00:00", end="2016-05-31T00:00")


def test_nearest_rank_quantiles_are_sample_values_at_rounded_ranks():
    rng = np.random.default_rng(1)
    x = rng.random((37, 3))
    x[rng.random(x.shape) < 0.4] = np.nan
    x[:, 2] = np.nan
    levels = quantile_levels(6)
    q, n = nearest_rank_quantiles(x, levels)
    for j in range(2):
        s = np.sort(x[np.isfinite(x[:, j]), j])
        assert n[j] == s.size
        expected = [s[int(np.floor(p * (s.size - 1) + 0.5))] for p in levels]
        np.testing.assert_array_equal(q[:, j], expected)
        assert q[0, j] == s[0] and q[-1, j] == s[-1]
    assert n[2] == 0 and np.all(np.isnan(q[:, 2]))
    with pytest.raises(InputError, match="at least 2"):
        quantile_levels(1)


def test_statistics_use_only_paired_samples():
    model, obs = training_series()
    clim = stats(model, obs)
    paired = np.isfinite(model) & np.isfinite(obs)
    np.testing.assert_array_equal(clim.count, paired.sum(axis=0))
    k, i, j = 1, 2, 3
    m = model[:, k, i, j][paired[:, k, i, j]]
    o = obs[:, k, i, j][paired[:, k, i, j]]
    assert clim.model_mean[k, i, j] == pytest.approx(m.mean(), rel=1e-13)
    assert clim.observation_std[k, i, j] == pytest.approx(o.std(ddof=1), rel=1e-12)
    assert clim.model_quantiles[0, k, i, j] == m.min()
    assert clim.observation_quantiles[-1, k, i, j] == o.max()
    assert np.all(np.diff(clim.model_quantiles, axis=0) >= 0)
    with pytest.raises(InputError, match="same shape"):
        stats(model, obs[:-1])


def test_cdf_matching_preserves_ranks_and_reproduces_the_model_distribution():
    model, obs = training_series(nt=300)
    clim = stats(model, obs, nq=21)
    paired = np.isfinite(model) & np.isfinite(obs)
    obs_p = np.where(paired, obs, np.nan)
    rescaled = np.stack([rescale(o, 4e-4, clim, "cdf", 2).values for o in obs_p])
    assert np.array_equal(np.isfinite(rescaled), paired)          # nothing lost, nothing added
    # ranks: within every cell the rescaled series is ordered like the observed one
    for k, i, j in np.ndindex(clim.count.shape):
        y, r = obs_p[:, k, i, j], rescaled[:, k, i, j]
        ok = np.isfinite(y)
        order = np.argsort(y[ok], kind="stable")
        assert np.all(np.diff(r[ok][order]) > 0)                  # strictly: no ties here
    # the target distribution: at the quantile levels, to round-off
    q, _ = nearest_rank_quantiles(rescaled, clim.levels)
    np.testing.assert_allclose(q, clim.model_quantiles, rtol=0, atol=1e-14)
    # and between them: the empirical CDFs of rescaled observations and model agree closely
    for k, i, j in [(0, 0, 0), (1, 3, 4)]:
        a = np.sort(rescaled[:, k, i, j][paired[:, k, i, j]])
        b = np.sort(model[:, k, i, j][paired[:, k, i, j]])
        grid = np.linspace(min(a[0], b[0]), max(a[-1], b[-1]), 200)
        ks = np.max(np.abs(np.searchsorted(a, grid, "right") / a.size
                           - np.searchsorted(b, grid, "right") / b.size))
        assert ks < 0.06, ks
    # before the rescaling the distributions were far apart
    assert np.max(np.abs(clim.observation_quantiles - clim.model_quantiles)) > 0.1


def test_cdf_map_by_hand_inside_at_knots_and_beyond_the_range():
    xq = np.array([0.1, 0.2, 0.4])[:, None]
    vq = np.array([0.2, 0.25, 0.45])[:, None]
    y = np.array([0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5])
    out, slope = cdf_map(y, np.broadcast_to(xq, (3, 7)), np.broadcast_to(vq, (3, 7)))
    np.testing.assert_allclose(out, [0.15, 0.2, 0.225, 0.25, 0.35, 0.45, 0.55], atol=1e-15)
    np.testing.assert_allclose(slope, [1.0, 0.5, 0.5, 1.0, 1.0, 1.0, 1.0], atol=1e-15)


def test_ties_map_to_the_mean_of_their_model_quantiles_and_stay_monotone():
    # a point mass at 0.02 (a product clipped at a bound) covering three levels
    xq = np.array([0.02, 0.02, 0.02, 0.1, 0.3])[:, None]
    vq = np.array([0.05, 0.07, 0.12, 0.2, 0.4])[:, None]
    y = np.linspace(0.0, 0.4, 401)
    n = y.size
    out, slope = cdf_map(y, np.broadcast_to(xq, (5, n)), np.broadcast_to(vq, (5, n)))
    at = np.argmin(np.abs(y - 0.02))
    assert out[at] == pytest.approx(0.08)                        # mean of 0.05, 0.07, 0.12
    assert np.all(np.diff(out) >= 0)                              # a monotone function
    assert np.max(np.abs(np.diff(out))) < 0.004                   # continuous (step 0.001)
    assert out[0] == pytest.approx(0.0 - 0.02 + 0.08)             # shifted below the range
    assert slope[at + 1] == pytest.approx((0.2 - 0.08) / (0.1 - 0.02))


def test_cdf_error_variance_follows_the_local_slope_when_asked():
    model, obs = training_series()
    clim = stats(model, obs)
    y = np.nanmedian(obs, axis=0)
    r = np.full(y.shape, 4e-4)
    res = rescale(y, r, clim, "cdf", 2, "local_slope")
    _, slope = cdf_map(y, clim.observation_quantiles, clim.model_quantiles)
    np.testing.assert_allclose(res.error_variance, r * slope**2, rtol=1e-14)
    assert np.all(slope > 0)


def test_cdf_error_variance_scales_with_the_climatologies_std_ratio_by_default():
    """The default: r (sigma_m / sigma_o)^2 per cell and layer, the same for every value of a
    cell (the local slope varies); the values and the refusals are those of the local slope's
    run; where the ratio is not a finite positive number the local slope stands in."""
    model, obs = training_series()
    clim = stats(model, obs)
    y = np.nanmedian(obs, axis=0)
    r = np.full(y.shape, 4e-4)
    ratio = clim.model_std / clim.observation_std
    clim.model_std[0, 0, 0] = 0.0  # ratio 0: the slope stands in there
    res = rescale(y, r, clim, "cdf", 2)
    by_slope = rescale(y, r, clim, "cdf", 2, "local_slope")
    np.testing.assert_array_equal(res.values, by_slope.values)
    assert res.counts == by_slope.counts
    expected = r * ratio**2
    expected[0, 0, 0] = by_slope.error_variance[0, 0, 0]
    np.testing.assert_allclose(res.error_variance, expected, rtol=1e-14)
    assert not np.allclose(res.error_variance, by_slope.error_variance)
    with pytest.raises(InputError, match="cdf_error_scaling"):
        rescale(y, r, clim, "cdf", 2, "slope")


def test_mean_std_gives_the_model_mean_and_standard_deviation():
    model, obs = training_series()
    clim = stats(model, obs)
    paired = np.isfinite(model) & np.isfinite(obs)
    obs_p = np.where(paired, obs, np.nan)
    res = [rescale(o, 4e-4, clim, "mean_std", 2) for o in obs_p]
    rescaled = np.stack([r.values for r in res])
    np.testing.assert_allclose(np.nanmean(rescaled, axis=0), clim.model_mean, atol=1e-15)
    np.testing.assert_allclose(np.nanstd(rescaled, axis=0, ddof=1), clim.model_std, rtol=1e-12)
    ratio2 = (clim.model_std / clim.observation_std)**2
    np.testing.assert_allclose(res[0].error_variance, np.where(paired[0], 4e-4 * ratio2, np.nan),
                               rtol=1e-14)


def test_anomaly_gives_the_model_mean_and_keeps_the_error_variance():
    model, obs = training_series()
    clim = stats(model, obs)
    paired = np.isfinite(model) & np.isfinite(obs)
    obs_p = np.where(paired, obs, np.nan)
    res = [rescale(o, 4e-4, clim, "anomaly", 2) for o in obs_p]
    rescaled = np.stack([r.values for r in res])
    np.testing.assert_allclose(np.nanmean(rescaled, axis=0), clim.model_mean, atol=1e-15)
    np.testing.assert_allclose(np.nanstd(rescaled, axis=0, ddof=1), clim.observation_std,
                               rtol=1e-12)   # the anomalies are the observed ones
    np.testing.assert_array_equal(res[0].error_variance, np.where(paired[0], 4e-4, np.nan))
    k = 1
    shift = res[0].values[k] - obs_p[0, k]
    assert res[0].mean_shift[k] == pytest.approx(np.nanmean(shift), rel=1e-12)


@pytest.mark.parametrize("method", ["cdf", "mean_std", "anomaly"])
def test_cells_with_too_few_samples_are_refused_and_counted(method):
    model, obs = training_series(nt=60)
    obs[:50, 0, 1, 1] = np.nan                    # at most 10 samples left there
    clim = stats(model, obs)
    y = np.full(clim.count.shape, 0.2)
    y[1, 0, 0] = np.nan                           # missing: not counted as a refusal
    few = clim.count < 12
    assert few[0, 1, 1] and few.sum() == 1
    res = rescale(y, 4e-4, clim, method, 12)
    assert np.isnan(res.values[0, 1, 1]) and np.isnan(res.error_variance[0, 1, 1])
    assert res.counts["no_climatology"] == 1
    assert res.counts["rescaled"] == y.size - 2
    assert res.counts["flat_mapping"] == 0
    # an image with more layers than the climatology: the extra layer is refused
    extra = rescale(np.concatenate([y, y[:1]]), 4e-4, clim, method, 2)
    assert np.all(np.isnan(extra.values[2]))
    assert extra.counts["no_climatology"] == y[0].size and np.isnan(extra.mean_shift[2])


def test_degenerate_climatologies_are_refused_not_passed_through():
    model, obs = training_series(nt=40)
    obs[:, 0, 2, 2] = 0.25                        # a constant observation series
    model[:, 0, 3, 3] = 0.3                       # a constant (e.g. saturated) model series
    clim = stats(model, obs)
    y = np.full(clim.count.shape, 0.27)
    ms = rescale(y, 4e-4, clim, "mean_std", 2)
    assert np.isnan(ms.values[0, 2, 2]) and ms.counts["no_climatology"] == 1
    assert np.isnan(ms.values[0, 3, 3]) and ms.counts["flat_mapping"] == 1
    cdf = rescale(y, 4e-4, clim, "cdf", 2)
    assert np.isnan(cdf.values[0, 3, 3]) and cdf.counts["flat_mapping"] >= 1
    assert cdf.values[0, 2, 2] == pytest.approx(0.27 - 0.25 + np.mean(
        clim.model_quantiles[:, 0, 2, 2]))         # a single tied knot: the shift, slope 1


def test_bad_method_and_grid_are_errors():
    model, obs = training_series(nt=20)
    clim = stats(model, obs)
    with pytest.raises(InputError, match="observations.rescaling"):
        rescale(obs[0], 4e-4, clim, "quantile", 2)
    with pytest.raises(InputError, match="does not match the climatology's grid"):
        rescale(obs[0, :, :3], 4e-4, clim, "cdf", 2)


def test_domain_pooling_undoes_a_distortion_and_keeps_the_spatial_pattern():
    """One CDF per layer from every cell's pairs: a product reading y = 0.05 + 0.9 x over a
    field whose mean differs from cell to cell is mapped back to x's values (bias ~0), the
    spatial pattern kept; per-cell matching would map every cell to its own model mean."""
    rng = np.random.default_rng(3)
    t, nl, ny, nx = 60, 1, 4, 5
    pattern = np.linspace(0.1, 0.3, nx)[None, None, None, :]
    model = pattern + 0.05 * rng.random((t, nl, ny, nx))
    obs = 0.05 + 0.9 * model
    obs[::2, :, 0, 0] = np.nan                       # a sparsely observed cell
    kw = dict(lat=np.arange(ny), lon=np.arange(nx), depth=[0.01], start="2016-05-01",
              end="2016-07-01")
    clim = climatology_statistics(model, obs, 21, pool="domain", **kw)
    assert np.all(clim.count == np.sum(np.isfinite(obs)))        # every cell: all the pairs
    assert np.all(clim.model_quantiles == clim.model_quantiles[:, :, :1, :1])   # one CDF
    out = rescale(obs[1], None, clim, "cdf", 10)
    ok = np.isfinite(out.values)
    assert abs(np.mean(out.values[ok] - model[1][ok])) < 2e-3 < abs(np.mean(obs[1][ok] -
                                                                          model[1][ok]))
    assert np.corrcoef(out.values[ok], model[1][ok])[0, 1] > 0.999
    per_cell = climatology_statistics(model, obs, 21, pool="cell", **kw)
    assert not np.all(per_cell.model_quantiles == per_cell.model_quantiles[:, :, :1, :1])
    with pytest.raises(InputError, match="pool"):
        climatology_statistics(model, obs, 21, pool="region", **kw)
