"""A real-field analysis case: real soil-moisture images as truth and background, synthetic
observations of the truth with realistic errors, gaps and withheld cells.

The truth and the background are two independent real products on the paper's 1.4 deg grid
(23-68 N, 73-117 E, 32 x 31 cells): ERA-Interim 0-7 cm (``swvl1``, 2000-01-01 00Z) and GLDAS-2.1
Noah 0-10 cm (2015-01-01 00Z), read by landia's product readers and regridded conservatively,
each mapped to the top three CoLM layers (their nodes lie inside both products' top layers).
They differ as a model forecast and the real state do: in structure (correlation about 0.6)
and in mean (bias). The observations are the truth plus

* a random error (``noise_std``, white),
* a spatially correlated error (``correlated_std`` over ``correlated_km``, Gaussian-filtered
  white noise rescaled to that standard deviation),
* inside ``region``, a random error ``region_noise_std`` while the stated error stays
  ``noise_std``: the realistic misspecification of a product whose error is underestimated
  there,
* a swath-correlated error (``swath_std``, :func:`~landia.experiment.observing.swath_error`):
  one offset per satellite swath, constant along it, as a daily composite of overpasses
  carries,

on the cells where both products are valid; a fraction ``gap_fraction`` of the land is
unobserved (random cells) and a fraction ``withhold_fraction`` of the observed cells is withheld
from the analysis and kept for scoring. Everything is reproducible for a seed.

:func:`score` gives what the issue's acceptance asks: the spatial correlation with the truth,
the RMSE over all land cells, inside the region and at the withheld cells, for the background
and for an analysis; :func:`cycled_scores` those of analyses cycled over successive days of
errors (``swath_draw``) over the same state, carrying the estimated variances. Data:
../shared/data (see its README; Rodell et al. 2004, ECMWF).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter

from landia.analysis import run_analysis
from landia.errors import InputError
from landia.experiment.observing import swath_error
from landia.grid import LatLonGrid, colm_node_depths
from landia.io.fields import SoilMoistureField
from landia.observations.products.era5 import read_era5_soil_moisture
from landia.observations.products.gldas import read_gldas_soil_moisture
from landia.observations.regrid import Regridder, regrid_field
from landia.observations.vertical import map_field
from landia.scores import rmse, spatial_correlation

ERA_INTERIM = "erainterim/ERAINT_AN_20000101_0000.nc"
GLDAS = "gldas/GLDAS_NOAH025_3H.A20150101.0000.021.nc4"
#: The paper's grid: 23-68 N, 73-117 E at 1.4 deg.
PAPER_BOX = (23.0, 68.0, 73.0, 117.0, 1.4)
#: Where the observation error is underestimated by default (the North China Plain and the
#: Loess Plateau, 32-42 N, 105-117 E).
REGION = (32.0, 42.0, 105.0, 117.0)


@dataclass(frozen=True)
class RealFieldCase:
    """Truth, background and observations of the case (fields of ``layers`` layers).

    Attributes
    ----------
    truth, background : SoilMoistureField
        m3 m-3, NaN off land; the background carries the porosity (upper bound).
    observation : SoilMoistureField
        The observations the analysis sees (NaN where unobserved or withheld), with their
        stated error variance.
    withheld : ndarray of bool (ny, nx)
        Observed cells held out of ``observation`` (scoring only).
    region : ndarray of bool (ny, nx)
        Land cells of the region of underestimated observation error.
    """

    truth: SoilMoistureField
    background: SoilMoistureField
    observation: SoilMoistureField
    withheld: np.ndarray
    region: np.ndarray

    @property
    def land(self) -> np.ndarray:
        return np.isfinite(self.truth.values[0])


def _on_grid(fields, grid: LatLonGrid, layers: int) -> np.ndarray:
    """A product's first time, regridded conservatively and mapped to the top ``layers``."""
    pf = fields[0]
    on_grid, _ = regrid_field(pf, grid, Regridder(pf.lat, pf.lon, grid), min_valid_fraction=0.5)
    values, _, observed = map_field(on_grid, colm_node_depths()[:layers])
    if not observed.all():
        raise InputError(f"{pf.source}: its layers do not reach the top {layers} model layers")
    return values


def _correlated(rng, shape, cells: float) -> np.ndarray:
    """Unit-variance Gaussian-correlated noise of ``cells`` grid cells' scale."""
    field = gaussian_filter(rng.standard_normal(shape), cells, mode="wrap")
    return field / field.std()


def real_field_case(shared, seed: int = 0, layers: int = 3, noise_std: float = 0.03,
                    correlated_std: float = 0.0, correlated_km: float = 300.0,
                    region=REGION, region_noise_std: float = 0.10, gap_fraction: float = 0.0,
                    withhold_fraction: float = 0.3, porosity: float = 0.6,
                    seen=None, swath_std: float = 0.0, swath_draw: int = 0) -> RealFieldCase:
    """Build the case from the real files under ``shared`` (``../shared/data``).

    Parameters
    ----------
    shared : path-like
        The shared data folder.
    seed : int
        Seed of the errors, the gaps and the withheld cells.
    noise_std, correlated_std : float
        Random (white) and spatially correlated observation-error standard deviations, m3 m-3.
        The stated error variance is ``noise_std**2 + correlated_std**2`` everywhere.
    correlated_km : float
        Length scale of the correlated error (Gaussian filter width), km.
    region : (south, north, west, east) or None
        Where the actual random error is ``region_noise_std`` (stated error unchanged).
    gap_fraction, withhold_fraction : float
        Fraction of land cells unobserved (random cells); fraction of the observed cells
        withheld.
    seen : ndarray of bool (32, 31), optional
        Where a satellite sees the land (e.g. a day of
        :func:`landia.experiment.satellite_gaps.satellite_gaps`): the cells outside are
        unobserved, as well as the ``gap_fraction``.
    swath_std : float
        Standard deviation of a swath-correlated error
        (:func:`landia.experiment.observing.swath_error`), m3 m-3,
        added to the others; the stated error variance then includes ``swath_std**2``.
    swath_draw : int
        Which draw of the random errors (the white, correlated and swath errors; the
        truth, background, gaps and withheld cells stay those of ``seed``): successive
        draws are successive days of one product over the same state, for estimates
        cycled over days.
    porosity : float
        The background's porosity (the analysis' upper bound), m3 m-3.
    """
    shared = Path(shared)
    grid = LatLonGrid.from_box(*PAPER_BOX)
    truth = _on_grid(read_era5_soil_moisture(shared / ERA_INTERIM), grid, layers)
    background = _on_grid(read_gldas_soil_moisture(shared / GLDAS), grid, layers)
    land = np.isfinite(truth).all(axis=0) & np.isfinite(background).all(axis=0)
    truth[:, ~land] = np.nan
    background[:, ~land] = np.nan
    rng = np.random.default_rng([seed, 12])
    shape = grid.shape
    lat2, lon2 = np.meshgrid(grid.lat, grid.lon, indexing="ij")
    in_region = np.zeros(shape, dtype=bool)
    if region is not None:
        s, n, w, e = region
        in_region = land & (lat2 >= s) & (lat2 <= n) & (lon2 >= w) & (lon2 <= e)
    km_per_cell = 111.2 * PAPER_BOX[4]

    def draw(r):
        return (np.where(in_region, region_noise_std, noise_std) * r.standard_normal(shape)
                + correlated_std * _correlated(r, shape, correlated_km / km_per_cell))
    error = draw(rng)  # the seed's own (draw 0); drawn always, so the gaps stay the seed's
    if swath_draw:  # another day's errors
        error = draw(np.random.default_rng([seed, 12, swath_draw]))
    if swath_std > 0:
        error += swath_error(np.random.default_rng([seed, 13, swath_draw]), grid.lat,
                             grid.lon, swath_std)
    observed = land & (rng.random(shape) >= gap_fraction)
    if seen is not None:
        observed &= np.asarray(seen, dtype=bool)
    withheld = observed & (rng.random(shape) < withhold_fraction)
    used = observed & ~withheld
    obs = truth + error[None]
    obs[:, ~used] = np.nan
    variance = np.where(used, noise_std**2 + correlated_std**2 + swath_std**2, np.nan)
    depth = colm_node_depths()[:layers]
    common = dict(lat=grid.lat, lon=grid.lon, depth=depth)
    return RealFieldCase(
        truth=SoilMoistureField(values=truth, source="ERA-Interim swvl1 (truth)", **common),
        background=SoilMoistureField(values=background,
                                     porosity=np.where(land, porosity, np.nan)[None].repeat(
                                         layers, axis=0),
                                     source="GLDAS-2.1 0-10 cm (background)", **common),
        observation=SoilMoistureField(values=obs, error_variance=np.repeat(variance[None], layers,
                                                                          axis=0),
                                      source=f"truth + errors (seed {seed})", **common),
        withheld=withheld, region=in_region)


def score(case: RealFieldCase, field: np.ndarray) -> dict:
    """Scores of the top layer of ``field`` (layer, ny, nx) against the truth: SCC over land,
    RMSE over land, at the unobserved land cells (neither used nor withheld), inside the region
    and at the withheld cells (m3 m-3)."""
    truth = case.truth.values[0]
    f = np.asarray(field)[0]
    unobserved = case.land & ~np.isfinite(case.observation.values[0]) & ~case.withheld
    return {"scc": spatial_correlation(f, truth, case.land),
            "rmse": rmse(f, truth, case.land),
            "rmse_unobserved": rmse(f, truth, unobserved) if unobserved.any()
            else float("nan"),
            "rmse_region": rmse(f, truth, case.region) if case.region.any() else float("nan"),
            "rmse_withheld": rmse(f, truth, case.withheld) if case.withheld.any()
            else float("nan")}


def cycled_scores(shared, settings, seed: int = 0, days: int = 8, scored_days: int = 4,
                  **case_options) -> dict:
    """Analyses of successive days of one product over the case's state, the estimated
    variances carried from day to day as a cycle carries them; the mean scores of the last
    ``scored_days`` and the iterations.

    Each day's observations are a new draw of the errors (``swath_draw`` = the day) over the
    same truth, background, gaps and withheld cells (those of ``seed``): what a cycled
    estimate (``analysis.image_error_method``, ``analysis.local_image_error``) pools over.
    ``case_options`` go to :func:`real_field_case`.

    Returns
    -------
    dict
        The :func:`score` keys averaged over the scored days, plus ``iterations`` (mean) and
        ``max_iterations`` over all days.
    """
    if not 0 < scored_days <= days:
        raise ValueError(f"scored_days: expected 1..days={days}, got {scored_days}")
    carried = excess = None
    scores, iterations = [], []
    for day in range(days):
        case = real_field_case(shared, seed=seed, swath_draw=day, **case_options)
        result = run_analysis(case.background, case.observation, settings,
                              image_error_variance=carried, local_error_excess=excess)
        if result.image_error is not None:
            carried = result.image_error.next
        if result.local_error is not None:
            excess = result.local_error.used
        iterations.append(result.minimiser.iterations)
        if day >= days - scored_days:
            scores.append(score(case, result.analysis_field))
    out = {k: float(np.mean([s[k] for s in scores])) for k in scores[0]}
    out.update(iterations=float(np.mean(iterations)), max_iterations=int(max(iterations)))
    return out
