"""The demo's observing system: a satellite product seen once a day, with real gaps, errors
that are neither white nor unbiased, a region where they are understated, and withheld cells.

From the truth run's state at the overpass time of each day (``landia cycle`` in ``ctrl``
mode, one 24 h window per day, so a state at 00 UTC: about 6 AM local solar time at 90 E, when
SMAP's descending orbit passes), an image of the truth's 0-7 cm soil moisture
:math:`\\theta_t` (thickness-weighted CoLM layers, given to layers 1-3 as the paper gave
ERA5-Land's 0-7 cm) becomes

.. math:: y = a + b\\,\\theta_t + \\epsilon_c + f\\,\\epsilon_r, \\qquad
          \\epsilon_r \\sim N(0, \\sigma_r^2)\\ \\text{white}, \\quad
          \\epsilon_c \\sim N(0, \\sigma_c^2)\\ \\text{correlated over } L_c,

(plus, with ``swath_std`` > 0, a swath-correlated part :math:`\\epsilon_s`, one offset per
satellite swath: :func:`swath_error`; none in the demo)

clipped to [0.01, 0.6] m3 m-3, on the cells where the satellite sees the land that day
(:mod:`landia.experiment.satellite_gaps`). The linear distortion :math:`a + b\\theta` is the
bias against the truth (the product's climatology differs from the model's; CDF matching or
mean/variance rescaling can remove it). :math:`\\epsilon_c` is Gaussian-correlated
(:func:`landia.forcing.perturbation.correlated_field`), drawn afresh each day.

Three sets of files share every draw:

* ``obs``: :math:`f = 1`; every file states the error variance
  :math:`\\sigma_r^2 + \\sigma_c^2` -- right, except for the bias;
* ``obs_misspecified``: :math:`f` = ``region_factor`` (3) inside the region (eastern China),
  with the same stated variance: there the actual error is about 2.7 times the stated one,
  as for a product whose error model misses a region (dense vegetation, irrigation, RFI);
* ``obs_true_error``: the values of ``obs_misspecified``, whose files state inside the region
  the variance those values have, :math:`f^2 \\sigma_r^2 + \\sigma_c^2`. No product can state
  it; a run of it is the reference that shows what knowing the region's error is worth.

Of each day's observed cells, ``withhold_fraction`` (10 %) are held out of every set and
written to ``withheld/`` and ``withheld_misspecified/`` (same file format; ``obs_true_error``
shares the latter, its values being the same), folders no run reads: they are for scoring
only. A day with fewer than ``MIN_CELLS`` cells left writes no file: the runs see a missing
feed, as on SMAP's days without data.

Every draw of day ``d`` comes from ``numpy.random.default_rng([seed, stream, d])``, so the files
do not depend on which days are made together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from landia.errors import InputError
from landia.forcing.perturbation import correlated_field, grid_lengths
from landia.grid import LatLonGrid, colm_node_depths, depth_weights
from landia.io.fields import SoilMoistureField, read_field, write_field
from landia.io.naming import observation_name, parse_stamp, stamp_of

#: Observation sets written (folder -> withheld folder).
SETS = {"obs": "withheld", "obs_misspecified": "withheld_misspecified",
        "obs_true_error": "withheld_misspecified"}
#: The set that states the actual error variance inside the region (see the module notes).
TRUE_ERROR_SET = "obs_true_error"
#: Fewer valid cells than this in a day's analysed image: no file (a missing feed).
MIN_CELLS = 10
#: The misspecified-error region: a box over eastern China (S, N, W, E), a stand-in for the
#: paper's China mask that global-land-mask cannot provide.
REGION_BOX = (25.0, 45.0, 100.0, 120.0)
#: Swaths of :func:`swath_error`: about SMAP's 1000 km swath at these latitudes (degrees of
#: longitude), its edges leaning as a sun-synchronous ground track does (degrees of longitude
#: per degree of latitude).
SWATH_WIDTH_DEG, SWATH_TILT = 10.0, 0.3


def swath_error(rng, lat: np.ndarray, lon: np.ndarray, std: float,
                width_deg: float = SWATH_WIDTH_DEG, tilt: float = SWATH_TILT) -> np.ndarray:
    """A swath-correlated error image, (lat, lon): one random offset (normal, ``std``) per
    swath, constant along it.

    Swaths are bands ``width_deg`` of longitude wide whose edges lean by ``tilt`` degrees of
    longitude per degree of latitude (a sun-synchronous orbit's ground track), at a random
    phase. This is the error a daily composite of overpasses carries when each overpass has
    its own error (its time, its ancillary temperature and vegetation): constant within a
    swath, jumping at its edges.
    """
    lat2, lon2 = np.meshgrid(lat, lon, indexing="ij")
    u = (lon2 - lon2.min() + rng.uniform(0.0, width_deg) - tilt * (lat2 - lat2.mean()))
    index = np.floor(u / width_deg).astype(np.int64)
    index -= index.min()
    return std * rng.standard_normal(index.max() + 1)[index]


@dataclass(frozen=True)
class ObservingSystem:
    """The product's observing and error model (see the module notes).

    Attributes
    ----------
    overpass_hour : int
        UTC hour of the daily observation (and analysis).
    random_std, correlated_std : float
        :math:`\\sigma_r`, :math:`\\sigma_c`, m3 m-3.
    swath_std : float
        :math:`\\sigma_s` of a swath-correlated part (:func:`swath_error`), m3 m-3; 0 (the
        demo's): none.
    correlated_km : float
        :math:`L_c` of the correlated part, km.
    bias_offset, bias_slope : float
        :math:`a` (m3 m-3) and :math:`b` of the distortion :math:`a + b\\theta_t`.
    region : tuple of float
        (south, north, west, east) of the misspecified region, degrees.
    region_factor : float
        :math:`f` inside the region in ``obs_misspecified``.
    withhold_fraction : float
        Share of each day's observed cells held out for scoring.
    layers : int
        Model layers the 0-7 cm value is given to.
    """

    overpass_hour: int = 0
    random_std: float = 0.04
    correlated_std: float = 0.02
    correlated_km: float = 300.0
    swath_std: float = 0.0
    bias_offset: float = 0.05
    bias_slope: float = 0.9
    region: tuple = field(default=REGION_BOX)
    region_factor: float = 3.0
    withhold_fraction: float = 0.1
    layers: int = 3

    @property
    def stated_variance(self) -> float:
        """The error variance every observation file states, (m3 m-3)^2 (but
        :data:`TRUE_ERROR_SET`'s inside the region)."""
        return self.random_std**2 + self.correlated_std**2 + self.swath_std**2

    @property
    def region_variance(self) -> float:
        """The error variance of the misspecified set inside the region, (m3 m-3)^2:
        :math:`f^2 \\sigma_r^2 + \\sigma_c^2 + \\sigma_s^2` (the parts are independent)."""
        return ((self.region_factor * self.random_std) ** 2 + self.correlated_std**2
                + self.swath_std**2)

    def stated_variances(self, name: str, lat, lon):
        """The error variance the files of set ``name`` state: a number, or (ny, nx) for
        :data:`TRUE_ERROR_SET`."""
        if name != TRUE_ERROR_SET:
            return self.stated_variance
        return np.where(self.region_mask(lat, lon), self.region_variance, self.stated_variance)

    def region_mask(self, lat, lon) -> np.ndarray:
        """(ny, nx) True inside the misspecified region."""
        s, n, w, e = self.region
        lat2, lon2 = np.meshgrid(lat, lon, indexing="ij")
        return (lat2 >= s) & (lat2 <= n) & (lon2 >= w) & (lon2 <= e)


def surface_of(values: np.ndarray) -> np.ndarray:
    """The 0-7 cm thickness-weighted mean of (layer, ny, nx) volumetric soil moisture."""
    w = depth_weights(0.0, 0.07)[: values.shape[0]]
    return np.tensordot(w / w.sum(), values, axes=(0, 0))


def _day_number(t: np.datetime64) -> int:
    return int((t.astype("datetime64[D]") - np.datetime64("1970-01-01", "D"))
               // np.timedelta64(1, "D"))


def observe_day(truth: SoilMoistureField, seen: np.ndarray, system: ObservingSystem,
                seed: int) -> dict:
    """One day's observation images and withheld cells from a truth state.

    Parameters
    ----------
    truth : SoilMoistureField
        The truth's state (every layer) at the overpass.
    seen : ndarray of bool (ny, nx)
        Cells the satellite sees that day.
    system : ObservingSystem
    seed : int

    Returns
    -------
    dict
        ``values`` {set: (ny, nx) observed value everywhere seen, NaN elsewhere},
        ``withheld`` (ny, nx) bool, ``used`` (ny, nx) bool.
    """
    t = truth.valid_time
    day = _day_number(t)
    land = np.isfinite(truth.values[0])
    seen = seen & land
    top = surface_of(truth.values)
    rng = np.random.default_rng([int(seed), 41, day])
    random = rng.standard_normal(top.shape) * system.random_std
    grid = LatLonGrid(truth.lat, truth.lon, land)
    correlated = system.correlated_std * correlated_field(
        rng, top.shape, *grid_lengths(grid, system.correlated_km))
    withheld = seen & (np.random.default_rng([int(seed), 43, day]).random(top.shape)
                       < system.withhold_fraction)
    region = system.region_mask(truth.lat, truth.lon)
    distorted = system.bias_offset + system.bias_slope * top + correlated
    if system.swath_std > 0:  # its own stream: the demo's other draws stay as they were
        distorted = distorted + swath_error(np.random.default_rng([int(seed), 47, day]),
                                            truth.lat, truth.lon, system.swath_std)
    values = {}
    for name in ("obs", "obs_misspecified"):
        factor = np.where(region, system.region_factor, 1.0) if name == "obs_misspecified" \
            else 1.0
        y = np.clip(distorted + factor * random, 0.01, 0.6)
        values[name] = np.where(seen, y, np.nan)
    values[TRUE_ERROR_SET] = values["obs_misspecified"]
    return {"values": values, "withheld": withheld, "used": seen & ~withheld}


def _write(path: Path, truth: SoilMoistureField, image: np.ndarray, stated,
           attributes: dict) -> None:
    layers = attributes["layers"]
    values = np.repeat(image[None], layers, axis=0)
    variance = np.where(np.isfinite(values), stated, np.nan)
    write_field(path, SoilMoistureField(
        lat=truth.lat, lon=truth.lon, depth=colm_node_depths()[:layers], values=values,
        error_variance=variance, source=attributes["truth_state"], valid_time=truth.valid_time),
        role="observation", title="landia demo: synthetic satellite observation image",
        attributes=attributes)


def make_daily_observations(truth_run, out_dir, system: ObservingSystem, gaps, seed: int,
                            start=None, end=None) -> dict:
    """Write the day's files of every set (see the module notes) for the truth's states at
    the overpass hour in ``[start, end]``.

    Parameters
    ----------
    truth_run : path-like
        Run directory of the truth (``states/state_*.nc``).
    out_dir : path-like
        Where the folders of :data:`SETS` (and their withheld folders) are made.
    system : ObservingSystem
    gaps : object with ``mask(day) -> (ny, nx) bool``
        The satellite's daily coverage (:class:`~landia.experiment.satellite_gaps.GapSampler`).
    seed : int
        Seed of the errors and of the withheld cells.
    start, end : datetime64 or str, optional

    Returns
    -------
    dict
        ``days`` (files written per set), ``missing`` (days without a file), ``seen_fraction``
        and ``used_fraction`` (of the land cell-days).
    """
    states = sorted(Path(truth_run, "states").glob("state_*.nc"))
    if not states:
        raise InputError(f"{truth_run}: no states/state_*.nc files; expected a truth run of "
                         f"'landia cycle'")
    out = Path(out_dir)
    for name, withheld_name in SETS.items():
        (out / name).mkdir(parents=True, exist_ok=True)
        (out / withheld_name).mkdir(parents=True, exist_ok=True)
    written, missing, seen_sum, used_sum, land_sum = 0, [], 0, 0, 0
    for path in states:
        t = parse_stamp(stamp_of(path))
        hour = int((t - t.astype("datetime64[D]")) // np.timedelta64(3600, "s"))
        if hour != system.overpass_hour or (start is not None and t < np.datetime64(start, "s")) \
                or (end is not None and t > np.datetime64(end, "s")):
            continue
        truth = read_field(path)
        land = np.isfinite(truth.values[0])
        day = observe_day(truth, gaps.mask(t.astype("datetime64[D]")), system, seed)
        land_sum += int(land.sum())
        seen_sum += int((day["used"] | day["withheld"]).sum())
        if day["used"].sum() < MIN_CELLS:
            missing.append(str(t))
            continue
        used_sum += int(day["used"].sum())
        attributes = {"truth_state": str(path), "seed": int(seed), "layers": system.layers,
                      "random_std": system.random_std, "correlated_std": system.correlated_std,
                      "correlated_km": system.correlated_km, "bias_offset": system.bias_offset,
                      "bias_slope": system.bias_slope,
                      "region": " ".join(map(str, system.region))}
        if system.swath_std > 0:
            attributes["swath_std"] = system.swath_std
        withheld_written = set()
        for name, withheld_name in SETS.items():
            image = day["values"][name]
            attributes["region_factor"] = system.region_factor if name != "obs" else 1.0
            stated = system.stated_variances(name, truth.lat, truth.lon)
            _write(out / name / observation_name(t), truth,
                   np.where(day["used"], image, np.nan), stated,
                   {**attributes, "content": "observations for the analysis"})
            if withheld_name not in withheld_written:  # a folder shared by equal values
                withheld_written.add(withheld_name)
                _write(out / withheld_name / observation_name(t), truth,
                       np.where(day["withheld"], image, np.nan), stated,
                       {**attributes, "content": "withheld observations, for scoring only"})
        written += 1
    return {"days": written, "missing": missing,
            "seen_fraction": seen_sum / max(land_sum, 1),
            "used_fraction": used_sum / max(land_sum, 1)}
