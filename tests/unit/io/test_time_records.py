"""Outputs that CDO, NCO and xarray chain (issue 14): a length-1 unlimited ``time`` record,
(time, layer, lat, lon) fields, ``layer`` units, ``depth`` bounds and coordinates; the older
layout (scalar ``time``) still reads."""

from __future__ import annotations

import shutil
import subprocess

import netCDF4
import numpy as np
import pytest

from landia.errors import InputError
from landia.grid import colm_interface_depths, colm_node_depths
from landia.io.fields import SoilMoistureField, read_field, write_field
from landia.io.netcdf import layer_bounds

T0 = np.datetime64("2016-05-01T00:00:00", "s")


def state(k: int) -> SoilMoistureField:
    rng = np.random.default_rng(k)
    values = 0.1 + 0.3 * rng.random((10, 7, 10))
    values[:, 0, 0] = np.nan
    return SoilMoistureField(lat=np.linspace(50, 44, 7), lon=np.linspace(80, 89, 10),
                             depth=colm_node_depths(), values=values,
                             porosity=np.full((10, 7, 10), 0.45),
                             valid_time=T0 + np.timedelta64(6 * k, "h"))


@pytest.fixture
def states(tmp_path):
    paths = [tmp_path / f"state_{k}.nc" for k in range(3)]
    for k, p in enumerate(paths):
        write_field(p, state(k))
    return paths


def test_a_state_file_has_a_cf_time_record(states):
    with netCDF4.Dataset(states[1]) as ds:
        assert ds.dimensions["time"].isunlimited() and len(ds.dimensions["time"]) == 1
        t = ds["time"]
        assert (t.standard_name, t.axis, t.calendar) == ("time", "T", "standard")
        assert t.units == "seconds since 1970-01-01 00:00:00"
        assert str(netCDF4.num2date(t[0], t.units)) == "2016-05-01 06:00:00"
        assert ds["soil_moisture"].dimensions == ("time", "layer", "lat", "lon")
        assert ds["soil_moisture"].coordinates == "depth"
        assert ds["layer"].units == "1" and "axis" not in ds["layer"].ncattrs()
        d = ds["depth"]
        assert (d.units, d.axis, d.positive, d.bounds) == ("m", "Z", "down", "depth_bnds")
        np.testing.assert_array_equal(ds["depth_bnds"][:, 1], colm_interface_depths())
        assert "valid_time" not in ds.ncattrs()


def test_a_state_reads_back_bit_for_bit(states):
    f = read_field(states[2])
    expected = state(2)
    np.testing.assert_array_equal(f.values, expected.values)
    np.testing.assert_array_equal(f.porosity, expected.porosity)
    assert f.values.shape == (10, 7, 10) and f.valid_time == expected.valid_time


def test_three_states_open_as_one_series_in_xarray(states):
    xr = pytest.importorskip("xarray")
    # What xr.open_mfdataset does (it needs dask): open each, combine by coordinates.
    parts = [xr.open_dataset(p) for p in reversed(states)]
    try:
        series = xr.combine_by_coords(parts, data_vars="minimal", coords="minimal",
                                      compat="override", combine_attrs="override")
        assert series.sizes["time"] == 3
        assert list(series["time"].values) == [T0 + np.timedelta64(6 * k, "h") for k in range(3)]
        assert series["soil_moisture"].dims == ("time", "layer", "lat", "lon")
        assert series["porosity"].dims == ("layer", "lat", "lon")  # static: not repeated
        assert "depth" in series.coords and series["depth"].attrs["units"] == "m"
        assert parts[0].encoding["unlimited_dims"] == {"time"}
    finally:
        for p in parts:
            p.close()
    pytest.importorskip("dask")
    with xr.open_mfdataset(states) as series:
        assert series.sizes["time"] == 3 and "depth" in series.coords


def test_the_older_layout_with_a_scalar_time_still_reads(tmp_path):
    """A file as landia wrote them before: (layer, lat, lon), scalar time, valid_time."""
    path = tmp_path / "old.nc"
    f = state(0)
    with netCDF4.Dataset(path, "w") as ds:
        ds.valid_time = "2016-05-01T00:00:00Z"
        for name, n in (("layer", 10), ("lat", 7), ("lon", 10)):
            ds.createDimension(name, n)
        for name, units in (("lat", "degrees_north"), ("lon", "degrees_east")):
            v = ds.createVariable(name, "f8", (name,))
            v.units = units
            v[:] = getattr(f, name)
        ds.createVariable("depth", "f8", ("layer",))[:] = f.depth
        t = ds.createVariable("time", "f8", ())
        t.units = "seconds since 1970-01-01 00:00:00"
        t.assignValue(float(T0.astype(np.int64)))
        v = ds.createVariable("soil_moisture", "f8", ("layer", "lat", "lon"), fill_value=np.nan)
        v.units, v.coordinates = "m3 m-3", "time"
        v[...] = f.values
    got = read_field(path)
    np.testing.assert_array_equal(got.values, f.values)
    assert got.valid_time == T0


def test_a_merged_series_is_refused_by_name(tmp_path, states):
    merged = tmp_path / "merged.nc"
    with netCDF4.Dataset(states[0]) as a, netCDF4.Dataset(merged, "w") as b:
        for name, dim in a.dimensions.items():
            b.createDimension(name, None if dim.isunlimited() else len(dim))
        for name, var in a.variables.items():
            out = b.createVariable(name, var.dtype, var.dimensions)
            out.setncatts({k: var.getncattr(k) for k in var.ncattrs() if k != "_FillValue"})
            out[...] = var[...]
        b["time"][1] = b["time"][0] + 3600.0
        b["soil_moisture"][1] = b["soil_moisture"][0]
    with pytest.raises(InputError, match="merged.nc.*2 time records.*seltimestep"):
        read_field(merged)


def test_layer_bounds_of_other_depths():
    np.testing.assert_allclose(layer_bounds([0.05, 0.15, 0.3]),
                               [[0.0, 0.1], [0.1, 0.225], [0.225, 0.375]])
    np.testing.assert_array_equal(layer_bounds(colm_node_depths(2))[:, 1],
                                  colm_interface_depths()[:2])


@pytest.mark.skipif(shutil.which("cdo") is None, reason="cdo is not installed")
def test_cdo_mergetime_gives_a_three_step_series(tmp_path, states):
    out = tmp_path / "cdo.nc"
    subprocess.run(["cdo", "-s", "mergetime", *map(str, states), str(out)], check=True,
                   capture_output=True, timeout=120)
    with netCDF4.Dataset(out) as ds:
        assert len(ds.dimensions["time"]) == 3
        assert ds["soil_moisture"].shape == (3, 10, 7, 10)


@pytest.mark.skipif(shutil.which("ncrcat") is None, reason="NCO (ncrcat) is not installed")
def test_ncrcat_gives_a_three_step_series(tmp_path, states):
    out = tmp_path / "nco.nc"
    subprocess.run(["ncrcat", *map(str, states), str(out)], check=True, capture_output=True,
                   timeout=120)
    with netCDF4.Dataset(out) as ds:
        assert ds.dimensions["time"].isunlimited() and len(ds.dimensions["time"]) == 3
        np.testing.assert_array_equal(ds["soil_moisture"][2].filled(np.nan), state(2).values)
