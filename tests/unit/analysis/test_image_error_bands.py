"""Image-error variances per band (``analysis.image_error_bands = "wedge"``): one s2 per
curvelet scale and wedge, estimated from the per-band statistics; the low-pass band kept."""

from __future__ import annotations

import numpy as np
import pytest

from landia.analysis import build_problem, run_analysis
from landia.analysis.image_diagnostics import (cycled_variance, desroziers_estimate,
                                               innovation_estimate)
from landia.analysis.terms import ImageTerm
from landia.config import settings_from_dict
from landia.errors import ConfigError, InputError
from landia.io.analysis_file import read_analysis, write_analysis
from tests.conftest import make_case


def _settings(**analysis):
    return settings_from_dict({"analysis": {"terms": ["background", "image"], "layers": 2,
                                            "upper_bound": 0.5, "local_image_error": False,
                                            **analysis}})


@pytest.fixture(scope="module")
def wedge():
    bg, obs = make_case(shape=(32, 31), layers=2, obs_missing=0.2)
    s = _settings(image_error_method="desroziers", image_error_bands="wedge")
    return bg, obs, s, run_analysis(bg, obs, s)


def test_the_wedge_estimates_are_the_per_band_ratios_of_the_stored_sums(wedge):
    _, _, s, result = wedge
    st, err, curvelet = result.image_statistics, result.image_error, result.problem.curvelet
    bands = curvelet.band_sizes.size
    assert bands > curvelet.scales
    assert err.used.shape == err.estimate.shape == err.next.shape == (bands,)
    np.testing.assert_array_equal(err.used, np.full(bands, s.analysis.image_error_variance))
    # The per-band tables flatten in the transform's band order, and pool back to the scales.
    num, den = st.per_band("cross_kept"), st.per_band("white_kept")
    scale_of_band = curvelet.band_scale
    np.testing.assert_allclose(np.bincount(scale_of_band, num), st.per_scale("cross_kept"),
                               rtol=1e-12)
    np.testing.assert_allclose(np.bincount(scale_of_band, den), st.per_scale("white_kept"),
                               rtol=1e-12)
    np.testing.assert_allclose(err.estimate[1:], (num / den)[1:], rtol=1e-12)
    np.testing.assert_array_equal(desroziers_estimate(st, "wedge")[1:], err.estimate[1:])
    # The low-pass band is not estimated: it keeps its variance.
    assert np.isnan(err.estimate[0]) and err.next[0] == err.used[0]
    cfg = s.analysis
    np.testing.assert_array_equal(err.next, cycled_variance(
        err.used, err.estimate, cfg.image_error_memory, cfg.image_error_floor_value,
        cfg.image_error_cap))
    # The innovation method takes the same per-band sums.
    b = np.full(bands, 2.5e-3)
    v = st.per_band("omb_kept") / den
    np.testing.assert_allclose(innovation_estimate(st, 1e-4, b, "wedge"),
                               np.where(v > 1e-4, 2.5e-3 * 1e-4 / (v - 1e-4), np.inf),
                               rtol=1e-12)
    with pytest.raises(ValueError, match="bands: expected 'scale' or 'wedge'"):
        desroziers_estimate(st, "orientation")


def test_each_band_is_weighted_by_its_own_variance(wedge):
    """Band variances equal within each scale give JI of the per-scale variances, to
    round-off; doubling one band's variance halves that band's share of JI."""
    bg, obs, s, result = wedge
    curvelet = result.problem.curvelet
    per_scale = np.array([3e-4, 5e-4, 7e-4, 1.1e-3, 1.3e-3])[:curvelet.scales]
    scale_problem = build_problem(bg, obs, _settings(), image_error_variance=per_scale)
    band_problem = build_problem(bg, obs, s,
                                 image_error_variance=per_scale[curvelet.band_scale])
    x = result.minimiser.x + 1e-3 * np.random.default_rng(0).standard_normal(
        result.minimiser.x.size)

    def image(problem):
        return next(t for t in problem.cost.terms if isinstance(t, ImageTerm))

    j_scale, g_scale = image(scale_problem).value_and_gradient(x)
    j_band, g_band = image(band_problem).value_and_gradient(x)
    assert j_band == pytest.approx(j_scale, rel=1e-12)
    np.testing.assert_allclose(g_band, g_scale, rtol=1e-10, atol=1e-12 * np.abs(g_scale).max())
    d = np.random.default_rng(1).standard_normal(x.size)
    np.testing.assert_allclose(image(band_problem).hessian_vector(d),
                               image(scale_problem).hessian_vector(d), rtol=1e-10,
                               atol=1e-12 * np.abs(g_scale).max())
    # One band twice as uncertain: JI loses half of that band's part.
    term = image(band_problem)
    band = curvelet.coefficient_band
    layer_parts = []
    for layer in term.layers:
        r = (layer.operator.matvec(x[layer.cells]) - layer.target).reshape(-1, 2)
        layer_parts.append(np.bincount(band[layer.selection.kept], (r ** 2).sum(axis=1),
                                       minlength=curvelet.band_sizes.size))
    parts = np.sum(layer_parts, axis=0) / (2 * per_scale[curvelet.band_scale])
    target = int(np.argmax(parts[1:])) + 1
    doubled = per_scale[curvelet.band_scale].copy()
    doubled[target] *= 2
    loose = build_problem(bg, obs, s, image_error_variance=doubled)
    j_loose, _ = image(loose).value_and_gradient(x)
    assert j_loose == pytest.approx(j_band - parts[target] / 2, rel=1e-10)


def test_band_variances_of_the_wrong_length_are_refused(wedge):
    bg, obs, s, result = wedge
    scales = result.problem.curvelet.scales
    with pytest.raises(InputError, match=r"one per band \(scale and wedge\)"):
        build_problem(bg, obs, s, image_error_variance=np.full(scales, 4e-4))


def test_band_variances_read_back_from_the_analysis_file(wedge, tmp_path):
    bg, obs, s, result = wedge
    path = tmp_path / "analysis.nc"
    write_analysis(path, result, s)
    a = read_analysis(path)
    err = result.image_error
    np.testing.assert_array_equal(a.image_error["image_error_variance"], err.used)
    np.testing.assert_array_equal(a.image_error["image_error_estimate"], err.estimate)
    np.testing.assert_array_equal(a.image_error["image_error_variance_next"], err.next)
    import netCDF4
    with netCDF4.Dataset(path) as ds:
        assert ds["image_error_variance"].dimensions == ("scale", "wedge")
        assert "of each curvelet band" in ds["image_error_variance"].long_name


def test_per_band_variances_need_an_estimating_method():
    with pytest.raises(ConfigError, match="needs analysis.image_error_method 'desroziers' or "
                                          "'innovation'"):
        settings_from_dict({"analysis": {"image_error_bands": "wedge",
                                         "image_error_method": "fixed"}})
    # the default method estimates
    assert settings_from_dict({"analysis": {"image_error_bands": "wedge"}}).analysis \
        .image_error_method_used == "desroziers"


def test_ensemble_variances_from_the_members_are_per_scale_only():
    with pytest.raises(ConfigError, match="image_error_from_members diagnoses one"):
        settings_from_dict({"analysis": {"image_error_bands": "wedge",
                                         "image_error_method": "desroziers"},
                            "perturbation": {"enabled": True},
                            "ensemble": {"enabled": True, "analysis": "hybrid",
                                         "image_error_from_members": True}})
