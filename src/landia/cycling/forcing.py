"""Forcing of one rank's columns for one window: the weather generator or real files.

With ``cycle.forcing`` empty every rank asks the weather generator
(:mod:`landia.forcing.weather`) for its own cells. With a glob pattern, the files are indexed
once (their times), and for each window every rank reads, from the few files around it, only
its own cells (:mod:`landia.forcing.gldas`, :mod:`~landia.forcing.era5`,
:mod:`~landia.forcing.qian`). Format ``cells`` takes one file of daily means per cell, or a
folder or pattern of one-day files (:mod:`landia.forcing.daily_cells`). Either way the record is put on the 1800 s model step with
CoLM's time interpolation (:func:`landia.forcing.interpolate.interpolate_forcing`). With
``[perturbation] enabled`` the record is perturbed first
(:class:`landia.forcing.perturbation.ForcingPerturbation`, the same numbers for a cell whatever
the decomposition).

Missing forcing (no file for part of a window, a fill value at a column, ...) is an
:class:`~landia.errors.InputError` naming the file or the time; the cycle turns it into a clean
stop of every rank (the state of the last complete cycle is in its checkpoint).
"""

from __future__ import annotations

import glob
from pathlib import Path

import numpy as np

from landia.errors import InputError
from landia.forcing.daily_cells import DailyBlocks, daily_cell_forcing, match_cells
from landia.forcing.era5 import read_era5
from landia.forcing.gldas import read_gldas
from landia.forcing.gridded import GriddedFiles
from landia.forcing.interpolate import interpolate_forcing
from landia.forcing.perturbation import ForcingPerturbation
from landia.forcing.qian import read_qian
from landia.io.cell_days import DailyCellFiles

HOUR = np.timedelta64(3600, "s")
MARGIN = 6 * HOUR


class ForcingSource:
    """Forcing for a rank's cells.

    Parameters
    ----------
    cycle : CycleSettings
    run_dir : Path
    weather : WeatherGenerator
        Used when ``cycle.forcing`` is empty.
    lat, lon : ndarray (n,)
        The rank's column positions.
    cells : ndarray of int (n,)
        Their indices in the grid's land order (for the weather generator and the
        perturbations).
    perturbation : PerturbationSettings, optional
        Perturb the forcing when ``enabled``.
    """

    def __init__(self, cycle, run_dir, weather, lat, lon, cells, perturbation=None,
                 elevation=None):
        self.weather = weather
        self.lat, self.lon, self.cells = lat, lon, cells
        self.elevation = elevation
        self.perturbation = (ForcingPerturbation(weather.grid, perturbation, cells=cells)
                             if perturbation is not None and perturbation.enabled else None)
        self.format = cycle.forcing_format
        self.files = self.cell_file = None
        if cycle.forcing:
            pattern = cycle.forcing
            if not Path(pattern).is_absolute():
                pattern = str(Path(run_dir) / pattern)
            paths = sorted(glob.glob(pattern))
            if not paths:
                raise InputError(f"cycle.forcing = {cycle.forcing!r}: no file matches "
                                 f"{pattern}")
            if self.format == "cells":  # daily means per cell: one file, or one file a day
                if len(paths) > 1 or Path(paths[0]).is_dir():
                    self.cell_file = DailyCellFiles(pattern, None if Path(paths[0]).is_dir()
                                                    and len(paths) == 1 else paths)
                    self.file_cells = match_cells(self.cell_file, lat, lon)
                else:
                    self.file_cells = match_cells(paths[0], lat, lon)
                    self.cell_file = DailyBlocks(paths[0], self.file_cells, elevation)
            else:
                self.files = GriddedFiles(paths, f"{self.format} forcing")

    def window(self, start, end, dt: float = 1800.0):
        """The forcing on the model steps of ``[start, end)``, (T, n) arrays."""
        return interpolate_forcing(self._perturbed(self.record(start, end, dt)), start, end,
                                   dt)

    def record(self, start, end, dt: float = 1800.0):
        """The unperturbed record around ``[start, end)`` at its own times (an ensemble
        perturbs it per member before :func:`interpolate_forcing`); daily means per cell are
        disaggregated to ``dt``."""
        if self.cell_file is not None:
            return daily_cell_forcing(self.cell_file, self.file_cells, self.lat, self.lon,
                                      start, end, self.elevation, dt)
        if self.files is None:
            return self.weather.forcing(start, end + HOUR, cells=self.cells)
        reader = {"gldas": read_gldas, "era5": read_era5, "qian": read_qian}[self.format]
        near = [f.path for f in self.files.files
                if f.times[-1] >= start - MARGIN and f.times[0] <= end + MARGIN]
        if not near:
            raise InputError(f"no {self.format} forcing file covers {start} to {end} UTC "
                             f"(files cover {self.files.times[0]} to {self.files.times[-1]})")
        raw = reader(near, self.lat, self.lon, start=start - MARGIN,
                     end=end + np.timedelta64(1, "s"))
        if raw.times[0] > start or raw.times[-1] < end:
            raise InputError(f"{self.format} forcing ends or starts inside the window {start} "
                             f"to {end} UTC: the files give {raw.times[0]} to {raw.times[-1]}")
        return raw

    def _perturbed(self, raw):
        return raw if self.perturbation is None else self.perturbation.apply(raw, self.cells)
