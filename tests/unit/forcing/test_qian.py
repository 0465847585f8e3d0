"""Qian/CLM-style forcing: 1-D and 2-D coordinates, optional FLDS, streams, errors."""

from __future__ import annotations

import netCDF4
import numpy as np
import pytest

from landia.errors import InputError
from landia.forcing import read_qian
from tests.unit.forcing.forcing_files import field, hours, write_grid

UNITS = {"TBOT": "K", "QBOT": "kg/kg", "PSRF": "Pa", "WIND": "m/s", "PRECTmms": "mm H2O / sec",
         "FSDS": "W/m**2", "FLDS": "W/m**2"}
RANGES = {"TBOT": (270, 300), "QBOT": (1e-3, 1e-2), "PSRF": (8e4, 1e5), "WIND": (0, 10),
          "PRECTmms": (0, 1e-3), "FSDS": (0, 900), "FLDS": (200, 400)}
LAT = np.arange(20.0, 50.1, 0.5)   # south to north
LON = np.arange(100.0, 130.1, 0.5)
TIME_UNITS = "days since 1948-01-01 00:00:00"


def values(n, names=tuple(UNITS), seed=0, lat=LAT, lon=LON):
    rng = np.random.default_rng(seed)
    return {k: field(rng, (n, lat.size, lon.size), *RANGES[k]) for k in names}


def write(path, vals, times, lat=LAT, lon=LON, **kw):
    return write_grid(path, lat, lon, times, {k: (v, {"units": UNITS[k]})
                                              for k, v in vals.items()},
                      time_units=TIME_UNITS, **kw)


def at(vals, name, lat, lon, grid_lat=LAT, grid_lon=LON):
    return vals[name][:, int(np.argmin(abs(grid_lat - lat))), int(np.argmin(abs(grid_lon - lon)))]


@pytest.mark.parametrize("coords_2d", [False, True])
def test_qian_reads_the_nearest_cells_with_1d_or_2d_coordinates(tmp_path, coords_2d):
    times = hours("2008-01-01", 8, 3.0)
    vals = values(8)
    path = write(tmp_path / "q.nc", vals, times, coords_2d=coords_2d)
    f = read_qian(path, [44.593, 39.9], [123.509, 116.4])
    np.testing.assert_array_equal(f.times, times)
    for attr, name in (("tair", "TBOT"), ("qair", "QBOT"), ("psurf", "PSRF"), ("wind", "WIND"),
                       ("precip", "PRECTmms"), ("swdown", "FSDS"), ("lwdown", "FLDS")):
        np.testing.assert_array_equal(getattr(f, attr)[:, 0],
                                      at(vals, name, 44.593, 123.509).astype(np.float32))
        np.testing.assert_array_equal(getattr(f, attr)[:, 1],
                                      at(vals, name, 39.9, 116.4).astype(np.float32))
    assert f.rain is None and f.snow is None


def test_qian_without_flds_gives_no_longwave(tmp_path):
    times = hours("2008-01-01", 4, 3.0)
    vals = values(4, names=[n for n in UNITS if n != "FLDS"])
    f = read_qian(write(tmp_path / "q.nc", vals, times), [30.0], [110.0])
    assert f.lwdown is None
    np.testing.assert_array_equal(f.tair[:, 0], at(vals, "TBOT", 30.0, 110.0).astype(np.float32))


def test_north_to_south_and_0_360_files_give_the_same_record(tmp_path):
    times = hours("2008-01-01", 3, 3.0)
    vals = values(3, seed=1)
    a = read_qian(write(tmp_path / "a.nc", vals, times), [44.593, 21.1], [123.509, 129.9])
    flipped = {k: v[:, ::-1, :] for k, v in vals.items()}
    b = read_qian(write(tmp_path / "b.nc", flipped, times, lat=LAT[::-1]),
                  [44.593, 21.1], [123.509, 129.9])
    np.testing.assert_array_equal(a.tair, b.tair)
    np.testing.assert_array_equal(a.precip, b.precip)
    # a global 0..360 grid and columns in -180..180
    glat, glon = np.arange(-89.75, 90, 0.5), np.arange(0.25, 360, 0.5)
    g = values(2, seed=2, lat=glat, lon=glon)
    f = read_qian(write(tmp_path / "g.nc", g, times[:2], lat=glat, lon=glon),
                  [-33.2, 60.0], [-70.6, -0.1])
    np.testing.assert_array_equal(f.tair[:, 0], at(g, "TBOT", -33.2, 289.4, glat, glon)
                                  .astype(np.float32))
    np.testing.assert_array_equal(f.tair[:, 1], at(g, "TBOT", 60.0, 359.9, glat, glon)
                                  .astype(np.float32))


def test_separate_streams_hold_6_hourly_fluxes_over_3_hourly_states(tmp_path):
    t3 = hours("2008-01-01", 8, 3.0)
    t6 = hours("2008-01-01", 4, 6.0)
    tpqw = values(8, names=["TBOT", "QBOT", "PSRF", "WIND", "FLDS"], seed=3)
    prec = values(4, names=["PRECTmms"], seed=4)
    solr = values(4, names=["FSDS"], seed=5)
    paths = [write(tmp_path / "solr.nc", solr, t6), write(tmp_path / "tpqw.nc", tpqw, t3),
             write(tmp_path / "prec.nc", prec, t6)]
    f = read_qian(paths, [35.0], [115.0])
    np.testing.assert_array_equal(f.times, t3)
    p = at(prec, "PRECTmms", 35.0, 115.0).astype(np.float32)
    np.testing.assert_array_equal(f.precip[:, 0], np.repeat(p, 2))
    s = at(solr, "FSDS", 35.0, 115.0).astype(np.float32)
    np.testing.assert_array_equal(f.swdown[:, 0], np.repeat(s, 2))
    # totals over the period are those of the 6-hourly stream
    assert (f.precip[:, 0] * 3).sum() == pytest.approx((p * 6).sum(), rel=1e-6)
    # a flux stream that ends too early is refused, naming it
    short = write(tmp_path / "prec_short.nc", {"PRECTmms": prec["PRECTmms"][:2]}, t6[:2])
    with pytest.raises(InputError, match=r"prec_short\.nc: PRECTmms covers .* but is needed"):
        read_qian([paths[0], paths[1], short], [35.0], [115.0])


def test_qian_multiple_files_in_time_and_start_end(tmp_path):
    t = hours("2008-01-01", 8, 3.0)
    vals = values(8, seed=6)
    a = write(tmp_path / "m1.nc", {k: v[:4] for k, v in vals.items()}, t[:4])
    b = write(tmp_path / "m2.nc", {k: v[4:] for k, v in vals.items()}, t[4:])
    f = read_qian([b, a], [30.0], [110.0], start="2008-01-01T06", end="2008-01-01T18")
    np.testing.assert_array_equal(f.times, t[2:6])
    np.testing.assert_array_equal(f.wind[:, 0], at(vals, "WIND", 30.0, 110.0)[2:6]
                                  .astype(np.float32))
    with pytest.raises(InputError, match=r"not after the last time"):
        read_qian([a, a], [30.0], [110.0])


def test_qian_errors_name_file_and_variable(tmp_path):
    t = hours("2008-01-01", 2, 3.0)
    vals = values(2)
    path = write(tmp_path / "u.nc", vals, t)
    with netCDF4.Dataset(path, "a") as ds:
        ds["PSRF"].units = "hPa"
    with pytest.raises(InputError, match=r"u\.nc: variable 'PSRF' has units 'hPa'; expected Pa"):
        read_qian(path, [30.0], [110.0])
    del vals["WIND"]
    with pytest.raises(InputError, match=r"w\.nc: variable 'WIND' not found in any file"):
        read_qian(write(tmp_path / "w.nc", vals, t), [30.0], [110.0])
    vals = values(2)
    vals["QBOT"][1, 20, 20] = np.nan
    with pytest.raises(InputError, match=r"n\.nc: variable 'QBOT' is missing .*column 0 at "
                                         r"30\.0000 N, 110\.0000 E"):
        read_qian(write(tmp_path / "n.nc", vals, t), [30.0], [110.0])
    with pytest.raises(InputError, match=r"column 0 at 10\.0000 N, 110\.0000 E is outside"):
        read_qian(path, [10.0], [110.0])
    vals = values(2)
    vals["TBOT"][:] = 25.0  # degC
    with pytest.raises(InputError, match=r"c\.nc: tair \(air temperature\) is \S*25\.0\S* K"):
        read_qian(write(tmp_path / "c.nc", vals, t), [30.0], [110.0])
