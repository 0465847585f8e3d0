"""C3S / ESA CCI soil-moisture reader: flags by reason, uncertainty, periods, products."""

from __future__ import annotations

import netCDF4
import numpy as np
import pytest

from landia.errors import InputError
from landia.observations.products import detect_format, read_product
from landia.observations.products.cci import DEFAULT_BITS, flag_bits, read_cci

DAILY = "c3s_sm/C3S-SOILMOISTURE-L3S-SSMV-COMBINED-DAILY-20170701000000-ICDR-v201706.0.0.nc"
MONTHLY = "c3s_sm/C3S-SOILMOISTURE-L3S-SSMV-COMBINED-MONTHLY-2016{:02d}01000000-TCDR-v201801.0.0.nc"

#: measured on the C3S daily file (each cell once, under its lowest flag bit)
DAILY_COUNTS = {"flag_frozen_or_snow": 1612, "flag_dense_vegetation": 3567,
                "flag_no_convergence": 15051, "flag_above_physical_bound": 791,
                "flag_low_weight": 10565, "flag_all_inputs_unreliable": 23843,
                "fill": 834821}


def write_esa_cci(path, sm, flag, unc=None, units="m3 m-3", duration="P10D"):
    """An ESA CCI-like file (v06-style flag_masks with an advisory bit 64)."""
    ny, nx = sm.shape
    with netCDF4.Dataset(path, "w", format="NETCDF4_CLASSIC") as ds:
        ds.title = "ESA CCI Surface Soil Moisture Product"
        ds.project = "Climate Change Initiative - European Space Agency"
        ds.id = path.name
        ds.time_coverage_duration = duration
        ds.createDimension("time", 1)
        ds.createDimension("lat", ny)
        ds.createDimension("lon", nx)
        v = ds.createVariable("time", "f8", ("time",))
        v.units = "days since 1970-01-01 00:00:00 UTC"
        v[:] = [17348.0]
        ds.createVariable("lat", "f4", ("lat",))[:] = 50.125 - 0.25 * np.arange(ny)
        ds.createVariable("lon", "f4", ("lon",))[:] = 10.125 + 0.25 * np.arange(nx)
        v = ds.createVariable("sm", "f4", ("time", "lat", "lon"), fill_value=np.float32(-9999))
        v.units = units
        v[0] = np.where(np.isnan(sm), -9999.0, sm)
        if unc is not None:
            v = ds.createVariable("sm_uncertainty", "f4", ("time", "lat", "lon"),
                                  fill_value=np.float32(-9999))
            v.units = "m3 m-3"
            v[0] = np.where(np.isnan(unc), -9999.0, unc)
        v = ds.createVariable("flag", "i1", ("time", "lat", "lon"), fill_value=np.int8(127))
        v.flag_masks = np.array([1, 2, 4, 8, 16, 32, 64], dtype=np.int8)
        v.flag_meanings = ("snow_coverage_or_temperature_below_zero dense_vegetation "
                           "others_no_convergence_in_the_model_thus_no_valid_sm_estimates "
                           "soil_moisture_value_exceeds_physical_boundary "
                           "weight_of_measurement_below_threshold all_datasets_deemed_unreliable "
                           "barren_ground_advisory_flag")
        v[0] = flag


def test_esa_cci_flags_advisory_and_uncertainty(tmp_path):
    sm = np.full((3, 4), 0.25)
    sm[0, 0] = np.nan                  # fill, no flag
    flag = np.zeros((3, 4), dtype=np.int8)
    flag[0, 1] = 1                     # snow, value present: rejected anyway
    flag[0, 2] = 1 | 2                 # counted once, under snow
    flag[1, 0] = 6                     # dense vegetation + no convergence -> vegetation
    flag[1, 1] = 8
    flag[1, 2] = 16
    flag[1, 3] = 32
    flag[2, 0] = 64                    # advisory: kept
    flag[2, 1] = 64 | 4                # no convergence
    unc = np.full((3, 4), 0.04)
    path = tmp_path / "ESACCI-SOILMOISTURE-L3S-SSMV-COMBINED-20170701000000-fv06.1.nc"
    write_esa_cci(path, sm, flag, unc)
    assert detect_format(path) == "cci"
    (f,) = read_product(path)
    assert f.product == "esa_cci" and f.period == "dekad"
    assert f.time == np.datetime64("2017-07-01T00:00:00")
    assert f.rejected == {"fill": 1, "flag_frozen_or_snow": 2, "flag_dense_vegetation": 1,
                          "flag_no_convergence": 1, "flag_above_physical_bound": 1,
                          "flag_low_weight": 1, "flag_all_inputs_unreliable": 1}
    assert np.isnan(f.values).sum() == sum(f.rejected.values()) == 8
    assert f.values[0, 2, 0] == pytest.approx(0.25)  # advisory only
    ok = np.isfinite(f.values[0])
    np.testing.assert_allclose(f.error_variance[0][ok], 0.04 ** 2, rtol=1e-6)
    assert np.all(np.isnan(f.error_variance[0][~ok]))
    np.testing.assert_allclose([f.layer_top[0], f.layer_bottom[0]], [0.0, 0.05])
    assert f.lat[0] > f.lat[-1]
    (g,) = read_cci(path, layer=(0.0, 0.02), product="c3s")
    assert g.product == "c3s" and g.layer_bottom[0] == 0.02


def test_flag_meanings_from_file_and_default():
    class Var:
        flag_values = np.array([0, 1, 2, 3, 4, 8, 16, 32, 127])
        flag_meanings = ("no_data_inconsistency_detected snow_coverage_or_temperature_below_zero "
                         "dense_vegetation combination_of_flag_values_1_and_2 "
                         "others_no_convergence_in_the_model_thus_no_valid_sm_estimates "
                         "soil_moisture_value_exceeds_physical_boundary "
                         "weight_of_measurement_below_threshold all_datasets_deemed_unreliable "
                         "NaN")
        _FillValue = 127
    assert flag_bits("f", Var()) == DEFAULT_BITS
    assert flag_bits("f", object()) == DEFAULT_BITS

    class Odd:
        flag_masks = [1, 2]
        flag_meanings = "frozen_ground rfi_detected"
    assert flag_bits("f", Odd()) == {1: "flag_frozen_or_snow", 2: "flag_rfi_detected"}

    class Bad:
        flag_masks = [1, 2]
        flag_meanings = "frozen_ground"
    with pytest.raises(InputError, match="2 flag values but 1 flag_meanings"):
        flag_bits("f", Bad())


def test_active_product_units_refused(tmp_path):
    path = tmp_path / "ESACCI-SOILMOISTURE-L3S-SSMS-ACTIVE-20170701000000-fv06.1.nc"
    write_esa_cci(path, np.full((2, 2), 40.0), np.zeros((2, 2), dtype=np.int8),
                  units="percent of saturation")
    with pytest.raises(InputError, match=r"'sm' has units 'percent of saturation'.*m3 m-3.*"
                                         r"ACTIVE"):
        read_product(path)


def test_all_fill_image_returns_nan_field(tmp_path):
    path = tmp_path / "ESACCI-SOILMOISTURE-L3S-SSMV-COMBINED-20170701000000-fv06.1.nc"
    write_esa_cci(path, np.full((4, 5), np.nan), np.full((4, 5), 127, dtype=np.int8),
                  duration="P1D")
    (f,) = read_product(path)
    assert f.period == "day"
    assert np.all(np.isnan(f.values)) and f.rejected == {"fill": 20}


def test_real_c3s_daily_counts(shared_data):
    path = shared_data / DAILY
    assert detect_format(path) == "cci"
    (f,) = read_product(path)
    assert f.product == "c3s" and f.period == "day"
    assert f.time == np.datetime64("2017-07-01T00:00:00")
    assert f.values.shape == (1, 720, 1440)
    assert f.lat[0] == 89.875 and f.lat[-1] == -89.875
    assert f.lon[0] == -179.875 and f.lon[-1] == 179.875
    assert f.rejected == DAILY_COUNTS
    n_valid = 146550
    assert np.isfinite(f.values).sum() == n_valid
    assert np.isnan(f.values).sum() == sum(f.rejected.values())
    assert n_valid + sum(f.rejected.values()) == 720 * 1440
    # every flagged cell is NaN; every unflagged NaN is a fill
    with netCDF4.Dataset(path) as ds:
        flag = ds["flag"][0].filled(127).astype(int)
        sm_raw = ds["sm"][0]
    flagged = (flag > 0) & (flag != 127)
    assert flagged.sum() == sum(v for k, v in DAILY_COUNTS.items() if k != "fill")
    assert np.all(np.isnan(f.values[0][flagged]))
    assert np.isnan(f.values[0][~flagged]).sum() == DAILY_COUNTS["fill"]
    # bit by bit: cells with a bit set are at least the cells counted under it
    assert ((flag & 1) > 0)[flagged].sum() == DAILY_COUNTS["flag_frozen_or_snow"]
    assert ((flag & 4) > 0)[flagged].sum() >= DAILY_COUNTS["flag_no_convergence"]
    # values untouched where valid, realistic range
    ok = np.isfinite(f.values[0])
    np.testing.assert_array_equal(f.values[0][ok], sm_raw.data[ok].astype(float))
    assert 0.0 <= np.nanmin(f.values) and np.nanmax(f.values) < 0.7
    assert 0.1 < np.nanmean(f.values) < 0.35
    # uncertainty -> variance, present on most valid cells
    ev = f.error_variance[0]
    assert np.all(np.isnan(ev[~ok]))
    assert 0.5 < np.isfinite(ev[ok]).mean() <= 1.0
    assert 0.0 < np.nanmedian(np.sqrt(ev)) < 0.1


@pytest.mark.parametrize("month,valid", [(4, 158696), (5, 178785), (6, 184907)])
def test_real_c3s_monthly(shared_data, month, valid):
    (f,) = read_product(shared_data / MONTHLY.format(month))
    assert f.product == "c3s" and f.period == "month"
    assert f.time == np.datetime64(f"2016-{month:02d}-01T00:00:00")
    assert f.error_variance is None  # monthly files have no sm_uncertainty nor flag
    assert np.isfinite(f.values).sum() == valid
    assert f.rejected == {"fill": 720 * 1440 - valid}
    assert 0.0 <= np.nanmin(f.values) and np.nanmax(f.values) < 0.7
