"""CoLM-style time interpolation of forcing to model steps (pure arithmetic, no I/O).

Conventions (``docs/columns.md``, section Forcing):

* model step ``m`` covers ``[t_m, t_m + dt)`` with ``t_m = start + m dt``;
* forcing interval ``k`` covers ``[t_k, t_{k+1})``; the last one is as long as the one
  before it; interval quantities (precipitation, shortwave, longwave) are means over it;
* state variables (temperature, humidity, pressure, wind, longwave) are linear in time
  between forcing times, evaluated at ``t_m``;
* precipitation is a step: each model step gets the mean rate over its overlap with the
  forcing intervals, so totals are conserved exactly;
* shortwave is spread over each forcing interval in proportion to
  :math:`\\max(\\cos Z, 0)` at the model-step midpoints, keeping the interval mean.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from landia.errors import InputError
from landia.forcing.record import Forcing
from landia.forcing.solar import cos_solar_zenith

#: Stefan-Boltzmann constant, W m-2 K-4.
STEFAN_BOLTZMANN = 5.670374419e-8
#: Ratio of the gas constants of dry air and water vapour, R_d / R_v.
EPSILON_WATER = 0.622


def vapour_pressure(qair, psurf) -> np.ndarray:
    """Water-vapour pressure from specific humidity and pressure.

    .. math:: e = \\frac{q\\,p}{0.622 + 0.378\\,q}

    with :math:`q` in kg kg-1 and :math:`p`, :math:`e` in Pa.
    """
    q = np.asarray(qair, dtype=float)
    return q * np.asarray(psurf, dtype=float) / (EPSILON_WATER + (1.0 - EPSILON_WATER) * q)


def longwave_from_emissivity(tair, qair, psurf) -> np.ndarray:
    """Clear-sky downward longwave when the forcing has none (Idso 1981 as CoLM uses it).

    Parameters
    ----------
    tair : array_like
        Air temperature, K.
    qair : array_like
        Specific humidity, kg kg-1.
    psurf : array_like
        Surface pressure, Pa.

    Returns
    -------
    ndarray
        :math:`L^\\downarrow`, W m-2.

    Notes
    -----
    .. math:: L^\\downarrow = \\varepsilon\\,\\sigma T^4, \\qquad
              \\varepsilon = 0.70 + 5.95\\times10^{-7}\\,e\\,\\exp(1500/T)

    with the vapour pressure :math:`e` **in Pa** (:func:`vapour_pressure`). Idso (1981)
    writes the coefficient as 5.95e-5 with :math:`e` in hPa; 5.95e-7 in science.md section 5
    is the same law in Pa. (With hPa and 5.95e-7 the vapour term would be a hundred times
    too small, leaving :math:`\\varepsilon \\approx 0.70` even in the humid tropics.)
    """
    t = np.asarray(tair, dtype=float)
    e = vapour_pressure(qair, psurf)
    emissivity = 0.70 + 5.95e-7 * e * np.exp(1500.0 / t)
    return emissivity * STEFAN_BOLTZMANN * t**4


def model_step_times(start, end, dt: float = 1800.0) -> np.ndarray:
    """Start times ``start, start + dt, ...`` of the model steps before ``end`` (UTC)."""
    start = np.datetime64(start, "s")
    end = np.datetime64(end, "s")
    n = int((end - start) / np.timedelta64(int(dt), "s"))
    if n < 1:
        raise InputError(f"model period [{start}, {end}) holds no step of {dt:g} s")
    return start + np.arange(n) * np.timedelta64(int(dt), "s")


def _seconds(times, origin) -> np.ndarray:
    return (np.asarray(times).astype("datetime64[s]") - origin).astype(np.int64).astype(float)


def interval_edges(times) -> np.ndarray:
    """Edges (T + 1,) of the forcing intervals, in seconds since ``times[0]``."""
    t = _seconds(times, np.asarray(times).astype("datetime64[s]")[0])
    last = t[-1] + (t[-1] - t[-2] if t.size > 1 else 0.0)
    return np.append(t, last)


def overlap_matrix(edges: np.ndarray, step_start: np.ndarray, dt: float) -> sp.csr_matrix:
    """Overlap lengths ``O[m, k] = |[s_m, s_m + dt) ∩ [e_k, e_{k+1})|`` in seconds (sparse)."""
    k0 = np.searchsorted(edges, step_start, side="right") - 1
    k1 = np.searchsorted(edges, step_start + dt, side="left") - 1
    rows, cols, vals = [], [], []
    for j in range(int((k1 - k0).max()) + 1 if k0.size else 0):
        k = k0 + j
        ok = (k <= k1) & (k >= 0) & (k < edges.size - 1)
        kk = k[ok]
        length = (np.minimum(step_start[ok] + dt, edges[kk + 1])
                  - np.maximum(step_start[ok], edges[kk]))
        rows.append(np.nonzero(ok)[0])
        cols.append(kk)
        vals.append(np.maximum(length, 0.0))
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                         shape=(step_start.size, edges.size - 1))


def interpolate_forcing(forcing: Forcing, start, end, dt: float = 1800.0) -> Forcing:
    """The forcing on model steps of ``dt`` seconds in ``[start, end)`` (UTC).

    Parameters
    ----------
    forcing : Forcing
        Source record (any step: half-hourly to 6-hourly).
    start, end : datetime64 or str
        Model period, UTC; it must lie within the forcing intervals.
    dt : float
        Model step, s (CoLM: 1800).

    Returns
    -------
    Forcing
        Record at the model step times; ``lwdown`` always present (derived when the source
        has none).

    Notes
    -----
    With forcing times :math:`t_k`, interval lengths :math:`\\Delta_k`, model steps
    :math:`[s_m, s_m + \\Delta t)` and overlaps :math:`o_{mk}` (s):

    * states :math:`x(s_m) = x_k + (x_{k+1} - x_k)(s_m - t_k)/\\Delta_k`;
    * precipitation :math:`P_m = \\Delta t^{-1}\\sum_k o_{mk} P_k`, so that
      :math:`\\sum_m P_m\\Delta t = \\sum_k P_k\\Delta_k` over the covered intervals;
    * shortwave, with :math:`w_m = \\max(\\cos Z(s_m + \\Delta t/2), 0)` and the interval
      mean weight :math:`W_k = \\sum_m o_{mk} w_m / \\sum_m o_{mk}`,
      :math:`S_m = \\Delta t^{-1}\\sum_k o_{mk} S_k w_m / W_k`, or
      :math:`\\Delta t^{-1}\\sum_k o_{mk} S_k` where :math:`W_k = 0` (sun never up in the
      interval's model steps). The interval mean is conserved whenever the model steps
      cover the interval, and for :math:`\\Delta t \\ge \\Delta_k` on aligned steps
      :math:`S_m = S_k` (half-hourly sources pass through unchanged).
    """
    steps = model_step_times(start, end, dt)
    origin = forcing.times[0]
    edges = interval_edges(forcing.times)
    s = _seconds(steps, origin)
    if s[0] < edges[0] or s[-1] + dt > edges[-1] + 1e-6:
        raise InputError(f"{forcing.source}: model period [{steps[0]}, {steps[-1]} + {dt:g} s) "
                         f"is not covered by the forcing ({forcing.times[0]} to the end of the "
                         f"interval starting {forcing.times[-1]} UTC)")
    # linear weights at s_m
    t = edges[:-1]
    k = np.clip(np.searchsorted(t, s, side="right") - 1, 0, max(t.size - 2, 0))
    if t.size > 1:
        w = np.clip((s - t[k]) / (t[k + 1] - t[k]), 0.0, 1.0)[:, None]
        k1 = k + 1
    else:
        w, k1 = np.zeros((s.size, 1)), k

    def linear(a):
        return (1.0 - w) * a[k] + w * a[k1]

    O = overlap_matrix(edges, s, dt)

    def step(a):
        return np.asarray(O @ a) / dt

    mid = steps + np.timedelta64(int(dt // 2), "s")
    weight = np.maximum(cos_solar_zenith(mid, forcing.lat, forcing.lon), 0.0)     # (M, N)
    # W_k over the part of interval k that model steps cover (all of it inside the period)
    covered = np.asarray(O.sum(axis=0)).ravel()[:, None]                           # (K, 1)
    mean_weight = np.asarray(O.T @ weight) / np.maximum(covered, 1e-300)           # (K, N)
    sun = mean_weight > 0
    ratio = np.where(sun, forcing.swdown / np.where(sun, mean_weight, 1.0), 0.0)   # S_k / W_k
    swdown = np.asarray(O @ ratio) / dt * weight + step(np.where(sun, 0.0, forcing.swdown))

    tair, qair, psurf = linear(forcing.tair), linear(forcing.qair), linear(forcing.psurf)
    lwdown = (linear(forcing.lwdown) if forcing.lwdown is not None
              else longwave_from_emissivity(tair, qair, psurf))
    out = replace(
        forcing, times=steps, tair=tair, qair=qair, psurf=psurf, wind=linear(forcing.wind),
        lwdown=lwdown, swdown=swdown, precip=step(forcing.precip),
        rain=None if forcing.rain is None else step(forcing.rain),
        snow=None if forcing.snow is None else step(forcing.snow),
        source=f"{forcing.source} (interpolated to {dt:g} s)")
    return out
