"""Gridded forcing: grid and nearest-cell mapping, cell reads, file sets, and GLDAS-2.1."""

from __future__ import annotations

import shutil

import netCDF4
import numpy as np
import pytest

from landia.errors import InputError
from landia.forcing import gridded, read_gldas
from landia.forcing.gridded import GriddedFiles
from tests.unit.forcing.forcing_files import field, hours, write_grid

GLDAS = "gldas/GLDAS_NOAH025_3H.A20150101.0000.021.nc4"
CNG = (44.593, 123.509)
BEIJING = (39.9, 116.4)


def simple(path, lat, lon, times, values, **kw):
    return write_grid(path, lat, lon, times, {"x": (values, {"units": "K"})}, **kw)


def read_x(paths, lat, lon, **kw):
    files = GriddedFiles(paths)
    return files.read(["x"], files.locate(lat, lon), **kw)["x"]


# ---------------------------------------------------------------- grid and column mapping

def test_both_latitude_orientations_and_longitude_origins_give_the_same_cells(tmp_path):
    rng = np.random.default_rng(0)
    lat = np.arange(-89.5, 90, 1.0)
    lon = np.arange(-179.5, 180, 1.0)
    v = field(rng, (2, lat.size, lon.size), 250, 300)
    t = hours("2001-01-01", 2)
    a = simple(tmp_path / "sn.nc", lat, lon, t, v)
    b = simple(tmp_path / "ns.nc", lat[::-1], lon, t, v[:, ::-1, :])
    lon360 = np.mod(lon, 360)
    order = np.argsort(lon360)
    c = simple(tmp_path / "360.nc", lat, lon360[order], t, v[:, :, order])
    qlat = np.array([44.593, -33.2, 89.9, -89.9, 0.01, 10.0])
    qlon = np.array([123.509, -70.6, 359.9, -179.99, 180.0, 540.2])
    ra, rb, rc = (read_x(p, qlat, qlon) for p in (a, b, c))
    np.testing.assert_array_equal(ra, rb)
    np.testing.assert_array_equal(ra, rc)
    # by hand: 44.593 N 123.509 E is in the cell centred 44.5 N 123.5 E
    i, j = np.searchsorted(lat, 44.5), np.searchsorted(lon, 123.5)
    assert ra[1, 0] == np.float32(v[1, i, j])
    # 359.9 E = -0.1 E: cell -0.5; 540.2 E = 180.2 E = -179.8 E: cell -179.5 (wrap)
    assert ra[0, 2] == np.float32(v[0, -1, np.searchsorted(lon, -0.5)])
    assert ra[0, 5] == np.float32(v[0, np.searchsorted(lat, 9.5), 0])


def test_column_outside_a_regional_grid_is_refused_naming_it(tmp_path):
    lat = np.arange(20.125, 30, 0.25)
    lon = np.arange(100.125, 110, 0.25)
    p = simple(tmp_path / "r.nc", lat, lon, hours("2001-01-01", 1),
               np.full((1, lat.size, lon.size), 280.0))
    files = GriddedFiles(p)
    cells = files.locate([20.01, 29.99], [100.01, 109.99])  # within half a cell: accepted
    assert cells.iy.tolist() == [0, lat.size - 1] and cells.ix.tolist() == [0, lon.size - 1]
    with pytest.raises(InputError, match=r"column 1 at 35\.0000 N, 105\.0000 E is outside"):
        files.locate([25.0, 35.0], [105.0, 105.0])
    with pytest.raises(InputError, match=r"column 0 at 25\.0000 N, -75\.0000 E is outside"):
        files.locate([25.0], [-75.0])


def test_regular_2d_coordinates_reduce_and_irregular_ones_are_refused(tmp_path):
    lat, lon = np.arange(10.0, 15.0), np.arange(70.0, 76.0)
    v = np.random.default_rng(1).random((1, 5, 6)) + 280
    p = simple(tmp_path / "c2.nc", lat, lon, hours("2001-01-01", 1), v, coords_2d=True)
    files = GriddedFiles(p)
    np.testing.assert_array_equal(files.grid.lat, lat)
    np.testing.assert_array_equal(files.grid.lon, lon)
    with netCDF4.Dataset(p, "a") as ds:
        ds["LATIXY"][2, 3] = 11.7
    with pytest.raises(InputError, match=r"'LATIXY'.*varies along 'lon'.*regular lat/lon"):
        GriddedFiles(p)


def test_subset_reading_returns_the_values_of_a_full_read(tmp_path, monkeypatch):
    rng = np.random.default_rng(2)
    lat, lon = np.arange(-60, 60, 0.5) + 0.25, np.arange(0, 360, 0.5) + 0.25
    v = field(rng, (3, lat.size, lon.size), 200, 320)
    p = simple(tmp_path / "big.nc", lat, lon, hours("2001-01-01", 3), v)
    qlat, qlon = rng.uniform(-59, 59, 50), rng.uniform(-180, 180, 50)
    files = GriddedFiles(p)
    cells = files.locate(qlat, qlon)
    with netCDF4.Dataset(p) as ds:
        full = np.ma.filled(ds["x"][:].astype(float), np.nan)
    expected = full[:, cells.iy, cells.ix]
    box = files.read(["x"], cells)["x"]
    monkeypatch.setattr(gridded, "BOX_CELLS", 0)  # force row-by-row reads
    rows = files.read(["x"], cells)["x"]
    np.testing.assert_array_equal(box, expected)
    np.testing.assert_array_equal(rows, expected)
    part = files.read(["x"], cells, index=[1, 2])["x"]
    np.testing.assert_array_equal(part, expected[1:])


@pytest.mark.parametrize("kind", ["_FillValue", "missing_value", "NaN"])
def test_missing_value_at_a_column_names_file_variable_time_and_position(tmp_path, kind):
    lat, lon = np.arange(0.5, 5), np.arange(0.5, 5)
    v = np.full((2, 5, 5), 280.0)
    v[1, 2, 3] = np.nan
    p = tmp_path / f"m{kind}.nc"
    attrs = {"units": "K"}
    if kind == "_FillValue":
        attrs["_FillValue"] = -9999.0
    write_grid(p, lat, lon, hours("2001-01-01", 2), {"x": (v, attrs)})
    if kind != "_FillValue":
        with netCDF4.Dataset(p, "a") as ds:
            ds["x"].set_auto_mask(False)
            if kind == "missing_value":
                ds["x"].missing_value = np.float32(-1.0)
                ds["x"][1, 2, 3] = -1.0
            else:
                ds["x"][1, 2, 3] = np.nan
            assert ds["x"][1, 2, 3] != 280.0
    with pytest.raises(InputError) as err:
        read_x(p, [1.4, 2.6], [0.5, 3.4])
    msg = str(err.value)
    assert str(p) in msg and "'x'" in msg and "2001-01-01T01:00:00" in msg
    assert "column 1 at 2.6000 N, 3.4000 E" in msg
    # the columns next to it read fine
    assert np.all(read_x(p, [1.4, 2.6], [0.5, 2.4]) == 280.0)


def test_files_concatenate_in_time_order_and_duplicates_are_refused(tmp_path):
    lat, lon = np.arange(0.5, 3), np.arange(0.5, 3)
    paths = []
    for k in range(4):
        paths.append(simple(tmp_path / f"f{k}.nc", lat, lon, hours("2001-01-01", 2)[:1]
                            + np.timedelta64(3 * 3600 * k, "s"),
                            np.full((1, 3, 3), 270.0 + k)))
    files = GriddedFiles([paths[2], paths[0], paths[3], paths[1]])
    np.testing.assert_array_equal(files.times, hours("2001-01-01", 4, 3.0))
    np.testing.assert_array_equal(read_x(files.files[0].path.parent.glob("f*.nc"), [1.0], [1.0])
                                  [:, 0], [270, 271, 272, 273])
    dup = shutil.copy(paths[1], tmp_path / "copy.nc")
    with pytest.raises(InputError, match=r"copy\.nc|f1\.nc.*not after the last time"):
        GriddedFiles([paths[0], paths[1], dup])
    many = simple(tmp_path / "many.nc", lat, lon,
                  hours("2001-01-01", 3)[[0, 2, 1]], np.zeros((3, 3, 3)) + 280)
    with pytest.raises(InputError, match=r"many\.nc.*expected strictly increasing times"):
        GriddedFiles(many)
    other = simple(tmp_path / "other.nc", lat + 1, lon, hours("2001-02-01", 1),
                   np.zeros((1, 3, 3)) + 280)
    with pytest.raises(InputError, match=r"other\.nc: grid 3 x 3.*differs"):
        GriddedFiles([paths[0], other])


def test_missing_file_and_missing_time_are_named(tmp_path):
    with pytest.raises(InputError, match=r"nope\.nc: .*not found"):
        GriddedFiles(tmp_path / "nope.nc")
    p = tmp_path / "notime.nc"
    with netCDF4.Dataset(p, "w") as ds:
        ds.createDimension("lat", 1)
        ds.createVariable("lat", "f8", ("lat",))[:] = 1.0
    with pytest.raises(InputError, match=r"notime\.nc: no time coordinate"):
        GriddedFiles(p)


# ---------------------------------------------------------------- GLDAS-2.1, synthetic

GLDAS_UNITS = {"Tair_f_inst": "K", "Qair_f_inst": "kg kg-1", "Psurf_f_inst": "Pa",
               "Wind_f_inst": "m s-1", "SWdown_f_tavg": "W m-2", "LWdown_f_tavg": "W m-2",
               "Rainf_f_tavg": "kg m-2 s-1", "Snowf_tavg": "kg m-2 s-1"}
GLDAS_RANGE = {"Tair_f_inst": (260, 300), "Qair_f_inst": (1e-3, 1e-2),
               "Psurf_f_inst": (8e4, 1e5), "Wind_f_inst": (0, 10), "SWdown_f_tavg": (0, 800),
               "LWdown_f_tavg": (200, 400), "Rainf_f_tavg": (1e-4, 1e-3),
               "Snowf_tavg": (0, 1e-4)}


def gldas_files(tmp_path, n=3, bounds="past", units=None, seed=0):
    rng = np.random.default_rng(seed)
    lat, lon = np.arange(30.125, 32, 0.25), np.arange(110.125, 112, 0.25)
    paths, values = [], []
    for k, t in enumerate(hours("2015-01-01", n, 3.0)):
        data = {name: field(rng, (1, lat.size, lon.size), *GLDAS_RANGE[name])
                for name in GLDAS_UNITS}
        tb = None
        if bounds == "past":
            tb = [[t - np.timedelta64(3, "h"), t]]
        elif bounds == "next":
            tb = [[t, t + np.timedelta64(3, "h")]]
        u = dict(GLDAS_UNITS, **(units or {}))
        paths.append(write_grid(tmp_path / f"G.{k}.nc4", lat, lon, [t],
                                {nm: (v, {"units": u[nm], "_FillValue": -9999.0})
                                 for nm, v in data.items()},
                                time_units="minutes since 2000-01-01 03:00:00",
                                time_bounds=tb))
        values.append(data)
    return paths, values, lat, lon


@pytest.mark.parametrize("bounds", ["past", None])
def test_gldas_past_averages_move_to_the_interval_start(tmp_path, bounds):
    paths, values, lat, lon = gldas_files(tmp_path, 3, bounds)
    f = read_gldas(paths[::-1], [31.0], [111.0])
    np.testing.assert_array_equal(f.times, hours("2015-01-01", 2, 3.0))
    i, j = np.argmin(abs(lat - 31.0)), np.argmin(abs(lon - 111.0))
    for k in range(2):  # states from file k, 3-hour means from file k + 1
        assert f.tair[k, 0] == np.float32(values[k]["Tair_f_inst"][0, i, j])
        assert f.swdown[k, 0] == np.float32(values[k + 1]["SWdown_f_tavg"][0, i, j])
        total = np.float32(values[k + 1]["Rainf_f_tavg"][0, i, j])
        assert f.precip[k, 0] == total
        assert f.snow[k, 0] == np.float32(values[k + 1]["Snowf_tavg"][0, i, j])
        assert f.rain[k, 0] == pytest.approx(total - f.snow[k, 0], abs=1e-15)
    g = read_gldas(paths, [31.0], [111.0], start="2015-01-01T03:00")
    np.testing.assert_array_equal(g.tair[:, 0], f.tair[1:, 0])
    with pytest.raises(InputError, match=r"a file is missing"):
        read_gldas([paths[0], paths[2]], [31.0], [111.0])


def test_gldas_averages_starting_at_the_stamp_are_used_as_they_are(tmp_path):
    paths, values, lat, lon = gldas_files(tmp_path, 2, "next")
    f = read_gldas(paths, [31.0], [111.0])
    assert f.n_times == 2
    i, j = np.argmin(abs(lat - 31.0)), np.argmin(abs(lon - 111.0))
    assert f.lwdown[1, 0] == np.float32(values[1]["LWdown_f_tavg"][0, i, j])


def test_gldas_wrong_units_name_file_and_variable(tmp_path):
    paths, *_ = gldas_files(tmp_path, 2, units={"Psurf_f_inst": "hPa"})
    with pytest.raises(InputError, match=r"G\.0\.nc4: variable 'Psurf_f_inst' has units "
                                         r"'hPa'; expected Pa \(GLDAS-2\.1\)"):
        read_gldas(paths, [31.0], [111.0])


def test_gldas_missing_variable_is_named(tmp_path):
    paths, *_ = gldas_files(tmp_path, 2)
    with netCDF4.Dataset(paths[1], "a") as ds:
        ds.renameVariable("Snowf_tavg", "Snowf")
    with pytest.raises(InputError, match=r"G\.1\.nc4: variable 'Snowf_tavg' not found"):
        read_gldas(paths, [31.0], [111.0])


# ---------------------------------------------------------------- GLDAS-2.1, the real file

@pytest.fixture(scope="module")
def gldas_pair(shared_data, tmp_path_factory):
    """The real 2015-01-01 00Z file and a copy restamped 03Z (its averages then cover 00-03Z)."""
    real = shared_data / GLDAS
    if not real.exists():
        pytest.skip(f"{real} is absent")
    copy = tmp_path_factory.mktemp("gldas") / "GLDAS_NOAH025_3H.A20150101.0300.021.nc4"
    shutil.copyfile(real, copy)
    with netCDF4.Dataset(copy, "a") as ds:
        ds["time"][:] = ds["time"][:] + 180
        ds["time_bnds"][:] = ds["time_bnds"][:] + 180
    return real, copy


@pytest.mark.shared_data
def test_real_gldas_values_at_land_columns(gldas_pair):
    real, copy = gldas_pair
    lat, lon = [CNG[0], BEIJING[0]], [CNG[1], BEIJING[1]]
    f = read_gldas([copy, real], lat, lon)
    assert f.times.tolist() == [np.datetime64("2015-01-01T00:00:00")]
    for a in (f.tair, f.qair, f.psurf, f.wind, f.swdown, f.lwdown, f.precip, f.rain, f.snow):
        assert a.shape == (1, 2)
    # January night-time at both places: cold, dry, near sea-level pressure (Beijing 44 m)
    assert np.all((f.tair > 240) & (f.tair < 280))
    assert np.all((f.qair > 0) & (f.qair < 5e-3))
    assert np.all((f.psurf > 9.5e4) & (f.psurf < 1.05e5))
    assert np.all((f.lwdown > 120) & (f.lwdown < 320))
    assert np.all((f.wind >= 0) & (f.wind < 20))
    np.testing.assert_array_equal(f.rain + f.snow, f.precip)
    # the values are those of the nearest 0.25 deg cell in the file
    with netCDF4.Dataset(real) as ds:
        glat, glon = ds["lat"][:], ds["lon"][:]
        for n in range(2):
            i, j = np.argmin(abs(glat - lat[n])), np.argmin(abs(glon - lon[n]))
            assert f.tair[0, n] == ds["Tair_f_inst"][0, i, j]
            assert f.lwdown[0, n] == ds["LWdown_f_tavg"][0, i, j]
    assert f.tair[0, 0] == pytest.approx(253.587, abs=1e-3)  # CN-Cng cell 44.625 N 123.625 E


@pytest.mark.shared_data
def test_real_gldas_ocean_point_is_refused_naming_variable_and_position(gldas_pair):
    real, copy = gldas_pair
    with pytest.raises(InputError) as err:
        read_gldas([real, copy], [CNG[0], 30.0], [CNG[1], -40.0])  # mid-Atlantic
    msg = str(err.value)
    assert "'Tair_f_inst'" in msg and "column 1 at 30.0000 N, -40.0000 E" in msg
    assert "2015-01-01T00:00:00" in msg and "GLDAS_NOAH025_3H.A20150101.0000" in msg


@pytest.mark.shared_data
def test_real_gldas_single_file_needs_the_next_one(gldas_pair):
    real, _ = gldas_pair
    with pytest.raises(InputError, match=r"need the next 3-hourly file"):
        read_gldas(real, [CNG[0]], [CNG[1]])


@pytest.mark.shared_data
def test_real_gldas_subset_read_matches_the_full_field(gldas_pair, monkeypatch):
    real, _ = gldas_pair
    files = GriddedFiles(real)
    with netCDF4.Dataset(real) as ds:
        full = np.ma.filled(ds["LWdown_f_tavg"][0].astype(float), np.nan)
    land = np.argwhere(np.isfinite(full))
    pick = land[np.random.default_rng(4).choice(len(land), 40, replace=False)]
    lat, lon = files.grid.lat[pick[:, 0]], files.grid.lon[pick[:, 1]]
    cells = files.locate(lat, lon)
    np.testing.assert_array_equal(cells.iy, pick[:, 0])
    np.testing.assert_array_equal(cells.ix, pick[:, 1])
    monkeypatch.setattr(gridded, "BOX_CELLS", 0)
    got = files.read(["LWdown_f_tavg"], cells)["LWdown_f_tavg"]
    np.testing.assert_array_equal(got[0], full[pick[:, 0], pick[:, 1]])
