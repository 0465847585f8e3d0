"""A plausible synthetic land surface for a model grid: soil texture, land cover and LAI.

The static input of ``landia cycle`` (with the weather generator,
:mod:`landia.forcing.weather`) when no surface data set is given: the embedded experiment and
the smoke configurations run on it. Arithmetic only.

* **Texture.** Sand and clay (%) are smooth random fields (about 500 km scale, from
  ``numpy.random.default_rng([seed, 11])`` on the whole grid) around a climate-driven mean:
  sandier in the dry interior (deserts), more clay in the humid south-east;
  ``sand = clip(55 - 25 w + 20 g_1, 5, 90)``, ``clay = clip(15 + 15 w + 10 g_2, 3, 55)``
  (scaled down so that sand + clay <= 95), with the wetness ``w`` of the weather generator.
* **Land cover** from the climate of the weather generator, in this order: bare soil where the
  annual precipitation is below 150 mm; shrubland below 300 mm; grassland above 3000 m (the
  plateaus) and below 450 mm, except evergreen (boreal) forest where the annual mean
  temperature is below -2 degC below 3000 m; evergreen forest also above 14 degC with more than
  1000 mm; deciduous forest above 700 mm; cropland elsewhere (the plains of the east).
* **LAI** per month: ``lai_min + (lai_max - lai_min) f`` with a cover's range (below) and the
  growing-season factor ``f = clip((T_month - 273.15) / 15, 0, 1)`` of the month's mean air
  temperature.

A second seed (``texture_seed``) gives another texture realisation over the same climate: the
demo's CTRL run uses it for its "different but plausible soil-parameter realisation".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from landia.forcing.weather import climatological_precipitation, elevation
from landia.grid import LatLonGrid

#: (minimum, maximum) monthly LAI per land cover, m2 m-2.
LAI_RANGE = {
    "bare_soil": (0.0, 0.0),
    "shrubland": (0.3, 1.2),
    "grassland": (0.3, 2.0),
    "cropland": (0.2, 3.5),
    "deciduous_forest": (0.6, 5.0),
    "evergreen_forest": (3.5, 4.5),
}


@dataclass(frozen=True)
class Landscape:
    """Surface properties of the land cells of a grid (global land order).

    Attributes
    ----------
    sand, clay : ndarray (N,)
        Texture, % (every layer of a column gets the same).
    land_cover : tuple of str (N,)
    lai_monthly : ndarray (12, N)
        Mid-month LAI, m2 m-2.
    elevation : ndarray (N,)
        m.
    """

    sand: np.ndarray
    clay: np.ndarray
    land_cover: tuple
    lai_monthly: np.ndarray
    elevation: np.ndarray


def _smooth_on_grid(grid: LatLonGrid, seed: int, stream: int, scale_km: float) -> np.ndarray:
    """Unit-variance smooth random field on the whole grid, sampled at the land cells."""
    rng = np.random.default_rng([seed, stream])
    ny, nx = grid.shape
    dlat = abs(float(grid.lat[1] - grid.lat[0])) if grid.lat.size > 1 else 1.0
    ly = scale_km / (6371.0 * np.deg2rad(dlat))
    lx = ly / max(np.cos(np.deg2rad(np.mean(grid.lat))), 0.2)
    py, px = ny + 4 * int(np.ceil(ly)), nx + 4 * int(np.ceil(lx))
    gain = np.exp(-2.0 * np.pi**2 * ((np.fft.fftfreq(py)[:, None] * ly) ** 2
                                     + (np.fft.fftfreq(px)[None, :] * lx) ** 2))
    field = np.real(np.fft.ifft2(np.fft.fft2(rng.standard_normal((py, px))) * gain))
    field /= np.sqrt(np.mean(gain**2))
    return field[:ny, :nx][grid.land]


def build_landscape(grid: LatLonGrid, texture_seed: int = 11) -> Landscape:
    """Texture, land cover and monthly LAI of the grid's land cells (see the module notes)."""
    lat2, lon2 = np.meshgrid(grid.lat, grid.lon, indexing="ij")
    lat, lon = lat2[grid.land], lon2[grid.land]
    z = elevation(lat, lon)
    p_annual_mm = 365.25 * climatological_precipitation(lat, lon, 0.0)
    wet = climatological_precipitation(lat, lon, 0.0)
    wetness = wet / (wet + 1.5)
    t_annual = 299.0 - 0.75 * (lat - 23.0) - 0.0065 * z
    amplitude = 7.0 + 0.45 * (lat - 23.0)

    sand = np.clip(55.0 - 25.0 * wetness + 20.0 * _smooth_on_grid(grid, texture_seed, 1, 500.0),
                   5.0, 90.0)
    clay = np.clip(15.0 + 15.0 * wetness + 10.0 * _smooth_on_grid(grid, texture_seed, 2, 500.0),
                   3.0, 55.0)
    total = sand + clay
    scale = np.where(total > 95.0, 95.0 / total, 1.0)
    sand, clay = sand * scale, clay * scale

    t_c = t_annual - 273.15
    cover = np.full(lat.shape, "cropland", dtype=object)
    cover[p_annual_mm > 700.0] = "deciduous_forest"
    cover[(t_c > 14.0) & (p_annual_mm > 1000.0)] = "evergreen_forest"
    cover[(z > 3000.0) | (p_annual_mm < 450.0)] = "grassland"
    cover[(t_c < -2.0) & (z <= 3000.0) & (p_annual_mm >= 300.0)] = "evergreen_forest"
    cover[p_annual_mm < 300.0] = "shrubland"
    cover[p_annual_mm < 150.0] = "bare_soil"

    months = np.arange(12)
    season = np.cos(2.0 * np.pi * ((months + 0.5) * 365.25 / 12.0 - 196.0) / 365.25)
    t_month = t_annual[None, :] + amplitude[None, :] * season[:, None]
    growing = np.clip((t_month - 273.15) / 15.0, 0.0, 1.0)
    lo = np.array([LAI_RANGE[c][0] for c in cover])
    hi = np.array([LAI_RANGE[c][1] for c in cover])
    lai = lo[None, :] + (hi - lo)[None, :] * growing
    evergreen = cover == "evergreen_forest"
    lai[:, evergreen] = np.maximum(lai[:, evergreen], lo[evergreen])
    return Landscape(sand=sand, clay=clay, land_cover=tuple(cover), lai_monthly=lai,
                     elevation=z)
