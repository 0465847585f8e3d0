"""The diagnostics of an analysis file: statistics per curvelet scale and wedge, image-error
variances per scale, withheld observations; written and read back."""

from __future__ import annotations

import netCDF4
import numpy as np
import pytest

from landia.analysis import run_analysis
from landia.config import settings_from_dict
from landia.errors import InputError
from landia.io.analysis_diagnostics import BAND_SUMS, LOCAL_ERROR, MEAN_SQUARES, WITHHELD
from landia.io.analysis_file import read_analysis, write_analysis
from landia.observations.withhold import departures, withhold
from tests.conftest import make_case


def _settings(**analysis):
    # the paper's hybrid (JO and JI at their stated variances, not split)
    return settings_from_dict({"analysis": {"terms": ["background", "point", "image"],
                                            "upper_bound": 0.5, "layers": 2,
                                            "hybrid_split": False, **analysis}})


@pytest.fixture(scope="module")
def desroziers(tmp_path_factory):
    """An analysis with the Desroziers method and 20 % of the observed cells withheld."""
    bg, obs = make_case(shape=(20, 22), layers=2)
    used, held = withhold(obs, np.isfinite(bg.values[0]), 0.2, seed=4, cycle=7)
    s = _settings(image_error_method="desroziers")
    result = run_analysis(bg, used, s)
    scored = departures(held, result.background_field, result.analysis_field,
                        np.isfinite(bg.values[0]), 0.0, 0.5)
    path = tmp_path_factory.mktemp("diag") / "analysis.nc"
    write_analysis(path, result, s, withheld=scored)
    return result, scored, path


def test_band_statistics_and_variances_read_back_bit_for_bit(desroziers):
    result, _, path = desroziers
    a = read_analysis(path)
    st = result.image_statistics
    np.testing.assert_array_equal(a.bands["kept_coefficients"], st.kept)
    np.testing.assert_array_equal(a.bands["coefficients"], st.coefficients)
    np.testing.assert_array_equal(a.bands["wedges_per_scale"], st.wedges_per_scale)
    for name, attr, _ in BAND_SUMS:
        np.testing.assert_array_equal(a.bands[name], getattr(st, attr), err_msg=name)
    for name, attr, _ in MEAN_SQUARES:
        np.testing.assert_array_equal(a.bands[name], st.mean_square(attr), err_msg=name)
    np.testing.assert_array_equal(a.bands["white_noise_energy_kept"], st.white_kept)
    err = result.image_error
    np.testing.assert_array_equal(a.image_error["image_error_variance"], err.used)
    np.testing.assert_array_equal(a.image_error["image_error_estimate"], err.estimate)
    np.testing.assert_array_equal(a.image_error["image_error_variance_next"], err.next)
    # the file's per-band sums add up to the image term's totals: 2 JI = sum |O-B|^2 / s2
    # (the term on the observed cells)
    bg, obs = make_case(shape=(20, 22), layers=2)
    s = _settings(image_gap_weight=0.0)
    write_analysis(path.with_name("observed.nc"), run_analysis(bg, obs, s), s)
    a = read_analysis(path.with_name("observed.nc"))
    s2 = a.image_error["image_error_variance"][0]
    assert np.nansum(a.bands["omb_sum_kept"]) / s2 == pytest.approx(
        2 * a.cost_before["image"], rel=1e-12)


def test_the_variables_are_described_for_cf_readers(desroziers):
    _, _, path = desroziers
    with netCDF4.Dataset(path) as ds:
        assert ds.image_error_method == "desroziers"
        assert ds["omb_sum_kept"].dimensions == ("scale", "wedge")
        assert ds["omb_sum_kept"].units == "m6 m-6"
        assert ds["kept_coefficients"].units == "1" and ds["scale"].long_name.startswith(
            "curvelet scale")
        assert ds["image_error_variance"].dimensions == ("scale",)
        assert ds["withheld_omb_rmse"].units == "m3 m-3"
        assert ds["withheld_observation"].dimensions == ("layer", "lat", "lon")
        for name in ds.variables:
            assert "long_name" in ds[name].ncattrs(), name


def test_withheld_departures_read_back(desroziers):
    result, scored, path = desroziers
    a = read_analysis(path)
    np.testing.assert_array_equal(a.withheld["observation"], scored["observation"])
    for key in WITHHELD:
        np.testing.assert_array_equal(a.withheld[key], scored[key], err_msg=key)
    assert a.withheld["count"][0] > 10
    held = np.isfinite(a.withheld["observation"])
    assert not np.any(held & np.isfinite(a.observation))  # none of them was analysed
    d = a.withheld["observation"][0][held[0]] - a.analysis[0][held[0]]
    assert a.withheld["oma_rmse"][0] == pytest.approx(np.sqrt(np.mean(d ** 2)), rel=1e-12)


def test_the_local_error_estimate_reads_back_as_fields(desroziers, tmp_path):
    """With the local error estimate (on by default with JI) the file holds its per-cell
    excess, estimate and coverage on the grid, NaN off land, in both layouts (with and without
    a valid time); without the estimate, none."""
    result, _, path = desroziers
    le, grid = result.local_error, result.problem.grid
    assert le is not None
    timed = tmp_path / "timed.nc"
    write_analysis(timed, result, _settings(image_error_method="desroziers"),
                   valid_time=np.datetime64("2016-05-01T06:00"))
    for file, dims in ((path, ("lat", "lon")), (timed, ("time", "lat", "lon"))):
        a = read_analysis(file)
        for name, (attr, _, units) in LOCAL_ERROR.items():
            np.testing.assert_array_equal(a.local_error[name],
                                          grid.to_field(getattr(le, attr)), err_msg=name)
            with netCDF4.Dataset(file) as ds:
                assert ds[name].dimensions == dims and ds[name].units == units
        assert a.local_error["fine_scales"] == tuple(le.fine_scales)
        assert np.all(np.isnan(a.local_error["observation_error_excess"][~grid.land]))
    bg, obs = make_case(shape=(12, 14), layers=2)
    s = _settings(local_image_error=False)
    write_analysis(tmp_path / "plain.nc", run_analysis(bg, obs, s), s)
    assert read_analysis(tmp_path / "plain.nc").local_error is None


def test_a_file_without_image_term_or_withheld_observations_has_none(tmp_path):
    bg, obs = make_case(shape=(12, 14), layers=2)
    s = _settings(terms=["background", "point"])
    write_analysis(tmp_path / "point.nc", run_analysis(bg, obs, s), s)
    a = read_analysis(tmp_path / "point.nc")
    assert a.bands is None and a.image_error is None and a.withheld is None
    s = _settings(image_error_method="fixed")
    write_analysis(tmp_path / "fixed.nc", run_analysis(bg, obs, s), s)
    a = read_analysis(tmp_path / "fixed.nc")
    assert "image_error_estimate" not in a.image_error and "white_noise_energy_kept" not in a.bands
    np.testing.assert_array_equal(a.image_error["image_error_variance_next"],
                                  a.image_error["image_error_variance"])


def test_damaged_diagnostics_are_clear_errors(desroziers, tmp_path):
    from tests.unit.io.test_analysis_file import _copy_without

    _, _, path = desroziers
    partial = _copy_without(path, tmp_path / "partial.nc", variable="image_error_variance")
    with pytest.raises(InputError, match=r"partial\.nc: variable 'image_error_variance' not "
                                         "found"):
        read_analysis(partial)
    partial = _copy_without(path, tmp_path / "partial2.nc", variable="omb_sum_kept")
    with pytest.raises(InputError, match=r"partial2\.nc: variable 'omb_sum_kept' not found"):
        read_analysis(partial)
