"""Reader of ERA5 single-level forcing as the Climate Data Store delivers it in netCDF.

Two layouts are read:

* older CDS netCDF3 (grib_to_netcdf): dimensions ``time``, ``latitude`` (90 -> -90),
  ``longitude`` (0..359.75), variables packed as shorts with ``scale_factor``/``add_offset``;
* current CDS netCDF4: time coordinate ``valid_time`` (seconds since 1970), the same
  ``latitude``/``longitude``; size-1 dimensions such as ``expver`` or ``number`` are dropped
  (an ``expver`` of size 2, the ERA5/ERA5T mix, is refused: select one version first).

Variables::

    t2m   K          2 m temperature                 instantaneous at the stamp
    d2m   K          2 m dew point (or q kg kg-1)    instantaneous
    sp    Pa         surface pressure                instantaneous
    u10, v10  m s-1  10 m wind components            instantaneous -> speed sqrt(u^2 + v^2)
    ssrd  J m-2      downward shortwave              accumulated -> W m-2
    strd  J m-2      downward longwave (optional)    accumulated -> W m-2
    tp    m          total precipitation             accumulated -> kg m-2 s-1 (x 1000 / s)
    sf    m w.e.     snowfall (optional)             accumulated -> the snow part of tp

Humidity. With ``d2m`` the specific humidity is that of saturation at the dew point over
water, with the IFS Tetens formula (ECMWF IFS documentation Cy47r3, Part IV, eq. 7.5):
``e = 611.21 exp(17.502 (Td - 273.16) / (Td - 32.19))`` Pa and
``q = eps e / (p - (1 - eps) e)``, ``eps = R_dry / R_vap = 287.0597 / 461.5250``, with
``p = sp``. Without ``d2m`` a ``q`` variable (kg kg-1) is used as it is.

De-accumulation. ``accumulation="hourly"`` (default) is the CDS reanalysis form: the value at
stamp ``t`` is the accumulation over the hour **ending** at ``t``; the stamps must then be
hourly. ``accumulation="running"`` is the forecast form (accumulation since the start of a
forecast, as in the ERA5 complete archive or ERA5-Land): the increment over ``(t_k, t_k+1]``
is the difference of consecutive values, and the accumulation restarts where the value drops
(more than the packing precision) or, when ``reset_hours`` is given (e.g. ``(6, 18)`` for
ERA5 forecasts), where an interval starts at one of those hours of the day (then the
increment is the value itself). Tiny negative accumulations or increments from packing are
set to 0. Totals are conserved exactly: the sum of ``rate * dt`` over the record equals the
accumulation of the hours it covers.

Time alignment. The :class:`~landia.forcing.record.Forcing` record has one time axis; its
times are the file stamps, the state variables (t2m, d2m/q, sp, u10, v10) stay at their
stamps, and the flux at ``times[k]`` is the mean over ``[times[k], times[k+1])``, i.e. the
accumulation stamped ``times[k+1]`` (the hour ending there) moves one step back. The first
stamp's accumulation (the hour before the record) is not used and the last stamp, which has no
following accumulation, is dropped: T stamps give T - 1 times.
"""

from __future__ import annotations

import numpy as np

from landia.errors import InputError
from landia.forcing.gridded import GriddedFiles
from landia.forcing.record import Forcing
from landia.io.netcdf import check_units

#: IFS constants of the saturation vapour pressure over water (Tetens) and R_dry / R_vap
TETENS_A1, TETENS_A3, TETENS_A4, T0 = 611.21, 17.502, 32.19, 273.16
EPSILON = 287.0597 / 461.5250

HOUR = np.timedelta64(3600, "s")

_K = (("K", "kelvin"), "K", " (convert degC by adding 273.15)")
_WIND = (("m s**-1", "m s-1", "m/s", "m s^-1"), "m s**-1", "")
_ENERGY = (("J m**-2", "J m-2", "J/m2", "J m^-2", "J/m^2"), "J m**-2",
           " (an accumulated energy is needed, not a flux)")
_DEPTH = (("m", "m of water equivalent", "metres", "meters"), "m",
          " (an accumulated depth of water is needed)")
#: variable -> (accepted units, expected units, hint)
UNITS = {
    "t2m": _K, "d2m": _K,
    "q": (("kg kg**-1", "kg kg-1", "kg/kg", "1"), "kg kg**-1", ""),
    "sp": (("Pa", "pascal"), "Pa", " (convert hPa to Pa)"),
    "u10": _WIND, "v10": _WIND,
    "ssrd": _ENERGY, "strd": _ENERGY,
    "tp": _DEPTH, "sf": _DEPTH,
}


def _units(path, name, var) -> None:
    accepted, expected, hint = UNITS[name]
    check_units(path, name, var, accepted, expected, hint, "ERA5")


def specific_humidity_from_dewpoint(dewpoint, pressure):
    """Specific humidity (kg kg-1) from dew point (K) and surface pressure (Pa).

    IFS Tetens saturation vapour pressure over water at the dew point,
    ``e = 611.21 exp(17.502 (Td - 273.16) / (Td - 32.19))`` Pa, and
    ``q = eps e / (p - (1 - eps) e)`` with ``eps = 287.0597 / 461.5250``.
    """
    td = np.asarray(dewpoint, dtype=float)
    p = np.asarray(pressure, dtype=float)
    e = TETENS_A1 * np.exp(TETENS_A3 * (td - T0) / (td - TETENS_A4))
    return EPSILON * e / (p - (1.0 - EPSILON) * e)


def deaccumulate(values: np.ndarray, times: np.ndarray, mode: str = "hourly",
                 reset_hours=None, tolerance: float = 0.0) -> np.ndarray:
    """Increments over ``[times[k], times[k+1])`` from accumulations stamped at the ends.

    Parameters
    ----------
    values : ndarray (T, N)
        Accumulations at ``times`` (any units).
    times : ndarray (T,) of datetime64[s]
    mode : {"hourly", "running"}
        ``hourly``: each value is the accumulation over the hour ending at its stamp;
        ``running``: accumulation since a forecast start (see the module docstring).
    reset_hours : iterable of int, optional
        ``running`` only: hours of the day (UTC) at which the accumulation restarts.
    tolerance : float
        ``running`` only: a drop larger than this is a restart (the packing precision).

    Returns
    -------
    ndarray (T - 1, N)
        The accumulation over each interval, negative values set to 0.
    """
    values = np.maximum(np.asarray(values, dtype=float), 0.0)
    if mode == "hourly":
        return values[1:].copy()
    if mode != "running":
        raise InputError(f"accumulation mode {mode!r}; expected 'hourly' or 'running'")
    prev, nxt = values[:-1], values[1:]
    restart = nxt < prev - tolerance
    if reset_hours is not None:
        hours = (times[:-1].astype("datetime64[h]").astype(np.int64) % 24)
        restart |= np.isin(hours, list(reset_hours))[:, None]
    return np.where(restart, nxt, np.maximum(nxt - prev, 0.0))


def read_era5(paths, lat, lon, start=None, end=None, accumulation: str = "hourly",
              reset_hours=None) -> Forcing:
    """Read ERA5 single-level forcing at the nearest grid cell of each column.

    Parameters
    ----------
    paths : path-like or sequence of path-like
        CDS netCDF files (old or current layout, see the module docstring), any order.
    lat, lon : array_like (N,)
        Column positions, degrees north / east.
    start, end : datetime64 or str, optional
        Keep the UTC times ``start <= t < end`` (the accumulation stamped at the following
        time is read too).
    accumulation : {"hourly", "running"}
        Form of the accumulated fields (module docstring).
    reset_hours : iterable of int, optional
        ``running`` form: hours of the day (UTC) at which accumulations restart.

    Returns
    -------
    Forcing
        Validated record at the stamps, fluxes as means over ``[t_k, t_k+1)``; T stamps give
        T - 1 times.

    Raises
    ------
    InputError
        Missing file or variable, units other than ERA5's, fill value or NaN at a column,
        a column outside the grid, non-hourly stamps in the hourly form, fewer than two
        stamps, values out of range.
    """
    if accumulation not in ("hourly", "running"):
        raise InputError(f"ERA5 accumulation {accumulation!r}; expected 'hourly' (CDS "
                         f"reanalysis) or 'running' (forecast accumulations)")
    files = GriddedFiles(paths, "ERA5 forcing")
    cells = files.locate(lat, lon)
    times = files.times
    index = files.select(start, end)
    index = index[index + 1 < times.size]
    if index.size == 0:
        raise InputError(f"{files.source}: no time in [{start}, {end}) UTC followed by another "
                         f"stamp; ERA5 accumulations are stamped at the end of their hour, so "
                         f"the record needs at least two stamps (files cover {times[0]} to "
                         f"{times[-1]} UTC)")
    dt = (times[index + 1] - times[index]).astype("timedelta64[s]").astype(float)
    if accumulation == "hourly" and np.any(dt != 3600.0):
        k = index[int(np.argmax(dt != 3600.0))]
        raise InputError(f"{files.source}: time {times[k]} is followed by {times[k + 1]}; "
                         f"the hourly CDS accumulations cover only the hour before each "
                         f"stamp, so hourly stamps are expected (or accumulation='running' "
                         f"for forecast accumulations)")
    humidity = "d2m" if files.has("d2m") else "q" if files.has("q") else None
    if humidity is None:
        raise InputError(f"{files.files[0].path}: no humidity: expected 'd2m' (2 m dew point) "
                         f"or 'q' (specific humidity); the file has "
                         f"{', '.join(sorted(files.variables))}")
    states = files.read(("t2m", humidity, "sp", "u10", "v10"), cells, index, units=_units)
    acc_names = ["ssrd", "tp"] + [n for n in ("strd", "sf") if files.has(n)]
    both = np.arange(index[0], index[-1] + 2)  # the selection is one contiguous run
    acc = files.read(acc_names, cells, both, units=_units)
    rates = {}
    for name in acc_names:
        scale = float(files.attribute(name, "scale_factor", 0.0))
        inc = deaccumulate(acc[name], times[both], accumulation, reset_hours, 2.0 * scale)
        rates[name] = inc / dt[:, None]

    if humidity == "d2m":
        qair = specific_humidity_from_dewpoint(states["d2m"], states["sp"])
    else:
        qair = states["q"]
    qair = np.where((qair < 0) & (qair >= -1e-3), 0.0, qair)
    precip = 1000.0 * rates["tp"]
    snow = rain = None
    if "sf" in rates:
        snow = np.clip(1000.0 * rates["sf"], 0.0, precip)
        rain = precip - snow
    return Forcing(times=times[index], lat=cells.lat, lon=cells.lon, tair=states["t2m"],
                   qair=qair, psurf=states["sp"], wind=np.hypot(states["u10"], states["v10"]),
                   swdown=rates["ssrd"], lwdown=rates.get("strd"), precip=precip,
                   rain=rain, snow=snow, source=files.source).validate()
