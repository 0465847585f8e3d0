"""Reader of ALMA / PLUMBER2 site forcing files (netCDF4): the file I/O of the forcing.

Layout (ALMA convention as PLUMBER2 writes it, Ukkola et al. 2022)::

    dimensions:  time, y, x          (y = x = 1 for a site)
    variables:   time(time)          "seconds since ...", calendar
                 latitude(y, x), longitude(y, x)          degrees (or lat / lon)
                 Tair   K            Qair   kg/kg         Psurf  Pa
                 Wind   m/s          SWdown W/m2          LWdown W/m2 (optional)
                 Precip kg/m2/s      or Rainf + Snowf kg/m2/s

Time zone. PLUMBER2 stamps are **local standard time** and the CN-Cng file's units say only
``seconds since 2008-01-01 00:00:00`` (no zone). The reader converts to UTC by subtracting
``utc_offset_hours``: taken from the units when they carry a zone (``... +08:00``, which
cftime applies), else from the argument, else estimated as ``round(longitude / 15)`` with a
warning in the log (CN-Cng, 123.5 E: UTC+8, China standard time). Each value stands for the
interval that starts at its time stamp (FLUXNET ``TIMESTAMP_START``).

Every problem is an :class:`~landia.errors.InputError` naming the file and the variable.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from landia.errors import InputError
from landia.forcing.record import Forcing
from landia.io.netcdf import check_units, open_netcdf, read_slice, read_times, time_span
from landia.log import get_logger


def _spellings(*units: str) -> set[str]:
    return {u.lower() for u in units}


# Accepted spellings of the ALMA units; anything else is refused (no silent conversion).
UNITS = {
    "Tair": _spellings("K", "kelvin", "degK"),
    "Qair": _spellings("kg/kg", "kg kg-1", "kg kg^-1", "kg.kg-1", "1", "kg kg**-1"),
    "Psurf": _spellings("Pa", "pascal"),
    "Wind": _spellings("m/s", "m s-1", "m s^-1", "m.s-1", "m s**-1"),
    "SWdown": _spellings("W/m2", "W m-2", "W/m^2", "W m^-2", "W.m-2", "W m**-2"),
    "LWdown": _spellings("W/m2", "W m-2", "W/m^2", "W m^-2", "W.m-2", "W m**-2"),
    "Precip": _spellings("kg/m2/s", "kg m-2 s-1", "kg/m^2/s", "kg m^-2 s^-1", "mm/s", "mm s-1",
                         "kg.m-2.s-1", "kg m**-2 s**-1"),
}
UNITS["Rainf"] = UNITS["Snowf"] = UNITS["Precip"]
EXPECTED = {"Tair": "K", "Qair": "kg/kg", "Psurf": "Pa", "Wind": "m/s", "SWdown": "W/m2",
            "LWdown": "W/m2", "Precip": "kg/m2/s", "Rainf": "kg/m2/s", "Snowf": "kg/m2/s"}
HINTS = {"Tair": " (convert degC by adding 273.15)", "Psurf": " (convert hPa/kPa to Pa)",
         "Precip": " (a rate is needed: convert mm per step to kg/m2/s)"}
HINTS["Rainf"] = HINTS["Snowf"] = HINTS["Precip"]


def _open(path: Path):
    return open_netcdf(path, "forcing")


def _check_units(path: Path, name: str, var) -> None:
    check_units(path, name, var, UNITS[name], EXPECTED[name], HINTS.get(name, ""), "ALMA")


def _read(ds, path: Path, name: str, times_local, sel: slice) -> np.ndarray:
    """Variable ``name`` as (T, N), refusing fill values and NaN."""
    var = ds.variables[name]
    if not var.dimensions or var.dimensions[0] != "time":
        raise InputError(f"{path}: variable {name!r} has dimensions {var.dimensions}; expected "
                         f"time first, e.g. ('time', 'y', 'x')")
    data = read_slice(var, path, name, sel)
    data = data.reshape(data.shape[0], -1)
    bad = ~np.isfinite(data)
    if bad.any():
        t, n = np.argwhere(bad)[0]
        raise InputError(f"{path}: variable {name!r} has {int(bad.sum())} missing values "
                         f"(_FillValue/missing_value/NaN), the first at "
                         f"{times_local[t]} (file time), column {n}; expected a gap-filled "
                         f"record")
    return data


def _coordinate(ds, path: Path, names: tuple[str, ...]) -> np.ndarray:
    for name in names:
        if name in ds.variables:
            v = np.ma.filled(np.ma.asarray(ds.variables[name][...], dtype=float), np.nan)
            return v.ravel()
    raise InputError(f"{path}: no {' / '.join(names)} variable; expected the site position")


# A zone after the reference time ("... 00:00:00 +08:00", "...T00:00Z", "... UTC"); a bare
# date such as "days since 2008-01-01" has none (its "-01" is not an offset).
_ZONE = re.compile(r"(?:\d:\d{2}(?::\d{2}(?:\.\d*)?)?\s*(?:[+-]\d{1,2}(?::?\d{2})?|Z)"
                   r"|\b(?:UTC|GMT))\s*$", re.IGNORECASE)


def read_alma(path, start=None, end=None, utc_offset_hours: float | None = None) -> Forcing:
    """Read an ALMA/PLUMBER2 site forcing file.

    Parameters
    ----------
    path : path-like
        netCDF file in the layout of the module docstring.
    start, end : datetime64 or str, optional
        Keep the UTC times ``start <= t < end``.
    utc_offset_hours : float, optional
        Local time minus UTC of the file's clock when the time units carry no zone
        (PLUMBER2: local standard time). None: ``round(longitude / 15)``, logged.

    Returns
    -------
    Forcing
        Validated record, times in UTC.

    Raises
    ------
    InputError
        Missing file or variable, units other than ALMA's, fill values or NaN (with the
        first bad time), undecodable or non-increasing times, truncated file, values out of
        physical range.
    """
    path = Path(path)
    log = get_logger("landia.forcing", file=str(path))
    with _open(path) as ds:
        if "time" not in ds.variables:
            raise InputError(f"{path}: variable 'time' not found; expected a CF time "
                             f"coordinate with units '<unit> since <date>'")
        units = getattr(ds.variables["time"], "units", None)
        _, file_times = read_times(ds, path, ("time",))

        lat = _coordinate(ds, path, ("latitude", "lat"))
        lon = _coordinate(ds, path, ("longitude", "lon"))
        zoned = bool(_ZONE.search(units.strip()))
        if zoned:
            offset = 0.0  # cftime has applied the zone of the units
        elif utc_offset_hours is not None:
            offset = float(utc_offset_hours)
        else:
            offset = float(np.round(np.mean(lon) / 15.0))
            log.warning("forcing_time_zone_assumed", utc_offset_hours=offset,
                        reason="time units carry no zone; PLUMBER2 uses local standard time")
        utc = file_times - np.timedelta64(int(round(offset * 3600)), "s")

        sel = time_span(utc, start, end, path)
        local = file_times[sel]

        required = ["Tair", "Qair", "Psurf", "Wind", "SWdown"]
        has_precip = "Precip" in ds.variables
        if not has_precip and not {"Rainf", "Snowf"} <= set(ds.variables):
            raise InputError(f"{path}: no precipitation: expected 'Precip' or both 'Rainf' "
                             f"and 'Snowf'; the file has {', '.join(sorted(ds.variables))}")
        for name in required:
            if name not in ds.variables:
                raise InputError(f"{path}: variable {name!r} not found; expected the ALMA "
                                 f"forcing {', '.join(required)}; the file has "
                                 f"{', '.join(sorted(ds.variables))}")
        names = required + (["LWdown"] if "LWdown" in ds.variables else [])
        names += ["Precip"] if has_precip else ["Rainf", "Snowf"]
        data = {}
        for name in names:
            _check_units(path, name, ds.variables[name])
            data[name] = _read(ds, path, name, local, sel)
        n = data["Tair"].shape[1]
        if lat.size != n or lon.size != n:
            raise InputError(f"{path}: {n} columns in the forcing but {lat.size} latitudes "
                             f"and {lon.size} longitudes")

    rain = data.get("Rainf")
    snow = data.get("Snowf")
    precip = data["Precip"] if has_precip else rain + snow
    return Forcing(times=utc[sel], lat=lat, lon=lon, tair=data["Tair"], qair=data["Qair"],
                   psurf=data["Psurf"], wind=data["Wind"], swdown=data["SWdown"],
                   lwdown=data.get("LWdown"), precip=precip,
                   rain=None if has_precip else rain, snow=None if has_precip else snow,
                   source=str(path), utc_offset_hours=offset).validate()
