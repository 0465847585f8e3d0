"""The files of ``landia verify``: model, reference and analysis fields read with their
validity time, and the CSV and JSON tables it writes.

* :func:`read_model_file` -- a field file or an analysis output file as a :class:`ModelFile`;
* :func:`check_grid` -- two files on the same grid, or an InputError naming both;
* :func:`read_model_series` -- the model at given cells and layers from a series of files,
  in time order;
* :func:`write_csv`, :func:`json_safe` -- tables (None as an empty cell) and JSON values.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from landia.errors import InputError
from landia.io.analysis_file import read_analysis_field
from landia.io.fields import read_field
from landia.io.netcdf import decode_times, open_netcdf


@dataclass
class ModelFile:
    """One field read from a model, reference or analysis file."""

    lat: np.ndarray
    lon: np.ndarray
    depth: np.ndarray
    values: np.ndarray
    time: np.datetime64 | None
    source: str


def _read_time(ds, path) -> np.datetime64 | None:
    """Validity time: global attribute ``time``/``valid_time`` (ISO) or a 1-value ``time``
    variable with CF units; None when the file has neither."""
    for name in ("time", "valid_time"):
        if name in ds.ncattrs():
            text = str(ds.getncattr(name)).strip().rstrip("Z").replace(" ", "T")
            try:
                return np.datetime64(text, "s")
            except ValueError:
                raise InputError(f"{path}: global attribute {name!r} = {text!r}; expected an "
                                 "ISO date-time in UTC") from None
    if "time" in ds.variables:
        var = ds.variables["time"]
        values = np.ma.filled(np.ma.asarray(var[...], dtype=float), np.nan).ravel()
        units = getattr(var, "units", None)
        if values.size != 1 or units is None or not np.isfinite(values[0]):
            raise InputError(f"{path}: variable 'time' must hold one finite value with CF "
                             f"'units' (e.g. 'hours since 2008-01-01'); got {values.size} "
                             f"value(s), units {units!r}")
        return decode_times(values, units, getattr(var, "calendar", "standard"), path, "time")[0]
    return None


def read_model_file(path, variable: str = "analysis", role: str = "model") -> ModelFile:
    """A field file (``soil_moisture``) or an analysis output file (``variable``)."""
    path = Path(path)
    with open_netcdf(path, role) as ds:
        time = _read_time(ds, path)
        is_field = "soil_moisture" in ds.variables
        if not is_field and variable not in ds.variables:
            raise InputError(f"{path}: {role} file has neither 'soil_moisture' (field "
                             f"file) nor {variable!r} (analysis file); it has "
                             f"{', '.join(sorted(ds.variables))}")
    f = read_field(path) if is_field else read_analysis_field(path, variable)
    return ModelFile(lat=f.lat, lon=f.lon, depth=f.depth, values=f.values, time=time,
                     source=str(path))


def check_grid(a: ModelFile, b: ModelFile) -> None:
    """Raise an InputError naming both files when ``b`` is not on ``a``'s grid."""
    same = (a.lat.shape == b.lat.shape and a.lon.shape == b.lon.shape
            and np.allclose(a.lat, b.lat, atol=1e-6) and np.allclose(a.lon, b.lon, atol=1e-6))
    if not same:
        raise InputError(f"grid mismatch: {a.source} has {a.lat.size} x {a.lon.size} cells "
                         f"(lat {a.lat[0]:g}..{a.lat[-1]:g}, lon {a.lon[0]:g}..{a.lon[-1]:g}) "
                         f"but {b.source} has {b.lat.size} x {b.lon.size} (lat "
                         f"{b.lat[0]:g}..{b.lat[-1]:g}, lon {b.lon[0]:g}..{b.lon[-1]:g}); "
                         "regrid the reference onto the model grid first")


def read_model_series(paths, variable: str, first: ModelFile, cells) -> tuple:
    """The model at ``cells`` (``(row, col, layer)`` keys, 0-based) through ``paths``, in time
    order: ``(times (n,) datetime64[s], {cell: values (n,)})``.

    ``first`` is ``paths[0]`` already read; every file must be on its grid, with its layers
    and a validity time, and no two files may share a time.
    """
    times, columns = [], {key: [] for key in cells}
    for p in paths:
        f = first if p == paths[0] else read_model_file(p, variable, "model series")
        check_grid(first, f)
        if f.time is None:
            raise InputError(f"{p}: model series file has no validity time (global attribute "
                             "'time' or variable 'time'); --model-series needs one per file")
        if f.values.shape[0] != first.values.shape[0]:
            raise InputError(f"{p}: {f.values.shape[0]} layers but {first.source} has "
                             f"{first.values.shape[0]}")
        times.append(f.time)
        for (i, j, k) in columns:
            columns[(i, j, k)].append(f.values[k, i, j])
    order = np.argsort(np.asarray(times, dtype="datetime64[s]"), kind="stable")
    mtimes = np.asarray(times, dtype="datetime64[s]")[order]
    if np.any(np.diff(mtimes) == np.timedelta64(0, "s")):
        raise InputError("verify: two --model-series files have the same validity time")
    return mtimes, {key: np.asarray(v, dtype=float)[order] for key, v in columns.items()}


def json_safe(x):
    """JSON-safe: NaN/inf -> None, numpy scalars -> Python."""
    if isinstance(x, dict):
        return {str(k): json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_safe(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x) if math.isfinite(x) else None
    return x


def write_csv(path: Path, rows: list[dict]) -> None:
    """``rows`` under a header of the first row's keys, None as an empty cell; nothing when
    there are no rows."""
    if not rows:
        return
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if v is None else v) for k, v in r.items()})
