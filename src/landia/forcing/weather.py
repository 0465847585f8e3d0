"""A deterministic weather generator: plausible East Asian forcing without a data download.

The embedded experiment (``./run demo``) and the smoke configurations need forcing over a whole
model grid. This module makes it from formulas and seeded random fields, hour by hour, as a
:class:`~landia.forcing.record.Forcing` record that real forcing files can replace.

Design rules
------------
* **Rank independence.** Every random field is drawn on the *whole* model grid from
  ``numpy.random.default_rng([seed, stream, day])`` and only then sampled at the requested
  cells, so a cell gets the same forcing whichever cells are asked for with it, whatever the
  number of MPI ranks, and any day can be generated on its own (a restart needs no replay).
* **Cheap.** Per day: five smooth random fields on the grid (one FFT each); per hour:
  closed-form arithmetic on the requested cells.
* **Plausible, not a climate model.** The constants are round numbers chosen to give the
  right large-scale picture of the paper's domain (23-68 N, 73-117 E); they are listed in
  ``docs/forcing.md`` (section *Weather generator*).

The pieces, for a cell at latitude :math:`\\phi` (deg), longitude :math:`\\lambda` (deg E),
elevation :math:`z` (m), on day of year :math:`d`, local solar hour :math:`h`:

* elevation: two smooth plateaus, Tibet (4.5 km at 33 N 88 E) and Mongolia (1.5 km at
  47 N 100 E): :func:`elevation`;
* seasonal cycle :math:`s = \\cos(2\\pi (d - 196) / 365.25)` (+1 in mid-July);
* air temperature
  :math:`T = 299 - 0.75 (\\phi - 23) - 0.0065 z + A s + T' + D \\cos(2\\pi (h - 15)/24)`,
  seasonal amplitude :math:`A = 7 + 0.45 (\\phi - 23)` K, a synoptic anomaly :math:`T'`
  (smooth field, standard deviation 3 K, 1000 km scale, linear between days), diurnal
  amplitude :math:`D = 3 + 4 (1 - w)` K with the wetness :math:`w` below;
* climatological precipitation (mm/day)
  :math:`P = [0.15 + 4.5\\,\\sigma((\\lambda - 103)/6)\\,\\sigma((38 - \\phi)/4)
  + 1.0\\,\\sigma((\\phi - 50)/5)]\\,(1 + 0.8\\, m\\, s)`, :math:`\\sigma` the logistic
  function and :math:`m = \\sigma((\\lambda - 100)/6)` the monsoon share (summer rain in the
  east, little seasonality in the west); wetness :math:`w = P_{ann} / (P_{ann} + 1.5)`;
* rain events: a day is wet where a smooth field (600 km scale) exceeds the quantile that
  gives the wet-day probability :math:`p = 0.1 + 0.5 P/(P + 3)`; its amount is
  :math:`(P/p)\\,e^{0.6 g - 0.18}` with a second smooth field :math:`g` (mean factor 1),
  falling at a constant rate for 2-10 hours from a start hour, both from smooth fields so
  that storms are coherent in space; 2 % of that falls as the wet day's light rain outside
  the storm;
* humidity: relative humidity :math:`0.25 + 0.6 w` (+0.15 on wet days), capped at 0.97,
  converted with the saturation vapour pressure over water (Tetens);
* pressure :math:`101325 \\exp(-z/8434)` Pa; wind :math:`3 + 1.2 u` m/s, :math:`u` a smooth
  field, at least 0.5 m/s;
* shortwave: top-of-atmosphere irradiance (1361 W m-2 and the orbit's eccentricity) times
  :math:`\\cos Z` at the middle of the hour times a transmissivity
  :math:`0.75 - 0.4 c`, with cloud cover :math:`c = 0.2 + 0.6` on wet days (0.2 + 0.3 w
  otherwise); longwave: Idso's clear-sky emissivity (:func:`longwave_from_emissivity`) times
  :math:`1 + 0.22 c^2` (cloud enhancement).

Precipitation can be drawn from a different seed (``precipitation_seed``) than the rest of the
weather: that is how the demo's CTRL run gets "a different but plausible precipitation
realisation" under the same temperature, radiation and humidity.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

from landia.forcing.interpolate import longwave_from_emissivity
from landia.forcing.record import Forcing
from landia.forcing.solar import cos_solar_zenith
from landia.grid import LatLonGrid

EARTH_RADIUS_KM = 6371.0
SOLAR_CONSTANT = 1361.0
_STREAMS = {"temperature": 1, "wet": 2, "amount": 3, "start": 4, "duration": 5, "wind": 6}


def _logistic(x):
    return 1.0 / (1.0 + np.exp(-x))


def elevation(lat, lon) -> np.ndarray:
    """A smooth, plausible surface elevation (m): the Tibetan and Mongolian plateaus.

    .. math:: z = 4500 e^{-((\\phi - 33)/5)^2 - ((\\lambda - 88)/10)^2}
              + 1500 e^{-((\\phi - 47)/6)^2 - ((\\lambda - 100)/12)^2}
    """
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    return (4500.0 * np.exp(-((lat - 33.0) / 5.0) ** 2 - ((lon - 88.0) / 10.0) ** 2)
            + 1500.0 * np.exp(-((lat - 47.0) / 6.0) ** 2 - ((lon - 100.0) / 12.0) ** 2))


def climatological_precipitation(lat, lon, season) -> np.ndarray:
    """Mean precipitation (mm/day) at ``season`` = cos(2 pi (doy - 196)/365.25)."""
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    annual = (0.15 + 4.5 * _logistic((lon - 103.0) / 6.0) * _logistic((38.0 - lat) / 4.0)
              + 1.0 * _logistic((lat - 50.0) / 5.0))
    monsoon = _logistic((lon - 100.0) / 6.0)
    return annual * (1.0 + 0.8 * monsoon * np.asarray(season, dtype=float))


def saturation_vapour_pressure(t) -> np.ndarray:
    """Over water, Pa (Tetens): 610.78 exp(17.27 (T - 273.15) / (T - 35.85))."""
    t = np.asarray(t, dtype=float)
    return 610.78 * np.exp(17.27 * (t - 273.15) / (t - 35.85))


class WeatherGenerator:
    """Hourly forcing over the land cells of a model grid.

    Parameters
    ----------
    grid : LatLonGrid
        The model grid; cells are numbered in its global land order (``grid.land_index``).
    seed : int
        Seed of the temperature, wind and cloud-free weather.
    precipitation_seed : int, optional
        Seed of the rain events (default: ``seed``).
    """

    def __init__(self, grid: LatLonGrid, seed: int = 1, precipitation_seed: int | None = None):
        self.grid = grid
        self.seed = int(seed)
        self.precipitation_seed = int(seed if precipitation_seed is None else precipitation_seed)
        lat2, lon2 = np.meshgrid(grid.lat, grid.lon, indexing="ij")
        self.lat = lat2[grid.land]
        self.lon = lon2[grid.land]
        self.elevation = elevation(self.lat, self.lon)
        dlat = abs(float(grid.lat[1] - grid.lat[0])) if grid.lat.size > 1 else 1.0
        self._km_per_cell = EARTH_RADIUS_KM * np.deg2rad(dlat)
        self._cos_lat = max(np.cos(np.deg2rad(np.mean(grid.lat))), 0.2)
        self._cache: dict = {}

    # -- random fields on the whole grid --------------------------------------------------
    def _smooth(self, stream: str, day: int, scale_km: float) -> np.ndarray:
        """Unit-variance Gaussian random field on the land cells (whole grid, one day)."""
        key = (stream, day)
        if key in self._cache:
            return self._cache[key]
        seed = self.precipitation_seed if stream in ("wet", "amount", "start", "duration") \
            else self.seed
        rng = np.random.default_rng([seed, _STREAMS[stream], int(day) + 1_000_000])
        ny, nx = self.grid.shape
        ly = scale_km / self._km_per_cell
        lx = ly / self._cos_lat
        py, px = ny + 4 * int(np.ceil(ly)), nx + 4 * int(np.ceil(lx))  # pad: no wrap-around
        noise = rng.standard_normal((py, px))
        ky = np.fft.fftfreq(py)[:, None]
        kx = np.fft.rfftfreq(px)[None, :]
        gain = np.exp(-2.0 * np.pi**2 * ((ky * ly) ** 2 + (kx * lx) ** 2))
        field = np.fft.irfft2(np.fft.rfft2(noise) * gain, s=(py, px))
        # Var of the filtered white noise: mean of |gain|^2 over the full spectrum.
        full = np.exp(-4.0 * np.pi**2 * ((np.fft.fftfreq(py)[:, None] * ly) ** 2
                                         + (np.fft.fftfreq(px)[None, :] * lx) ** 2))
        field /= np.sqrt(full.mean())
        values = field[:ny, :nx][self.grid.land]
        if len(self._cache) > 64:
            self._cache.clear()
        self._cache[key] = values
        return values

    # -- the record -----------------------------------------------------------------------
    def forcing(self, start, end, cells=None, step_hours: int = 1) -> Forcing:
        """Forcing at ``start, start + step, ... < end`` for ``cells`` (land indices).

        Parameters
        ----------
        start, end : datetime64 or str
            UTC; ``start`` on a whole hour.
        cells : array_like of int, optional
            Indices into the grid's land order (default: all land cells).
        step_hours : int
            Spacing of the record (interval quantities are means over each step).

        Returns
        -------
        Forcing
            Validated record with ``lwdown``; total ``precip`` only (the model splits rain
            and snow by air temperature).
        """
        cells = np.arange(self.lat.size) if cells is None else np.asarray(cells, dtype=int)
        step = np.timedelta64(int(step_hours) * 3600, "s")
        times = np.arange(np.datetime64(start, "s"), np.datetime64(end, "s"), step)
        lat, lon, z = self.lat[cells], self.lon[cells], self.elevation[cells]
        T, N = times.size, cells.size
        seconds = (times - np.datetime64("1970-01-01T00:00:00", "s")).astype(np.int64)
        mid = seconds + int(step_hours) * 1800
        day = mid // 86400
        doy = (times.astype("datetime64[D]") - times.astype("datetime64[Y]").astype(
            "datetime64[D]")).astype(float)
        season = np.cos(2.0 * np.pi * (doy - 196.0) / 365.25)[:, None]
        utc_hour = ((mid % 86400) / 3600.0)[:, None]
        solar_hour = (utc_hour + lon[None, :] / 15.0) % 24.0

        p_annual = climatological_precipitation(lat, lon, 0.0)
        wetness = p_annual / (p_annual + 1.5)
        t_mean = 299.0 - 0.75 * (lat - 23.0) - 0.0065 * z
        amplitude = 7.0 + 0.45 * (lat - 23.0)
        diurnal = 3.0 + 4.0 * (1.0 - wetness)

        tair = np.empty((T, N))
        precip = np.zeros((T, N))
        wet_day = np.zeros((T, N), dtype=bool)
        wind = np.empty((T, N))
        for d in np.unique(day):
            rows = np.flatnonzero(day == d)
            frac = ((mid[rows] % 86400) / 86400.0)[:, None]
            anomaly = 3.0 * ((1 - frac) * self._smooth("temperature", d, 1000.0)[cells]
                             + frac * self._smooth("temperature", d + 1, 1000.0)[cells])
            tair[rows] = (t_mean + amplitude * season[rows] + anomaly
                          + diurnal * np.cos(2.0 * np.pi * (solar_hour[rows] - 15.0) / 24.0))
            wind[rows] = np.maximum(3.0 + 1.2 * self._smooth("wind", d, 800.0)[cells], 0.5)
            # rain events of day d (local calendar ignored: the event day is the UTC day)
            s_d = np.cos(2.0 * np.pi * (doy[rows[0]] - 196.0) / 365.25)
            p_clim = climatological_precipitation(lat, lon, s_d)
            p_wet = 0.1 + 0.5 * p_clim / (p_clim + 3.0)
            wet = self._smooth("wet", d, 600.0)[cells] > ndtri(1.0 - p_wet)
            amount = p_clim / p_wet * np.exp(0.6 * self._smooth("amount", d, 300.0)[cells] - 0.18)
            start_h = 24.0 * _logistic(1.7 * self._smooth("start", d, 500.0)[cells])
            duration = 2.0 + 8.0 * _logistic(1.7 * self._smooth("duration", d, 500.0)[cells])
            hour = (utc_hour[rows] - start_h[None, :]) % 24.0
            in_storm = hour < duration[None, :]
            storm_rate = 0.98 * amount / duration / 3600.0          # mm s-1
            light_rate = 0.02 * amount / (24.0 - duration) / 3600.0
            rate = np.where(in_storm, storm_rate[None, :], light_rate[None, :])
            precip[rows] = np.where(wet[None, :], rate, 0.0)
            wet_day[rows] = wet[None, :]

        cloud = np.where(wet_day, 0.8, 0.2 + 0.3 * wetness[None, :])
        rh = np.minimum(0.25 + 0.6 * wetness[None, :] + 0.15 * wet_day, 0.97)
        psurf = np.broadcast_to(101325.0 * np.exp(-z / 8434.0), (T, N)).copy()
        e = rh * saturation_vapour_pressure(tair)
        qair = 0.622 * e / (psurf - 0.378 * e)
        cosz = cos_solar_zenith(times + step // 2, lat, lon)
        orbit = 1.0 + 0.033 * np.cos(2.0 * np.pi * doy / 365.25)[:, None]
        swdown = SOLAR_CONSTANT * orbit * np.maximum(cosz, 0.0) * (0.75 - 0.4 * cloud)
        lwdown = longwave_from_emissivity(tair, qair, psurf) * (1.0 + 0.22 * cloud**2)
        return Forcing(times=times, lat=lat, lon=lon, tair=tair, qair=qair, psurf=psurf,
                       wind=wind, swdown=swdown, lwdown=lwdown, precip=precip,
                       source=f"weather generator (seed {self.seed}, precipitation seed "
                              f"{self.precipitation_seed})").validate()
