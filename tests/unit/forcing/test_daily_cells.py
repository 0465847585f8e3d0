"""Forcing of 'cells' format from a folder of one-day files: the same record as from the one
file, to the bit; a missing day, a file of another day or other cells are InputErrors."""

from __future__ import annotations

import netCDF4
import numpy as np
import pytest

from landia.errors import InputError
from landia.forcing.daily_cells import DailyBlocks, daily_cell_forcing, match_cells
from landia.io.cell_days import DailyCellFiles, split_daily
from tests.unit.forcing.test_cell_series import NLDAS, write_daily

FIELDS = ("tair", "qair", "psurf", "wind", "swdown", "lwdown", "precip")


def same_to_the_bit(a, b):
    assert a.times.tolist() == b.times.tolist()
    for name in FIELDS:
        assert getattr(a, name).tobytes() == getattr(b, name).tobytes(), name


def test_folder_of_days_gives_the_single_file_record(tmp_path):
    src = write_daily(tmp_path / "src.nc", days=(0, 1, 2, 3))
    split_daily(src, tmp_path / "days", "2016-07-01", "2016-07-05")
    days = DailyCellFiles(tmp_path / "days")
    lat, lon = np.array([41.0, 40.0]), np.array([-101.0, -100.0])
    cells = match_cells(days, lat, lon)
    assert cells.tolist() == [1, 0]
    args = (cells, lat, lon, "2016-07-01T12:00", "2016-07-02T12:00", [0.0, 1500.0])
    same_to_the_bit(daily_cell_forcing(days, *args), daily_cell_forcing(src, *args))

    (tmp_path / "days" / "nldas2_20160702.nc").unlink()
    with pytest.raises(InputError, match=r"days: no daily file for 2016-07-02"):
        daily_cell_forcing(DailyCellFiles(tmp_path / "days"), *args)
    # a file named for one day holding another, and a file on other cells
    write_daily(tmp_path / "days" / "nldas2_20160702.nc", days=(2,))
    with pytest.raises(InputError, match=r"nldas2_20160702.nc: no time in"):
        daily_cell_forcing(DailyCellFiles(tmp_path / "days"), *args)


def test_a_day_on_other_cells_is_refused(tmp_path):
    src = write_daily(tmp_path / "src.nc", days=(0, 1))
    split_daily(src, tmp_path / "days", "2016-07-01", "2016-07-03")
    other = tmp_path / "days" / "nldas2_20160702.nc"
    write_daily(other, days=(1,))
    with netCDF4.Dataset(other, "a") as ds:
        ds["lat"][:] = [40.5, 41.0]
    days = DailyCellFiles(tmp_path / "days")
    with pytest.raises(InputError, match="nldas2_20160702.nc: its cells are not those of"):
        daily_cell_forcing(days, np.array([0, 1]), np.array([40.0, 41.0]),
                           np.array([-100.0, -101.0]), "2016-07-01T12:00", "2016-07-02T12:00")


@pytest.mark.shared_data
def test_real_nldas_days_equal_the_file_at_every_cell(shared_data, tmp_path):
    nldas = shared_data / NLDAS
    if not nldas.exists():
        pytest.skip(f"{nldas} is absent")
    split_daily(nldas, tmp_path / "days", "2016-06-01", "2016-06-04")
    days = DailyCellFiles(str(tmp_path / "days" / "nldas2_*.nc"))
    with netCDF4.Dataset(nldas) as ds:
        lat, lon = np.asarray(ds["lat"][:]), np.asarray(ds["lon"][:])
    cells = match_cells(days, lat, lon)
    args = (cells, lat, lon, "2016-06-01T12:00", "2016-06-03T12:00", None, 1800.0)
    same_to_the_bit(daily_cell_forcing(days, *args), daily_cell_forcing(nldas, *args))


def test_blocks_give_each_window_the_record_of_its_own_read(tmp_path):
    """DailyBlocks reads a block of days once; every window, inside a block or across two,
    gets the record a read of its own days gives, to the bit; past the file's end the
    window is refused as before."""
    src = write_daily(tmp_path / "src.nc", days=tuple(range(9)))
    lat, lon = np.array([41.0, 40.0]), np.array([-101.0, -100.0])
    cells = match_cells(src, lat, lon)
    blocks = DailyBlocks(src, cells, [0.0, 1500.0], block_days=3)
    for day in range(8):
        start = np.datetime64("2016-07-01T12:00") + np.timedelta64(day, "D")
        args = (cells, lat, lon, start, start + np.timedelta64(1, "D"), [0.0, 1500.0])
        same_to_the_bit(daily_cell_forcing(blocks, *args), daily_cell_forcing(src, *args))
    late = (cells, lat, lon, "2016-07-09T12:00", "2016-07-10T12:00", [0.0, 1500.0])
    with pytest.raises(InputError, match="needs the 2 days"):
        daily_cell_forcing(blocks, *late)
