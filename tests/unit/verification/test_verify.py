"""Verification: scores, the verify command on files the tests write, point validation."""

from __future__ import annotations

import argparse
import csv
import json
import math

import netCDF4
import numpy as np
import pytest

from landia.commands.verify import add_parser as add_verify_parser, verify as run_verify
from landia.errors import InputError
from landia.grid import colm_node_depths
from landia.io.fields import SoilMoistureField, write_field
from landia.io.netcdf import create_grid_file
from landia.observations.ismn import accepted, read_ismn
from landia.scores import all_scores, spatial_correlation
from landia.verification import points, verify

LAT = np.array([30.0, 31.0, 32.0, 33.0])
LON = np.array([100.0, 101.0, 102.0, 103.0, 104.0])


def _args(*argv):
    p = argparse.ArgumentParser(prog="landia")
    add_verify_parser(p.add_subparsers(dest="command"))
    return p.parse_args(["verify", *argv])


def _write(path, values, time=None, lat=LAT, lon=LON):
    values = np.asarray(values, dtype=float)
    depth = colm_node_depths()[:values.shape[0]]
    write_field(path, SoilMoistureField(lat=lat, lon=lon, depth=depth, values=values))
    if time is not None:
        with netCDF4.Dataset(path, "a") as ds:
            ds.time = time
    return str(path)


def _read_csv(path):
    with open(path) as fh:
        return list(csv.DictReader(fh))


# -- score tables ---------------------------------------------------------------------------



def test_no_common_cells_is_nan_not_error():
    a = np.array([[1.0, np.nan], [np.nan, 2.0]])
    b = np.array([[np.nan, 1.0], [3.0, np.nan]])
    s = all_scores(a, b)
    assert s["n"] == 0 and all(math.isnan(s[k]) for k in ("scc", "rmse", "ubrmse", "bias"))
    rows = verify.score_table([a[None]], [b[None]], [1], ["t"])
    assert rows[0].n == 0 and math.isnan(rows[0].rmse)
    summ = verify.summarise(rows)
    assert math.isnan(summ["all"]["rmse"]) and summ["all"]["mean_n"] == 0


def test_pairing_and_layers():
    t = [np.datetime64("2016-05-02"), np.datetime64("2016-05-01")]
    assert verify.pair_times(t, t[::-1]) == [(0, 1), (1, 0)]
    assert verify.pair_times([None, None], [None, None]) == [(0, 0), (1, 1)]
    with pytest.raises(ValueError, match="by order"):
        verify.pair_times([None], [None, None])
    assert verify.common_layers(3, 2) == [1, 2]
    with pytest.raises(ValueError, match=r"layers \[3\]"):
        verify.common_layers(3, 2, [1, 3])


# -- the verify command ---------------------------------------------------------------------

def _case(tmp_path):
    rng = np.random.default_rng(3)
    ref = 0.25 + 0.05 * rng.standard_normal((2, 2, 4, 5))  # time, layer, lat, lon
    model = ref + 0.02 + 0.01 * rng.standard_normal(ref.shape)
    model[:, :, 0, 0] = np.nan  # sea
    ref[1, 1, 2, 3] = np.nan  # a missing reference
    times = ["2016-05-01T00:00:00", "2016-05-02T00:00:00"]
    mfiles = [_write(tmp_path / f"m{k}.nc", model[k], times[k]) for k in range(2)]
    rfiles = [_write(tmp_path / f"r{k}.nc", ref[k], times[k]) for k in range(2)]
    return model, ref, mfiles, rfiles


def test_verify_fields(tmp_path, capsys):
    model, ref, mfiles, rfiles = _case(tmp_path)
    out = tmp_path / "out"
    # references given in the other order: paired by the time attribute
    assert run_verify(_args("--model", *mfiles, "--reference", *rfiles[::-1],
                            "--output-dir", str(out))) == 0
    rows = _read_csv(out / "scores.csv")
    assert list(rows[0]) == ["time", "layer", "n", "scc", "rmse", "ubrmse", "bias"]
    assert len(rows) == 4
    for row in rows:
        k = 0 if row["time"].startswith("2016-05-01") else 1
        layer = int(row["layer"])
        m, r = model[k, layer - 1], ref[k, layer - 1]
        assert int(row["n"]) == (18 if (k, layer) == (1, 2) else 19)
        assert float(row["bias"]) == pytest.approx(np.nanmean(m - r), rel=1e-12)
        assert float(row["rmse"]) == pytest.approx(np.sqrt(np.nanmean((m - r) ** 2)), rel=1e-12)
        assert float(row["scc"]) == pytest.approx(spatial_correlation(m, r), rel=1e-12)
        assert float(row["ubrmse"]) ** 2 + float(row["bias"]) ** 2 == \
            pytest.approx(float(row["rmse"]) ** 2, rel=1e-10)
    summary = json.loads((out / "summary.json").read_text())
    g = summary["gridded"]
    assert g["pairing"] == "time" and g["layers"] == [1, 2]
    mean_rmse_1 = np.mean([float(r["rmse"]) for r in rows if r["layer"] == "1"])
    assert g["means"]["layers"]["1"]["rmse"] == pytest.approx(mean_rmse_1, rel=1e-12)
    assert g["means"]["all"]["n_times"] == 2
    assert 0.015 < g["means"]["all"]["bias"] < 0.025
    for png in ("scores_timeseries", "scatter", "difference_first", "difference_last"):
        data = (out / f"{png}.png").read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    printed = capsys.readouterr().out
    assert "scc" in printed and "2016-05-02" in printed


def test_verify_analysis_file_and_layers(tmp_path):
    model, ref, _, rfiles = _case(tmp_path)
    path = tmp_path / "analysis.nc"
    with create_grid_file(path, LAT, LON, colm_node_depths()[:2], "test analysis") as ds:
        for name, values in (("analysis", model[0]), ("background", model[0] + 0.1)):
            v = ds.createVariable(name, "f8", ("layer", "lat", "lon"), fill_value=np.nan)
            v.units = "m3 m-3"
            v[...] = values
    out = tmp_path / "out"
    run_verify(_args("--model", str(path), "--reference", rfiles[0], "--layers", "2",
                     "--variable", "background", "--output-dir", str(out), "--no-plots"))
    rows = _read_csv(out / "scores.csv")
    assert len(rows) == 1 and rows[0]["layer"] == "2" and rows[0]["time"] == "1"
    assert float(rows[0]["bias"]) == pytest.approx(np.nanmean(model[0, 1] + 0.1 - ref[0, 1]))
    assert json.loads((out / "summary.json").read_text())["gridded"]["pairing"] == "order"
    assert not list(out.glob("*.png"))


def test_verify_errors(tmp_path):
    _, _, mfiles, rfiles = _case(tmp_path)
    other = _write(tmp_path / "other.nc", np.full((2, 4, 5), 0.2), lat=LAT + 0.5)
    with pytest.raises(InputError, match=r"grid mismatch: .*m0\.nc.*but .*other\.nc"):
        run_verify(_args("--model", mfiles[0], "--reference", other,
                         "--output-dir", str(tmp_path / "o")))
    with pytest.raises(InputError, match="together"):
        run_verify(_args("--model", mfiles[0], "--output-dir", str(tmp_path / "o")))
    with pytest.raises(InputError, match="nothing to do"):
        run_verify(_args("--output-dir", str(tmp_path / "o")))
    with pytest.raises(InputError, match="layers"):
        run_verify(_args("--model", mfiles[0], "--reference", rfiles[0], "--layers", "5",
                         "--output-dir", str(tmp_path / "o")))
    with pytest.raises(InputError, match="no model time equals"):
        run_verify(_args("--model", mfiles[0], "--reference", rfiles[1],
                         "--output-dir", str(tmp_path / "o")))


def test_verify_no_common_cells(tmp_path):
    a = np.full((1, 4, 5), np.nan)
    a[0, :2] = 0.3
    b = np.full((1, 4, 5), np.nan)
    b[0, 2:] = 0.2
    out = tmp_path / "out"
    run_verify(_args("--model", _write(tmp_path / "a.nc", a), "--reference",
                     _write(tmp_path / "b.nc", b), "--output-dir", str(out)))
    row = _read_csv(out / "scores.csv")[0]
    assert row["n"] == "0" and row["rmse"] == "nan"
    assert json.loads((out / "summary.json").read_text())["gridded"]["means"]["all"]["rmse"] is None


# -- point validation -----------------------------------------------------------------------

def test_station_cell_and_layer():
    assert points.station_cell(31.4, 102.6, LAT, LON) == (1, 3)
    assert points.station_cell(31.4, 102.6, LAT[::-1], LON) == (2, 3)
    assert points.station_cell(35.0, 102.0, LAT, LON) is None
    assert points.station_cell(33.4, 104.4, LAT, LON) == (3, 4)
    glon = np.arange(-179.5, 180.0, 1.0)  # longitudes compared modulo 360
    assert points.station_cell(0.0, 359.6, [0.0, 1.0], glon) == (0, 179)
    assert points.station_cell(0.0, 180.2, [0.0, 1.0], glon) == (0, 0)
    nodes = colm_node_depths()
    assert points.station_layer(0.05, 0.05, nodes) == 2  # layer 3: 0.0451-0.0906 m
    assert points.station_layer(0.0, 0.01, nodes) == 0
    assert points.station_layer(0.10, 0.10, nodes) == 3
    assert points.station_layer(5.0, 5.0, nodes) is None
    assert points.station_layer(0.05, 0.05, nodes[:2]) is None


def test_match_times():
    st = np.array(["2008-07-01T00", "2008-07-01T01", "2008-07-01T02", "2008-07-01T09"],
                  dtype="datetime64[s]")
    ok = np.array([True, False, True, True])
    mt = np.array(["2008-07-01T01", "2008-07-01T06", "2008-07-01T12", "2008-07-01T16"],
                  dtype="datetime64[s]")
    mi, si = points.match_times(st, ok, mt)
    # 01 -> 00 (tie with 02: the earlier), 06 -> 09 (3 h), 12 -> 09 (3 h), 16: none
    assert mi.tolist() == [0, 1, 2] and si.tolist() == [0, 3, 3]
    mi, si = points.match_times(st, ok, mt, np.timedelta64(2, "h"))
    assert mi.tolist() == [0]


def _station_file(path, times, values, flags):
    lines = ["TEST       NET            ST 1            31.20000   102.30000 1000.00    0.05"
             "    0.05 Probe-X "]
    for t, v, f in zip(times, values, flags):
        s = str(np.datetime64(t, "m")).replace("-", "/").replace("T", " ")
        lines.append(f"{s}   {v:.4f} {f} M")
    path.write_bytes(("\r".join(lines) + "\r").encode())
    return str(path)


def test_point_validation_command(tmp_path):
    rng = np.random.default_rng(5)
    st_times = np.arange(np.datetime64("2009-06-01T00", "s"), np.datetime64("2009-06-05T00", "s"),
                         np.timedelta64(1, "h"))
    st_values = (0.25 + 0.05 * np.sin(np.arange(st_times.size) / 7.0)
                 + 0.01 * rng.random(st_times.size))
    flags = np.array(["U"] * st_times.size, dtype=object)
    flags[::5] = "C03"
    st_values[::5] = 0.6  # rejected values far off
    station = _station_file(tmp_path / "st.stm", st_times, st_values, flags)
    m_times = st_times[::3]
    mfiles = []
    for k, t in enumerate(m_times):
        f = np.full((4, 4, 5), 0.3)
        f[2, 1, 2] = st_values[3 * k] + 0.02  # layer 3 of the station's cell (31 N, 102 E)
        f[:, 0, 0] = np.nan
        mfiles.append(_write(tmp_path / f"s{k:03d}.nc", f, str(t)))
    out = tmp_path / "out"
    # tolerance 0.5 h: only the exact hours, where a C03 value leaves the model time unmatched
    run_verify(_args("--ismn", station, "--model-series", *mfiles[::-1], "--output-dir", str(out),
                     "--time-tolerance", "0.5"))
    row = _read_csv(out / "points.csv")[0]
    n_ok = sum(1 for k in range(0, st_times.size, 3) if k % 5)
    assert (row["station"], row["layer"], row["row"], row["col"]) == ("ST 1", "3", "1", "2")
    assert int(row["n"]) == n_ok and int(row["n_accepted"]) == st_times.size - len(flags[::5])
    assert float(row["bias"]) == pytest.approx(0.02, abs=1e-4)  # values are written to 1e-4
    assert float(row["r"]) > 0.999 and float(row["ubrmse"]) < 1e-4
    assert float(row["rmse"]) == pytest.approx(0.02, abs=1e-4)
    assert (out / "point_NET_ST_1_0.05.png").read_bytes()[:4] == b"\x89PNG"
    pairs = _read_csv(out / "point_NET_ST_1_0.05.csv")
    assert len(pairs) == n_ok
    summary = json.loads((out / "summary.json").read_text())
    assert summary["points"]["ismn_flags_accepted"] == ["G", "U"]
    # accepting C03 too brings in the rejected values
    out2 = tmp_path / "out2"
    run_verify(_args("--ismn", station, "--model-series", *mfiles, "--ismn-flags", "U,C03",
                     "--output-dir", str(out2), "--no-plots", "--time-tolerance", "0.5"))
    assert int(_read_csv(out2 / "points.csv")[0]["n"]) == m_times.size
    # default tolerance 3 h: every model time finds an accepted value at most 1 h away
    out3 = tmp_path / "out3"
    run_verify(_args("--ismn", station, "--model-series", *mfiles, "--output-dir", str(out3),
                     "--no-plots"))
    assert int(_read_csv(out3 / "points.csv")[0]["n"]) == m_times.size
    # without a time in the series files: a clear error
    notime = _write(tmp_path / "nt.nc", np.full((4, 4, 5), 0.3))
    with pytest.raises(InputError, match="no validity time"):
        run_verify(_args("--ismn", station, "--model-series", notime,
                         "--output-dir", str(tmp_path / "o")))
    with pytest.raises(InputError, match="needs --model-series"):
        run_verify(_args("--ismn", station, "--output-dir", str(tmp_path / "o")))


def test_station_outside_grid():
    t = np.array(["2009-01-01T00"], dtype="datetime64[s]")
    res = points.validate_station("x", "n", 50.0, 10.0, 0.05, 0.05, t, np.array([0.3]),
                                  np.array([True]), LAT, LON, colm_node_depths(), t,
                                  np.zeros((1, 10, 4, 5)))
    assert res.n == 0 and res.layer is None and "outside" in res.note


@pytest.mark.shared_data
def test_real_cst01_against_synthetic_model(shared_data):
    files = sorted((shared_data / "ismn_maqu").glob("MAQU_MAQU_CST-01_sm_*.stm"))
    if not files:
        pytest.skip("CST-01 file absent")
    s = read_ismn(files[0])
    ok = accepted(s.ismn_flag)
    # a 0.5-degree grid around the station, 6-hourly model series over the whole record
    lat = np.arange(32.25, 35.3, 0.5)
    lon = np.arange(100.25, 104.3, 0.5)
    m_times = np.arange(np.datetime64("2008-07-01T00", "s"), np.datetime64("2010-08-01T00", "s"),
                        np.timedelta64(6, "h"))
    rng = np.random.default_rng(11)
    column = np.full(m_times.size, 0.3)
    pos = np.searchsorted(s.times, m_times)
    pos = np.minimum(pos, s.times.size - 1)
    hit = s.times[pos] == m_times
    column[hit] = s.values[pos[hit]] + 0.03 + 0.005 * rng.standard_normal(hit.sum())
    i, j = points.station_cell(s.lat, s.lon, lat, lon)
    assert (lat[i], lon[j]) == (33.75, 102.25)

    def series(row, col, k):
        assert (row, col, k) == (i, j, 2)
        return column

    res = points.validate_station(s.station, s.network, s.lat, s.lon, s.depth_from, s.depth_to,
                                  s.times, s.values, ok, lat, lon, colm_node_depths(), m_times,
                                  series, tolerance=np.timedelta64(0, "s"))
    assert res.layer == 3 and (res.row, res.col) == (i, j)
    expected_n = int((hit & ok[pos]).sum())  # exact hours with an accepted (U) value
    assert res.n == expected_n and res.n > 1500
    assert res.bias == pytest.approx(0.03, abs=1e-3)
    assert res.ubrmse == pytest.approx(0.005, abs=5e-4)
    assert res.rmse ** 2 == pytest.approx(res.bias ** 2 + res.ubrmse ** 2, rel=1e-10)
    assert res.r > 0.95 and res.anomaly_r > 0.5
    # the default 3 h tolerance also pairs model times whose own hour was rejected or missing
    wide = points.validate_station(s.station, s.network, s.lat, s.lon, s.depth_from, s.depth_to,
                                   s.times, s.values, ok, lat, lon, colm_node_depths(), m_times,
                                   series)
    assert wide.n > res.n
