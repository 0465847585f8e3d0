"""Daily files of a CF time series per cell: one file per UTC day, as a served run receives
its forcing (``cycle.forcing_format = "cells"`` with a folder or a glob pattern).

:func:`split_daily` cuts a CF timeSeries file on a ``cell`` dimension (the layout of
:mod:`landia.io.cell_series`, e.g. ``nldas2_daily_2015-2018.nc``) into one file per day,
``<prefix>_YYYYMMDD.nc``, each with the same dimensions, coordinates, variables, attributes
and storage types as the source and a time dimension of length 1: the values are copied
unscaled and unmasked, so a day read from its own file equals the same day read from the
source, to the bit. Each file is written atomically (:func:`landia.io.atomic.atomic_path`).

:class:`DailyCellFiles` indexes such a set: the day of a file is the last ``YYYYMMDD`` group
of its name (the reader then checks it against the file's time coordinate), and a day
without a file is an :class:`~landia.errors.InputError` naming the day and the folder.
"""

from __future__ import annotations

import glob
import re
from pathlib import Path

import netCDF4
import numpy as np

from landia.errors import InputError
from landia.io.atomic import atomic_path
from landia.io.netcdf import decode_times, open_netcdf

DAY = np.timedelta64(1, "D")
_STAMP = re.compile(r"(\d{8})(?!.*\d{8})")


def day_file_name(prefix: str, day) -> str:
    """``<prefix>_YYYYMMDD.nc`` of a UTC day."""
    return f"{prefix}_{str(np.datetime64(day, 'D')).replace('-', '')}.nc"


def split_daily(path, out_dir, start, end, prefix: str = "nldas2") -> list[Path]:
    """Write one file per UTC day ``start <= day < end`` of a CF timeSeries file per cell.

    Parameters
    ----------
    path : path-like
        The source: a ``cell`` dimension, ``lat(cell)``, ``lon(cell)``, a CF ``time``
        coordinate with one record per day (the stamps' UTC day names the file).
    out_dir : path-like
        Created if absent; files ``<prefix>_YYYYMMDD.nc`` (:func:`day_file_name`) are
        replaced atomically.
    start, end : datetime64 or str
        The days, half-open ``[start, end)``.
    prefix : str
        File name prefix.

    Returns
    -------
    list of Path
        The files written, in day order.

    Raises
    ------
    InputError
        The source is not netCDF, has no time coordinate, holds no day in ``[start, end)``
        or two records on one day.
    """
    path, out_dir = Path(path), Path(out_dir)
    start, end = np.datetime64(start, "D"), np.datetime64(end, "D")
    out_dir.mkdir(parents=True, exist_ok=True)
    with open_netcdf(path, "cell time series") as src:
        src.set_auto_maskandscale(False)
        if "time" not in src.variables:
            raise InputError(f"{path}: no variable 'time'; expected a CF time coordinate")
        tvar = src.variables["time"]
        tdim = tvar.dimensions[0]
        days = decode_times(np.asarray(tvar[:], dtype=float), getattr(tvar, "units", None),
                            getattr(tvar, "calendar", None), path, "time").astype("datetime64[D]")
        if days.size > 1 and np.any(np.diff(days) < DAY):
            raise InputError(f"{path}: two time records on one UTC day; expected daily records")
        records = np.nonzero((days >= start) & (days < end))[0]
        if records.size == 0:
            raise InputError(f"{path}: no day in [{start}, {end}); the file covers {days[0]} "
                             f"to {days[-1]}")
        written = []
        for k in records:
            out = out_dir / day_file_name(prefix, days[k])
            with atomic_path(out) as tmp:
                _copy_record(src, tmp, tdim, int(k))
            written.append(out)
    return written


def _copy_record(src, tmp: Path, tdim: str, k: int) -> None:
    with netCDF4.Dataset(tmp, "w", format=src.data_model) as dst:
        dst.set_auto_maskandscale(False)
        dst.setncatts({a: src.getncattr(a) for a in src.ncattrs()})
        for name, dim in src.dimensions.items():
            dst.createDimension(name, 1 if name == tdim else
                                (None if dim.isunlimited() else len(dim)))
        for name, var in src.variables.items():
            attrs = {a: var.getncattr(a) for a in var.ncattrs()}
            fill = attrs.pop("_FillValue", None)
            out = dst.createVariable(name, var.dtype, var.dimensions, fill_value=fill)
            out.setncatts(attrs)
            index = tuple(slice(k, k + 1) if d == tdim else slice(None) for d in var.dimensions)
            out[...] = var[index]


class DailyCellFiles:
    """A folder (or glob pattern) of daily per-cell files, indexed by UTC day.

    Parameters
    ----------
    spec : str
        A folder (its ``*.nc``) or a glob pattern.
    paths : list of path-like, optional
        The files, when already listed; default: those of ``spec``.

    Raises
    ------
    InputError
        No file; a name without a ``YYYYMMDD`` day; two files of one day.
    """

    def __init__(self, spec, paths=None):
        self.spec = str(spec)
        if paths is None:
            pattern = str(Path(spec) / "*.nc") if Path(spec).is_dir() else str(spec)
            paths = sorted(glob.glob(pattern))
        if not paths:
            raise InputError(f"{self.spec}: no daily file")
        self.days: dict[np.datetime64, Path] = {}
        for p in map(Path, paths):
            m = _STAMP.search(p.name)
            day = None
            if m:
                try:
                    day = np.datetime64(f"{m[1][:4]}-{m[1][4:6]}-{m[1][6:]}", "D")
                except ValueError:
                    day = None
            if day is None:
                raise InputError(f"{p}: no YYYYMMDD day in the file name; expected daily files "
                                 f"named like nldas2_20160601.nc in {self.spec}")
            if day in self.days:
                raise InputError(f"{self.spec}: two files for {day}: {self.days[day].name} "
                                 f"and {p.name}")
            self.days[day] = p
        self.first = self.days[min(self.days)]

    def path(self, day) -> Path:
        """The file of UTC ``day``; InputError naming the day and the folder when absent."""
        day = np.datetime64(day, "D")
        if day not in self.days:
            have = sorted(self.days)
            raise InputError(f"{self.spec}: no daily file for {day} (the folder holds "
                             f"{len(have)} day(s), {have[0]} to {have[-1]})")
        return self.days[day]

    def __str__(self) -> str:
        return self.spec
