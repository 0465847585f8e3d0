"""``landia split-daily``: one file per day; a range without data is exit status 2."""

from __future__ import annotations

from landia.cli import main
from landia.io.cell_days import DailyCellFiles
from tests.unit.forcing.test_cell_series import write_daily


def test_split_daily_writes_one_file_a_day(tmp_path):
    src = write_daily(tmp_path / "src.nc", days=(0, 1, 2))
    assert main(["split-daily", str(src), "--output-dir", str(tmp_path / "d"), "--start",
                 "2016-07-01", "--end", "2016-07-03", "--prefix", "met"]) == 0
    days = DailyCellFiles(tmp_path / "d")
    assert [p.name for p in days.days.values()] == ["met_20160701.nc", "met_20160702.nc"]
    assert main(["split-daily", str(src), "--output-dir", str(tmp_path / "d"), "--start",
                 "2017-01-01", "--end", "2017-01-02"]) == 2
