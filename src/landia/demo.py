"""The embedded demonstration case: one image analysis, no external data.

An observing-system simulation on the paper's grid (23-68 N, 73-117 E at
1.4 deg, 32 x 31 cells):

* truth: a smooth large-scale soil-moisture gradient (wet south-east, dry
  north-west interior) plus multi-scale wet and dry patches (random Gaussian
  bumps of 1.5-6 cells radius), within [0.05, 0.42] m3 m-3;
* land: everything but a "sea" in the south-east corner behind a wavy coast;
* background: truth plus a spatially correlated error (std ~0.05 m3 m-3) that
  blurs and displaces the patches, as a model run would;
* observation: truth plus white noise (std 0.02 m3 m-3), missing in 10 % of
  land cells (gaps of a satellite swath);
* porosity: 0.40-0.48 m3 m-3.

Until the cycling service lands (issue 5), ``landia demo`` runs the image
3D-Var (JB + JI) on this case and prints the spatial correlation with the
truth and the observation before and after.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

from landia.grid import LatLonGrid, colm_node_depths
from landia.io.fields import SoilMoistureField

PAPER_BOX = dict(south=23.0, north=68.0, west=73.0, east=117.0, resolution=1.4)


def _bumps(rng, shape, count, radius_range):
    ny, nx = shape
    yy, xx = np.mgrid[0:ny, 0:nx]
    out = np.zeros(shape)
    for _ in range(count):
        cy, cx = rng.uniform(0, ny), rng.uniform(0, nx)
        r = rng.uniform(*radius_range)
        out += rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 1.0) * np.exp(
            -((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))
    return out


def build_demo_case(seed: int = 20160501, layers: int = 3):
    """Return (background, observation, truth) fields of the demo case.

    Deterministic for a given seed. Layers below the top get the same image damped
    towards the mean with depth.
    """
    rng = np.random.default_rng(seed)
    grid = LatLonGrid.from_box(**PAPER_BOX)
    ny, nx = grid.shape
    lat2, lon2 = np.meshgrid(grid.lat, grid.lon, indexing="ij")
    # Coast: sea south-east of a wavy line.
    coast = (lat2 - 23) + 0.9 * (117 - lon2) - 14 + 2.5 * np.sin(lon2 / 3.0)
    land = coast > 0
    large = 0.24 + 0.08 * ((117 - lon2) / 44 * -1 + (68 - lat2) / 45 * -0.5 + 0.75)
    patches = _bumps(rng, (ny, nx), 40, (1.5, 6.0))
    truth2d = np.clip(large + 0.07 * patches, 0.05, 0.42)
    err = gaussian_filter(rng.standard_normal((ny, nx)), 3.0, mode="wrap")
    err *= 0.05 / err.std()
    blur = gaussian_filter(truth2d, 2.0, mode="nearest")
    background2d = np.clip(0.5 * truth2d + 0.5 * blur + err + 0.02, 0.03, 0.45)
    porosity2d = 0.44 + 0.04 * np.tanh((lat2 - 45) / 10)
    depth = colm_node_depths()[:layers]
    damp = np.exp(-depth / 0.2)[:, None, None]

    def stack(field2d):
        mean = np.nanmean(field2d[land])
        return mean + (field2d[None] - mean) * damp

    truth = stack(truth2d)
    bg = stack(background2d)
    obs = truth + 0.02 * rng.standard_normal(truth.shape)
    gaps = rng.random((ny, nx)) < 0.10
    obs[:, gaps] = np.nan
    for f in (truth, bg, obs):
        f[:, ~land] = np.nan
    porosity = np.repeat(porosity2d[None], layers, axis=0)
    porosity[:, ~land] = np.nan
    common = dict(lat=grid.lat, lon=grid.lon, depth=depth)
    background = SoilMoistureField(values=bg, porosity=porosity, source="demo:background",
                                   **common)
    observation = SoilMoistureField(values=obs, source="demo:observation", **common)
    truth_field = SoilMoistureField(values=truth, source="demo:truth", **common)
    return background, observation, truth_field
