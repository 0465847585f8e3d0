"""CF time series per cell: found by standard name, units converted, fills as NaN, time slices;
on a small written file and on the real CONUS NLDAS-2 / SMAP set (a few weeks, a few cells)."""

from __future__ import annotations

import netCDF4
import numpy as np
import pytest

from landia.errors import InputError
from landia.io.cell_series import read_cell_series

NLDAS = "conus_nldas_smap/nldas2_daily_2015-2018.nc"
SMAP = "conus_nldas_smap/smap_l3_am_2015-2017.nc"


def write_cells(path, n_time=6, n_cell=4, days=None, precip_units="kg m-2 h-1",
                transpose=False, fill_at=None):
    """A small timeSeries file: precipitation (``pr``) and temperature in degC (``t2``), with
    names that are not the standard names; precipitation = 3600 * (t + c) kg m-2 h-1."""
    days = np.arange(n_time, dtype=float) if days is None else np.asarray(days, dtype=float)
    with netCDF4.Dataset(path, "w") as ds:
        ds.featureType = "timeSeries"
        ds.createDimension("cell", n_cell)
        ds.createDimension("time", len(days))
        for name, sn, units, values in (("lat", "latitude", "degrees_north", 30 + np.arange(n_cell)),
                                        ("lon", "longitude", "degrees_east", -100 - np.arange(n_cell))):
            v = ds.createVariable(name, "f8", ("cell",))
            v.standard_name, v.units = sn, units
            v[:] = values
        t = ds.createVariable("time", "f8", ("time",))
        t.standard_name, t.units, t.calendar = "time", "days since 2016-01-01", "standard"
        t[:] = days
        dims = ("cell", "time") if transpose else ("time", "cell")
        pr = ds.createVariable("pr", "f4", dims, fill_value=-9999.0)
        pr.standard_name, pr.units = "precipitation_rate", precip_units
        values = 3600.0 * (np.arange(len(days))[:, None] + np.arange(n_cell)[None, :])
        if fill_at is not None:
            values[fill_at] = -9999.0
        pr[:] = values.T if transpose else values
        t2 = ds.createVariable("t2", "f4", dims)
        t2.standard_name, t2.units = "air_temperature", "degC"
        t2[:] = np.full((n_cell, len(days)) if transpose else (len(days), n_cell), 10.0)
    return path


def test_values_are_found_by_standard_name_and_converted(tmp_path):
    s = read_cell_series(write_cells(tmp_path / "c.nc"), ["precipitation_flux", "air_temperature"])
    assert s.variables == {"precipitation_flux": "pr", "air_temperature": "t2"}
    assert s.units == {"precipitation_flux": "kg m-2 s-1", "air_temperature": "K"}
    # 3600 (t + c) kg m-2 h-1 -> (t + c) kg m-2 s-1; 10 degC -> 283.15 K
    np.testing.assert_allclose(s.values["precipitation_flux"],
                               np.arange(6)[:, None] + np.arange(4)[None, :], rtol=1e-7)
    np.testing.assert_allclose(s.values["air_temperature"], 283.15, rtol=1e-7)
    assert s.values["air_temperature"].dtype == np.float64
    assert s.times[0] == np.datetime64("2016-01-01T00:00:00") and s.times.size == 6
    np.testing.assert_array_equal(s.lat, 30 + np.arange(4))


def test_cells_and_time_slice_select_in_the_order_asked(tmp_path):
    path = write_cells(tmp_path / "c.nc", transpose=True)
    s = read_cell_series(path, ["precipitation_rate"], start="2016-01-02", end="2016-01-05",
                         cells=[3, 1])
    assert s.times.tolist() == [np.datetime64(f"2016-01-0{d}T00:00:00") for d in (2, 3, 4)]
    np.testing.assert_array_equal(s.lat, [33.0, 31.0])
    np.testing.assert_allclose(s.values["precipitation_rate"],
                               np.arange(1, 4)[:, None] + np.array([3, 1])[None, :], rtol=1e-7)
    with pytest.raises(InputError, match=r"no time in \[2017-01-01, None\)"):
        read_cell_series(path, ["air_temperature"], start="2017-01-01")
    with pytest.raises(InputError, match="cell index 4 is outside the file's 4 cells"):
        read_cell_series(path, ["air_temperature"], cells=[0, 4])


def test_fill_values_become_nan(tmp_path):
    s = read_cell_series(write_cells(tmp_path / "c.nc", fill_at=(2, 1)), ["precipitation_flux"])
    p = s.values["precipitation_flux"]
    assert np.isnan(p[2, 1]) and np.isfinite(np.delete(p.ravel(), 2 * 4 + 1)).all()


def test_missing_standard_name_names_file_and_name(tmp_path):
    path = write_cells(tmp_path / "c.nc")
    with pytest.raises(InputError, match=r"c\.nc: no variable with standard_name "
                                         r"'specific_humidity'; the file has air_temperature"):
        read_cell_series(path, ["air_temperature", "specific_humidity"])
    s = read_cell_series(path, ["air_temperature"], optional=["specific_humidity"])
    assert list(s.values) == ["air_temperature"]


def test_reversed_or_repeated_time_is_refused(tmp_path):
    path = write_cells(tmp_path / "c.nc", days=[5, 4, 3, 2, 1, 0])
    with pytest.raises(InputError, match=r"c\.nc: time coordinate 'time' does not increase "
                                         r"strictly: 2016-01-06T00:00:00 \(record 0\)"):
        read_cell_series(path, ["air_temperature"])
    with pytest.raises(InputError, match="does not increase strictly"):
        read_cell_series(write_cells(tmp_path / "d.nc", days=[0, 1, 1, 2, 3, 4]),
                         ["air_temperature"])


def test_units_that_cannot_be_converted_are_refused(tmp_path):
    path = write_cells(tmp_path / "c.nc", precip_units="mm per day")
    with pytest.raises(InputError, match=r"variable 'pr' \(standard_name 'precipitation_rate'\) "
                                         r"has units 'mm per day'; expected kg m-2 s-1"):
        read_cell_series(path, ["precipitation_flux"])
    s = read_cell_series(write_cells(tmp_path / "d.nc", precip_units="mm d-1"),
                         ["precipitation_flux"])
    np.testing.assert_allclose(s.values["precipitation_flux"][1, 0], 3600 / 86400, rtol=1e-7)


def test_shapes_that_disagree_are_refused(tmp_path):
    path = write_cells(tmp_path / "c.nc")
    with netCDF4.Dataset(path, "a") as ds:
        ds.createDimension("station", 4)
        v = ds.createVariable("q", "f4", ("time", "station"))
        v.standard_name, v.units = "specific_humidity", "kg kg-1"
        w = ds.createVariable("lon2", "f8", ("station",))
        w.standard_name = "longitude"
    with pytest.raises(InputError, match=r"variable 'q' \(standard_name 'specific_humidity'\) "
                                         r"has dimensions \('time', 'station'\)"):
        read_cell_series(path, ["specific_humidity"])
    with netCDF4.Dataset(path, "a") as ds:
        ds["t2"].standard_name = "precipitation_rate"
    with pytest.raises(InputError, match=r"standard_name 'precipitation_rate' is carried by 2 "
                                         r"variables \(pr, t2\)"):
        read_cell_series(path, ["precipitation_flux"])


# ---------------------------------------------------------------- the real CONUS set

@pytest.fixture(scope="module")
def conus(shared_data):
    if not (shared_data / NLDAS).exists():
        pytest.skip(f"{shared_data / NLDAS} is absent")
    return shared_data


@pytest.mark.shared_data
def test_real_nldas_three_weeks_at_three_cells(conus):
    path = conus / NLDAS
    s = read_cell_series(path, ["precipitation_flux", "air_temperature", "specific_humidity",
                                "eastward_wind"], start="2015-07-01", end="2015-07-22",
                         cells=[0, 200, 411])
    assert s.times[0] == np.datetime64("2015-07-01") and s.times.size == 21
    assert s.variables["precipitation_flux"] == "APCP_FORA"
    with netCDF4.Dataset(path) as ds:
        k = int(np.searchsorted(ds["time"][:], (np.datetime64("2015-07-01")
                                                - np.datetime64("1970-01-01")).astype(int)))
        raw = ds["APCP_FORA"][k:k + 21, [0, 200, 411]].astype(float)
        lat = ds["lat"][[0, 200, 411]]
    # unchanged values, divided by 3600 (kg m-2 h-1 -> kg m-2 s-1)
    np.testing.assert_allclose(s.values["precipitation_flux"], raw / 3600.0, rtol=1e-12)
    np.testing.assert_array_equal(s.lat, lat)
    assert np.all((s.values["air_temperature"] > 270) & (s.values["air_temperature"] < 315))
    assert np.all(np.isfinite(s.values["specific_humidity"]))


@pytest.mark.shared_data
def test_real_smap_has_gaps_as_nan(conus):
    s = read_cell_series(conus / SMAP, ["volume_fraction_of_condensed_water_in_soil"],
                         start="2016-05-01", end="2016-05-29", cells=np.arange(0, 412, 40))
    sm = s.values["volume_fraction_of_condensed_water_in_soil"]
    assert sm.shape == (28, 11) and s.units["volume_fraction_of_condensed_water_in_soil"] == "m3 m-3"
    valid = np.isfinite(sm)
    # SMAP's overpass gaps: some but not all cell-days hold a retrieval, all within [0, 1]
    assert 0.1 < valid.mean() < 0.9
    assert np.all((sm[valid] >= 0) & (sm[valid] <= 1))
