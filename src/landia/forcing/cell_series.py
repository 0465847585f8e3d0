"""Daily-mean forcing from a CF time series per cell (NLDAS-2 daily means of the CONUS set).

The file is read by standard name through :func:`landia.io.cell_series.read_cell_series`:

=============================================  ==============================  ===========
standard name                                  Forcing attribute               required
=============================================  ==============================  ===========
``air_temperature``                            ``tair`` (K)                    yes
``specific_humidity``                          ``qair`` (kg kg-1)              yes
``surface_downwelling_shortwave_flux_in_air``  ``swdown`` (W m-2)              yes
``surface_downwelling_longwave_flux_in_air``   ``lwdown`` (W m-2)              no
``precipitation_flux`` (or its aliases)        ``precip`` (kg m-2 s-1)         yes
``wind_speed``, else ``eastward_wind`` and     ``wind`` (m s-1)                yes
``northward_wind``
``surface_air_pressure``                       ``psurf`` (Pa)                  no
=============================================  ==============================  ===========

Wind. Without ``wind_speed`` the speed is the magnitude of the mean vector,
:math:`|\\bar{\\mathbf u}| = \\sqrt{\\bar u^2 + \\bar v^2}`. Of daily means this is a lower bound of
the daily mean speed :math:`\\overline{|\\mathbf u|}` (the wind turns during the day), so
days with turning winds get too little wind; that bias is the set's, not corrected here.

Surface pressure. When the file has none (NLDAS-2 daily means of the CONUS set), it is taken
from the ICAO standard atmosphere at the cell elevation :math:`z` (m) when one is given,

.. math:: p(z) = p_0 \\left(1 - \\frac{L z}{T_0}\\right)^{g M / (R L)},

:math:`p_0 = 101325` Pa, :math:`T_0 = 288.15` K, :math:`L = 0.0065` K m-1,
:math:`g M / (R L) = 5.25588`, constant in time; else sea-level :math:`p_0`. Either choice is
logged (event ``surface_pressure_assumed``). At 1500 m the standard atmosphere gives 84.6 kPa;
the surface pressure mostly enters CoLM through air density and the saturation deficit.

Times. The record is daily: the value at ``times[k]`` is the mean over
``[times[k], times[k] + 1 day)`` (the :class:`~landia.forcing.record.Forcing` convention). The
days start at the lower time bounds when the file has bounds, else at the stamps, which must
then be at 00:00 UTC (day starts, as in the CONUS set) or at 12:00 UTC (day midpoints, shifted
back 12 h). Missing values are refused: forcing must be gap-free.
"""

from __future__ import annotations

import numpy as np

from landia.errors import InputError
from landia.forcing.record import Forcing
from landia.io.cell_series import read_cell_series
from landia.log import get_logger

DAY = np.timedelta64(86400, "s")
#: ICAO standard atmosphere (ISO 2533): sea-level pressure (Pa), temperature (K), lapse rate
#: (K m-1) and the exponent g M / (R L)
P0, T0, LAPSE, EXPONENT = 101325.0, 288.15, 0.0065, 5.25588

REQUIRED = ("air_temperature", "specific_humidity", "surface_downwelling_shortwave_flux_in_air",
            "precipitation_flux")
OPTIONAL = ("surface_downwelling_longwave_flux_in_air", "surface_air_pressure", "wind_speed",
            "eastward_wind", "northward_wind")


def standard_atmosphere_pressure(elevation) -> np.ndarray:
    """Surface pressure (Pa) of the ICAO standard atmosphere at ``elevation`` (m above sea
    level): :math:`p_0 (1 - L z / T_0)^{5.25588}` (module docstring)."""
    z = np.asarray(elevation, dtype=float)
    if not np.all(np.isfinite(z)) or np.any(z < -500) or np.any(z > 9000):
        bad = z[~(np.isfinite(z) & (z >= -500) & (z <= 9000))]
        raise InputError(f"cell elevation must be finite in [-500, 9000] m, got {bad.size} "
                         f"values outside, the first {bad.flat[0]:g}")
    return P0 * (1.0 - LAPSE * z / T0) ** EXPONENT


def _day_starts(series) -> np.ndarray:
    path, t = series.source, series.times
    if series.time_bounds is not None:
        starts = series.time_bounds[:, 0]
        width = series.time_bounds[:, 1] - starts
        if np.any(width != DAY):
            raise InputError(f"{path}: time bounds span {np.unique(width)}; expected daily "
                             f"means over 1 day")
        return starts
    of_day = (t - t.astype("datetime64[D]")).astype(np.int64)
    if np.all(of_day == 0):
        return t
    if np.all(of_day == 43200):
        return t - DAY // 2
    raise InputError(f"{path}: time stamps at {t[0]} ... are neither at 00:00 nor at 12:00 "
                     f"UTC and the time has no bounds; expected daily means stamped at the "
                     f"start or the middle of each UTC day")


def forcing_from_cell_series(path, start=None, end=None, cells=None, elevation=None
                             ) -> Forcing:
    """A daily :class:`Forcing` record from a CF time series per cell.

    Parameters
    ----------
    path : path-like
        CF timeSeries file of daily means on a cell dimension (table in the module docstring).
    start, end : datetime64 or str, optional
        Keep the days ``start <= t < end`` (UTC); only those records are read.
    cells : sequence of int, optional
        Indices into the file's cell dimension; None: all cells.
    elevation : array_like (N,), optional
        Cell elevation (m) for the standard-atmosphere pressure when the file has no
        ``surface_air_pressure``; None: sea level 101325 Pa.

    Returns
    -------
    Forcing
        Validated, times at the start of each UTC day, ``utc_offset_hours = 0``.

    Raises
    ------
    InputError
        From :func:`~landia.io.cell_series.read_cell_series`; no wind (neither
        ``wind_speed`` nor both components); missing values; time steps other than 1 day;
        an ``elevation`` of the wrong shape; values out of physical range.
    """
    s = read_cell_series(path, REQUIRED, start, end, cells, optional=OPTIONAL, role="forcing")
    v, src = s.values, s.source
    T, N = s.times.size, s.lat.size
    if "wind_speed" in v:
        wind = v["wind_speed"]
    elif "eastward_wind" in v and "northward_wind" in v:
        wind = np.hypot(v["eastward_wind"], v["northward_wind"])
    else:
        raise InputError(f"{src}: no wind: expected a variable with standard_name 'wind_speed' "
                         f"or both 'eastward_wind' and 'northward_wind'")
    fields = {"tair": v["air_temperature"], "qair": v["specific_humidity"],
              "swdown": v["surface_downwelling_shortwave_flux_in_air"],
              "lwdown": v.get("surface_downwelling_longwave_flux_in_air"),
              "precip": v["precipitation_flux"], "wind": wind}
    for key, a in fields.items():
        if a is not None and not np.all(np.isfinite(a)):
            t, n = np.argwhere(~np.isfinite(a))[0]
            name = next((sn for sn, x in v.items() if x is a), "eastward_wind/northward_wind")
            raise InputError(f"{src}: standard_name {name!r} (variable "
                             f"{s.variables.get(name, 'UGRD/VGRD')!r}, forcing {key}) has {int(np.sum(~np.isfinite(a)))} missing values, the first at "
                             f"{s.times[t]} UTC, cell {int(s.cells[n])}; expected a gap-free "
                             f"forcing record")
    if T > 1 and np.any(np.diff(s.times) != DAY):
        k = int(np.argmax(np.diff(s.times) != DAY))
        hours = np.diff(s.times)[k] / np.timedelta64(1, "h")
        raise InputError(f"{src}: a time step of {hours:g} h after {s.times[k]}; "
                         f"expected daily means, one per day without gaps")

    log = get_logger("landia.forcing", file=str(src))
    if "surface_air_pressure" in v:
        psurf = v["surface_air_pressure"]
    else:
        if elevation is not None:
            z = np.asarray(elevation, dtype=float).reshape(-1)
            if z.shape != (N,):
                raise InputError(f"{src}: elevation has {z.size} values for {N} cells; expected "
                                 f"one per selected cell")
            p = standard_atmosphere_pressure(z)
            method = "ICAO standard atmosphere at the cell elevation"
        else:
            p = np.full(N, P0)
            method = "sea level (101325 Pa): no elevation given"
        psurf = np.broadcast_to(p, (T, N)).copy()
        log.info("surface_pressure_assumed", method=method, cells=N,
                 min_pa=round(float(p.min()), 1), max_pa=round(float(p.max()), 1),
                 reason="the file has no surface_air_pressure")
    return Forcing(times=_day_starts(s), lat=s.lat, lon=s.lon, psurf=psurf, source=src,
                   **fields).validate()
