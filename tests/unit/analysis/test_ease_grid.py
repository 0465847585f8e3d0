"""An image analysis and the correlation operator on the EASE-Grid 2.0 lattice of the real
CONUS set (non-uniform latitude spacing); skipped when ../shared is absent."""

from __future__ import annotations

from pathlib import Path

import netCDF4
import numpy as np
import pytest

from landia.analysis import run_analysis
from landia.config import settings_from_dict
from landia.grid import colm_node_depths
from landia.io.cell_static import read_cell_static
from landia.io.fields import SoilMoistureField
from landia.operators import dot_test
from landia.operators.correlation import DiffusionCorrelation

DATA = Path("/work/shared/data/conus_nldas_smap")
for parent in Path(__file__).resolve().parents:
    if (parent / "shared/data/conus_nldas_smap").is_dir():
        DATA = parent / "shared/data/conus_nldas_smap"
        break
DAY = 45             # 2015-05-16: one day of real SMAP retrievals


def _case():
    """The lattice, and SMAP of day DAY and the mean of the 30 days before it on the land
    cells (global land order)."""
    if not (DATA / "static.nc").is_file() or not (DATA / "smap_l3_am_2015-2017.nc").is_file():
        pytest.skip(f"real data absent: {DATA}")
    cells = read_cell_static(DATA / "static.nc")
    grid = cells.grid
    with netCDF4.Dataset(DATA / "smap_l3_am_2015-2017.nc") as ds:
        order = grid.cell_order(ds["lat"][:], ds["lon"][:])
        sm = np.ma.filled(ds["soil_moisture"][DAY - 30: DAY + 1, :].astype(float), np.nan)
    on_land = np.empty_like(sm)
    on_land[:, order] = sm
    return grid, on_land[-1], on_land[:-1]


@pytest.mark.parametrize("length_km", [0.0, 300.0])   # diagonal B; correlated B (distances)
def test_image_analysis_on_the_ease_lattice_with_one_day_of_smap_reduces_j(length_km):
    grid, obs, month = _case()
    with np.errstate(all="ignore"):
        bg = np.nanmean(month, axis=0)
    bg = np.where(np.isfinite(bg), bg, np.nanmean(bg))
    assert np.isfinite(obs).sum() > 100
    depth = colm_node_depths()[:2]
    background = np.stack([grid.to_field(bg), grid.to_field(bg)])
    observation = np.stack([grid.to_field(obs), np.full(grid.shape, np.nan)])
    porosity = np.where(grid.land, 0.45, np.nan)[None].repeat(2, axis=0)
    b = SoilMoistureField(grid.lat, grid.lon, depth, background, porosity=porosity,
                          source="ease:background")
    o = SoilMoistureField(grid.lat, grid.lon, depth, observation, source="ease:smap")
    settings = settings_from_dict({"analysis": {
        "terms": ["background", "point", "image"], "layers": 2, "upper_bound": "porosity",
        "correlation_length_km": length_km}, "minimiser": {"backend": "scipy"}})
    result = run_analysis(b, o, settings)
    before, after = sum(result.terms_before.values()), sum(result.terms_after.values())
    assert after < 0.5 * before
    assert np.all(np.isfinite(result.analysis_field[0][grid.land]))
    used = np.isfinite(obs)
    misfit = [np.sqrt(np.mean((f[0][grid.land][used] - obs[used]) ** 2))
              for f in (result.background_field, result.analysis_field)]
    print(f"EASE analysis L={length_km}: J {before:.1f} -> {after:.1f}; obs {used.sum()}; "
          f"O-B rms {misfit[0]:.4f}, O-A rms {misfit[1]:.4f}")
    assert misfit[1] < misfit[0]


@pytest.mark.parametrize("steps", [4, 6])
def test_correlation_dot_test_on_the_ease_lattice(steps):
    grid, _, _ = _case()
    model = DiffusionCorrelation(grid, 300.0, steps)
    rng = np.random.default_rng(2)
    for op in (model.sqrt(1), model.correlation(1), model.inverse_sqrt(1)):
        assert dot_test(op, rng) < 1e-12, op.name
