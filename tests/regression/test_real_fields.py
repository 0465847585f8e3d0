"""A real-data analysis: GLDAS background, ERA-Interim observation image, paper grid.

Background: GLDAS-2.1 Noah 0-10 cm soil moisture (2015-01-01 00Z); observation
image: ERA-Interim swvl1, 0-7 cm (2000-01-01 00Z); both averaged (area-weighted
block average) onto the paper's 1.4 deg grid 23-68 N, 73-117 E (32 x 31). The
two products and dates differ, so the background is a genuinely different field
with a real coastline, real gaps and real spatial structure. Data: NASA GES DISC
(Rodell et al. 2004) and ECMWF, see ../shared/data/README.md.
"""

from __future__ import annotations

import netCDF4
import numpy as np
import pytest

from landia.analysis import run_analysis
from landia.config import settings_from_dict
from landia.grid import LatLonGrid, colm_node_depths
from landia.io.fields import SoilMoistureField

PAPER = LatLonGrid.from_box(23, 68, 73, 117, 1.4)
LAYERS = 3


def block_average(values, lat, lon, valid, grid=PAPER, min_fraction=0.5):
    """Area-weighted (cos lat) mean of source cells whose centres fall in each target cell.

    Cells with less than ``min_fraction`` of their source area valid are NaN.
    """
    lon = np.where(lon > 180, lon - 360, lon)
    res_y = abs(grid.lat[1] - grid.lat[0])
    res_x = abs(grid.lon[1] - grid.lon[0])
    iy = np.floor((lat - (grid.lat[0] - res_y / 2)) / res_y).astype(int)
    ix = np.floor((lon - (grid.lon[0] - res_x / 2)) / res_x).astype(int)
    ny, nx = grid.shape
    ok_y = (iy >= 0) & (iy < ny)
    ok_x = (ix >= 0) & (ix < nx)
    w = np.cos(np.deg2rad(lat))[:, None] * np.ones(lon.size)[None, :]
    sub = np.ix_(ok_y, ok_x)
    ty = np.repeat(iy[ok_y], ok_x.sum())
    tx = np.tile(ix[ok_x], ok_y.sum())
    target = ty * nx + tx
    wv, vv, mv = w[sub].ravel(), values[sub].ravel(), valid[sub].ravel()
    total = np.bincount(target, wv, ny * nx)
    good = np.bincount(target, wv * mv, ny * nx)
    summed = np.bincount(target, np.where(mv, wv * np.nan_to_num(vv), 0.0), ny * nx)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = summed / good
    mean[(good < min_fraction * total) | (total == 0)] = np.nan
    return mean.reshape(ny, nx)


def gldas_top(shared):
    with netCDF4.Dataset(shared / "gldas" / "GLDAS_NOAH025_3H.A20150101.0000.021.nc4") as ds:
        sm = ds["SoilMoi0_10cm_inst"][0].astype(float)  # kg m-2, masked at -9999
        lat, lon = ds["lat"][:].astype(float), ds["lon"][:].astype(float)
    theta = np.ma.filled(sm, np.nan) / (1000.0 * 0.10)  # kg m-2 over 0.1 m -> m3 m-3
    return block_average(theta, lat, lon, np.isfinite(theta))


def erainterim_top(shared):
    with netCDF4.Dataset(shared / "erainterim" / "ERAINT_AN_20000101_0000.nc") as ds:
        sm = np.ma.filled(ds["swvl1"][:].astype(float), np.nan)
        lsm = np.ma.filled(ds["lsm"][:].astype(float), 0.0)
        lat, lon = ds["latitude"][:].astype(float), ds["longitude"][:].astype(float)
    sm = np.clip(sm, 0.0, None)  # tiny negative values occur over land in ECMWF fields
    return block_average(sm, lat, lon, (lsm >= 0.5) & np.isfinite(sm))


@pytest.fixture(scope="module")
def real_case(shared_data):
    bg2d = gldas_top(shared_data)
    obs2d = erainterim_top(shared_data)
    obs2d[~np.isfinite(bg2d)] = np.nan
    depth = colm_node_depths()[:LAYERS]
    stack = lambda f: np.repeat(f[None], LAYERS, axis=0)
    common = dict(lat=PAPER.lat, lon=PAPER.lon, depth=depth)
    return (SoilMoistureField(values=stack(bg2d), source="GLDAS 0-10 cm", **common),
            SoilMoistureField(values=stack(obs2d), source="ERA-Interim swvl1", **common))


def settings(terms, **analysis):
    return settings_from_dict({"analysis": {"terms": terms, "upper_bound": 0.6,
                                            "layers": LAYERS, **analysis},
                               "curvelet": {"sigma": 0.5}})


def test_case_is_real_and_sizeable(real_case):
    bg, obs = real_case
    land = np.isfinite(bg.values[0])
    assert land.sum() > 600  # most of the domain is land; the sea sits south-east
    assert np.isfinite(obs.values[0]).sum() > 500
    assert 0.02 < np.nanmean(bg.values[0]) < 0.5


def test_image_analysis_raises_the_spatial_correlation(real_case):
    bg, obs = real_case
    result = run_analysis(bg, obs, settings(["background", "image"]))
    before = result.scores["background"]["layer1"]["scc"]
    after = result.scores["analysis"]["layer1"]["scc"]
    print(f"\nreal case, JB + JI (sigma 0.5, s2 = 4e-4): SCC with the observed image "
          f"{before:.3f} -> {after:.3f} in {result.minimiser.iterations} iterations")
    assert after > before + 0.15
    assert after > 0.85
    # The unweighted term of the paper (s2 = 1) hardly moves it (science notes, section 2).
    weak = run_analysis(bg, obs, settings(["background", "image"], image_error_variance=1.0,
                                          image_error_method="fixed"))
    assert abs(weak.scores["analysis"]["layer1"]["scc"] - before) < 0.02


def test_point_analysis_is_the_blue(real_case):
    bg, obs = real_case
    b, r = 2.5e-3, 4.0e-4
    # The scalar BLUE of the paper's diagonal B (the correlated B's BLUE: test_control.py).
    result = run_analysis(bg, obs, settings(["background", "point"],
                                            background_error_variance=b,
                                            observation_error_variance=r,
                                            correlation_length_km=0.0))
    xb, y = bg.values, obs.values
    blue = np.where(np.isfinite(y), xb + b / (b + r) * (y - xb), xb)
    land = np.isfinite(xb)
    np.testing.assert_allclose(result.analysis_field[land], np.clip(blue[land], 0, 0.6),
                               atol=1e-7)
