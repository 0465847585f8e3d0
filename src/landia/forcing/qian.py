"""Reader of CoLM/CLM forcing in the Qian et al. (2006) layout (CLM datm variable names).

Variables::

    TBOT      K          air temperature at the lowest level    instantaneous at the stamp
    QBOT      kg/kg      specific humidity                      instantaneous
    PSRF      Pa         surface pressure                       instantaneous
    WIND      m/s        wind speed                             instantaneous
    PRECTmms  mm/s       total precipitation rate (= kg m-2 s-1)   mean over the interval
    FSDS      W/m2       downward shortwave                     mean over the interval
    FLDS      W/m2       downward longwave, OPTIONAL            mean over the interval

Without FLDS the record's ``lwdown`` is None and
:func:`landia.forcing.interpolate.longwave_from_emissivity` derives it downstream.

Coordinates: 1-D ``lat``/``lon`` (or ``latitude``/``longitude``), or the CLM 2-D
``LATIXY(lat, lon)``/``LONGXY(lat, lon)``, which must describe a regular grid and are reduced
to 1-D. Time: a CF ``time`` coordinate (``days since ...``).

Streams. Qian forcing is often split into three streams (TPQW 3-hourly; precipitation and
solar 6-hourly). Files may hold any subset of the variables: files with the same subset form
one stream on one time axis; the record's times are those of the stream with TBOT, and the
interval means of another stream are held constant over each of its own intervals: the value
stamped ``t`` is taken as the mean over ``[t, t + step)`` (the record's convention; CoLM reads
Qian precipitation as the nearest 6-hourly value and distributes Qian shortwave by the cosine
of the solar zenith angle, which :mod:`landia.forcing.interpolate` does from these means).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from landia.errors import InputError
from landia.forcing.gridded import GriddedFiles, as_paths, hold
from landia.forcing.record import Forcing
from landia.io.netcdf import check_units, open_netcdf

_RAD = ("W/m**2", "W/m2", "W m-2", "W m**-2", "W/m^2", "W m^-2")
#: variable -> (accepted units, expected units, hint)
UNITS = {
    "TBOT": (("K", "kelvin", "degK"), "K", " (convert degC by adding 273.15)"),
    "QBOT": (("kg/kg", "kg kg-1", "kg kg**-1", "1"), "kg/kg", ""),
    "PSRF": (("Pa", "pascal"), "Pa", " (convert hPa/kPa to Pa)"),
    "WIND": (("m/s", "m s-1", "m s**-1", "m/sec"), "m/s", ""),
    "PRECTmms": (("mm/s", "mm s-1", "mm H2O/sec", "mm H2O / sec", "mm/sec", "kg/m2/s",
                  "kg m-2 s-1", "kg/m^2/s"), "mm/s", " (a rate is needed: convert mm per "
                 "step to mm/s)"),
    "FSDS": (_RAD, "W/m2", ""),
    "FLDS": (_RAD, "W/m2", ""),
}
REQUIRED = ("TBOT", "QBOT", "PSRF", "WIND", "PRECTmms", "FSDS")


def _units(path, name, var) -> None:
    accepted, expected, hint = UNITS[name]
    check_units(path, name, var, accepted, expected, hint, "Qian/CLM datm")


def read_qian(paths, lat, lon, start=None, end=None) -> Forcing:
    """Read Qian-style CoLM/CLM forcing at the nearest grid cell of each column.

    Parameters
    ----------
    paths : path-like or sequence of path-like
        The files, any order; one stream or several (module docstring).
    lat, lon : array_like (N,)
        Column positions, degrees north / east.
    start, end : datetime64 or str, optional
        Keep the UTC times ``start <= t < end`` of the TBOT stream.

    Returns
    -------
    Forcing
        Validated record; ``lwdown`` None when no file has FLDS.

    Raises
    ------
    InputError
        Missing file or variable, units other than these, fill value or NaN at a column, a
        column outside the grid, streams on different grids or not covering the TBOT times,
        values out of range.
    """
    groups: dict[frozenset, list[Path]] = {}
    for path in as_paths(paths):
        with open_netcdf(path, "Qian forcing") as ds:
            present = frozenset(n for n in UNITS if n in ds.variables)
            if not present:
                raise InputError(f"{path}: none of the Qian forcing variables "
                                 f"{', '.join(UNITS)}; the file has "
                                 f"{', '.join(sorted(ds.variables))}")
        groups.setdefault(present, []).append(path)
    streams = {key: GriddedFiles(group, "Qian forcing") for key, group in groups.items()}
    where: dict[str, frozenset] = {}
    for key in streams:  # a variable in several streams is read from TBOT's if there
        for name in key:
            if name not in where or "TBOT" in key:
                where[name] = key
    first = next(iter(streams.values()))
    for name in REQUIRED:
        if name not in where:
            raise InputError(f"{first.source}: variable {name!r} not found in any file; "
                             f"expected the Qian forcing {', '.join(REQUIRED)} (FLDS optional)")
    main = streams[where["TBOT"]]
    for s in streams.values():
        if not s.grid.same_as(main.grid):
            raise InputError(f"{s.source}: grid differs from that of {main.source}; expected "
                             f"every stream on the same grid")
    cells = main.locate(lat, lon)
    index = main.select(start, end)
    if index.size == 0:
        raise InputError(f"{main.source}: no time in [{start}, {end}) UTC; the files cover "
                         f"{main.times[0]} to {main.times[-1]} UTC")
    times = main.times[index]
    data = {}
    names = [n for n in UNITS if n in where]
    for key, stream in streams.items():
        mine = [n for n in names if where[n] == key]
        if not mine:
            continue
        if stream is main:
            data.update(stream.read(mine, cells, index, units=_units))
            continue
        # the source intervals that cover the record's times
        lo = max(int(np.searchsorted(stream.times, times[0], side="right")) - 1, 0)
        hi = int(np.searchsorted(stream.times, times[-1], side="right"))
        sub = np.arange(lo, max(hi, lo + 1))
        part = stream.read(mine, cells, sub, units=_units)
        for name in mine:
            data[name] = hold(stream.times[sub], part[name], times, stream.source, name,
                              step=stream.step)

    return Forcing(times=times, lat=cells.lat, lon=cells.lon, tair=data["TBOT"],
                   qair=data["QBOT"], psurf=data["PSRF"], wind=data["WIND"],
                   swdown=data["FSDS"], lwdown=data.get("FLDS"), precip=data["PRECTmms"],
                   source=main.source).validate()
