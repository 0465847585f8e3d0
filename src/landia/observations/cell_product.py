"""A satellite soil-moisture product held as CF time series per cell, made into the daily
observation images of a cycle on a lattice model grid (``conus_nldas_smap``'s SMAP L3).

The product: one value a day per cell, ``soil_moisture(time, cell)`` (found by its standard
name ``volume_fraction_of_condensed_water_in_soil``, :mod:`landia.io.cell_series`), on cells
``lat(cell)``, ``lon(cell)`` that are land points of the model grid (an EASE-Grid 2.0 lattice:
:meth:`landia.grid.LatLonGrid.from_cells`). The file's ``time`` is the UTC day; the value was
retrieved at the satellite's overpass, at a fixed *local solar* time :math:`h_\\ell` (SMAP's
descending pass: 06:00), so at the UTC time

.. math:: t_\\mathrm{UTC} = d + h_\\ell - \\lambda / 15^\\circ\\,\\mathrm{h}^{-1}

for a cell at longitude :math:`\\lambda` (degrees east) on day :math:`d`: 10:32-14:14 UTC over
the contiguous US (68-123 W). One image per day is written at the nominal analysis time
:math:`d + h_a` (``analysis_hour``, 12 UTC by default, the middle of the US overpasses), with
each cell's own overpass time in the variable ``observation_time`` (seconds since 1970-01-01);
every one of them must lie within ``tolerance_minutes`` of the nominal time (150 min by default,
the US spans 3.7 h), otherwise the cell is rejected and counted (``overpass_off_window``). A cell
of another continent, at another time, must go into another window: this module refuses nothing
silently.

Quality control (per cell, from the static flags of the set, fractions 0..1,
:func:`landia.io.cell_static.read_qc_flags`): a cell whose dense-vegetation fraction exceeds
``max_dense_vegetation`` (0.5) or whose open-water fraction exceeds ``max_water`` (0.1, SMAP's
own water-body flag threshold) is never observed -- the retrieval there is of "not recommended"
quality (O'Neill et al. 2021). Values outside ``[lower, upper]`` (0.02-0.6 m3 m-3) are rejected
and counted (``out_of_range``). Counts per reason are returned.

Vertical: the product's 0-5 cm layer observes the CoLM layers whose node lies within it
(:func:`landia.observations.vertical.map_layers`, ``node_in_range``): layers 1 and 2 (nodes
0.71 and 2.79 cm). The files hold ``layers`` layers (2 by default), NaN in any layer not
observed, and the stated error variance ``error_std**2`` (SMAP's 0.04 m3 m-3 target accuracy).

Subsets: the same image can be written for several cell masks at once (all cells, the
assimilated ones, the withheld ones; :func:`withheld_cells_draw`), so that withheld cells are
never in an analysis file and every set sees exactly the same QC.

I/O only (no MPI). Files are written atomically (:func:`landia.io.fields.write_field`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import netCDF4
import numpy as np

from landia.errors import InputError
from landia.grid import LatLonGrid, colm_node_depths
from landia.io.atomic import atomic_path
from landia.io.cell_series import read_cell_series
from landia.io.fields import SoilMoistureField, write_field
from landia.io.naming import observation_name
from landia.io.netcdf import open_netcdf
from landia.observations.vertical import map_layers

SOIL_MOISTURE = "volume_fraction_of_condensed_water_in_soil"


@dataclass(frozen=True)
class CellProductSettings:
    """How a per-cell product becomes daily observation images (module notes).

    Attributes
    ----------
    overpass_local_hour : float
        Local solar time of the overpass, h (SMAP descending: 6.0).
    analysis_hour : float
        UTC hour of the nominal image time (12.0).
    tolerance_minutes : float
        Largest allowed distance of a cell's overpass from the nominal time, min.
    layer_top, layer_bottom : float
        The product's sensing depth range, m (0-0.05).
    layers : int
        Model layers in the files (the analysis' ``analysis.layers``).
    error_std : float
        Stated observation-error standard deviation, m3 m-3.
    max_dense_vegetation, max_water : float
        QC thresholds on the static flags' fractions.
    lower, upper : float
        Plausible range of a value, m3 m-3.
    """

    overpass_local_hour: float = 6.0
    analysis_hour: float = 12.0
    tolerance_minutes: float = 150.0
    layer_top: float = 0.0
    layer_bottom: float = 0.05
    layers: int = 2
    error_std: float = 0.04
    max_dense_vegetation: float = 0.5
    max_water: float = 0.1
    lower: float = 0.0
    upper: float = 0.6


def overpass_times(day, lon, local_hour: float) -> np.ndarray:
    """UTC overpass times (datetime64[s]) of cells at longitudes ``lon`` (degrees east) on the
    UTC day ``day`` for an overpass at ``local_hour`` local solar time:
    :math:`d + h_\\ell - \\lambda/15` h, rounded to the second."""
    d = np.datetime64(day, "D").astype("datetime64[s]")
    seconds = np.rint((local_hour - np.asarray(lon, dtype=float) / 15.0) * 3600.0)
    return d + seconds.astype("timedelta64[s]")


def flagged_cells(flags: dict, settings: CellProductSettings) -> dict:
    """Cells (bool, land order) that QC never observes, per flag: ``dense_vegetation`` where
    ``flag_vegDense > max_dense_vegetation``, ``water`` where ``flag_waterbody > max_water``."""
    out = {}
    if "flag_vegDense" in flags:
        out["dense_vegetation"] = np.asarray(flags["flag_vegDense"]) > \
            settings.max_dense_vegetation
    if "flag_waterbody" in flags:
        out["water"] = np.asarray(flags["flag_waterbody"]) > settings.max_water
    return out


def withheld_cells_draw(observable: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """A fixed random draw of ``round(fraction x n)`` of the ``n`` observable cells.

    Parameters
    ----------
    observable : ndarray of bool (ny, nx)
        Cells that can be observed (land, not flagged).
    fraction : float in [0, 1)
    seed : int
        ``numpy.random.default_rng(seed)`` draws them without replacement: the same cells for
        a seed, on any machine.

    Returns
    -------
    ndarray of bool (ny, nx)
    """
    if not 0.0 <= fraction < 1.0:
        raise InputError(f"withheld fraction {fraction}: expected 0 <= fraction < 1")
    idx = np.flatnonzero(observable)
    k = int(round(fraction * idx.size))
    chosen = np.random.default_rng(int(seed)).choice(idx, size=k, replace=False)
    out = np.zeros(observable.shape, dtype=bool)
    out.flat[chosen] = True
    return out


def _observation_time_variable(path: Path, times: np.ndarray, land: np.ndarray) -> None:
    """Add each cell's overpass time to a written observation file."""
    with netCDF4.Dataset(path, "a") as ds:
        v = ds.createVariable("observation_time", "f8", ("lat", "lon"), fill_value=np.nan)
        v.units = "seconds since 1970-01-01 00:00:00"
        v.calendar = "standard"
        v.long_name = "UTC time of the overpass that retrieved the cell's value"
        seconds = (times - np.datetime64("1970-01-01T00:00:00", "s")).astype(float)
        v[:] = np.where(land, seconds, np.nan)


def write_daily_observations(path, grid: LatLonGrid, folders: dict, start, end,
                             flags: dict | None = None,
                             settings: CellProductSettings = CellProductSettings(),
                             attributes: dict | None = None) -> dict:
    """Write the product's daily images ``obs_<day>T<analysis hour>.nc`` into each folder.

    Parameters
    ----------
    path : path-like
        The product file (CF time series per cell, module notes).
    grid : LatLonGrid
        The model grid whose land points are the product's cells.
    folders : dict[path-like, ndarray of bool (ny, nx) or None]
        Folder -> the cells that folder's files keep (None: all); the folders are created.
    start, end : datetime64 or str
        UTC days ``start <= day < end``.
    flags : dict, optional
        Static QC flags per land cell (:func:`landia.io.cell_static.read_qc_flags`).
    settings : CellProductSettings
    attributes : dict, optional
        Extra global attributes of every file.

    Returns
    -------
    dict
        ``days`` (days in the period), ``files`` {folder: files written}, ``empty_days``
        (days with no valid value after QC, no file written), ``values`` {folder: values
        kept}, ``rejected`` {reason: values}, ``flagged_cells`` {reason: cells},
        ``valid_fraction`` (kept / land cell-days).
    """
    s = settings
    series = read_cell_series(path, [SOIL_MOISTURE], start=start, end=end,
                              role="soil-moisture product")
    sm = series.values[SOIL_MOISTURE]                       # (T, N) in file cell order
    order = grid.cell_order(series.lat, series.lon, source=str(path))
    n = grid.n_land
    if order.size != n or np.unique(order).size != n:
        raise InputError(f"{path}: {order.size} cells for the {n} land cells of the model grid; "
                         f"expected each land cell exactly once")
    land_values = np.empty_like(sm)
    land_values[:, order] = sm
    lon_land = np.broadcast_to(grid.lon[None, :], grid.shape)[grid.land]
    flagged = flagged_cells(flags or {}, s)
    never = np.zeros(n, dtype=bool)
    for mask in flagged.values():
        never |= mask
    folders = {Path(f): m for f, m in folders.items()}
    for f in folders:
        f.mkdir(parents=True, exist_ok=True)
    nodes = colm_node_depths()
    if s.layers > nodes.size:
        raise InputError(f"layers = {s.layers}; CoLM has {nodes.size}")
    rejected = {"no_retrieval": 0, "out_of_range": 0, "overpass_off_window": 0,
                **{f"flag_{k}": 0 for k in flagged}}
    files = {str(f): 0 for f in folders}
    kept_values = {str(f): 0 for f in folders}
    empty, kept_total = [], 0
    days = series.times.astype("datetime64[D]")
    for k, day in enumerate(days):
        v = land_values[k].copy()
        valid = np.isfinite(v)
        rejected["no_retrieval"] += int((~valid).sum())
        for reason, mask in flagged.items():
            rejected[f"flag_{reason}"] += int((valid & mask).sum())
        valid &= ~never
        bad = valid & ((v < s.lower) | (v > s.upper))
        rejected["out_of_range"] += int(bad.sum())
        valid &= ~bad
        nominal = day.astype("datetime64[s]") + np.timedelta64(int(s.analysis_hour * 3600), "s")
        times = overpass_times(day, lon_land, s.overpass_local_hour)
        off = valid & (np.abs((times - nominal).astype(float)) > s.tolerance_minutes * 60.0)
        rejected["overpass_off_window"] += int(off.sum())
        valid &= ~off
        if not valid.any():
            empty.append(str(day))
            continue
        kept_total += int(valid.sum())
        image = grid.to_field(np.where(valid, v, np.nan))
        layered, variance = map_layers(image[None], [s.layer_top], [s.layer_bottom], nodes,
                                       error_variance=np.where(np.isfinite(image), s.error_std
                                                               ** 2, np.nan)[None])
        time_field = grid.to_field(np.where(valid, (times - nominal).astype(float), np.nan))
        for folder, mask in folders.items():
            keep = np.isfinite(image) if mask is None else np.isfinite(image) & mask
            if not keep.any():
                continue
            values = np.where(keep, layered[: s.layers], np.nan)
            target = folder / observation_name(nominal)
            write_field(target, SoilMoistureField(
                lat=grid.lat, lon=grid.lon, depth=nodes[: s.layers], values=values,
                error_variance=np.where(keep, variance[: s.layers], np.nan),
                source=str(path), valid_time=nominal),
                role="observation", title="landia observation image from a per-cell product",
                attributes={"product_file": str(path), "settings": str(asdict(s)),
                            **(attributes or {})})
            offsets = np.where(keep, time_field, np.nan)
            _observation_time_variable(target, nominal + np.nan_to_num(offsets).astype(
                "timedelta64[s]"), keep)
            files[str(folder)] += 1
            kept_values[str(folder)] += int(keep.sum())
    return {"days": int(days.size), "files": files, "empty_days": empty,
            "values": kept_values, "rejected": rejected,
            "flagged_cells": {k: int(m.sum()) for k, m in flagged.items()},
            "valid_fraction": kept_total / max(n * days.size, 1)}


def write_withheld_cells(path, grid: LatLonGrid, withheld: np.ndarray, fraction: float,
                         seed: int) -> None:
    """The withheld draw as CF netCDF: ``withheld(lat, lon)`` int8, 1 withheld, 0 assimilated
    (observable or not), -1 (fill) off land; atomic."""
    with atomic_path(path) as tmp:
        with netCDF4.Dataset(tmp, "w") as ds:
            ds.Conventions = "CF-1.8"
            ds.title = "landia: cells withheld from every analysis, for verification"
            ds.fraction = float(fraction)
            ds.seed = int(seed)
            ds.createDimension("lat", grid.lat.size)
            ds.createDimension("lon", grid.lon.size)
            for name, values, units, std in (("lat", grid.lat, "degrees_north", "latitude"),
                                             ("lon", grid.lon, "degrees_east", "longitude")):
                v = ds.createVariable(name, "f8", (name,))
                v.units, v.standard_name = units, std
                v[:] = values
            w = ds.createVariable("withheld", "i1", ("lat", "lon"), fill_value=np.int8(-1))
            w.long_name = "cell withheld from the analyses (verification only)"
            w.flag_values = np.array([0, 1], dtype=np.int8)
            w.flag_meanings = "assimilated withheld"
            w[:] = np.where(grid.land, withheld.astype(np.int8), -1)


def read_withheld_cells(path) -> np.ndarray:
    """(ny, nx) bool: True at the withheld cells of :func:`write_withheld_cells`' file."""
    with open_netcdf(path, "withheld cells") as ds:
        if "withheld" not in ds.variables:
            raise InputError(f"{path}: no variable 'withheld'; expected a withheld-cells file")
        w = np.ma.filled(ds.variables["withheld"][:], -1)
    return np.asarray(w) == 1
