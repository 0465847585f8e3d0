"""Daily-mean forcing -> sub-daily steps over each UTC day, every daily budget kept exactly.

Pure numpy on arrays: no I/O. Products such as the NLDAS-2 daily means of
``conus_nldas_smap`` give one value per cell and UTC day; the land model steps 1800 s. This
module spreads each day over ``K = 86400 / step_s`` steps so that the mean of the ``K`` step
values is the daily input (to round-off) for every variable; every output value is the mean
over its step ``[t_k, t_k + step_s)``, as :class:`~landia.forcing.record.Forcing` defines
interval quantities. The rules (``docs/forcing-disaggregation.md``):

=============  ==========================================================================
shortwave      :math:`\\propto \\overline{\\max(\\cos Z, 0)}` over each step (solar geometry
               of :mod:`landia.forcing.solar`); even when the sun never rises
air temp.      daily mean + a two-branch cosine, minimum at sunrise, maximum at 14 h local
               solar time, range from the day's transmissivity (4 K overcast - 16 K clear)
humidity       constant, lowered to saturation where the cycle's minimum needs it, the
               removed vapour put back where there is room (mean kept when it can be)
longwave       :math:`\\propto T^4` of the step (constant emissivity over the day)
wind, pressure constant over the day
precipitation  evenly over the day, or at a constant rate in a window of ``precip_hours``
               around a fixed local solar hour (wrapped inside the UTC day)
=============  ==========================================================================

Feed the result to :func:`landia.forcing.interpolate.interpolate_forcing` at the **same** step
(``step_s`` = the model ``dt``, days starting at 00 UTC): every value then passes through
unchanged and the daily budgets stay exact. At a coarser step (e.g. hourly into 1800 s) the
linear interpolation of the states (temperature, humidity, longwave, wind) shifts them by half
a step and breaks their daily means by up to a few tenths of a kelvin at the day boundaries.
"""

from __future__ import annotations

import numpy as np

from landia.errors import InputError
from landia.forcing.record import Forcing
from landia.forcing.solar import cos_solar_zenith
from landia.forcing.weather import SOLAR_CONSTANT, saturation_vapour_pressure

SECONDS_PER_DAY = 86400
#: Diurnal temperature range (K) of an overcast / a clear day.
DTR_OVERCAST, DTR_CLEAR = 4.0, 16.0
#: Transmissivities (daily shortwave / top of atmosphere) of "overcast" and "clear".
TAU_OVERCAST, TAU_CLEAR = 0.25, 0.75
#: Local solar hour of the daily temperature maximum.
HOUR_OF_MAXIMUM = 14.0
#: Sunrise hour (local solar time) used for the minimum is kept in this range (polar days).
SUNRISE_RANGE = (3.0, 9.0)
#: The temperature cycle is damped so that no step leaves this range (K).
TAIR_LIMITS = (190.0, 335.0)


def _check(name, a, shape, source, lower=None):
    a = np.asarray(a, dtype=float)
    try:
        a = np.broadcast_to(a, shape)
    except ValueError:
        raise InputError(f"{source}: daily {name} has shape {a.shape}; expected (days, cells) "
                         f"= {shape} or one broadcastable to it") from None
    bad = ~np.isfinite(a) if lower is None else ~(np.isfinite(a) & (a >= lower))
    if bad.any():
        d, n = np.argwhere(bad)[0]
        expected = "finite" if lower is None else f"finite and >= {lower:g}"
        raise InputError(f"{source}: daily {name} is {a[d, n]!r} on day {d}, cell {n} "
                         f"({int(bad.sum())} bad values); expected {expected}")
    return a


def step_sunlight(days, lat, lon, step_s: int) -> tuple[np.ndarray, np.ndarray]:
    """Step means of :math:`\\max(\\cos Z, 0)` and the sunlit fraction of each day.

    Parameters
    ----------
    days : ndarray (D,) of datetime64[D]
        UTC days.
    lat, lon : ndarray (N,)
        Degrees north / east.
    step_s : int
        Step, s; a multiple of 60 that divides 86400.

    Returns
    -------
    weight : ndarray (D, K, N)
        :math:`w_k = \\Delta^{-1}\\int_{t_k}^{t_k+\\Delta} \\max(\\cos Z, 0)\\,dt`, by the
        midpoint rule on 300 s (or 60 s) sub-steps.
    daylight : ndarray (D, N)
        Fraction of the sub-steps with :math:`\\cos Z > 0` (day length / 24 h).
    """
    K = SECONDS_PER_DAY // step_s
    sub = 300 if step_s % 300 == 0 else 60
    n_sub = step_s // sub
    offsets = (np.arange(K * n_sub) * sub + sub // 2).astype("timedelta64[s]")
    weight = np.empty((len(days), K, len(lat)))
    daylight = np.empty((len(days), len(lat)))
    for d, day in enumerate(np.asarray(days).astype("datetime64[s]")):
        cz = cos_solar_zenith(day + offsets, lat, lon)                     # (K n_sub, N)
        weight[d] = np.maximum(cz, 0.0).reshape(K, n_sub, -1).mean(axis=1)
        daylight[d] = (cz > 0).mean(axis=0)
    return weight, daylight


def temperature_shape(days, lon, daylight, step_s: int) -> np.ndarray:
    """Step means of the diurnal temperature shape :math:`f \\in [-1, 1]`.

    Parameters
    ----------
    days : ndarray (D,) of datetime64[D]
    lon : ndarray (N,)
        Degrees east.
    daylight : ndarray (D, N)
        Day length as a fraction of 24 h (:func:`step_sunlight`).
    step_s : int

    Returns
    -------
    ndarray (D, K, N)

    Notes
    -----
    With local solar hour :math:`h = h_{UTC} + \\lambda/15` (mod 24), sunrise
    :math:`h_r = 12 - 12\\,\\ell` (day length :math:`24\\ell` h) kept in [3, 9] h, and the
    maximum at :math:`h_x = 14` h:

    .. math:: f(h) = -\\cos\\frac{\\pi (h - h_r)}{h_x - h_r} \\quad (h_r \\le h \\le h_x),
              \\qquad f(h) = \\cos\\frac{\\pi (h' - h_x)}{24 + h_r - h_x} \\quad
              \\text{otherwise},

    :math:`h' = h` or :math:`h + 24` so that :math:`h_x < h' < 24 + h_r`: a rise from the
    minimum at sunrise to the maximum at 14 h, then a slow fall to the next sunrise.
    """
    K = SECONDS_PER_DAY // step_s
    sub = 300 if step_s % 300 == 0 else 60
    n_sub = step_s // sub
    hours_utc = (np.arange(K * n_sub) * sub + sub / 2.0) / 3600.0
    h = np.mod(hours_utc[:, None] + np.asarray(lon, dtype=float)[None, :] / 15.0, 24.0)
    out = np.empty((len(days), K, len(lon)))
    for d in range(len(days)):
        hr = np.clip(12.0 - 12.0 * daylight[d], *SUNRISE_RANGE)[None, :]
        rising = (h >= hr) & (h <= HOUR_OF_MAXIMUM)
        hp = np.where(h > HOUR_OF_MAXIMUM, h, h + 24.0)
        f = np.where(rising, -np.cos(np.pi * (h - hr) / (HOUR_OF_MAXIMUM - hr)),
                     np.cos(np.pi * (hp - HOUR_OF_MAXIMUM) / (24.0 + hr - HOUR_OF_MAXIMUM)))
        out[d] = f.reshape(K, n_sub, -1).mean(axis=1)
    return out


def diurnal_range(swdown, toa) -> np.ndarray:
    """Diurnal temperature range (K) from the day's transmissivity.

    .. math:: R = R_o + (R_c - R_o)\\,\\mathrm{clip}\\Big(\\frac{\\tau - \\tau_o}
              {\\tau_c - \\tau_o}, 0, 1\\Big), \\qquad \\tau = \\bar S / \\bar S_{TOA}

    with :math:`R_o` = 4 K, :math:`R_c` = 16 K, :math:`\\tau_o` = 0.25, :math:`\\tau_c` = 0.75
    (overcast days have small ranges, clear dry days large ones); :math:`R_o` where the sun
    does not rise (:math:`\\bar S_{TOA} = 0`).
    """
    tau = np.divide(swdown, toa, out=np.zeros_like(toa), where=toa > 0)
    x = np.clip((tau - TAU_OVERCAST) / (TAU_CLEAR - TAU_OVERCAST), 0.0, 1.0)
    return DTR_OVERCAST + (DTR_CLEAR - DTR_OVERCAST) * x


def saturation_specific_humidity(tair, psurf) -> np.ndarray:
    """:math:`q_s = 0.622\\,e_s / (p - 0.378\\,e_s)`, kg kg-1 (Tetens :math:`e_s` over water)."""
    es = np.minimum(saturation_vapour_pressure(tair), 0.5 * np.asarray(psurf, dtype=float))
    return 0.622 * es / (psurf - 0.378 * es)


def humidity_cycle(q_mean, q_sat) -> tuple[np.ndarray, np.ndarray]:
    """Specific humidity over a day's steps at or below saturation, its mean kept if possible.

    Parameters
    ----------
    q_mean : ndarray (D, N)
        Daily mean, kg kg-1.
    q_sat : ndarray (D, K, N)
        Saturation at each step's temperature and pressure.

    Returns
    -------
    q : ndarray (D, K, N)
    kept : ndarray of bool (D, N)
        False where the daily mean could not be kept.

    Notes
    -----
    Start from :math:`q_k = \\min(\\bar q, q_{s,k})`; the removed vapour
    :math:`E = \\sum_k (\\bar q - q_{s,k})^+` is added back in proportion to the room
    :math:`r_k = (q_{s,k} - \\bar q)^+`: :math:`q_k \\mathrel{+}= r_k E / R`,
    :math:`R = \\sum_k r_k`. When :math:`R \\ge E` (the mean saturation of the day is at least
    :math:`\\bar q`) every :math:`q_k \\le q_{s,k}` and the mean is :math:`\\bar q`; otherwise
    the day is saturated at every step and its mean falls below the input (``kept`` False).
    """
    q_mean = q_mean[:, None, :]
    excess = np.maximum(q_mean - q_sat, 0.0).sum(axis=1, keepdims=True)
    room = np.maximum(q_sat - q_mean, 0.0)
    total_room = room.sum(axis=1, keepdims=True)
    kept = (total_room >= excess)[:, 0, :]
    share = np.divide(excess, total_room, out=np.zeros_like(excess), where=total_room > 0)
    q = np.minimum(q_mean, q_sat) + room * np.minimum(share, 1.0)
    return q, kept


def precipitation_weights(lon, step_s: int, hours: float | None, centre_hour: float) -> np.ndarray:
    """Share of a day's precipitation in each step, (K, N), mean 1 over the day.

    ``hours`` None: even. Otherwise a constant rate over ``hours`` h centred at the local solar
    hour ``centre_hour`` (``h_UTC = centre_hour - lon/15``); the part of the window outside the
    UTC day is wrapped into the same day, so that the day's total stays in the day.
    """
    K = SECONDS_PER_DAY // step_s
    lon = np.asarray(lon, dtype=float)
    if hours is None or hours >= 24.0:
        return np.ones((K, lon.size))
    if not 0.0 < hours:
        raise InputError(f"precipitation window of {hours!r} h; expected hours in (0, 24]")
    width = hours * 3600.0
    begin = np.mod((centre_hour - lon / 15.0) * 3600.0 - width / 2.0, SECONDS_PER_DAY)
    edges = np.arange(K + 1, dtype=float) * step_s
    inside = np.zeros((K, lon.size))
    for shift in (-SECONDS_PER_DAY, 0.0):       # the window and its wrapped part
        lo, hi = begin + shift, begin + shift + width
        inside += np.clip(np.minimum(edges[1:, None], hi[None, :])
                          - np.maximum(edges[:-1, None], lo[None, :]), 0.0, None)
    return inside / inside.mean(axis=0, keepdims=True)


def _scaled(daily, shape):
    """``daily * shape / mean(shape)`` over each day; even where the shape is all zero."""
    mean = shape.mean(axis=1, keepdims=True)
    ratio = np.divide(shape, mean, out=np.ones_like(shape), where=mean > 0)
    return daily[:, None, :] * ratio


def disaggregate_daily(days, lat, lon, *, tair, qair, swdown, lwdown, precip, wind, psurf,
                       step_s: int = 1800, precip_hours: float | None = None,
                       precip_centre_hour: float = 16.0, source: str = "<daily forcing>"
                       ) -> Forcing:
    """Sub-daily forcing over each UTC day from daily means, every daily mean kept.

    Parameters
    ----------
    days : array_like (D,) of datetime64
        Consecutive UTC days (their 00 UTC).
    lat, lon : array_like (N,)
        Degrees north / east.
    tair, qair, swdown, lwdown, wind : array_like (D, N)
        Daily means: K, kg kg-1, W m-2, W m-2, m s-1.
    precip : array_like (D, N)
        Daily mean precipitation rate, kg m-2 s-1 (a daily total in kg m-2 divided by 86400).
    psurf : array_like (D, N) or broadcastable (a scalar, (N,))
        Surface pressure, Pa, constant over each day.
    step_s : int
        Step of the result, s; a multiple of 60 dividing 86400. Use the model step.
    precip_hours : float, optional
        None: precipitation evenly over the day; else over this many hours.
    precip_centre_hour : float
        Local solar hour at the middle of the precipitation window.
    source : str
        For messages.

    Returns
    -------
    Forcing
        ``D * 86400 / step_s`` times from ``days[0]`` 00 UTC, validated; each value the mean
        over its step; ``rain``/``snow`` None.

    Raises
    ------
    InputError
        Naming ``source``, the variable, day and cell: non-finite or negative daily values,
        days not consecutive, a step that does not divide the day.

    Notes
    -----
    Over the :math:`K` steps of a day, with daily means (bars):

    * :math:`S_k = \\bar S\\, w_k / \\bar w` with :math:`w_k` the step mean of
      :math:`\\max(\\cos Z, 0)`; :math:`S_k = \\bar S` if :math:`\\bar w = 0` (polar night);
    * :math:`T_k = \\bar T + c\\,\\tfrac{R}{2}\\,(f_k - \\bar f)`, :math:`f` of
      :func:`temperature_shape`, :math:`R` of :func:`diurnal_range` with
      :math:`\\bar S_{TOA} = 1361\\,(1 + 0.033\\cos(2\\pi d/365))\\,\\bar w`, and
      :math:`c \\le 1` the largest damping that keeps :math:`T_k` in [190, 335] K;
    * :math:`q_k` of :func:`humidity_cycle` with :math:`q_{s}(T_k, p)`;
    * :math:`L_k = \\bar L\\, T_k^4 / \\overline{T^4}`;
    * :math:`P_k = \\bar P\\, g_k / \\bar g`, :math:`g` of :func:`precipitation_weights`;
    * wind and pressure constant.

    Then :math:`K^{-1}\\sum_k x_k = \\bar x` to round-off for S, T, L, P, wind, pressure, and
    for q except on days whose mean saturation is below :math:`\\bar q`.
    """
    step_s = int(step_s)
    if step_s < 60 or step_s % 60 or SECONDS_PER_DAY % step_s:
        raise InputError(f"{source}: step of {step_s} s; expected a multiple of 60 s that "
                         f"divides 86400 s")
    days = np.atleast_1d(np.asarray(days).astype("datetime64[D]"))
    if days.ndim != 1 or days.size < 1:
        raise InputError(f"{source}: days must be a non-empty 1-D array, got {days.shape}")
    if np.any(np.diff(days) != np.timedelta64(1, "D")):
        k = int(np.argmax(np.diff(days) != np.timedelta64(1, "D")))
        raise InputError(f"{source}: days must be consecutive; {days[k]} is followed by "
                         f"{days[k + 1]}")
    lat = np.atleast_1d(np.asarray(lat, dtype=float))
    lon = np.atleast_1d(np.asarray(lon, dtype=float))
    shape = (days.size, lat.size)
    tair = _check("tair", tair, shape, source, lower=100.0)
    qair = _check("qair", qair, shape, source, lower=0.0)
    swdown = _check("swdown", swdown, shape, source, lower=0.0)
    lwdown = _check("lwdown", lwdown, shape, source, lower=0.0)
    precip = _check("precip", precip, shape, source, lower=0.0)
    wind = _check("wind", wind, shape, source, lower=0.0)
    psurf = _check("psurf", psurf, shape, source, lower=1.0)
    K = SECONDS_PER_DAY // step_s

    weight, daylight = step_sunlight(days, lat, lon, step_s)
    sw = _scaled(swdown, weight)

    doy = (days - days.astype("datetime64[Y]").astype("datetime64[D]")).astype(float)
    toa = (SOLAR_CONSTANT * (1.0 + 0.033 * np.cos(2.0 * np.pi * doy / 365.0))[:, None]
           * weight.mean(axis=1))
    f = temperature_shape(days, lon, daylight, step_s)
    anomaly = 0.5 * diurnal_range(swdown, toa)[:, None, :] * (f - f.mean(axis=1, keepdims=True))
    low, high = TAIR_LIMITS
    damp = np.minimum.reduce([
        np.ones(shape),
        np.divide(tair - low, -anomaly.min(axis=1), out=np.ones(shape),
                  where=anomaly.min(axis=1) < 0),
        np.divide(high - tair, anomaly.max(axis=1), out=np.ones(shape),
                  where=anomaly.max(axis=1) > 0)])
    ta = tair[:, None, :] + np.clip(damp, 0.0, 1.0)[:, None, :] * anomaly

    ps = np.repeat(psurf[:, None, :], K, axis=1)
    q, _ = humidity_cycle(qair, saturation_specific_humidity(ta, ps))
    lw = _scaled(lwdown, ta**4)
    pr = precip[:, None, :] * precipitation_weights(lon, step_s, precip_hours,
                                                     precip_centre_hour)[None]

    def flat(a):
        return a.reshape(days.size * K, lat.size)

    times = (days.astype("datetime64[s]")[:, None]
             + (np.arange(K) * step_s).astype("timedelta64[s]")[None, :]).ravel()
    return Forcing(times=times, lat=lat, lon=lon, tair=flat(ta), qair=flat(q), psurf=flat(ps),
                   wind=flat(np.repeat(wind[:, None, :], K, axis=1)), swdown=flat(sw),
                   lwdown=flat(lw), precip=flat(pr),
                   source=f"{source} (disaggregated from daily means to {step_s} s)").validate()
