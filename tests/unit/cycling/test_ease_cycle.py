"""A cycle on the EASE-Grid 2.0 lattice of the real CONUS set: grid.from_landscape with the
static file that `landia landscape --from-cells` converts from static.nc (skipped when
../shared is absent)."""

from __future__ import annotations

import json
from pathlib import Path

import netCDF4
import numpy as np
import pytest

mpi4py = pytest.importorskip("mpi4py")
from mpi4py import MPI  # noqa: E402

from landia.config import Settings, settings_from_dict  # noqa: E402
from landia.cycling.run import config_hash, run_cycles  # noqa: E402
from landia.cycling.static_inputs import model_grid  # noqa: E402
from landia.errors import ConfigError  # noqa: E402
from landia.io.cell_static import convert_cell_static  # noqa: E402
from landia.io.fields import read_field  # noqa: E402

STATIC = Path("/work/shared/data/conus_nldas_smap/static.nc")
for parent in Path(__file__).resolve().parents:
    if (parent / "shared/data/conus_nldas_smap/static.nc").is_file():
        STATIC = parent / "shared/data/conus_nldas_smap/static.nc"
        break
PERIOD = {"start": "2015-06-01T00:00", "end": "2015-06-01T12:00", "mode": "ctrl"}


def settings(landscape: str, from_landscape: bool = True) -> Settings:
    return settings_from_dict({"grid": {"from_landscape": from_landscape}, "cycle": PERIOD,
                               "landscape": {"file": landscape}})


def test_from_landscape_needs_a_file_and_changes_the_hash(tmp_path):
    with pytest.raises(ConfigError, match="landscape.file"):
        model_grid(settings(""), tmp_path)
    assert config_hash(settings("s.nc", False)) != config_hash(settings("s.nc"))
    without = settings_from_dict({"cycle": PERIOD, "landscape": {"file": "s.nc"}})
    assert config_hash(settings("s.nc", False)) == config_hash(without)   # neutral default


def test_cycle_runs_on_the_ease_lattice_of_the_real_static_file(tmp_path):
    if not STATIC.is_file():
        pytest.skip(f"real data absent: {STATIC}")
    run = tmp_path / "run"
    run.mkdir()
    convert_cell_static(STATIC, run / "static_landia.nc")
    cfg = settings("static_landia.nc")                      # relative to the run directory
    grid = model_grid(cfg, run)
    assert grid.shape == (18, 38) and grid.n_land == 412
    run_cycles(MPI.COMM_SELF, cfg, run, progress=False)
    files = sorted((run / "states").glob("*.nc"))
    assert len(files) == 2
    field = read_field(files[-1])
    np.testing.assert_allclose(field.lat, grid.lat)
    top = field.values[0]
    assert np.all(np.isfinite(top[grid.land])) and np.all(np.isnan(top[~grid.land]))
    assert 0.02 < np.nanmin(top) and np.nanmax(top) < 0.47


def test_cycle_on_real_nldas_daily_forcing_keeps_the_daily_precipitation(tmp_path):
    """forcing_format 'cells': the NLDAS-2 daily means, disaggregated to the model step, reach
    the columns with every day's precipitation total (the run log's budget against the file)."""
    nldas = STATIC.parent / "nldas2_daily_2015-2018.nc"
    if not (STATIC.is_file() and nldas.is_file()):
        pytest.skip(f"real data absent: {nldas}")
    run = tmp_path / "run"
    run.mkdir()
    convert_cell_static(STATIC, run / "static_landia.nc")
    cfg = settings_from_dict({
        "grid": {"from_landscape": True}, "landscape": {"file": "static_landia.nc"},
        "cycle": {"start": "2015-06-01T00:00", "end": "2015-06-03T00:00", "mode": "ctrl",
                  "window_hours": 24, "forcing": str(nldas), "forcing_format": "cells"}})
    assert run_cycles(MPI.COMM_SELF, cfg, run, progress=False) == 0
    lines = [json.loads(x) for x in (run / "run_log.jsonl").read_text().splitlines()]
    grid = model_grid(cfg, run)
    lat2, lon2 = np.meshgrid(grid.lat, grid.lon, indexing="ij")
    with netCDF4.Dataset(nldas) as ds:
        flat, flon = ds["lat"][:], ds["lon"][:]
        rate = np.asarray(ds["APCP_FORA"][61:63, :], dtype=float)   # 1-2 June 2015, kg m-2 h-1
    idx = [int(np.argmin(np.abs(flat - a) + np.abs(flon - b)))
           for a, b in zip(lat2[grid.land], lon2[grid.land])]
    expected = rate[:, idx].mean(axis=1) * 24.0                     # mm per day, land mean
    got = [r["budget_mm"]["precipitation"] for r in lines]
    np.testing.assert_allclose(got, expected, rtol=1e-10)
    assert all(abs(r["budget_mm"]["max_abs_step_residual"]) < 1e-9 for r in lines)
    top = read_field(sorted((run / "states").glob("*.nc"))[-1]).values[0]
    assert np.all(np.isfinite(top[grid.land]))
