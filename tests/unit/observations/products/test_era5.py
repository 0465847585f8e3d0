"""ERA5 / ERA5-Land / ERA-Interim soil-moisture reader: both CDS layouts, packing, sea, clipping."""

from __future__ import annotations

import netCDF4
import numpy as np
import pytest

from landia.errors import InputError
from landia.observations.products import detect_format, read_product
from landia.observations.products.era5 import LAYERS, read_era5_soil_moisture

ERAINT = "erainterim/ERAINT_AN_20000101_0000.nc"


def _grid(ny=5, nx=8):
    lat = np.linspace(40.0, 37.0, ny)  # north to south, as ERA5
    lon = np.arange(nx) * 0.25 + 100.0
    return lat, lon


def write_new_layout(path, values, lsm, units="m3 m-3", expver=1, with_lsm=True):
    """Current CDS netCDF4: valid_time, size-1 number and expver dimensions."""
    nt, nl, ny, nx = values.shape
    lat, lon = _grid(ny, nx)
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("valid_time", nt)
        ds.createDimension("number", 1)
        ds.createDimension("expver", expver)
        ds.createDimension("latitude", ny)
        ds.createDimension("longitude", nx)
        v = ds.createVariable("valid_time", "i8", ("valid_time",))
        v.units, v.calendar = "seconds since 1970-01-01", "proleptic_gregorian"
        v[:] = 946684800 + 3600 * np.arange(nt)  # 2000-01-01 00Z, hourly
        ds.createVariable("latitude", "f8", ("latitude",))[:] = lat
        ds.createVariable("longitude", "f8", ("longitude",))[:] = lon
        for k in range(nl):
            v = ds.createVariable(f"swvl{k + 1}", "f4",
                                  ("valid_time", "number", "expver", "latitude", "longitude"),
                                  fill_value=np.float32(np.nan))
            v.units = units
            v[:] = np.repeat(values[:, k][:, None, None], expver, axis=2)
        if with_lsm:
            v = ds.createVariable("lsm", "f4", ("valid_time", "number", "expver", "latitude",
                                                "longitude"))
            v.units = "(0 - 1)"
            v[:] = np.broadcast_to(lsm, (nt, 1, expver, ny, nx))


def write_old_packed(path, values, lsm):
    """Older CDS / grib_to_netcdf layout: time, int16 packed with scale_factor/add_offset."""
    nt, nl, ny, nx = values.shape
    lat, lon = _grid(ny, nx)
    scale, offset = 1.0e-5, 0.3
    with netCDF4.Dataset(path, "w", format="NETCDF3_64BIT_OFFSET") as ds:
        ds.createDimension("longitude", nx)
        ds.createDimension("latitude", ny)
        ds.createDimension("time", nt)
        ds.createVariable("longitude", "f4", ("longitude",))[:] = lon
        ds.createVariable("latitude", "f4", ("latitude",))[:] = lat
        v = ds.createVariable("time", "i4", ("time",))
        v.units, v.calendar = "hours since 1900-01-01 00:00:00.0", "gregorian"
        v[:] = 876576 + 6 * np.arange(nt)  # 2000-01-01 00Z, 6-hourly
        for k in range(nl):
            v = ds.createVariable(f"swvl{k + 1}", "i2", ("time", "latitude", "longitude"),
                                  fill_value=np.int16(-32767))
            v.missing_value = np.int16(-32767)
            v.scale_factor, v.add_offset = scale, offset
            v.units = "m**3 m**-3"
            x = values[:, k]
            v[:] = np.ma.array(np.nan_to_num(x), mask=np.isnan(x))  # netCDF4 packs on write
        v = ds.createVariable("lsm", "i2", ("time", "latitude", "longitude"))
        v.scale_factor, v.add_offset, v.units = 1.0 / 32000, 0.5, "(0 - 1)"
        v[:] = np.broadcast_to(lsm, (nt, ny, nx))
    return scale


def _case(nt=2, nl=4, seed=0):
    rng = np.random.default_rng(seed)
    ny, nx = 5, 8
    values = rng.uniform(0.1, 0.45, (nt, nl, ny, nx))
    lsm = np.ones((ny, nx))
    lsm[:, :2] = 0.0          # 10 sea cells
    lsm[0, 2] = 0.3           # one more, coastal below threshold
    values[:, :, lsm < 0.5] = 0.01  # ERA5 sea: near zero, not masked
    values[0, 0, 2, 4] = -0.002     # tiny negative over land: clipped
    values[0, 1, 3, 5] = -0.2       # impossible: rejected
    return values, lsm


def test_new_layout_sea_clip_and_layers(tmp_path):
    values, lsm = _case()
    path = tmp_path / "era5_new.nc"
    write_new_layout(path, values, lsm)
    assert detect_format(path) == "era5"
    fields = read_product(path)
    assert len(fields) == 2
    f0, f1 = fields
    assert f0.time == np.datetime64("2000-01-01T00:00:00")
    assert f1.time == np.datetime64("2000-01-01T01:00:00")
    assert f0.values.shape == (4, 5, 8) and f0.product == "era5" and f0.period == "instant"
    np.testing.assert_allclose(f0.layer_top, [0, 0.07, 0.28, 1.0])
    np.testing.assert_allclose(f0.layer_bottom, [0.07, 0.28, 1.0, 2.89])
    assert f0.lat[0] > f0.lat[-1]  # north to south kept
    sea = lsm < 0.5
    assert np.all(np.isnan(f0.values[:, sea]))
    assert f0.rejected["sea"] == 11 * 4
    assert f0.rejected["clipped_negative"] == 1 and f0.values[0, 2, 4] == 0.0
    assert f0.rejected["negative"] == 1 and np.isnan(f0.values[1, 3, 5])
    assert "fill" not in f0.rejected
    land_ok = np.isfinite(f0.values)
    np.testing.assert_allclose(f0.values[land_ok], np.float32(values[0])[land_ok] * (
        values[0][land_ok] >= 0), atol=1e-7)
    rejected_nan = sum(n for k, n in f0.rejected.items() if k != "clipped_negative")
    assert np.isnan(f0.values).sum() == rejected_nan
    assert f1.rejected == {"sea": 44}


def test_lsm_threshold_option(tmp_path):
    values, lsm = _case(nt=1)
    path = tmp_path / "era5.nc"
    write_new_layout(path, values, lsm)
    (f,) = read_era5_soil_moisture(path, lsm_threshold=0.2)
    assert f.rejected["sea"] == 10 * 4  # the 0.3 coastal cell is now land
    (f,) = read_era5_soil_moisture(path, layers=[1])
    assert f.values.shape == (1, 5, 8) and f.layer_bottom[0] == LAYERS[1][1]
    with pytest.raises(InputError, match="lsm_threshold"):
        read_era5_soil_moisture(path, lsm_threshold=0.0)
    with pytest.raises(InputError, match="'swvl5'|swvl layer 5"):
        read_era5_soil_moisture(path, layers=[5])


def test_old_layout_packed_int16(tmp_path):
    values, lsm = _case(nt=3, nl=2, seed=1)
    values[1, 0, 4, 7] = np.nan  # a missing value over land, packed as -32767
    path = tmp_path / "era5_old.nc"
    scale = write_old_packed(path, values, lsm)
    with netCDF4.Dataset(path) as ds:
        assert ds["swvl1"].dtype == np.int16  # really packed
    fields = read_product(path)
    assert [str(f.time) for f in fields] == ["2000-01-01T00:00:00", "2000-01-01T06:00:00",
                                             "2000-01-01T12:00:00"]
    f = fields[1]
    assert f.values.shape == (2, 5, 8)
    assert f.rejected["fill"] == 1 and np.isnan(f.values[0, 4, 7])
    assert f.rejected["sea"] == 11 * 2
    ok = np.isfinite(f.values)
    expected = np.clip(values[1], 0, None)
    assert np.max(np.abs(f.values[ok] - expected[ok])) <= scale  # unpacked, not raw ints
    assert 0.0 <= np.nanmin(f.values) and np.nanmax(f.values) < 0.5


def test_units_refused_with_hint(tmp_path):
    values, lsm = _case(nt=1)
    path = tmp_path / "era5_kg.nc"
    write_new_layout(path, values, lsm, units="kg m-2")
    with pytest.raises(InputError, match=r"swvl1.*'kg m-2'.*divide by 1000 x the layer "
                                         r"thickness, 0.07 m"):
        read_product(path)


def test_expver_mix_refused(tmp_path):
    values, lsm = _case(nt=1)
    path = tmp_path / "era5_expver.nc"
    write_new_layout(path, values, lsm, expver=2)
    with pytest.raises(InputError, match="expver.*size 2"):
        read_product(path)


def test_without_lsm(tmp_path):
    values, lsm = _case(nt=1)
    path = tmp_path / "era5_nolsm.nc"
    write_new_layout(path, values, lsm, with_lsm=False)
    with pytest.raises(InputError, match="no land-sea mask 'lsm'"):
        read_product(path)
    # ERA5-Land: sea already missing, no lsm needed
    values[:, :, lsm < 0.5] = np.nan
    path = tmp_path / "era5land.nc"
    write_new_layout(path, values, lsm, with_lsm=False)
    (f,) = read_product(path)
    assert f.rejected["fill"] == 11 * 4 and "sea" not in f.rejected


def test_all_sea_image_is_not_refused(tmp_path):
    values, lsm = _case(nt=1)
    path = tmp_path / "era5_sea.nc"
    write_new_layout(path, values, np.zeros_like(lsm))
    (f,) = read_product(path)
    assert np.all(np.isnan(f.values)) and f.rejected == {"sea": 4 * 40}


def test_real_erainterim(shared_data):
    path = shared_data / ERAINT
    assert detect_format(path) == "era5"
    (f,) = read_product(path)
    assert f.time == np.datetime64("2000-01-01T00:00:00")
    assert f.values.shape == (2, 241, 480)
    np.testing.assert_allclose(f.layer_top, [0.0, 0.07])
    np.testing.assert_allclose(f.layer_bottom, [0.07, 0.28])
    assert f.lat[0] == 90.0 and f.lat[-1] == -90.0 and f.lon[0] == 0.0 and f.lon[-1] == 359.25
    # measured: 76,604 of 115,680 cells have lsm < 0.5; 2 layers -> 153,208 values
    assert f.rejected == {"sea": 153208}
    assert np.isnan(f.values).sum() == 153208
    land = np.isfinite(f.values[0])
    assert land.sum() == 39076
    assert np.array_equal(land, np.isfinite(f.values[1]))
    assert 0.0 <= np.nanmin(f.values) and np.nanmax(f.values) < 0.5
    assert 0.15 < np.nanmean(f.values[0]) < 0.35
    # Sahara (20-30 N, 0-20 E) drier than Amazonia (10 S-0, 290-310 E)
    box = lambda la0, la1, lo0, lo1: np.nanmean(f.values[0][np.ix_(
        (f.lat >= la0) & (f.lat <= la1), (f.lon >= lo0) & (f.lon <= lo1))])
    assert box(20, 30, 0, 20) < 0.2 < box(-10, 0, 290, 310)
