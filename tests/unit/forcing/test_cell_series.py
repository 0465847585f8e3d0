"""Daily forcing from a CF time series per cell: the real NLDAS-2 daily means (a few weeks, a
few cells) and small written files (wind, pressure, time stamps, gaps)."""

from __future__ import annotations

import netCDF4
import numpy as np
import pytest

from landia.errors import InputError
from landia.forcing.cell_series import (P0, forcing_from_cell_series,
                                        standard_atmosphere_pressure)
from landia.log import configure_logging

NLDAS = "conus_nldas_smap/nldas2_daily_2015-2018.nc"

VARIABLES = {  # name: (standard_name, units, value)
    "T": ("air_temperature", "K", 290.0),
    "Q": ("specific_humidity", "kg kg-1", 0.008),
    "SW": ("surface_downwelling_shortwave_flux_in_air", "W m-2", 200.0),
    "LW": ("surface_downwelling_longwave_flux_in_air", "W m-2", 320.0),
    "P": ("precipitation_rate", "kg m-2 h-1", 0.36),
    "U": ("eastward_wind", "m s-1", 3.0),
    "V": ("northward_wind", "m s-1", -4.0),
}


def write_daily(path, days=(0, 1, 2), hour=0.0, gap=None, drop=()):
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("cell", 2)
        ds.createDimension("time", len(days))
        for name, sn in (("lat", "latitude"), ("lon", "longitude")):
            v = ds.createVariable(name, "f8", ("cell",))
            v.standard_name = sn
            v[:] = [40.0, 41.0] if name == "lat" else [-100.0, -101.0]
        t = ds.createVariable("time", "f8", ("time",))
        t.standard_name, t.units = "time", "days since 2016-07-01"
        t[:] = np.asarray(days, dtype=float) + hour / 24
        for name, (sn, units, value) in VARIABLES.items():
            if name in drop:
                continue
            v = ds.createVariable(name, "f4", ("time", "cell"), fill_value=np.float32(np.nan))
            v.standard_name, v.units = sn, units
            data = np.full((len(days), 2), value)
            if gap is not None and name == gap:
                data[1, 1] = np.nan
            v[:] = data
    return path


def test_written_file_gives_a_daily_record(tmp_path, capsys):
    configure_logging("json", "info", 0, 1)
    f = forcing_from_cell_series(write_daily(tmp_path / "f.nc"))
    assert f.times.tolist() == [np.datetime64(f"2016-07-0{d}T00:00:00") for d in (1, 2, 3)]
    np.testing.assert_allclose(f.wind, 5.0, rtol=1e-6)           # |(3, -4)|
    np.testing.assert_allclose(f.precip, 1e-4, rtol=1e-6)        # 0.36 kg m-2 h-1
    np.testing.assert_allclose(f.lwdown, 320.0)
    np.testing.assert_array_equal(f.psurf, P0)
    err = capsys.readouterr().err
    assert "surface_pressure_assumed" in err and "sea level" in err


def test_midday_stamps_are_day_midpoints(tmp_path):
    f = forcing_from_cell_series(write_daily(tmp_path / "f.nc", hour=12.0), cells=[1])
    assert f.times[0] == np.datetime64("2016-07-01T00:00:00") and f.lat.tolist() == [41.0]
    with pytest.raises(InputError, match="neither at 00:00 nor at 12:00 UTC"):
        forcing_from_cell_series(write_daily(tmp_path / "g.nc", hour=6.0))


def test_gaps_missing_days_and_missing_wind_are_refused(tmp_path):
    with pytest.raises(InputError, match=r"f\.nc: standard_name 'specific_humidity' \(variable "
                                         r"'Q', forcing qair\) has 1 missing values, the first "
                                         r"at 2016-07-02T00:00:00 UTC, cell 1"):
        forcing_from_cell_series(write_daily(tmp_path / "f.nc", gap="Q"))
    with pytest.raises(InputError, match="a time step of 48 h after 2016-07-02"):
        forcing_from_cell_series(write_daily(tmp_path / "g.nc", days=(0, 1, 3)))
    with pytest.raises(InputError, match="no wind"):
        forcing_from_cell_series(write_daily(tmp_path / "h.nc", drop=("V",)))
    with pytest.raises(InputError, match=r"h2\.nc: no variable with standard_name "
                                         r"'precipitation_flux' \(or 'precipitation_rate'"):
        forcing_from_cell_series(write_daily(tmp_path / "h2.nc", drop=("P",)))


def test_standard_atmosphere_pressure():
    # ICAO: 101325 Pa at sea level, 89875 Pa at 1000 m, 79495 Pa at 2000 m
    np.testing.assert_allclose(standard_atmosphere_pressure([0.0, 1000.0, 2000.0]),
                               [101325.0, 89874.6, 79495.2], rtol=2e-5)
    with pytest.raises(InputError, match="elevation"):
        standard_atmosphere_pressure([np.nan])


@pytest.fixture(scope="module")
def nldas(shared_data):
    if not (shared_data / NLDAS).exists():
        pytest.skip(f"{shared_data / NLDAS} is absent")
    return shared_data / NLDAS


@pytest.mark.shared_data
def test_real_nldas_four_weeks_at_four_cells(nldas, capsys):
    configure_logging("json", "info", 0, 1)
    cells = [0, 100, 250, 411]
    f = forcing_from_cell_series(nldas, "2016-01-01", "2016-01-29", cells,
                                 elevation=[0.0, 500.0, 1500.0, 200.0])
    assert f.n_times == 28 and f.n_columns == 4
    assert np.all(np.diff(f.times) == np.timedelta64(1, "D"))
    np.testing.assert_allclose(f.psurf[0], standard_atmosphere_pressure([0, 500, 1500, 200]))
    assert "ICAO standard atmosphere" in capsys.readouterr().err
    with netCDF4.Dataset(nldas) as ds:
        k = int(np.nonzero(ds["time"][:] == (np.datetime64("2016-01-01")
                                             - np.datetime64("1970-01-01")).astype(int))[0][0])
        u = ds["UGRD_10_FORA"][k:k + 28, cells].astype(float)
        v = ds["VGRD_10_FORA"][k:k + 28, cells].astype(float)
        p = ds["APCP_FORA"][k:k + 28, cells].astype(float)
    np.testing.assert_allclose(f.wind, np.hypot(u, v), rtol=1e-12)
    # daily precipitation totals are kept: mean rate (kg m-2 s-1) * 86400 = 24 * hourly mean
    np.testing.assert_allclose(f.precip * 86400, 24 * p, rtol=1e-12)
    # January over the US: winter temperatures, dry air, longwave from the file
    assert np.all((f.tair > 230) & (f.tair < 300)) and np.all(f.qair < 0.02)
    assert f.lwdown is not None and np.all((f.lwdown > 100) & (f.lwdown < 450))
