"""Daily observation images from a per-cell product (landia.observations.cell_product): the
real SMAP of conus_nldas_smap over a few days (skipped without ../shared) and a small file
written here."""

from __future__ import annotations

from pathlib import Path

import netCDF4
import numpy as np
import pytest

from landia.errors import InputError
from landia.grid import LatLonGrid
from landia.io.cell_static import convert_cell_static, grid_of_static_file, read_qc_flags
from landia.io.fields import read_field
from landia.observations.cell_product import (CellProductSettings, flagged_cells,
                                              overpass_times, read_withheld_cells,
                                              withheld_cells_draw, write_daily_observations,
                                              write_withheld_cells)

SET = Path("/work/shared/data/conus_nldas_smap")
for parent in Path(__file__).resolve().parents:
    if (parent / "shared/data/conus_nldas_smap").is_dir():
        SET = parent / "shared/data/conus_nldas_smap"
        break


def _product(path: Path, lat, lon, values, days0: int = 16801) -> None:
    """A CF per-cell file like smap_l3_am_2015-2017.nc: soil_moisture(time, cell)."""
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("cell", len(lat))
        ds.createDimension("time", values.shape[0])
        for name, v, units, std in (("lat", lat, "degrees_north", "latitude"),
                                    ("lon", lon, "degrees_east", "longitude")):
            x = ds.createVariable(name, "f8", ("cell",))
            x.units, x.standard_name = units, std
            x[:] = v
        t = ds.createVariable("time", "f8", ("time",))
        t.units, t.standard_name = "days since 1970-01-01 00:00:00", "time"
        t[:] = days0 + np.arange(values.shape[0])
        s = ds.createVariable("soil_moisture", "f4", ("time", "cell"), fill_value=np.nan)
        s.units, s.standard_name = "m3 m-3", "volume_fraction_of_condensed_water_in_soil"
        s[:] = values


def test_overpass_times_follow_longitude():
    t = overpass_times("2016-06-01", [-120.0, -75.0, 0.0], 6.0)
    assert [str(x) for x in t] == ["2016-06-01T14:00:00", "2016-06-01T11:00:00",
                                   "2016-06-01T06:00:00"]


def test_withheld_draw_is_fixed_and_inside_the_observable_cells():
    observable = np.zeros((6, 7), dtype=bool)
    observable[1:5, 1:6] = True                                     # 20 cells
    a, b = withheld_cells_draw(observable, 0.2, 3), withheld_cells_draw(observable, 0.2, 3)
    assert a.sum() == 4 and np.array_equal(a, b) and not (a & ~observable).any()
    assert not np.array_equal(a, withheld_cells_draw(observable, 0.2, 4))
    with pytest.raises(InputError, match="fraction"):
        withheld_cells_draw(observable, 1.0, 3)


def test_small_file_qc_layers_times_and_subsets(tmp_path):
    lat, lon = np.array([30.0, 30.0, 31.0, 31.0]), np.array([-100.0, -99.0, -100.0, -99.0])
    grid = LatLonGrid.from_cells(lat, lon)
    values = np.array([[0.2, 0.7, np.nan, 0.3],      # 0.7 out of range
                       [0.25, 0.1, 0.15, 0.3],
                       [np.nan, np.nan, np.nan, np.nan]])                  # an empty day
    _product(tmp_path / "p.nc", lat, lon, values)
    flags = {"flag_vegDense": np.array([0.0, 0.0, 0.0, 0.9]),   # cell 4 dense vegetation
             "flag_waterbody": np.zeros(4)}
    order = grid.cell_order(lat, lon)
    flags = {k: v[np.argsort(order)] for k, v in flags.items()}  # file order -> land order
    withheld = np.zeros(grid.shape, dtype=bool)
    withheld[0, 0] = True                                         # (30 N, 100 W)
    out = write_daily_observations(
        tmp_path / "p.nc", grid, {tmp_path / "all": None, tmp_path / "used": ~withheld,
                                   tmp_path / "held": withheld},
        "2016-01-01", "2016-01-04", flags, CellProductSettings())
    assert out["days"] == 3 and out["empty_days"] == ["2016-01-03"]
    assert out["rejected"]["out_of_range"] == 1 and out["rejected"]["flag_dense_vegetation"] == 2
    assert out["files"][str(tmp_path / "all")] == 2 and out["values"][str(tmp_path / "all")] == 4
    assert out["values"][str(tmp_path / "held")] == 2
    f = read_field(tmp_path / "all" / "obs_20160102T1200.nc", "observation")
    assert f.values.shape == (2, 2, 2) and str(f.valid_time) == "2016-01-02T12:00:00"
    np.testing.assert_array_equal(f.values[0], f.values[1])      # 0-5 cm -> layers 1 and 2
    np.testing.assert_allclose(f.values[0], [[0.25, 0.1], [0.15, np.nan]])
    np.testing.assert_allclose(f.error_variance[0][np.isfinite(f.values[0])], 0.04 ** 2)
    held = read_field(tmp_path / "held" / "obs_20160102T1200.nc", "observation")
    assert np.isfinite(held.values[0]).sum() == 1 and held.values[0, 0, 0] == 0.25
    with netCDF4.Dataset(tmp_path / "all" / "obs_20160102T1200.nc") as ds:
        seconds = ds["observation_time"][:]
    # 06:00 local solar at 100 W = 12:40 UTC, at 99 W 12:36 UTC
    day = (np.datetime64("2016-01-02T00:00") - np.datetime64("1970-01-01T00:00")).astype(
        "timedelta64[s]").astype(float)
    assert seconds[0, 0] - day == pytest.approx(12 * 3600 + 40 * 60)
    assert seconds[0, 1] - day == pytest.approx(12 * 3600 + 36 * 60)


def test_withheld_file_round_trip_and_bad_file(tmp_path):
    grid = LatLonGrid.from_cells([30.0, 30.0, 31.0], [-100.0, -99.0, -100.0])
    mask = np.zeros(grid.shape, dtype=bool)
    mask[1, 0] = True
    write_withheld_cells(tmp_path / "w.nc", grid, mask, 0.2, 5)
    np.testing.assert_array_equal(read_withheld_cells(tmp_path / "w.nc"), mask)
    with netCDF4.Dataset(tmp_path / "x.nc", "w") as ds:
        ds.createDimension("a", 1)
    with pytest.raises(InputError, match="x.nc.*withheld"):
        read_withheld_cells(tmp_path / "x.nc")


def test_real_smap_week_on_the_lattice(tmp_path):
    smap = SET / "smap_l3_am_2015-2017.nc"
    if not (smap.is_file() and (SET / "static.nc").is_file()):
        pytest.skip(f"real data absent: {smap}")
    convert_cell_static(SET / "static.nc", tmp_path / "static.nc")
    grid = grid_of_static_file(tmp_path / "static.nc")
    flags = read_qc_flags(tmp_path / "static.nc", grid)
    out = write_daily_observations(smap, grid, {tmp_path / "obs": None}, "2016-06-01",
                                   "2016-06-08", flags)
    settings = CellProductSettings()
    flagged = flagged_cells(flags, settings)
    assert out["flagged_cells"] == {k: int(v.sum()) for k, v in flagged.items()}
    assert out["rejected"]["overpass_off_window"] == 0            # 10:32-14:14 UTC
    assert 0.25 < out["valid_fraction"] < 0.45 and out["files"][str(tmp_path / "obs")] == 7
    f = read_field(tmp_path / "obs" / "obs_20160601T1200.nc", "observation")
    never = grid.to_field(np.any(list(flagged.values()), axis=0).astype(float)) == 1
    assert not np.isfinite(f.values[0][never]).any()
    assert not np.isfinite(f.values[0][~grid.land]).any()
    assert 0.0 <= np.nanmin(f.values) and np.nanmax(f.values) <= 0.6
    with netCDF4.Dataset(tmp_path / "obs" / "obs_20160601T1200.nc") as ds:
        hours = (ds["observation_time"][:] % 86400) / 3600.0
    assert 10.5 < np.nanmin(hours) and np.nanmax(hours) < 14.3
