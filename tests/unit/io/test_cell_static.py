"""The EASE-Grid 2.0 lattice of per-cell files and their static inputs (io/cell_static.py,
LatLonGrid.from_cells); the real-data tests read ../shared's conus_nldas_smap/static.nc."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import netCDF4
import numpy as np
import pytest

from landia.cli import main
from landia.columns.soil import SoilParameters
from landia.errors import InputError
from landia.grid import LatLonGrid
from landia.io.cell_static import (QC_FLAGS, convert_cell_static, grid_of_static_file,
                                   lai_from_ndvi, read_cell_static, read_qc_flags)
from landia.io.static_file import read_static_file

STATIC = Path(__file__).resolve().parents[4] / "shared/data/conus_nldas_smap/static.nc"
if not STATIC.is_file():
    STATIC = Path("/work/shared/data/conus_nldas_smap/static.nc")


def _static():
    if not STATIC.is_file():
        pytest.skip(f"real data absent: {STATIC}")
    return STATIC


def test_from_cells_recovers_a_non_uniform_lattice_and_the_cell_order():
    lat_u = np.array([25.5, 26.8, 28.1, 29.6, 31.2])        # spacing 1.3..1.6 deg
    lon_u = -120.0 + 1.4938 * np.arange(6)
    rng = np.random.default_rng(0)
    land = rng.random((5, 6)) < 0.6
    land[2, :] = land[:, 3] = True     # every lattice line holds a cell (else it is not seen)
    i, j = np.nonzero(land)
    perm = rng.permutation(i.size)
    lat, lon = lat_u[i[perm]] + 1e-6, lon_u[j[perm]]
    grid = LatLonGrid.from_cells(lat, lon)
    np.testing.assert_allclose(grid.lat, lat_u, atol=1e-5)
    np.testing.assert_allclose(grid.lon, lon_u)
    np.testing.assert_array_equal(grid.land, land)
    assert not grid.is_uniform
    order = grid.cell_order(lat, lon)
    values = rng.random(lat.size)
    on_land = np.empty(grid.n_land)
    on_land[order] = values
    np.testing.assert_array_equal(grid.to_field(on_land)[i[perm], j[perm]], values)


def test_from_cells_refuses_scattered_points_and_duplicates_naming_the_source():
    rng = np.random.default_rng(1)
    with pytest.raises(InputError, match="stations.nc.*rectilinear lattice"):
        LatLonGrid.from_cells(rng.uniform(25, 50, 60), rng.uniform(-120, -70, 60),
                              source="stations.nc")
    with pytest.raises(InputError, match="dup.nc.*share a lattice point"):
        LatLonGrid.from_cells([30.0, 30.0, 31.0], [-100.0, -100.0, -99.0], source="dup.nc")
    grid = LatLonGrid.from_cells([30.0, 31.0], [-100.0, -99.0], min_fraction=0.5)
    with pytest.raises(InputError, match="obs.nc: 1 cells are not land points"):
        grid.cell_order([30.0, 31.0], [-99.0, -99.0], source="obs.nc")


def test_lai_from_ndvi_is_zero_on_bare_soil_and_increasing():
    lai = lai_from_ndvi([0.0, 0.05, 0.3, 0.6, 0.95])
    assert lai[0] == 0 and lai[1] == 0
    assert np.all(np.diff(lai[1:]) > 0) and lai[-1] <= 7.0
    np.testing.assert_allclose(lai[3], -np.log(0.3 / 0.85) / 0.5)


def test_real_static_file_gives_the_18_by_38_ease_lattice():
    cells = read_cell_static(_static())
    grid = cells.grid
    assert grid.shape == (18, 38) and grid.n_land == 412
    assert abs(grid.n_land / grid.land.size - 0.60) < 0.01
    dlat = np.diff(grid.lat)
    assert 1.24 < dlat.min() < 1.27 and 1.63 < dlat.max() < 1.72       # non-uniform rows
    np.testing.assert_allclose(np.diff(grid.lon), 1.4938, atol=1e-3)    # uniform columns
    assert 25.4 < grid.lat[0] < 25.6 and 49.8 < grid.lat[-1] < 49.9
    assert cells.filled_texture == 1


def test_real_static_file_converts_to_a_static_input_file(tmp_path):
    out = tmp_path / "static_landia.nc"
    cells = convert_cell_static(_static(), out)
    grid = grid_of_static_file(out)
    np.testing.assert_array_equal(grid.land, cells.grid.land)
    fields = read_static_file(out, grid)                     # the real reader's checks
    soil = SoilParameters.from_sand_clay(fields.sand, fields.clay)   # Cosby (1984)
    assert soil.porosity.shape == (412, 10)
    assert 0.39 < soil.porosity.min() < soil.porosity.max() < 0.47
    cover = Counter(fields.land_cover)
    assert cover["cropland"] > 50 and cover["evergreen_forest"] > 10
    assert 0.0 <= fields.lai_monthly.min() and fields.lai_monthly.max() < 3.0
    np.testing.assert_array_equal(fields.lai_monthly[0], fields.lai_monthly[6])
    np.testing.assert_array_equal(fields.elevation, 0.0)     # standard atmosphere at 0 m
    flags = read_qc_flags(out, grid)
    assert set(flags) == set(QC_FLAGS)
    with netCDF4.Dataset(_static()) as ds:
        lat, lon = ds["lat"][:], ds["lon"][:]
        water = np.asarray(ds["flag_waterbody"][:], dtype=float)
    order = grid.cell_order(lat, lon)
    np.testing.assert_allclose(flags["flag_waterbody"][order], water)
    assert flags["flag_vegDense"].max() == 1.0


def test_landscape_command_converts_the_real_static_file(tmp_path):
    out = tmp_path / "static_landia.nc"
    assert main(["landscape", "--from-cells", str(_static()), "--output", str(out)]) == 0
    grid = grid_of_static_file(out)
    assert grid.shape == (18, 38) and grid.n_land == 412
    assert read_static_file(out, grid).sand.shape == (412,)
