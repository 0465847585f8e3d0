"""Shared machinery of the gridded forcing readers (GLDAS, ERA5, Qian): file I/O.

A gridded forcing set is one or more netCDF files on the same regular latitude/longitude
grid, each with a CF time coordinate (one time per file as GLDAS delivers it, or many). The
readers in :mod:`landia.forcing.gldas`, :mod:`landia.forcing.era5` and
:mod:`landia.forcing.qian` use this module to

* read the grid's coordinates (:func:`landia.io.netcdf.read_grid`: 1-D ``lat``/``latitude``,
  either orientation, longitudes in 0..360 or -180..180, or regular 2-D ``LATIXY``/``LONGXY``);
* map N column positions to the **nearest cell centre** (:meth:`GriddedFiles.locate`),
  wrapping longitude on a global grid; a column farther than half a cell beyond the outermost
  centres is refused with an :class:`~landia.errors.InputError` naming it;
* read variables for **only those cells** (:meth:`GriddedFiles.read`): per file and variable,
  the bounding index box of the cells is sliced from the file when it is small, else the unique
  rows are read one by one, then the cells are picked out; a rank thus never reads a global
  field unless its own columns span it;
* unpack ``scale_factor``/``add_offset`` and refuse ``_FillValue``/``missing_value``/NaN at a
  requested cell, naming the file, the variable, the time and the column's position;
* decode CF times (:func:`landia.io.netcdf.read_times`), order the files by their first time
  and refuse duplicate or non-increasing times across the set.

Every problem is an :class:`~landia.errors.InputError` naming the file and the variable.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from landia.errors import InputError
from landia.grid import coordinate_pair
from landia.io.netcdf import (FileGrid, missing_variable, open_netcdf, read_grid,
                              read_slice, read_times)

#: a box read at once when it holds at most this many cells per time (else row by row)
BOX_CELLS = 1 << 20



def as_paths(paths) -> list[Path]:
    """A path or a sequence of paths as a non-empty list of Paths."""
    if isinstance(paths, (str, Path)):
        return [Path(paths)]
    out = [Path(p) for p in paths]
    if not out:
        raise InputError("no forcing file given; expected a path or a list of paths")
    return out


def column_positions(lat, lon) -> tuple[np.ndarray, np.ndarray]:
    """Column positions as two float (N,) arrays, checked finite and latitude in [-90, 90]."""
    lat, lon = coordinate_pair(lat, lon, "column positions (lat, lon)")
    bad = ~np.isfinite(lat) | ~np.isfinite(lon) | (np.abs(lat) > 90)
    if bad.any():
        k = int(np.argmax(bad))
        raise InputError(f"column {k}: position {lat[k]} N, {lon[k]} E is not a valid "
                         f"position; expected finite degrees with latitude in [-90, 90]")
    return lat, lon


# ---------------------------------------------------------------- grid and column mapping

@dataclass(frozen=True)
class Cells:
    """Source grid cells of N columns: file indices ``iy`` (latitude), ``ix`` (longitude)."""

    iy: np.ndarray
    ix: np.ndarray
    lat: np.ndarray
    lon: np.ndarray

    @property
    def n(self) -> int:
        return self.iy.size


def _half_widths(sorted_centres: np.ndarray) -> tuple[float, float]:
    if sorted_centres.size == 1:
        return 1e-4, 1e-4  # a single cell: the column must sit on it
    return ((sorted_centres[1] - sorted_centres[0]) / 2,
            (sorted_centres[-1] - sorted_centres[-2]) / 2)


def _nearest_sorted(c: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Index into ascending ``c`` of the centre nearest each ``x`` (no wrap)."""
    i = np.clip(np.searchsorted(c, x), 1, max(c.size - 1, 1))
    if c.size == 1:
        return np.zeros(x.shape, dtype=int)
    left = c[i - 1]
    right = c[i]
    return np.where(np.abs(x - left) <= np.abs(right - x), i - 1, i)


def locate(grid: FileGrid, lat, lon, source: str = "forcing grid") -> Cells:
    """Nearest grid cell of each column.

    Parameters
    ----------
    grid : FileGrid
    lat, lon : array_like (N,)
        Column positions, degrees north / east (any longitude origin).
    source : str
        The file, for messages.

    Returns
    -------
    Cells
        File indices of the cells.

    Raises
    ------
    InputError
        Naming the first column (index and position) outside the grid: farther than half a
        cell beyond the outermost centres (in longitude only on a non-global grid).
    """
    lat, lon = column_positions(lat, lon)
    # latitude
    order = np.argsort(grid.lat)
    c = grid.lat[order]
    h0, h1 = _half_widths(c)
    outside = (lat < c[0] - h0 - 1e-9) | (lat > c[-1] + h1 + 1e-9)
    iy = order[_nearest_sorted(c, lat)]
    # longitude, on [c0, c0 + 360)
    order_x = np.argsort(grid.lon)
    cx = grid.lon[order_x]
    if cx[-1] - cx[0] >= 360:
        raise InputError(f"{source}: longitudes span {cx[0]:g} to {cx[-1]:g} deg, 360 deg "
                         f"or more; expected each meridian once")
    g0, g1 = _half_widths(cx)
    x = cx[0] + np.mod(lon - cx[0], 360.0)
    span = cx[-1] - cx[0] + g0 + g1
    is_global = cx.size > 1 and span >= 360 - 1e-2 * max(g0 + g1, 1e-6)
    j = _nearest_sorted(cx, x)
    if is_global:
        # the gap between the last centre and the first one + 360 belongs to both
        to_last = x - cx[-1]
        to_first = cx[0] + 360 - x
        j = np.where((x > cx[-1]) & (to_first < to_last), 0, j)
    else:
        near_end = x <= cx[-1] + g1 + 1e-9
        near_start = x >= cx[0] + 360 - g0 - 1e-9  # just west of the first centre
        j = np.where(near_start & ~near_end, 0, j)
        outside |= ~(near_end | near_start)
    ix = order_x[j]
    if outside.any():
        k = int(np.argmax(outside))
        raise InputError(
            f"{source}: column {k} at {lat[k]:.4f} N, {lon[k]:.4f} E is outside the forcing "
            f"grid (cell centres {c[0]:g}..{c[-1]:g} N, {cx[0]:g}..{cx[-1]:g} E); expected "
            f"columns within half a cell of the grid ({int(outside.sum())} outside)")
    return Cells(iy=np.asarray(iy, dtype=int), ix=np.asarray(ix, dtype=int), lat=lat, lon=lon)


# ---------------------------------------------------------------- times and files

@dataclass(frozen=True)
class _File:
    path: Path
    time_name: str
    times: np.ndarray
    offset: int  # index of its first time in the concatenated axis


class GriddedFiles:
    """A set of netCDF files on one grid, ordered in time.

    Parameters
    ----------
    paths : path-like or sequence of path-like
        The files; their order does not matter (they are sorted by first time).
    role : str
        What they are, for messages ("GLDAS forcing", ...).

    Attributes
    ----------
    times : ndarray (T,) of datetime64[s]
        All times, strictly increasing (UTC as the files' units say).
    grid : FileGrid
        The grid of the first file (every file must have the same one).
    variables : set of str
        The variables of the first file.

    Raises
    ------
    InputError
        Missing or unreadable file, no time or grid, grids that differ, duplicate or
        non-increasing times (naming both files).
    """

    def __init__(self, paths, role: str = "forcing"):
        self.role = role
        files, grid, variables = [], None, None
        for path in as_paths(paths):
            with open_netcdf(path, role) as ds:
                name, times = read_times(ds, path)
                g = read_grid(ds, path)
                if grid is None:
                    grid, variables, first = g, set(ds.variables), path
                elif not grid.same_as(g):
                    raise InputError(
                        f"{path}: grid {g.lat.size} x {g.lon.size} "
                        f"({g.lat[0]:g}..{g.lat[-1]:g} N, {g.lon[0]:g}..{g.lon[-1]:g} E) "
                        f"differs from that of {first} ({grid.lat.size} x {grid.lon.size}, "
                        f"{grid.lat[0]:g}..{grid.lat[-1]:g} N, {grid.lon[0]:g}..{grid.lon[-1]:g}"
                        f" E); expected every file on the same grid")
            if times.size > 1 and not np.all(np.diff(times) > np.timedelta64(0, "s")):
                k = int(np.argmin(np.diff(times) > np.timedelta64(0, "s")))
                raise InputError(f"{path}: variable {name!r}: time {times[k]} is followed by "
                                 f"{times[k + 1]}; expected strictly increasing times")
            files.append((path, name, times))
        files.sort(key=lambda f: f[2][0])
        for (pa, _, ta), (pb, _, tb) in zip(files, files[1:]):
            if tb[0] <= ta[-1]:
                raise InputError(f"{pb}: time {tb[0]} is not after the last time {ta[-1]} of "
                                 f"{pa}; expected files with distinct, increasing times (a "
                                 f"file given twice, or overlapping files?)")
        offset, self.files = 0, []
        for path, name, times in files:
            self.files.append(_File(path, name, times, offset))
            offset += times.size
        self.times = np.concatenate([f.times for f in self.files])
        self.grid = grid
        self.variables = variables
        self.source = (str(self.files[0].path) if len(self.files) == 1 else
                       f"{self.files[0].path} .. {self.files[-1].path} ({len(self.files)} files)")

    @property
    def step(self) -> np.timedelta64:
        """The median spacing of the times (0 s for a single time)."""
        if self.times.size < 2:
            return np.timedelta64(0, "s")
        d = np.diff(self.times).astype("timedelta64[s]").astype(np.int64)
        return np.timedelta64(int(np.median(d)), "s")

    def locate(self, lat, lon) -> Cells:
        """Nearest cells of the columns (see :func:`locate`)."""
        return locate(self.grid, lat, lon, source=str(self.files[0].path))

    def has(self, name: str) -> bool:
        return name in self.variables

    def attribute(self, name: str, attr: str, default=None):
        """Attribute ``attr`` of variable ``name`` in the first file."""
        with open_netcdf(self.files[0].path, self.role) as ds:
            if name not in ds.variables:
                raise InputError(missing_variable(self.files[0].path, name, ds))
            return getattr(ds.variables[name], attr, default)

    def select(self, start=None, end=None) -> np.ndarray:
        """Indices of the times ``start <= t < end`` (None = open)."""
        keep = np.ones(self.times.size, dtype=bool)
        if start is not None:
            keep &= self.times >= np.datetime64(start, "s")
        if end is not None:
            keep &= self.times < np.datetime64(end, "s")
        return np.nonzero(keep)[0]

    def read(self, names: Sequence[str], cells: Cells, index=None, units=None,
             allow_missing: Sequence[str] = ()) -> dict[str, np.ndarray]:
        """Variables at the cells and times, each (T, N) float64, unpacked, fill-checked.

        Parameters
        ----------
        names : sequence of str
            Variables with dimensions (time, lat, lon) in any order of lat/lon after time;
            other dimensions must have size 1 (``expver``, ``number``) and are dropped.
        cells : Cells
        index : array_like of int, optional
            Indices into :attr:`times` (increasing); None = all.
        units : callable(path, name, var), optional
            Called on every file's variable before reading (raises on wrong units).
        allow_missing : sequence of str
            Variables whose fill values are kept as NaN instead of refused.

        Raises
        ------
        InputError
            Variable missing in a file, bad dimensions, unreadable data, or a fill value /
            NaN at a requested cell (naming file, variable, time and column position).
        """
        index = np.arange(self.times.size) if index is None else np.asarray(index, dtype=int)
        out = {name: np.empty((index.size, cells.n)) for name in names}
        for f in self.files:
            local = index[(index >= f.offset) & (index < f.offset + f.times.size)] - f.offset
            if local.size == 0:
                continue
            rows = np.nonzero((index >= f.offset) & (index < f.offset + f.times.size))[0]
            with open_netcdf(f.path, self.role) as ds:
                for name in names:
                    if name not in ds.variables:
                        raise InputError(missing_variable(f.path, name, ds))
                    var = ds.variables[name]
                    if units is not None:
                        units(f.path, name, var)
                    data = _read_cells(f, self.grid, name, var, cells, local)
                    bad = ~np.isfinite(data)
                    if bad.any() and name not in allow_missing:
                        t, n = np.argwhere(bad)[0]
                        raise InputError(
                            f"{f.path}: variable {name!r} is missing (_FillValue/"
                            f"missing_value/NaN) at {f.times[local[t]]} UTC for column {n} at "
                            f"{cells.lat[n]:.4f} N, {cells.lon[n]:.4f} E (grid cell "
                            f"{self.grid.lat[cells.iy[n]]:g} N, {self.grid.lon[cells.ix[n]]:g} E"
                            f"; {int(bad.sum())} missing values); expected a land cell with "
                            f"a complete record (ocean or masked cell?)")
                    out[name][rows] = data
        return out


def _read_cells(f: _File, grid: FileGrid, name: str, var, cells: Cells,
                local: np.ndarray) -> np.ndarray:
    """(T, N) values of one variable of one file at the cells and file-time indices."""
    dims = var.dimensions
    if f.time_name not in dims or grid.lat_dim not in dims or grid.lon_dim not in dims:
        raise InputError(f"{f.path}: variable {name!r} has dimensions {dims}; expected "
                         f"({f.time_name!r}, {grid.lat_dim!r}, {grid.lon_dim!r})")
    for d, size in zip(dims, var.shape):
        if d not in (f.time_name, grid.lat_dim, grid.lon_dim) and size != 1:
            raise InputError(f"{f.path}: variable {name!r} has dimension {d!r} of size {size}; "
                             f"expected size 1 (a single ensemble member / experiment version)")
    var.set_auto_maskandscale(True)
    y0, y1 = int(cells.iy.min()), int(cells.iy.max()) + 1
    x0, x1 = int(cells.ix.min()), int(cells.ix.max()) + 1
    t0, t1 = int(local[0]), int(local[-1]) + 1
    tpick = local - t0

    def key(ysl, xsl):
        k = []
        for d in dims:
            k.append(slice(t0, t1) if d == f.time_name else ysl if d == grid.lat_dim
                     else xsl if d == grid.lon_dim else 0)
        return tuple(k)

    kept = [d for d in dims if d in (f.time_name, grid.lat_dim, grid.lon_dim)]
    order = [kept.index(f.time_name), kept.index(grid.lat_dim), kept.index(grid.lon_dim)]

    def fetch(ysl, xsl):
        block = read_slice(var, f.path, name, key(ysl, xsl))
        return np.transpose(block, order)[tpick]  # (T, ny, nx)

    if (y1 - y0) * (x1 - x0) <= max(BOX_CELLS, 4 * cells.n):
        box = fetch(slice(y0, y1), slice(x0, x1))
        return box[:, cells.iy - y0, cells.ix - x0]
    data = np.empty((tpick.size, cells.n))
    for y in np.unique(cells.iy):
        sel = cells.iy == y
        row = fetch(slice(int(y), int(y) + 1), slice(x0, x1))
        data[:, sel] = row[:, 0, cells.ix[sel] - x0]
    return data


def hold(source_times: np.ndarray, values: np.ndarray, times: np.ndarray, source: str,
         name: str, step=None) -> np.ndarray:
    """Step-hold interval values onto other times.

    The value at ``source_times[k]`` stands for ``[source_times[k], source_times[k+1])``, the
    last for ``[source_times[-1], source_times[-1] + step)``; each time in ``times`` takes the
    value whose interval contains it.

    Parameters
    ----------
    source_times : ndarray (S,) of datetime64[s]
    values : ndarray (S, N)
    times : ndarray (T,) of datetime64[s]
    source, name : str
        For messages.
    step : timedelta64, optional
        Length of the last interval; None: the median spacing of ``source_times`` (a single
        source time then covers only itself).

    Raises
    ------
    InputError
        A time outside the covered intervals, naming ``source`` and ``name``.
    """
    if step is None:
        step = (np.median(np.diff(source_times).astype("timedelta64[s]").astype(np.int64))
                if source_times.size > 1 else 0)
        step = np.timedelta64(int(step), "s")
    k = np.searchsorted(source_times, times, side="right") - 1
    end = source_times[-1] + max(step, np.timedelta64(1, "s"))
    bad = (k < 0) | (times >= end)
    if np.any(bad):
        t = times[int(np.argmax(bad))]
        raise InputError(f"{source}: {name} covers {source_times[0]} to {end} UTC but is "
                         f"needed at {t} UTC; expected files covering the same period as the "
                         f"other variables")
    return values[k]
