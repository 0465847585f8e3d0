"""Daily files of a CF time series per cell: split_daily writes one file a day whose values
are those of the source to the bit; DailyCellFiles indexes them by day."""

from __future__ import annotations

import netCDF4
import pytest

from landia.errors import InputError
from landia.io.cell_days import DailyCellFiles, day_file_name, split_daily
from landia.io.cell_series import read_cell_series
from tests.unit.forcing.test_cell_series import write_daily


def test_split_daily_writes_each_day_to_the_bit(tmp_path):
    src = write_daily(tmp_path / "src.nc", days=(0, 1, 2, 3), gap="Q")
    files = split_daily(src, tmp_path / "days", "2016-07-02", "2016-07-04", prefix="f")
    assert [f.name for f in files] == ["f_20160702.nc", "f_20160703.nc"]
    assert not list((tmp_path / "days").glob(".*"))              # no temporary left
    names = ["air_temperature", "specific_humidity", "precipitation_flux"]
    whole = read_cell_series(src, names, "2016-07-02", "2016-07-04")
    for k, f in enumerate(files):
        one = read_cell_series(f, names)
        assert one.times.tolist() == whole.times[k:k + 1].tolist()
        for n in names:   # NaN of the gap included
            assert one.values[n].tobytes() == whole.values[n][k:k + 1].tobytes()
        with netCDF4.Dataset(f) as ds, netCDF4.Dataset(src) as s:
            assert ds["Q"].dtype == s["Q"].dtype and ds["Q"].units == s["Q"].units
            assert len(ds.dimensions["time"]) == 1 and len(ds.dimensions["cell"]) == 2
    with pytest.raises(InputError, match=r"src.nc: no day in \[2017-01-01, 2017-01-02\)"):
        split_daily(src, tmp_path / "days", "2017-01-01", "2017-01-02")


def test_daily_files_index_by_day_and_name_a_missing_day(tmp_path):
    src = write_daily(tmp_path / "src.nc", days=(0, 1, 2, 3))
    split_daily(src, tmp_path / "days", "2016-07-01", "2016-07-05")
    (tmp_path / "days" / day_file_name("nldas2", "2016-07-03")).unlink()
    files = DailyCellFiles(tmp_path / "days")
    assert sorted(map(str, files.days)) == ["2016-07-01", "2016-07-02", "2016-07-04"]
    assert files.path("2016-07-04").name == "nldas2_20160704.nc"
    with pytest.raises(InputError, match=r"days: no daily file for 2016-07-03 \(the folder "
                                         r"holds 3 day\(s\), 2016-07-01 to 2016-07-04\)"):
        files.path("2016-07-03")
    pattern = DailyCellFiles(str(tmp_path / "days" / "nldas2_2016070[12].nc"))
    assert len(pattern.days) == 2
    (tmp_path / "days" / "readme.nc").write_text("x")
    with pytest.raises(InputError, match="readme.nc: no YYYYMMDD day"):
        DailyCellFiles(tmp_path / "days")
    with pytest.raises(InputError, match="no daily file"):
        DailyCellFiles(tmp_path / "empty*")
