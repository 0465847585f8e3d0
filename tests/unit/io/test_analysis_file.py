"""The analysis file: what write_analysis writes, read_analysis reads back."""

from __future__ import annotations

import netCDF4
import numpy as np
import pytest

from landia.analysis import run_analysis
from landia.config import settings_from_dict
from landia.errors import InputError
from landia.io.analysis_file import (
    FIELDS,
    AnalysisFile,
    read_analysis,
    read_analysis_field,
    write_analysis,
)
from tests.conftest import make_case

VALID = np.datetime64("2016-05-01T12:00:00", "s")


@pytest.fixture(scope="module")
def analysis():
    """A real analysis (JB + JO + JI) of a small case, and its settings."""
    bg, obs = make_case(shape=(12, 14), layers=2)
    settings = settings_from_dict({"analysis": {"terms": ["background", "point", "image"],
                                                "upper_bound": 0.5, "layers": 2}})
    return run_analysis(bg, obs, settings), settings


@pytest.fixture(scope="module")
def written(analysis, tmp_path_factory):
    result, settings = analysis
    path = tmp_path_factory.mktemp("analysis") / "analysis_20160501T1200.nc"
    write_analysis(path, result, settings, valid_time=VALID)
    return path


def test_read_analysis_is_the_inverse_of_write_analysis(analysis, written):
    result, _ = analysis
    a = read_analysis(written)
    assert isinstance(a, AnalysisFile) and a.source == str(written)
    grid = result.problem.grid
    np.testing.assert_array_equal(a.lat, grid.lat)
    np.testing.assert_array_equal(a.lon, grid.lon)
    np.testing.assert_array_equal(a.depth, result.problem.depth)
    for name, expected in (("analysis", result.analysis_field),
                           ("background", result.background_field),
                           ("increment", result.increment_field),
                           ("observation", result.problem.observation)):
        got = getattr(a, name)
        assert got.shape == expected.shape, name
        # bit for bit, NaN where the written field is NaN (off land, unobserved)
        np.testing.assert_array_equal(got, expected, err_msg=name)
    assert np.isnan(a.analysis).any() and np.isnan(a.observation).sum() > np.isnan(
        a.analysis).sum()
    np.testing.assert_array_equal(a.cost, result.minimiser.cost)
    np.testing.assert_array_equal(a.gradient_norm, result.minimiser.gradient_norm)
    assert a.cost_before == result.terms_before and a.cost_after == result.terms_after
    assert list(a.cost_before) == ["background", "point", "image"]
    assert a.iterations == result.minimiser.iterations and a.cost.size == a.iterations + 1
    assert a.converged_reason == result.minimiser.reason
    assert a.solver == result.minimiser.solver
    assert a.valid_time == VALID


def test_without_a_valid_time_the_file_has_none(analysis, tmp_path):
    result, settings = analysis
    path = tmp_path / "analysis.nc"
    write_analysis(path, result, settings)
    assert read_analysis(path).valid_time is None
    assert read_analysis_field(path).valid_time is None


def test_read_analysis_field_gives_one_field_with_its_grid(analysis, written):
    result, _ = analysis
    for name in FIELDS:
        f = read_analysis_field(written, name)
        np.testing.assert_array_equal(f.values, getattr(read_analysis(written), name))
        np.testing.assert_array_equal(f.lat, result.problem.grid.lat)
        np.testing.assert_array_equal(f.depth, result.problem.depth)
        assert f.valid_time == VALID and f.source == str(written)
    with pytest.raises(InputError, match=r"analysis_20160501T1200\.nc: cannot read "
                                         r"'soil_moisture' from an analysis file"):
        read_analysis_field(written, "soil_moisture")


def _copy_without(src, dst, variable=None, attribute=None):
    """``src`` copied to ``dst`` without one variable or one global attribute."""
    with netCDF4.Dataset(src) as a, netCDF4.Dataset(dst, "w") as b:
        for name, dim in a.dimensions.items():
            b.createDimension(name, len(dim))
        for name in a.ncattrs():
            if name != attribute:
                b.setncattr(name, a.getncattr(name))
        for name, var in a.variables.items():
            if name == variable:
                continue
            fill = var.getncattr("_FillValue") if "_FillValue" in var.ncattrs() else None
            v = b.createVariable(name, var.dtype, var.dimensions, fill_value=fill)
            v.setncatts({k: var.getncattr(k) for k in var.ncattrs() if k != "_FillValue"})
            v[...] = var[...]
    return dst


@pytest.mark.parametrize("variable", ["analysis", "observation", "cost", "cost_after", "term",
                                      "depth", "lat"])
def test_a_missing_variable_names_the_file_and_the_variable(written, tmp_path, variable):
    path = _copy_without(written, tmp_path / "partial.nc", variable=variable)
    with pytest.raises(InputError, match=rf"partial\.nc: variable '{variable}' not found; "
                                         r"the file has .*background"):
        read_analysis(path)


@pytest.mark.parametrize("attribute", ["iterations", "converged_reason", "solver"])
def test_a_missing_attribute_names_the_file_and_the_attribute(written, tmp_path, attribute):
    path = _copy_without(written, tmp_path / "partial.nc", attribute=attribute)
    with pytest.raises(InputError, match=rf"partial\.nc: global attribute '{attribute}' not "
                                         "found"):
        read_analysis(path)


def test_one_field_needs_only_itself_and_the_grid(written, tmp_path):
    path = _copy_without(written, tmp_path / "no_depth.nc", variable="depth")
    f = read_analysis_field(path, "background")
    np.testing.assert_array_equal(f.depth, read_analysis(written).depth)  # CoLM node depths
    path = _copy_without(written, tmp_path / "no_background.nc", variable="background")
    np.testing.assert_array_equal(read_analysis_field(path, "analysis").values,
                                  read_analysis(written).analysis)
    with pytest.raises(InputError, match=r"no_background\.nc: variable 'background' not found"):
        read_analysis_field(path, "background")


def test_wrong_units_dimensions_and_terms_are_clear_errors(written, tmp_path):
    path = tmp_path / "units.nc"
    _copy_without(written, path)
    with netCDF4.Dataset(path, "a") as ds:
        ds["increment"].units = "kg m-2"
    with pytest.raises(InputError, match=r"units\.nc: variable 'increment' has units 'kg m-2'"):
        read_analysis(path)
    path = tmp_path / "terms.nc"
    _copy_without(written, path)
    with netCDF4.Dataset(path, "a") as ds:
        ds["term"].flag_meanings = "background image"
    with pytest.raises(InputError, match=r"terms\.nc: variable 'cost_before' has shape \(3,\); "
                                         r"expected \(2,\)"):
        read_analysis(path)
    with pytest.raises(InputError, match=r"missing\.nc: analysis file not found"):
        read_analysis(tmp_path / "missing.nc")
