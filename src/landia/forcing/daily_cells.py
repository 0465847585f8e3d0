"""Sub-daily forcing of a run's cells from a file of daily means per cell
(``cycle.forcing_format = "cells"``).

The file is a CF time series on a ``cell`` dimension (:mod:`landia.io.cell_series`), such as
the NLDAS-2 daily means of ``conus_nldas_smap``, or a set of such files with one day each
(:class:`landia.io.cell_days.DailyCellFiles`, as a served run receives them): the days a
window needs are read from their files and put end to end, each file checked to hold its day
and the same cells as the first file; a day without a file is an InputError naming the day
and the folder. For a window of the cycle:

1. the model's cells are matched to the file's cells by position (each model cell centre must
   have a file cell within :data:`MATCH_DEGREES`; the match is computed once);
2. the UTC days covering the window, its end included, are read
   (:func:`landia.forcing.cell_series.forcing_from_cell_series`: wind from its components,
   pressure from the standard atmosphere at the cells' elevation when the file has none);
3. they are disaggregated to the model step with every daily mean and total kept
   (:func:`landia.forcing.disaggregate.disaggregate_daily`: shortwave by solar geometry, a
   diurnal temperature cycle, longwave with T^4, precipitation evenly over the day).

The record's values are step means on the model step, which the cycle's interpolation
(:func:`landia.forcing.interpolate.interpolate_forcing`) passes through unchanged at that step
(docs/forcing-disaggregation.md), so the daily budgets reach the columns exactly.
"""

from __future__ import annotations

import numpy as np

from landia.errors import InputError
from landia.forcing.cell_series import forcing_from_cell_series
from landia.forcing.disaggregate import disaggregate_daily
from landia.forcing.record import Forcing
from landia.io.cell_days import DailyCellFiles
from landia.io.cell_series import cell_positions

#: Largest distance (degrees of latitude and of longitude) between a model cell centre and its
#: file cell.
MATCH_DEGREES = 1e-3
DAY = np.timedelta64(86400, "s")


def match_cells(path, lat, lon) -> np.ndarray:
    """Indices of the file's cells at the model cells ``(lat, lon)`` (degrees), in their order.

    Raises
    ------
    InputError
        A model cell without a file cell within :data:`MATCH_DEGREES`, naming the file and the
        cell's position.
    """
    if isinstance(path, DailyCellFiles):
        path = path.first
    flat, flon = cell_positions(path, "forcing")
    lat, lon = np.asarray(lat, float), np.asarray(lon, float)
    out = np.empty(lat.size, dtype=np.int64)
    for i, (a, b) in enumerate(zip(lat, lon)):
        d = np.maximum(np.abs(flat - a), np.abs((flon - b + 180.0) % 360.0 - 180.0))
        j = int(np.argmin(d)) if d.size else -1
        if j < 0 or d[j] > MATCH_DEGREES:
            raise InputError(f"{path}: no cell at the model cell {a:.4f} N {b:.4f} E (within "
                             f"{MATCH_DEGREES} deg); the file must hold every land cell of "
                             f"the model grid")
        out[i] = j
    return out


def daily_cell_forcing(path, cells: np.ndarray, lat, lon, start, end, elevation=None,
                       dt: float = 1800.0) -> Forcing:
    """The forcing of the model cells on steps of ``dt`` over the UTC days covering
    ``[start, end]`` (see the module notes).

    Parameters
    ----------
    path : path-like or DailyCellFiles
        The daily per-cell file, or the set of one-day files.
    cells : ndarray of int (n,)
        The file's cells of the model cells (:func:`match_cells`).
    lat, lon : ndarray (n,)
        The model cells' centres, degrees.
    start, end : datetime64
        The window (UTC).
    elevation : ndarray (n,), optional
        For the standard-atmosphere pressure (m); None: sea level.
    dt : float
        The model step, s.
    """
    start = np.datetime64(start, "s")
    end = np.datetime64(end, "s")
    first = start.astype("datetime64[D]").astype("datetime64[s]")
    last = end.astype("datetime64[D]").astype("datetime64[s]") + DAY  # the day of `end` too
    if isinstance(path, DailyCellFiles):
        daily = _from_daily_files(path, first, last, cells, elevation)
    elif isinstance(path, DailyBlocks):
        daily = path.days(first, last)
    else:
        daily = forcing_from_cell_series(path, first, last, cells=cells, elevation=elevation)
    want = (last - first) // DAY
    if daily.n_times != want:
        raise InputError(f"{path}: {daily.n_times} day(s) from {first} UTC; the window "
                         f"{start} to {end} needs the {int(want)} days from {first} to "
                         f"{last - DAY}")
    return disaggregate_daily(daily.times, lat, lon, tair=daily.tair, qair=daily.qair,
                              swdown=daily.swdown, lwdown=daily.lwdown, precip=daily.precip,
                              wind=daily.wind, psurf=daily.psurf, step_s=int(dt),
                              source=f"{path} (daily means, disaggregated)")


class DailyBlocks:
    """The daily means of one per-cell file, read ``block_days`` days at a time and kept:
    a cycle of daily windows reads the file once a block instead of once a window (the read,
    not the arithmetic, was a third of a 412-cell cycle's time). The values are those of a
    read of the window's days alone, bit for bit (every conversion is per day and cell).

    Parameters
    ----------
    path : path-like
        The daily per-cell file.
    cells : ndarray of int (n,)
        The file's cells of the model cells (:func:`match_cells`).
    elevation : ndarray (n,), optional
    block_days : int
    """

    def __init__(self, path, cells, elevation=None, block_days: int = 64):
        self.path, self.cells, self.elevation = path, cells, elevation
        self.block_days = int(block_days)
        self._block: Forcing | None = None

    def __str__(self) -> str:
        return str(self.path)

    def days(self, first, last) -> Forcing:
        """The days ``[first, last)`` (UTC midnights, datetime64[s]) of the file."""
        b = self._block
        if b is None or not (b.times.size and b.times[0] <= first
                             and last <= b.times[-1] + DAY):
            self._block = b = forcing_from_cell_series(
                self.path, first, max(last, first + self.block_days * DAY), cells=self.cells,
                elevation=self.elevation)
        k = (b.times >= first) & (b.times < last)

        def take(x):
            return None if x is None else x[k]

        return Forcing(times=b.times[k], lat=b.lat, lon=b.lon, tair=take(b.tair),
                       qair=take(b.qair), psurf=take(b.psurf), wind=take(b.wind),
                       swdown=take(b.swdown), precip=take(b.precip), lwdown=take(b.lwdown),
                       source=b.source)


def _from_daily_files(files: DailyCellFiles, first, last, cells, elevation) -> Forcing:
    """The days ``[first, last)`` from their one-day files, end to end (same checks as one
    file: each file must hold its day, on the cells of the first file of the set)."""
    days = np.arange(first.astype("datetime64[D]"), last.astype("datetime64[D]"))
    paths = [files.path(d) for d in days]          # every missing day before any reading
    ref_lat, ref_lon = cell_positions(files.first, "forcing")
    parts = []
    for day, path in zip(days, paths):
        start = day.astype("datetime64[s]")
        rec = forcing_from_cell_series(path, start, start + DAY, cells=cells,
                                       elevation=elevation)
        if rec.n_times != 1 or rec.times[0] != start:
            raise InputError(f"{path}: holds {rec.n_times} day(s) from {day}; expected the "
                             f"one day {day} its name gives (folder {files})")
        far = np.maximum(np.abs(rec.lat - ref_lat[cells]), np.abs(rec.lon - ref_lon[cells]))
        if far.size and far.max() > MATCH_DEGREES:
            raise InputError(f"{path}: its cells are not those of {files.first} (a cell {float(far.max()):.4f} "
                             f"deg away); every daily file of {files} must hold the same cells")
        parts.append(rec)
    def cat(name):
        arrays = [getattr(p, name) for p in parts]
        return None if arrays[0] is None else np.concatenate(arrays, axis=0)
    return Forcing(times=cat("times"), lat=parts[0].lat, lon=parts[0].lon, tair=cat("tair"),
                   qair=cat("qair"), psurf=cat("psurf"), wind=cat("wind"),
                   swdown=cat("swdown"), precip=cat("precip"), lwdown=cat("lwdown"),
                   source=f"{files} (daily files)").validate()
