"""A cycle on the EASE-Grid 2.0 lattice of the real CONUS set: grid.from_landscape with the
static file that `landia landscape --from-cells` converts from static.nc (skipped when
../shared is absent)."""

from __future__ import annotations

from pathlib import Path

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
