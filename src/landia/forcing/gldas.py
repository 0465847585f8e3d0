"""Reader of GLDAS-2.1 Noah 3-hourly forcing (``GLDAS_NOAH025_3H.A<date>.<hhmm>.021.nc4``).

Variables (GES DISC netCDF4, one time per file, ``_FillValue`` -9999 over ocean and
Antarctica; Rodell et al. 2004)::

    Tair_f_inst    K            air temperature         instantaneous at the time stamp
    Qair_f_inst    kg kg-1      specific humidity       instantaneous
    Psurf_f_inst   Pa           surface pressure        instantaneous
    Wind_f_inst    m s-1        wind speed              instantaneous
    SWdown_f_tavg  W m-2        downward shortwave      3-hour mean
    LWdown_f_tavg  W m-2        downward longwave       3-hour mean
    Rainf_f_tavg   kg m-2 s-1   TOTAL precipitation     3-hour mean (long_name "Total
                                                        precipitation rate")
    Snowf_tavg     kg m-2 s-1   snowfall                3-hour mean, part of Rainf_f_tavg

Precipitation split. ``Rainf_f_tavg`` is the total forcing precipitation and ``Snowf_tavg``
its solid part, so ``snow = min(Snowf_tavg, Rainf_f_tavg)`` and ``rain = Rainf_f_tavg - snow``
(rain + snow = precip exactly; in the 2015-01-01 00Z file ``Rainf_tavg + Snowf_tavg`` equals
``Rainf_f_tavg`` to 1e-7 and snow never exceeds the total).

Time convention. The ``_inst`` fields are instantaneous at the file's time stamp. The
``_tavg`` fields are the mean over the **3 hours ending at the stamp**: the file's global
attribute says ``tavg definision: past 3-hour average`` and its ``time_bnds`` are
``[stamp - 3 h, stamp]`` (the file A20150101.0000 has bounds 2014-12-31 21Z to 2015-01-01
00Z). The reader follows each file's ``time_bnds`` when present: when the bounds end at the
stamp (the GLDAS-2.1 case) the averages of the file stamped ``t + 3 h`` become the values at
``t`` of the :class:`~landia.forcing.record.Forcing` record (mean over ``[t, t + 3 h)``), the
states stay at their stamps, so the last file supplies only fluxes and the first file's
fluxes (for the 3 h before its stamp) are not used: N consecutive files give N - 1 times,
and one file alone is refused. When a file's bounds start at its stamp the averages are
already in the record's convention and are used as they are (every file gives one time).
Without ``time_bnds`` the past-3-hour convention of GLDAS-2.1 is assumed.

Specific humidity. A few GDAS cells carry tiny negative ``Qair_f_inst`` (12 cells, down to
-2.7e-4 kg/kg, in the 2015-01-01 00Z file); values in [-1e-3, 0) are set to 0, anything
more negative is left for :meth:`Forcing.validate` to refuse.
"""

from __future__ import annotations

import numpy as np

from landia.errors import InputError
from landia.forcing.gridded import GriddedFiles
from landia.forcing.record import Forcing
from landia.io.netcdf import check_units, decode_times, open_netcdf, read_values

STEP = np.timedelta64(3 * 3600, "s")

_FLUX = ("kg m-2 s-1", "kg/m2/s", "kg m^-2 s^-1", "kg/m^2/s", "mm/s", "mm s-1")
_RAD = ("W m-2", "W/m2", "W m^-2", "W/m^2")
#: variable -> (accepted units, expected units, hint)
UNITS = {
    "Tair_f_inst": (("K", "kelvin"), "K", " (convert degC by adding 273.15)"),
    "Qair_f_inst": (("kg kg-1", "kg/kg", "1", "kg kg^-1"), "kg kg-1", ""),
    "Psurf_f_inst": (("Pa", "pascal"), "Pa", " (convert hPa/kPa to Pa)"),
    "Wind_f_inst": (("m s-1", "m/s", "m s^-1"), "m s-1", ""),
    "SWdown_f_tavg": (_RAD, "W m-2", ""),
    "LWdown_f_tavg": (_RAD, "W m-2", ""),
    "Rainf_f_tavg": (_FLUX, "kg m-2 s-1", " (a rate is needed)"),
    "Snowf_tavg": (_FLUX, "kg m-2 s-1", " (a rate is needed)"),
}
STATES = ("Tair_f_inst", "Qair_f_inst", "Psurf_f_inst", "Wind_f_inst")
FLUXES = ("SWdown_f_tavg", "LWdown_f_tavg", "Rainf_f_tavg", "Snowf_tavg")


def _units(path, name, var) -> None:
    accepted, expected, hint = UNITS[name]
    check_units(path, name, var, accepted, expected, hint, "GLDAS-2.1")


def _averages_end_at_stamp(files: GriddedFiles) -> bool:
    """True when the ``_tavg`` fields are means over the 3 h ending at each file's stamp."""
    ends = []
    for f in files.files:
        with open_netcdf(f.path, files.role) as ds:
            bounds_name = getattr(ds.variables[f.time_name], "bounds", None)
            if bounds_name is None or bounds_name not in ds.variables:
                ends.append(True)  # GLDAS-2.1: "tavg definision: past 3-hour average"
                continue
            tvar = ds.variables[f.time_name]
            b = decode_times(read_values(ds, f.path, bounds_name),
                             getattr(tvar, "units", None), getattr(tvar, "calendar", "standard"),
                             f.path, bounds_name).reshape(-1, 2)
            if np.all(b[:, 1] == f.times):
                ends.append(True)
            elif np.all(b[:, 0] == f.times):
                ends.append(False)
            else:
                raise InputError(f"{f.path}: variable {bounds_name!r} gives intervals "
                                 f"{b[0, 0]} to {b[0, 1]} for the time stamp {f.times[0]}; "
                                 f"expected the stamp at the start or the end of the average")
    if len(set(ends)) > 1:
        raise InputError(f"{files.source}: the files mix averages ending and starting at their "
                         f"time stamps; expected one convention")
    return ends[0]


def read_gldas(paths, lat, lon, start=None, end=None) -> Forcing:
    """Read GLDAS-2.1 Noah 3-hourly forcing at the nearest grid cell of each column.

    Parameters
    ----------
    paths : path-like or sequence of path-like
        The 3-hourly files (one time each), in any order; consecutive 3-h stamps.
    lat, lon : array_like (N,)
        Column positions, degrees north / east.
    start, end : datetime64 or str, optional
        Keep the UTC times ``start <= t < end``.

    Returns
    -------
    Forcing
        Validated record (T, N) at the file stamps; interval means over ``[t, t + 3 h)``
        (see the module docstring for the shift of the ``_tavg`` fields), rain and snow split.

    Raises
    ------
    InputError
        Missing file or variable, units other than GLDAS's, fill value at a column (ocean,
        Antarctica: naming variable, time and position), a column outside the grid, a gap in
        the 3-hourly sequence, a single file with past-3-hour averages, values out of range.
    """
    files = GriddedFiles(paths, "GLDAS forcing")
    cells = files.locate(lat, lon)
    shift = _averages_end_at_stamp(files)
    times = files.times
    index = files.select(start, end)
    if shift:
        index = index[index + 1 < times.size]  # the last stamp has no following average
        if index.size == 0:
            raise InputError(
                f"{files.source}: no time in [{start}, {end}) UTC with a following file; the "
                f"GLDAS-2.1 averages of a file cover the 3 h before its stamp, so the fluxes "
                f"after {times[-1]} need the next 3-hourly file (files cover "
                f"{times[0]} to {times[-1]} UTC)")
        gap = times[index + 1] - times[index] != STEP
        if gap.any():
            k = index[int(np.argmax(gap))]
            raise InputError(f"{files.source}: time {times[k]} is followed by {times[k + 1]}; "
                             f"expected consecutive 3-hourly GLDAS files (a file is missing)")
    elif index.size == 0:
        raise InputError(f"{files.source}: no time in [{start}, {end}) UTC; the files cover "
                         f"{times[0]} to {times[-1]} UTC")
    states = files.read(STATES, cells, index, units=_units)
    fluxes = files.read(FLUXES, cells, index + 1 if shift else index, units=_units)

    q = states["Qair_f_inst"]
    q = np.where((q < 0) & (q >= -1e-3), 0.0, q)
    precip = np.maximum(fluxes["Rainf_f_tavg"], 0.0)
    snow = np.clip(fluxes["Snowf_tavg"], 0.0, precip)
    rain = precip - snow
    return Forcing(times=times[index], lat=cells.lat, lon=cells.lon,
                   tair=states["Tair_f_inst"], qair=q, psurf=states["Psurf_f_inst"],
                   wind=states["Wind_f_inst"], swdown=fluxes["SWdown_f_tavg"],
                   lwdown=fluxes["LWdown_f_tavg"], precip=precip, rain=rain, snow=snow,
                   source=files.source).validate()
