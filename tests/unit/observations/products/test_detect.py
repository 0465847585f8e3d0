"""read_product: format detection and the errors for unknown, empty and truncated files."""

from __future__ import annotations

import netCDF4
import numpy as np
import pytest

from landia.errors import InputError
from landia.observations.products import KNOWN_FORMATS, detect_format, read_product

DAILY = "c3s_sm/C3S-SOILMOISTURE-L3S-SSMV-COMBINED-DAILY-20170701000000-ICDR-v201706.0.0.nc"
ERAINT = "erainterim/ERAINT_AN_20000101_0000.nc"


def test_unknown_netcdf_lists_known_formats(tmp_path):
    path = tmp_path / "other.nc"
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("x", 2)
        ds.createVariable("Tair", "f4", ("x",))[:] = [280, 281]
        ds.createGroup("extra")
    with pytest.raises(InputError) as exc:
        read_product(path)
    msg = str(exc.value)
    assert "unknown soil-moisture product" in msg and "Tair" in msg and "groups extra" in msg
    for name in KNOWN_FORMATS:
        assert name in msg
    assert "swvl1" in msg and "SoilMoi0_10cm_inst" in msg and "Soil_Moisture_Retrieval" in msg


def test_missing_empty_and_not_netcdf(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_product(tmp_path / "absent.nc")
    empty = tmp_path / "empty.nc"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match=r"empty \(0 bytes\)"):
        read_product(empty)
    grib = tmp_path / "era5.grib"
    grib.write_bytes(b"GRIB" + bytes(100))
    with pytest.raises(InputError, match="GRIB is not supported.*known formats: era5"):
        read_product(grib)
    text = tmp_path / "notes.nc"
    text.write_text("hello")
    with pytest.raises(InputError, match="neither netCDF nor HDF5"):
        detect_format(text)
    with pytest.raises(InputError, match="is a directory"):
        read_product(tmp_path)


def test_format_option_and_bad_options(tmp_path):
    path = tmp_path / "era5.nc"
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("latitude", 2)
        ds.createDimension("longitude", 3)
        ds.createVariable("latitude", "f4", ("latitude",))[:] = [1.0, 0.0]
        ds.createVariable("longitude", "f4", ("longitude",))[:] = [0.0, 1.0, 2.0]
        v = ds.createVariable("time", "i4", ())
        v.units = "hours since 2000-01-01"
        v.assignValue(0)
        v = ds.createVariable("swvl1", "f4", ("latitude", "longitude"))
        v.units = "m**3 m**-3"
        v[:] = 0.3
        v = ds.createVariable("lsm", "f4", ("latitude", "longitude"))
        v[:] = [[1, 1, 0], [1, 0, 0]]
    (f,) = read_product(path, format="era5", lsm_threshold=0.5)
    assert f.rejected == {"sea": 3} and np.nansum(f.values) == pytest.approx(0.9)
    with pytest.raises(InputError, match="unknown product format 'grib'"):
        read_product(path, format="grib")
    with pytest.raises(InputError, match="option not accepted by the era5 reader"):
        read_product(path, passes=("AM",))
    with pytest.raises(InputError, match=r"'sm' not found"):
        read_product(path, format="cci")


@pytest.mark.parametrize("name", [DAILY, ERAINT])
@pytest.mark.parametrize("fraction", [0.3, 0.97])
def test_truncated_real_file(shared_data, tmp_path, name, fraction):
    data = (shared_data / name).read_bytes()
    path = tmp_path / "truncated.nc"
    path.write_bytes(data[:int(len(data) * fraction)])
    with pytest.raises(InputError, match=r"truncated\.nc.*truncated or corrupt"):
        read_product(path)
    # the reader called directly says the same
    with pytest.raises(InputError, match=r"truncated"):
        read_product(path, format="cci" if name == DAILY else "era5")
