"""SMAP L3 (SPL3SMP) reader: HDF5 layout, AM/PM, quality flag, EASE-Grid 2.0 axes."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from landia.errors import InputError
from landia.observations.products import detect_format, read_product
from landia.observations.products.smap import ease2_axes, ease2_forward, read_smap

NROWS, NCOLS = 406, 964
CELL = 36032.220840584  # m, NSIDC EASE-Grid 2.0 M36

# -- the test's own EASE-Grid 2.0 forward projection (EPSG:6933), inverted by bisection


def _forward_y(lat_deg):
    a, f = 6378137.0, 1 / 298.257223563
    e2 = f * (2 - f)
    e = np.sqrt(e2)

    def q(phi):
        s = np.sin(phi)
        return (1 - e2) * (s / (1 - e2 * s * s) - 1 / (2 * e) * np.log((1 - e * s) / (1 + e * s)))

    k0 = np.cos(np.pi / 6) / np.sqrt(1 - e2 * np.sin(np.pi / 6) ** 2)
    return a * q(np.radians(lat_deg)) / (2 * k0), a * k0


def _lat_of_y(y):
    lo, hi = np.full_like(y, -90.0), np.full_like(y, 90.0)
    for _ in range(80):
        mid = (lo + hi) / 2
        below = _forward_y(mid)[0] < y
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return (lo + hi) / 2


def reference_axes():
    _, ak0 = _forward_y(0.0)
    y = (NROWS / 2 - 0.5 - np.arange(NROWS)) * CELL
    x = (np.arange(NCOLS) - NCOLS / 2 + 0.5) * CELL
    return _lat_of_y(y), np.degrees(x / ak0)


# -- a synthetic SPL3SMP file: the real shape, mostly fill

VALID = [(0, 0), (0, 963), (100, 500), (150, 700), (200, 481), (203, 482), (300, 250),
         (405, 10), (405, 963), (250, 600)]
QUALITY_BAD = {(150, 700), (250, 600)}  # bit 0 set (recommended quality not met)


def write_smap(path, pm_suffix=True, lat_shift=0.0, with_times=True):
    lat_ref, lon_ref = reference_axes()
    with h5py.File(path, "w") as h:
        h.create_group("Metadata").attrs["ShortName"] = "SPL3SMP"
        for pas, suffix in (("AM", ""), ("PM", "_pm" if pm_suffix else "")):
            g = h.create_group(f"Soil_Moisture_Retrieval_Data_{pas}")
            sm = np.full((NROWS, NCOLS), -9999.0, dtype=np.float32)
            err = np.full_like(sm, -9999.0)
            lat = np.full_like(sm, -9999.0)
            lon = np.full_like(sm, -9999.0)
            qf = np.full((NROWS, NCOLS), 65534, dtype=np.uint16)
            secs = np.full((NROWS, NCOLS), -9999.0)
            utc = np.full((NROWS, NCOLS), b"N/A", dtype="S24")
            for k, (r, c) in enumerate(VALID):
                sm[r, c] = 0.05 + 0.04 * k + (0.01 if pas == "PM" else 0.0)
                err[r, c] = 0.03
                lat[r, c] = lat_ref[r] + lat_shift
                lon[r, c] = lon_ref[c]
                qf[r, c] = 1 if (r, c) in QUALITY_BAD else (8 if k % 2 else 0)  # bit 3: ok
                hour = (6 if pas == "AM" else 18) + (k - 5) * 0.1
                secs[r, c] = 15 * 365.25 * 86400 + hour * 3600  # ~2015
                t = np.datetime64("2015-04-01T00:00:00", "s") + np.timedelta64(
                    int(hour * 3600), "s")
                utc[r, c] = (str(t) + ".000Z").encode()
            for name, data in (("soil_moisture", sm), ("soil_moisture_error", err),
                               ("latitude", lat), ("longitude", lon),
                               ("retrieval_qual_flag", qf)):
                d = g.create_dataset(name + suffix, data=data)
                d.attrs["_FillValue"] = np.array([65534 if data.dtype == np.uint16 else -9999.0],
                                                 dtype=data.dtype)
                if name == "soil_moisture":
                    d.attrs["units"] = np.bytes_("cm**3/cm**3")
            if with_times:
                if pas == "AM":
                    g.create_dataset("tb_time_utc", data=utc)
                else:
                    g.create_dataset("tb_time_seconds" + suffix, data=secs)


def test_grid_reference_points():
    lat, lon = ease2_axes(NROWS, NCOLS)
    lat_ref, lon_ref = reference_axes()
    # against the test's own forward projection, inverted numerically
    assert np.max(np.abs(lat - lat_ref)) < 1e-6
    assert np.max(np.abs(lon - lon_ref)) < 1e-9
    # documented EASE2 M36 points: column 0 centre -179.8133 E; the northern edge of row 0
    # is the grid's limit, 85.04457 N (row 0's centre is 83.632 N, not 85.04)
    assert lon[0] == pytest.approx(-179.8133, abs=1e-4)
    assert lon[-1] == pytest.approx(179.8133, abs=1e-4)
    assert lat[0] == pytest.approx(83.632, abs=1e-3)
    edge_lat = _lat_of_y(np.array([NROWS / 2 * CELL]))[0]
    assert edge_lat == pytest.approx(85.04457, abs=1e-4)
    # symmetric, strictly decreasing, non-uniform, equal-area rows
    np.testing.assert_allclose(lat, -lat[::-1], atol=1e-9)
    d = -np.diff(lat)
    assert np.all(d > 0) and d.max() / d.min() > 5
    x, y = ease2_forward(lat, lon[:1].repeat(NROWS))
    np.testing.assert_allclose(-np.diff(y), CELL, rtol=1e-7)  # series inverse: < 4 mm
    with pytest.raises(InputError, match="not a known global grid"):
        ease2_axes(400, 964)


@pytest.mark.parametrize("pm_suffix", [True, False])
def test_read_am_pm(tmp_path, pm_suffix):
    path = tmp_path / "SMAP_L3_SM_P_20150401_R18290_001.h5"
    write_smap(path, pm_suffix=pm_suffix)
    assert detect_format(path) == "smap_l3"
    am, pm = read_product(path)
    n = NROWS * NCOLS
    for f, extra in ((am, 0.0), (pm, 0.01)):
        assert f.values.shape == (1, NROWS, NCOLS) and f.product == "smap_l3"
        assert f.rejected == {"fill": n - len(VALID), "flag_quality": len(QUALITY_BAD)}
        assert np.isnan(f.values).sum() == sum(f.rejected.values())
        for k, (r, c) in enumerate(VALID):
            if (r, c) in QUALITY_BAD:
                assert np.isnan(f.values[0, r, c])
            else:
                assert f.values[0, r, c] == pytest.approx(0.05 + 0.04 * k + extra, abs=1e-6)
                assert f.error_variance[0, r, c] == pytest.approx(0.03 ** 2, rel=1e-5)
        assert np.all(np.isnan(f.error_variance[np.isnan(f.values)]))
        np.testing.assert_allclose([f.layer_top[0], f.layer_bottom[0]], [0.0, 0.05])
        assert f.lat[0] > 83 and f.lat[-1] < -83 and f.lon[0] < -179.8
    # AM: median of tb_time_utc (06:00 - 0.5 .. + 0.4 h: median 05:57); PM: median of
    # tb_time_seconds since J2000 (2000-01-01T11:58:55.816 UTC)
    assert am.time == np.datetime64("2015-04-01T05:57:00")
    assert "Soil_Moisture_Retrieval_Data_AM" in am.source
    expected_pm = (np.datetime64("2000-01-01T11:58:55.816", "ms")
                   + np.timedelta64(int((15 * 365.25 * 86400 + (18 - 0.05) * 3600) * 1000), "ms"))
    assert abs(pm.time - expected_pm.astype("datetime64[s]")) <= np.timedelta64(1, "s")
    assert "_PM" in pm.source


def test_options_and_fallback_time(tmp_path):
    path = tmp_path / "SMAP_L3_SM_P_20150401_R18290_001.h5"
    write_smap(path, with_times=False)
    (pm,) = read_smap(path, passes=("PM",), reject_quality=False)
    assert pm.time == np.datetime64("2015-04-01T18:00:00")  # file date, nominal hour
    assert pm.rejected == {"fill": NROWS * NCOLS - len(VALID)}
    with pytest.raises(InputError, match="expected 'AM' and/or 'PM'"):
        read_smap(path, passes=("XX",))


def test_wrong_coordinates_refused(tmp_path):
    path = tmp_path / "SMAP_L3_SM_P_20150401_R18290_001.h5"
    write_smap(path, lat_shift=0.5)  # not the EASE-Grid 2.0 rows
    with pytest.raises(InputError, match="latitude at row 0, column 0.*EASE-Grid 2.0"):
        read_smap(path)
    assert len(read_smap(path, check_coordinates=False)) == 2


def test_not_smap_hdf5_refused(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as h:
        h.create_group("Soil_Moisture_Retrieval_Data_Polar")
    with pytest.raises(InputError, match="no group Soil_Moisture_Retrieval_Data_AM"):
        read_smap(path)
    with h5py.File(path, "w") as h:
        h.create_group("Soil_Moisture_Retrieval_Data_AM").create_dataset(
            "soil_moisture", data=np.zeros((10, 20), dtype=np.float32))
    with pytest.raises(InputError, match=r"shape \(10, 20\).*406 x 964"):
        read_product(path)


def test_all_fill_pass_returns_nan_field(tmp_path):
    path = tmp_path / "SMAP_L3_SM_P_20150402_R18290_001.h5"
    with h5py.File(path, "w") as h:
        g = h.create_group("Soil_Moisture_Retrieval_Data_AM")
        g.create_dataset("soil_moisture", data=np.full((NROWS, NCOLS), -9999.0, "f4"))
    (f,) = read_product(path)
    assert np.all(np.isnan(f.values)) and f.rejected == {"fill": NROWS * NCOLS}
    assert f.time == np.datetime64("2015-04-02T06:00:00") and f.error_variance is None
