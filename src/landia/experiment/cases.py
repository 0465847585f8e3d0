"""Synthetic analysis cases: a background and an observation image (and a truth) of soil
moisture, built from seeded random numbers, for the demo, the benchmarks and the tests.

Every case is assembled from the same few pieces:

* :func:`smoothed_noise`: white noise smoothed by a Gaussian, the source of every spatially
  correlated pattern (truth, background error, coastline);
* :func:`damped_layers`: the layers below the top, the top image damped towards its land mean
  with depth (as soil moisture anomalies fade with depth);
* :func:`soil_moisture_fields`: the background/observation/truth
  :class:`~landia.io.fields.SoilMoistureField` of the layered images, NaN off land, with a
  porosity.

The cases:

* :func:`build_demo_case`: the embedded demonstration (``landia demo``'s single analysis) on the
  paper's grid with a synthetic coast;
* :func:`benchmark_case`: the analysis benchmarks' cases (``landia bench``): the paper's grid
  and global 1 and 0.25 degree grids, land from ``global_land_mask``;
* :func:`random_case`: the tests' small case, a smoothed-noise coast and observation gaps.

Each case is deterministic for its seed: the same seed gives the same arrays, bit for bit.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.ndimage import gaussian_filter

from landia.grid import LatLonGrid, colm_node_depths
from landia.io.fields import SoilMoistureField
from landia.landmask import PAPER_BOX, land_points

#: e-folding depth (m) of the damping of anomalies below the top layer.
DAMPING_DEPTH = 0.2


class SyntheticCase(NamedTuple):
    """The fields of a synthetic case (unpacks as ``background, observation, truth``)."""

    background: SoilMoistureField
    observation: SoilMoistureField
    truth: SoilMoistureField | None


# -- building blocks --------------------------------------------------------------------
def smoothed_noise(rng: np.random.Generator, shape: tuple[int, int], sigma: float,
                   mode: str | tuple[str, ...] = "wrap") -> np.ndarray:
    """White noise smoothed by a Gaussian (not normalised).

    Parameters
    ----------
    rng : numpy.random.Generator
        Draws ``shape`` standard normal numbers.
    shape : tuple of int
        (ny, nx).
    sigma : float
        Standard deviation of the Gaussian, cells.
    mode : str or tuple of str
        Boundary mode(s) of :func:`scipy.ndimage.gaussian_filter`, per axis if a tuple.
    """
    return gaussian_filter(rng.standard_normal(shape), sigma, mode=mode)


def standardised_noise(rng: np.random.Generator, shape: tuple[int, int],
                       sigma: float = 3.0) -> np.ndarray:
    """Smoothed noise (periodic edges) with zero mean and unit standard deviation."""
    f = smoothed_noise(rng, shape, sigma)
    return (f - f.mean()) / f.std()


def damped_layers(image: np.ndarray, land: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """Layers of an image whose anomaly from the land mean fades with depth.

    Parameters
    ----------
    image : ndarray (ny, nx)
        The top image.
    land : ndarray of bool (ny, nx)
        Where the land mean is taken.
    depth : ndarray (nlayer,)
        Node depth of each layer, m.

    Returns
    -------
    ndarray (nlayer, ny, nx)

    Notes
    -----
    .. math:: f_k = \\bar f + (f - \\bar f)\\, e^{-z_k / 0.2\\,\\mathrm{m}},

    with :math:`\\bar f` the mean of the image over land and :math:`z_k` the node depth.
    """
    mean = image[land].mean()
    damp = np.exp(-depth / DAMPING_DEPTH)[:, None, None]
    return mean + (image[None] - mean) * damp


def soil_moisture_fields(lat: np.ndarray, lon: np.ndarray, depth: np.ndarray,
                         land: np.ndarray, porosity: float | np.ndarray, source: str,
                         background: np.ndarray, observation: np.ndarray,
                         truth: np.ndarray | None = None) -> SyntheticCase:
    """The fields of a case's layered images, NaN off land.

    Parameters
    ----------
    lat, lon : ndarray
        Cell centres, degrees.
    depth : ndarray (nlayer,)
        Node depths, m.
    land : ndarray of bool (ny, nx)
    porosity : float or ndarray (ny, nx)
        m3 m-3 on land; the background's porosity in every layer.
    source : str
        Prefix of the fields' sources (``{source}:background`` ...).
    background, observation, truth : ndarray (nlayer, ny, nx)
        m3 m-3. Taken over: NaN is written into them off land (the cases build them for
        this call, and the large ones would cost a copy each).
    """
    for values in (background, observation, truth):
        if values is not None:
            values[:, ~land] = np.nan
    bound = np.where(land, porosity, np.nan)[None].repeat(depth.size, axis=0)
    common = {"lat": lat, "lon": lon, "depth": depth}
    return SyntheticCase(
        SoilMoistureField(values=background, porosity=bound, source=f"{source}:background",
                          **common),
        SoilMoistureField(values=observation, source=f"{source}:observation", **common),
        None if truth is None else SoilMoistureField(values=truth, source=f"{source}:truth",
                                                     **common))


# -- the demo ---------------------------------------------------------------------------
def _bumps(rng: np.random.Generator, shape: tuple[int, int], count: int,
           radius_range: tuple[float, float]) -> np.ndarray:
    """Sum of ``count`` Gaussian bumps of random place, sign, height 0.5-1 and radius (cells)."""
    ny, nx = shape
    yy, xx = np.mgrid[0:ny, 0:nx]
    out = np.zeros(shape)
    for _ in range(count):
        cy, cx = rng.uniform(0, ny), rng.uniform(0, nx)
        r = rng.uniform(*radius_range)
        out += rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 1.0) * np.exp(
            -((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))
    return out


def build_demo_case(seed: int = 20160501, layers: int = 3) -> SyntheticCase:
    """The embedded demonstration case: (background, observation, truth) fields.

    An observing-system simulation on the paper's grid (23-68 N, 73-117 E at 1.4 deg,
    32 x 31 cells):

    * truth: a smooth large-scale soil-moisture gradient (wet south-east, dry north-west
      interior) plus multi-scale wet and dry patches (random Gaussian bumps of 1.5-6 cells
      radius), within [0.05, 0.42] m3 m-3;
    * land: everything but a "sea" in the south-east corner behind a wavy coast;
    * background: truth plus a spatially correlated error (std ~0.05 m3 m-3) that blurs and
      displaces the patches, as a model run would;
    * observation: truth plus white noise (std 0.02 m3 m-3), missing in 10 % of land cells
      (gaps of a satellite swath);
    * porosity: 0.40-0.48 m3 m-3.

    Layers below the top get the same images damped towards the land mean with depth
    (:func:`damped_layers`); the observation's noise is drawn per layer. Deterministic for a
    given seed.
    """
    rng = np.random.default_rng(seed)
    grid = LatLonGrid.from_box(*PAPER_BOX)
    ny, nx = grid.shape
    lat2, lon2 = np.meshgrid(grid.lat, grid.lon, indexing="ij")
    # Coast: sea south-east of a wavy line.
    coast = (lat2 - 23) + 0.9 * (117 - lon2) - 14 + 2.5 * np.sin(lon2 / 3.0)
    land = coast > 0
    large = 0.24 + 0.08 * ((117 - lon2) / 44 * -1 + (68 - lat2) / 45 * -0.5 + 0.75)
    patches = _bumps(rng, (ny, nx), 40, (1.5, 6.0))
    truth2d = np.clip(large + 0.07 * patches, 0.05, 0.42)
    err = smoothed_noise(rng, (ny, nx), 3.0)
    err *= 0.05 / err.std()
    blur = gaussian_filter(truth2d, 2.0, mode="nearest")
    background2d = np.clip(0.5 * truth2d + 0.5 * blur + err + 0.02, 0.03, 0.45)
    porosity2d = 0.44 + 0.04 * np.tanh((lat2 - 45) / 10)
    depth = colm_node_depths()[:layers]
    truth = damped_layers(truth2d, land, depth)
    background = damped_layers(background2d, land, depth)
    observation = truth + 0.02 * rng.standard_normal(truth.shape)
    gaps = rng.random((ny, nx)) < 0.10
    observation[:, gaps] = np.nan
    return soil_moisture_fields(grid.lat, grid.lon, depth, land, porosity2d, "demo",
                                background, observation, truth)


# -- the analysis benchmarks ------------------------------------------------------------
def benchmark_grid(case: str) -> tuple[np.ndarray, np.ndarray]:
    """(lat, lon) cell centres of an analysis benchmark case; lon in -180..180.

    ``paper_32x31``: the paper's box (:data:`landia.landmask.PAPER_BOX`); ``global_1deg``,
    ``global_025deg`` and ``global_01deg`` (1800 x 3600): the globe, rows from north to south.
    """
    if case == "paper_32x31":
        g = LatLonGrid.from_box(*PAPER_BOX)
        return g.lat, g.lon
    res = {"global_1deg": 1.0, "global_025deg": 0.25, "global_01deg": 0.1}[case]
    ny, nx = round(180 / res), round(360 / res)
    return 90 - res * (np.arange(ny) + 0.5), -180 + res * (np.arange(nx) + 0.5)


def benchmark_case(case: str, seed: int = 20160501
                   ) -> tuple[SoilMoistureField, SoilMoistureField]:
    """Synthetic (background, observation) fields of an analysis benchmark case.

    Land from ``global_land_mask`` (:func:`landia.landmask.land_points`); truth: two scales
    (8 and 1.5 degrees) of smoothed noise, scaled to 0.05-0.40 m3 m-3 on land; background:
    truth + smooth error (3 degrees, std 0.05); observation: truth + white noise (std 0.02).
    Layers below the top get the same images damped towards the land mean with depth
    (:func:`damped_layers`). 3 layers, NaN off land, porosity 0.45 on land.

    Parameters
    ----------
    case : str
        ``paper_32x31``, ``global_1deg``, ``global_025deg`` or ``global_01deg``
        (:func:`benchmark_grid`).
    seed : int
    """
    lat, lon = benchmark_grid(case)
    res = abs(float(lat[1] - lat[0]))
    land = land_points(lat, lon)
    rng = np.random.default_rng(seed)
    # Global grids are periodic in longitude only.
    wrap = ("nearest", "wrap") if case.startswith("global") else "nearest"

    def smooth(degrees: float) -> np.ndarray:
        f = smoothed_noise(rng, land.shape, degrees / res, mode=wrap)
        return f / f[land].std()

    t = 0.7 * smooth(8.0) + 0.3 * smooth(1.5)
    t = 0.05 + 0.35 * (t - t[land].min()) / (t[land].max() - t[land].min())
    bg = np.clip(t + 0.05 * smooth(3.0), 0.01, 0.44)
    obs = t + 0.02 * rng.standard_normal(land.shape)
    depth = colm_node_depths()[:3]
    fields = soil_moisture_fields(lat, lon, depth, land, 0.45, f"bench:{case}",
                                  damped_layers(bg, land, depth),
                                  damped_layers(obs, land, depth))
    return fields.background, fields.observation


# -- the tests' case --------------------------------------------------------------------
def random_case(shape: tuple[int, int] = (16, 16), layers: int = 2, seed: int = 0,
                land_fraction: float = 0.8, obs_missing: float = 0.1, porosity: float = 0.45
                ) -> tuple[SoilMoistureField, SoilMoistureField]:
    """A small (background, observation) pair with sea cells and observation gaps.

    On a 20-60 N, 80-130 E grid of ``shape`` cells: land where a smoothed noise is below its
    ``land_fraction`` quantile; truth 0.25 + 0.06 x smoothed noise; background truth + 0.04 x
    smoothed noise; observation truth + white noise of std 0.01, missing in a random
    ``obs_missing`` share of the cells. Every layer holds the same image. Deterministic for a
    given seed.
    """
    rng = np.random.default_rng(seed)
    ny, nx = shape
    sea_score = standardised_noise(rng, shape, 2.0)
    land = sea_score < np.quantile(sea_score, land_fraction)
    truth = 0.25 + 0.06 * standardised_noise(rng, shape, 2.0)
    bg = truth + 0.04 * standardised_noise(rng, shape, 3.0)
    obs = truth + 0.01 * rng.standard_normal(shape)
    depth = colm_node_depths()[:layers]
    background = np.repeat(bg[None], layers, axis=0)
    observation = np.repeat(obs[None], layers, axis=0)
    observation[:, rng.random(shape) < obs_missing] = np.nan
    fields = soil_moisture_fields(np.linspace(20, 60, ny), np.linspace(80, 130, nx), depth,
                                  land, porosity, "test", background, observation)
    return fields.background, fields.observation
