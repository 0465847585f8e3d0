"""Site-file reader: the real PLUMBER2 CN-Cng file and small bad files."""

from __future__ import annotations

import netCDF4
import numpy as np
import pytest

from landia.errors import InputError
from landia.io.site import DEFAULT_REFERENCE_HEIGHT, read_reference_height, read_site

SITE = "plumber2_CN-Cng/CN-Cng_2008-2009_FLUXNET2015_site.nc"


def test_real_site_file(shared_data):
    s = read_site(shared_data / SITE)
    soil = s.soil
    assert soil.porosity.shape == (1, 10)
    assert s.hydraulics == "file"
    assert np.all((soil.porosity > 0.3) & (soil.porosity < 0.6))
    assert np.all((soil.b > 2) & (soil.b < 15))
    # k_sat of a silty loam: 1e-4 .. 1e-1 mm/s (file: ~10-30 cm/day)
    assert np.all((soil.k_sat > 1e-4) & (soil.k_sat < 1e-1))
    assert np.all((soil.psi_sat < -50) & (soil.psi_sat > -2000))
    np.testing.assert_allclose(soil.b[0, 0], 1 / 0.12202322, rtol=1e-6)
    np.testing.assert_allclose(soil.k_sat[0, 0], 11.199541 * 10 / 86400, rtol=1e-6)
    np.testing.assert_allclose(soil.psi_sat[0, 0], -427.85255, rtol=1e-6)
    assert s.latitude == pytest.approx(44.5933, abs=1e-3)
    assert s.longitude == pytest.approx(123.5092, abs=1e-3)
    assert s.igbp == 10 and s.land_cover == "grassland"
    assert list(s.pft_types) == [13, 14]
    lai, sai = s.lai_for_year(2008)
    assert lai.shape == (12,) and sai.shape == (12,)
    assert lai.max() == pytest.approx(1.8) and np.argmax(lai) == 6
    assert np.all(sai > 0)


def test_real_site_sand_clay_fallback_agrees(shared_data):
    file_params = read_site(shared_data / SITE).soil
    s = read_site(shared_data / SITE, hydraulics="sand_clay")
    assert s.hydraulics == "sand_clay"
    np.testing.assert_allclose(s.clay, (100 - s.sand) / 4)
    # Cosby's k_sat within a factor 3 of the file's: the cm/day reading is consistent
    ratio = s.soil.k_sat / file_params.k_sat
    assert np.all((ratio > 1 / 3) & (ratio < 3))


def _write(path, n=10, drop=(), units=None, values=None, soil_dim="soil"):
    import netCDF4

    vals = {
        "soil_theta_s": np.full(n, 0.45), "soil_psi_s": np.full(n, -40.0),
        "soil_lambda": np.full(n, 0.15), "soil_k_s": np.full(n, 12.0),
        "soil_wf_sand": np.full(n, 0.3),
    }
    vals.update(values or {})
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension(soil_dim, n)
        ds.createDimension("LAI_year", 1)
        ds.createDimension("month", 12)
        for name, val in (("latitude", 44.0), ("longitude", 123.0)):
            v = ds.createVariable(name, "f4", ())
            v[...] = val
        v = ds.createVariable("LAI_monthly", "f4", ("LAI_year", "month"))
        v.units = "m2/m2"
        v[:] = np.linspace(0.2, 2, 12)[None]
        v = ds.createVariable("SAI_monthly", "f4", ("LAI_year", "month"))
        v[:] = 0.4
        for name, val in vals.items():
            if name in drop:
                continue
            v = ds.createVariable(name, "f8", (soil_dim,), fill_value=-9999.0)
            if units and name in units:
                v.units = units[name]
            v[:] = val
    return path


def test_small_good_file(tmp_path):
    s = read_site(_write(tmp_path / "s.nc"))
    np.testing.assert_allclose(s.soil.psi_sat, -400.0)
    np.testing.assert_allclose(s.soil.k_sat, 12.0 * 10 / 86400)
    np.testing.assert_allclose(s.soil.b, 1 / 0.15)
    lai, sai = s.lai_for_year(1999)  # absent year: mean over years
    assert lai.shape == (12,)


def test_explicit_units_converted(tmp_path):
    s = read_site(_write(tmp_path / "s.nc", units={"soil_psi_s": "mm", "soil_k_s": "mm s-1"},
                         values={"soil_psi_s": np.full(10, -400.0),
                                 "soil_k_s": np.full(10, 0.002)}))
    np.testing.assert_allclose(s.soil.psi_sat, -400.0)
    np.testing.assert_allclose(s.soil.k_sat, 0.002)


def test_missing_hydraulics_falls_back_to_sand_clay(tmp_path):
    s = read_site(_write(tmp_path / "s.nc", drop=("soil_k_s",)))
    assert s.hydraulics == "sand_clay"
    with pytest.raises(InputError, match="soil_k_s.*not found"):
        read_site(tmp_path / "s.nc", hydraulics="file")


def test_missing_everything(tmp_path):
    with pytest.raises(InputError, match="soil_k_s.*not found"):
        read_site(_write(tmp_path / "s.nc", drop=("soil_k_s", "soil_wf_sand")))


def test_missing_latitude(tmp_path):
    import netCDF4

    p = tmp_path / "s.nc"
    with netCDF4.Dataset(p, "w") as ds:
        ds.createDimension("soil", 10)
    with pytest.raises(InputError, match="s.nc: variable 'latitude' not found"):
        read_site(p)


def test_wrong_units(tmp_path):
    with pytest.raises(InputError, match="'soil_k_s' has units 'furlong/fortnight'"):
        read_site(_write(tmp_path / "s.nc", units={"soil_k_s": "furlong/fortnight"}))


def test_implausible_values_suggest_units(tmp_path):
    # psi_s given positive: out of range
    with pytest.raises(InputError, match="soil_psi_s.*wrong units"):
        read_site(_write(tmp_path / "s.nc", values={"soil_psi_s": np.full(10, 40.0)}))


def test_wrong_layer_count(tmp_path):
    with pytest.raises(InputError, match="'soil' has 8 layers; expected 10"):
        read_site(_write(tmp_path / "s.nc", n=8))


def test_nan_and_fill(tmp_path):
    bad = np.full(10, 0.45)
    bad[3] = np.nan
    with pytest.raises(InputError, match="soil_theta_s.*NaN"):
        read_site(_write(tmp_path / "a.nc", values={"soil_theta_s": bad}))
    bad[3] = -9999.0
    with pytest.raises(InputError, match="soil_theta_s.*fill"):
        read_site(_write(tmp_path / "b.nc", values={"soil_theta_s": bad}))


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_site(tmp_path / "nope.nc")


def test_column_parameters_from_site(tmp_path):
    from landia.io.site import column_parameters

    params = column_parameters(read_site(_write(tmp_path / "s.nc")))
    assert params.n_columns == 1
    assert params.land_cover == ("grassland",)
    np.testing.assert_allclose(params.root_fraction.sum(), 1.0)


# -- reference height ---------------------------------------------------------------------

def _height_site(path, value=None):
    with netCDF4.Dataset(path, "w") as ds:
        if value is not None:
            ds.createVariable("reference_height", "f8")[...] = value
    return path


def test_reference_height_value_default_and_bad_values(tmp_path):
    assert read_reference_height(_height_site(tmp_path / "a.nc", 6.0)) == 6.0
    assert read_reference_height(_height_site(tmp_path / "b.nc")) == DEFAULT_REFERENCE_HEIGHT == 10.0
    for name, bad in (("c.nc", 0.0), ("d.nc", -2.0), ("e.nc", np.nan)):
        path = _height_site(tmp_path / name, bad)
        with pytest.raises(InputError, match=f"{name}: variable 'reference_height' = "):
            read_reference_height(path)


@pytest.mark.shared_data
def test_cn_cng_height_site(shared_data):
    path = shared_data / "plumber2_CN-Cng" / "CN-Cng_2008-2009_FLUXNET2015_site.nc"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    assert read_reference_height(path) == 6.0
