"""GLDAS-2.1 Noah soil-moisture reader: kg m-2 -> m3 m-3, fills, units refusal."""

from __future__ import annotations

import netCDF4
import numpy as np
import pytest

from landia.errors import InputError
from landia.observations.products import detect_format, read_product
from landia.observations.products.gldas import LAYERS, read_gldas_soil_moisture

GLDAS = "gldas/GLDAS_NOAH025_3H.A20150101.0000.021.nc4"


def write_gldas(path, amounts, units="kg m-2"):
    """A GLDAS-like file: amounts (4, ny, nx) kg m-2 with NaN written as -9999."""
    _, ny, nx = amounts.shape
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("time", 1)
        ds.createDimension("lat", ny)
        ds.createDimension("lon", nx)
        v = ds.createVariable("time", "f8", ("time",))
        v.units = " minutes since 2000-01-01 03:00:00"  # the leading space is GLDAS's
        v[:] = [7889580.0]
        ds.createVariable("lat", "f4", ("lat",))[:] = -59.875 + 0.25 * np.arange(ny)
        ds.createVariable("lon", "f4", ("lon",))[:] = -179.875 + 0.25 * np.arange(nx)
        for k, name in enumerate(LAYERS):
            v = ds.createVariable(name, "f4", ("time", "lat", "lon"),
                                  fill_value=np.float32(-9999.0))
            v.units = units
            v.missing_value = np.float32(-9999.0)
            v[0] = np.where(np.isnan(amounts[k]), -9999.0, amounts[k])


def test_conversion_and_fill(tmp_path):
    rng = np.random.default_rng(3)
    theta = rng.uniform(0.05, 0.45, (4, 3, 5))
    thick = np.array([0.1, 0.3, 0.6, 1.0])
    amounts = theta * 1000 * thick[:, None, None]
    amounts[:, 0, 0] = np.nan  # sea
    path = tmp_path / "GLDAS_NOAH025_3H.A20150101.0000.021.nc4"
    write_gldas(path, amounts)
    assert detect_format(path) == "gldas"
    (f,) = read_product(path)
    assert f.time == np.datetime64("2015-01-01T00:00:00")
    np.testing.assert_allclose(f.layer_top, [0.0, 0.1, 0.4, 1.0])
    np.testing.assert_allclose(f.layer_bottom, [0.1, 0.4, 1.0, 2.0])
    ok = np.isfinite(f.values)
    assert ok.sum() == 4 * 14
    np.testing.assert_allclose(f.values[ok], theta[ok], rtol=1e-6)
    assert f.rejected == {"fill": 4}
    assert f.product == "gldas" and f.period == "instant"


def test_units_refused(tmp_path):
    path = tmp_path / "gldas_vol.nc4"
    write_gldas(path, np.full((4, 2, 2), 0.3), units="m3 m-3")
    with pytest.raises(InputError, match=r"SoilMoi0_10cm_inst.*'m3 m-3'.*expected kg m-2.*"
                                         r"1000 x 0.1 m"):
        read_gldas_soil_moisture(path)


def test_all_fill_image_returns_nan_field(tmp_path):
    path = tmp_path / "gldas_fill.nc4"
    write_gldas(path, np.full((4, 2, 3), np.nan))
    (f,) = read_gldas_soil_moisture(path)
    assert np.all(np.isnan(f.values)) and f.rejected == {"fill": 24}


def test_real_gldas(shared_data):
    path = shared_data / GLDAS
    assert detect_format(path) == "gldas"
    (f,) = read_product(path)
    assert f.time == np.datetime64("2015-01-01T00:00:00")
    assert f.values.shape == (4, 600, 1440)
    assert f.lat[0] == -59.875 and f.lat[-1] == 89.875  # south to north
    assert f.lon[0] == -179.875 and f.lon[-1] == 179.875
    # measured: 620,117 of 864,000 cells are fill in every layer
    assert f.rejected == {"fill": 4 * 620117}
    land = np.isfinite(f.values)
    assert np.all(land == land[0]) and land[0].sum() == 243883
    assert 0.0 < np.nanmin(f.values) and np.nanmax(f.values) < 0.5
    assert 0.15 < np.nanmean(f.values[0]) < 0.35
    # conversion: the raw amount in kg m-2 over 1000 x thickness
    with netCDF4.Dataset(path) as ds:
        raw = ds["SoilMoi40_100cm_inst"][0]
    j, i = np.argwhere(~np.ma.getmaskarray(raw))[1000]
    assert f.values[2, j, i] == pytest.approx(float(raw[j, i]) / 600.0, rel=1e-6)
