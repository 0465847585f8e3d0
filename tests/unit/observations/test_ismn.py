"""ISMN header+values reader: the real Maqu files, line endings, flags and clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from landia.errors import InputError
from landia.observations.ismn import (
    DEFAULT_ACCEPTED_FLAGS,
    accepted,
    parse_filename,
    parse_flag_option,
    read_ismn,
)

HEADER = ("MAQU       MAQU            CST_01            33.88330   102.13330 3431.00    0.05"
          "    0.05 ECH20-EC-TM ")
NAME = "MAQU_MAQU_CST-01_sm_0.050000_0.050000_ECH20-EC-TM_20070101_20131231.stm"


def _write(path, lines, eol="\r"):
    path.write_bytes(eol.join(lines).encode() + eol.encode())
    return path


def _real(shared_data, station):
    files = sorted((shared_data / "ismn_maqu").glob(f"MAQU_MAQU_{station}_sm_*.stm"))
    if not files:
        pytest.skip(f"ISMN file of {station} absent from {shared_data / 'ismn_maqu'}")
    return read_ismn(files[0])


@pytest.mark.shared_data
def test_real_cst01(shared_data):
    s = _real(shared_data, "CST-01")
    assert (s.cse, s.network, s.station, s.sensor) == ("MAQU", "MAQU", "CST_01", "ECH20-EC-TM")
    assert s.lat == pytest.approx(33.8833) and s.lon == pytest.approx(102.1333)
    assert s.elevation == 3431.0 and s.depth_from == s.depth_to == 0.05
    assert s.values.size == 15927
    assert s.times[0] == np.datetime64("2008-07-01T00:00") and \
        s.times[-1] == np.datetime64("2010-07-31T23:00")
    steps = np.diff(s.times).astype("timedelta64[h]").astype(int)
    assert np.median(steps) == 1  # hourly
    assert steps.max() > 24 * 90  # the gap 2009-09 .. 2010-01
    assert s.values.size < 18264  # hours 2008-07-01 .. 2010-07-31: gaps
    assert 0.0 <= s.values.min() and s.values.max() <= 0.7
    counts = s.flag_counts()
    assert counts["U"] == 9407 and "G" not in counts
    assert counts["C03"] == 1338
    assert sum(n for f, n in counts.items() if "C03" in f) == 1385
    assert sum(n for f, n in counts.items() if "D" in f) == 5182
    ok = accepted(s.ismn_flag)
    assert ok.sum() == 9407
    assert s.values[ok].min() == pytest.approx(0.20) and s.values[ok].max() == pytest.approx(0.46)
    assert set(s.provider_flag) == {"M"}


@pytest.mark.shared_data
def test_real_cst02(shared_data):
    s = _real(shared_data, "CST-02")
    assert s.station == "CST_02" and s.lat == pytest.approx(33.6666)
    assert s.lon == pytest.approx(102.1333) and s.elevation == 3449.0 and s.depth_from == 0.05
    assert s.values.size == 18090
    assert s.times[0] == np.datetime64("2008-07-01T00:00") and \
        s.times[-1] == np.datetime64("2010-07-31T23:00")
    counts = s.flag_counts()
    assert counts["U"] == 9801 and "G" not in counts
    assert sum(n for f, n in counts.items() if "C03" in f) == 2190
    ok = accepted(s.ismn_flag)
    assert ok.sum() == 9801
    assert 0.0 <= s.values[ok].min() and s.values[ok].max() <= 0.7
    assert s.values.max() == pytest.approx(0.71)  # a C02,C03 value: rejected by default
    assert not ok[np.argmax(s.values)]


@pytest.mark.parametrize("eol", ["\r", "\n", "\r\n"])
def test_line_endings(tmp_path, eol):
    p = _write(tmp_path / NAME, [HEADER, "2008/07/01 00:00   0.5000 C03 M",
                                 "2008/07/01 01:00   0.2500 U M", "2008/07/01 03:00 0.26 G"], eol)
    s = read_ismn(p)
    assert s.values.tolist() == [0.5, 0.25, 0.26]
    assert s.ismn_flag.tolist() == ["C03", "U", "G"]
    assert s.provider_flag.tolist() == ["M", "M", ""]
    assert s.times.dtype == np.dtype("datetime64[s]")
    assert s.times[2] == np.datetime64("2008-07-01T03:00")
    assert accepted(s.ismn_flag).tolist() == [False, True, True]


def test_flag_policy():
    flags = np.array(["G", "U", "C03", "C03,D03", "D01", "U,D01", "", "g"])
    assert DEFAULT_ACCEPTED_FLAGS == ("G", "U")
    assert accepted(flags).tolist() == [True, True, False, False, False, False, False, True]
    assert accepted(flags, ("G",)).tolist() == [True, False, False, False, False, False,
                                                 False, True]
    assert accepted(flags, ("G", "U", "D*")).tolist() == [True, True, False, False, True,
                                                          True, False, True]
    assert parse_flag_option("g, u,C03") == ("G", "U", "C03")
    assert parse_flag_option("") == DEFAULT_ACCEPTED_FLAGS


def test_filename_convention(tmp_path):
    info = parse_filename(NAME)
    assert info["station"] == "CST-01" and info["network"] == "MAQU"
    assert info["depth_from"] == 0.05 and info["sensor"] == "ECH20-EC-TM"
    assert info["start"] == "20070101" and info["end"] == "20131231"
    assert parse_filename("something.stm") is None
    # a values-only file takes its header from the name; the position is unknown
    s = read_ismn(_write(tmp_path / NAME, ["2008/07/01 00:00 0.30 U M"]))
    assert s.station == "CST-01" and s.depth_to == 0.05 and np.isnan(s.lat)
    with pytest.raises(InputError, match="file name does not follow"):
        read_ismn(_write(tmp_path / "x.stm", ["2008/07/01 00:00 0.30 U M"]))


def test_errors(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_ismn(tmp_path / "missing.stm")
    (tmp_path / "empty.stm").write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        read_ismn(tmp_path / "empty.stm")
    with pytest.raises(InputError, match="no values"):
        read_ismn(_write(tmp_path / "h.stm", [HEADER]))
    with pytest.raises(InputError, match=r"line 3 .*truncated"):
        read_ismn(_write(tmp_path / "t.stm", [HEADER, "2008/07/01 00:00 0.30 U M",
                                              "2008/07/01 01:0"]))
    with pytest.raises(InputError, match=r"line 2 cannot be parsed.*'2008/07/01 00:00 abc U M'"):
        read_ismn(_write(tmp_path / "b.stm", [HEADER, "2008/07/01 00:00 abc U M",
                                              "2008/07/01 01:00 0.3 U M"]))
    with pytest.raises(InputError, match="line 1 is not an ISMN header"):
        read_ismn(_write(tmp_path / "n.stm", ["hello world", "2008/07/01 00:00 0.3 U M"]))
    with pytest.raises(InputError, match="not strictly increasing"):
        read_ismn(_write(tmp_path / "o.stm", [HEADER, "2008/07/01 01:00 0.3 U M",
                                              "2008/07/01 00:00 0.3 U M"]))
    with pytest.raises(InputError, match="invalid date"):
        read_ismn(_write(tmp_path / "d.stm", [HEADER, "2008/13/01 00:00 0.3 U M"]))
