"""Cosine of the solar zenith angle (Spencer 1971 series, as in the NOAA solar calculator).

Pure arithmetic on numpy arrays: no I/O.
"""

from __future__ import annotations

import numpy as np


def cos_solar_zenith(times, lat, lon) -> np.ndarray:
    """Cosine of the solar zenith angle at UTC times over columns.

    Parameters
    ----------
    times : array_like (T,) of datetime64
        UTC times.
    lat, lon : array_like (N,)
        Degrees north / east.

    Returns
    -------
    ndarray (T, N)
        :math:`\\cos Z`, negative when the sun is below the horizon.

    Notes
    -----
    With the fractional year :math:`\\gamma = 2\\pi/D\\,(d - 1 + (h - 12)/24)` (day of year
    :math:`d`, UTC hour :math:`h`, :math:`D` = 365 or 366 days), Spencer (1971) gives the
    declination (rad)

    .. math:: \\delta = 0.006918 - 0.399912\\cos\\gamma + 0.070257\\sin\\gamma
              - 0.006758\\cos 2\\gamma + 0.000907\\sin 2\\gamma
              - 0.002697\\cos 3\\gamma + 0.00148\\sin 3\\gamma

    and the equation of time (min)

    .. math:: E = 229.18\\,(0.000075 + 0.001868\\cos\\gamma - 0.032077\\sin\\gamma
              - 0.014615\\cos 2\\gamma - 0.040849\\sin 2\\gamma).

    True solar time (min) is :math:`t_s = 60 h + E + 4\\lambda` (longitude
    :math:`\\lambda` in degrees east), the hour angle :math:`\\omega = (t_s/4 - 180)`
    degrees, and

    .. math:: \\cos Z = \\sin\\phi\\sin\\delta + \\cos\\phi\\cos\\delta\\cos\\omega.

    Accuracy is about 0.1 degree in declination and 1 minute in time, ample for
    distributing shortwave radiation over a forcing interval.
    """
    t = np.atleast_1d(np.asarray(times).astype("datetime64[s]"))
    lat = np.deg2rad(np.atleast_1d(np.asarray(lat, dtype=float)))
    lon = np.atleast_1d(np.asarray(lon, dtype=float))
    year = t.astype("datetime64[Y]")
    day0 = year.astype("datetime64[D]")
    days_in_year = ((year + 1).astype("datetime64[D]") - day0).astype(float)
    seconds = (t - day0.astype("datetime64[s]")).astype(float)  # since Jan 1 00 UTC
    day = np.floor(seconds / 86400.0)                           # d - 1
    hour = seconds / 3600.0 - 24.0 * day                        # UTC hour of the day
    g = 2.0 * np.pi / days_in_year * (day + (hour - 12.0) / 24.0)
    decl = (0.006918 - 0.399912 * np.cos(g) + 0.070257 * np.sin(g)
            - 0.006758 * np.cos(2 * g) + 0.000907 * np.sin(2 * g)
            - 0.002697 * np.cos(3 * g) + 0.00148 * np.sin(3 * g))
    eqtime = 229.18 * (0.000075 + 0.001868 * np.cos(g) - 0.032077 * np.sin(g)
                       - 0.014615 * np.cos(2 * g) - 0.040849 * np.sin(2 * g))
    solar_minutes = 60.0 * hour[:, None] + eqtime[:, None] + 4.0 * lon[None, :]
    omega = np.deg2rad(solar_minutes / 4.0 - 180.0)
    return (np.sin(lat)[None, :] * np.sin(decl)[:, None]
            + np.cos(lat)[None, :] * np.cos(decl)[:, None] * np.cos(omega))
