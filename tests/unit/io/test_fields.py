"""Field files: round trip, CF attributes, and clear errors for bad files."""

from __future__ import annotations

import netCDF4
import numpy as np
import pytest

from landia.errors import InputError
from landia.io.fields import read_field, write_field
from tests.conftest import make_case


def test_round_trip(tmp_path):
    bg, _ = make_case()
    bg.error_variance = np.where(np.isfinite(bg.values), 0.002, np.nan)
    write_field(tmp_path / "bg.nc", bg, "background")
    back = read_field(tmp_path / "bg.nc", "background")
    np.testing.assert_array_equal(back.values, bg.values)
    np.testing.assert_array_equal(back.error_variance, bg.error_variance)
    np.testing.assert_array_equal(back.porosity, bg.porosity)
    np.testing.assert_allclose(back.depth, bg.depth)
    with netCDF4.Dataset(tmp_path / "bg.nc") as ds:
        assert ds.Conventions == "CF-1.8"
        assert ds["lat"].units == "degrees_north" and ds["lon"].units == "degrees_east"
        assert ds["soil_moisture"].units == "m3 m-3"
    assert not list(tmp_path.glob(".*tmp"))  # no temporary left behind


def _write_raw(path, values, units="m3 m-3", dims=("layer", "lat", "lon"), fill=None):
    with netCDF4.Dataset(path, "w") as ds:
        for d, n in zip(("layer", "lat", "lon"), (2, 4, 5)):
            ds.createDimension(d, n)
        ds.createVariable("lat", "f8", ("lat",))[:] = np.arange(4.0)
        ds.createVariable("lon", "f8", ("lon",))[:] = np.arange(5.0)
        v = ds.createVariable("soil_moisture", "f4", dims, fill_value=fill)
        if units:
            v.units = units
        v[...] = values


def test_fill_values_become_nan(tmp_path):
    values = np.full((2, 4, 5), 0.3, dtype=np.float32)
    values[0, 1, 1] = -9999.0
    _write_raw(tmp_path / "f.nc", values, fill=-9999.0)
    f = read_field(tmp_path / "f.nc")
    assert np.isnan(f.values[0, 1, 1]) and np.isfinite(f.values[0, 0, 0])


@pytest.mark.parametrize("kwargs, match", [
    (dict(units="kg m-2"), "units 'kg m-2'.*divided by 1000"),
    (dict(units=None), "no 'units' attribute"),
    (dict(dims=("layer", "lon", "lat")), "expected \\('layer', 'lat', 'lon'\\)"),
])
def test_bad_variables(tmp_path, kwargs, match):
    shape = (2, 5, 4) if kwargs.get("dims") == ("layer", "lon", "lat") else (2, 4, 5)
    if "dims" in kwargs:
        with netCDF4.Dataset(tmp_path / "f.nc", "w") as ds:
            for d, n in zip(("layer", "lat", "lon"), (2, 4, 5)):
                ds.createDimension(d, n)
            ds.createVariable("lat", "f8", ("lat",))[:] = np.arange(4.0)
            ds.createVariable("lon", "f8", ("lon",))[:] = np.arange(5.0)
            v = ds.createVariable("soil_moisture", "f4", kwargs["dims"])
            v.units = "m3 m-3"
            v[...] = np.zeros(shape)
    else:
        _write_raw(tmp_path / "f.nc", np.zeros(shape), **kwargs)
    with pytest.raises(InputError, match=match) as info:
        read_field(tmp_path / "f.nc")
    assert "f.nc" in str(info.value)


def test_missing_truncated_and_foreign_files(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_field(tmp_path / "absent.nc", "background")
    bg, _ = make_case()
    write_field(tmp_path / "bg.nc", bg)
    data = (tmp_path / "bg.nc").read_bytes()
    (tmp_path / "cut.nc").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="cut.nc"):
        read_field(tmp_path / "cut.nc")
    with netCDF4.Dataset(tmp_path / "other.nc", "w") as ds:
        ds.createDimension("x", 2)
        ds.createVariable("swvl1", "f4", ("x",))
    with pytest.raises(InputError, match="'soil_moisture' not found.*swvl1"):
        read_field(tmp_path / "other.nc")


def test_infinite_values_are_refused(tmp_path):
    values = np.full((2, 4, 5), 0.3)
    values[1, 2, 2] = np.inf
    _write_raw(tmp_path / "f.nc", values)
    with pytest.raises(InputError, match="infinite"):
        read_field(tmp_path / "f.nc")


def test_failed_write_leaves_no_partial_file(tmp_path):
    bg, _ = make_case()
    bg.values = bg.values[:, :, :3]  # inconsistent with lon: the write fails midway
    with pytest.raises(Exception):
        write_field(tmp_path / "bad.nc", bg)
    assert not (tmp_path / "bad.nc").exists()
    assert list(tmp_path.iterdir()) == []
