"""Climatology files (netCDF4, CF-1.8): the per-cell, per-layer statistics of a model run and
an observation product over a training period, from which observations are rescaled to the
model's climatology (:mod:`landia.observations.rescaling`, ``docs/observation-bias.md``).

:func:`write_climatology` writes one atomically, :func:`read_climatology` reads and checks it;
:class:`Climatology` holds it in memory. ``landia climatology`` builds it.

Layout::

    dimensions:  quantile, layer, lat, lon, nv (= 2)
    variables:   lat(lat), lon(lon), layer(layer), depth(layer)   the model grid (as field files)
                 quantile(quantile)                    probability level, 0..1 increasing
                 model_quantile(quantile, layer, lat, lon)        m3 m-3
                 observation_quantile(quantile, layer, lat, lon)  m3 m-3
                 model_mean, observation_mean(layer, lat, lon)    m3 m-3
                 model_std, observation_std(layer, lat, lon)      m3 m-3 (sample, ddof 1)
                 sample_count(layer, lat, lon)         int: paired samples of the cell
                 time                                  scalar, the training period's start,
                                                       with bounds = "time_bnds"
                 time_bnds(nv)                         training start and end (both included)
    attributes:  training_start, training_end (ISO 8601 UTC), quantile_method, pairing

Off land, and where a cell has no paired sample, every statistic is NaN (``_FillValue``) and
``sample_count`` is 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from landia.errors import InputError
from landia.io.atomic import atomic_path
from landia.io.fields import VOLUMETRIC_UNITS
from landia.io.netcdf import create_grid_file, missing_variable, open_netcdf, read_values

EPOCH = np.datetime64("1970-01-01T00:00:00", "s")
#: How the quantiles are defined (the ``quantile_method`` attribute).
QUANTILE_METHOD = ("nearest rank: the sorted paired sample's value at index "
                   "floor(p (n - 1) + 0.5), n the cell's sample count")
PAIRING = ("model state and observation at the same valid time; only times where both are "
           "finite in a cell and layer count")
_STATS = (("model_mean", "time mean of the model's volumetric soil moisture", "mean"),
          ("observation_mean", "time mean of the observed volumetric soil moisture", "mean"),
          ("model_std", "standard deviation (ddof 1) of the model's soil moisture in time",
           "standard_deviation"),
          ("observation_std", "standard deviation (ddof 1) of the observations in time",
           "standard_deviation"))


@dataclass
class Climatology:
    """Model and observation climatologies per cell and layer over a training period.

    Attributes
    ----------
    lat, lon : ndarray (ny,), (nx,)
        Cell centres of the model grid, degrees.
    depth : ndarray (nlayer,)
        Node depths of the layers, m (the top ``nlayer`` model layers).
    levels : ndarray (nq,)
        Probability levels of the quantiles, strictly increasing in [0, 1].
    model_quantiles, observation_quantiles : ndarray (nq, nlayer, ny, nx)
        Quantiles of the paired model and observation samples, m3 m-3; non-decreasing along
        the first axis; NaN where ``count`` is 0.
    model_mean, observation_mean, model_std, observation_std : ndarray (nlayer, ny, nx)
        Time means and sample standard deviations (ddof 1), m3 m-3; NaN where ``count`` is 0
        (the standard deviations also where it is 1).
    count : ndarray of int (nlayer, ny, nx)
        Number of paired samples (times where model and observation are both finite).
    start, end : numpy.datetime64
        The training period (UTC), both ends included.
    source : str
        Where it came from (file path), for messages.
    """

    lat: np.ndarray
    lon: np.ndarray
    depth: np.ndarray
    levels: np.ndarray
    model_quantiles: np.ndarray
    observation_quantiles: np.ndarray
    model_mean: np.ndarray
    observation_mean: np.ndarray
    model_std: np.ndarray
    observation_std: np.ndarray
    count: np.ndarray
    start: np.datetime64
    end: np.datetime64
    source: str = "<memory>"

    @property
    def n_layers(self) -> int:
        return self.count.shape[0]

    @property
    def shape(self) -> tuple[int, int]:
        return self.count.shape[1:]


def _seconds(t) -> float:
    return float((np.datetime64(t, "s") - EPOCH).astype(np.int64))


def write_climatology(path, clim: Climatology, title: str = "landia climatology of model "
                      "and observations (for observation rescaling)",
                      attributes: dict | None = None) -> None:
    """Write ``clim`` to ``path`` atomically (layout in the module notes); ``attributes`` are
    added as global attributes (strings or numbers)."""
    with atomic_path(path) as tmp:
        with create_grid_file(tmp, clim.lat, clim.lon, clim.depth, title) as ds:
            ds.createDimension("quantile", len(clim.levels))
            v = ds.createVariable("quantile", "f8", ("quantile",))
            v.units, v.long_name = "1", "probability level of the quantile"
            v[:] = clim.levels
            for name, values, what in (
                    ("model_quantile", clim.model_quantiles, "model"),
                    ("observation_quantile", clim.observation_quantiles, "observed")):
                v = ds.createVariable(name, "f8", ("quantile", "layer", "lat", "lon"),
                                      fill_value=np.nan, zlib=True)
                v.units = "m3 m-3"
                v.long_name = f"quantile of the {what} volumetric soil moisture in time"
                v.coordinates = "time depth"
                v[...] = values
            for name, long_name, method in _STATS:
                v = ds.createVariable(name, "f8", ("layer", "lat", "lon"), fill_value=np.nan,
                                      zlib=True)
                v.units, v.long_name = "m3 m-3", long_name
                v.cell_methods = f"time: {method}"
                v.coordinates = "time depth"
                v[...] = getattr(clim, name)
            v = ds.createVariable("sample_count", "i4", ("layer", "lat", "lon"), zlib=True)
            v.units, v.long_name = "1", "number of paired (model, observation) samples"
            v[...] = clim.count
            t = ds.createVariable("time", "f8", ())
            t.standard_name, t.long_name = "time", "start of the training period"
            t.units, t.calendar = "seconds since 1970-01-01 00:00:00", "standard"
            t.bounds = "time_bnds"
            t.assignValue(_seconds(clim.start))
            b = ds.createVariable("time_bnds", "f8", ("nv",))
            b.units, b.calendar = t.units, t.calendar
            b[:] = [_seconds(clim.start), _seconds(clim.end)]
            ds.training_start = str(np.datetime64(clim.start, "s")) + "Z"
            ds.training_end = str(np.datetime64(clim.end, "s")) + "Z"
            ds.quantile_method = QUANTILE_METHOD
            ds.pairing = PAIRING
            for key, value in (attributes or {}).items():
                ds.setncattr(key, value)


def _time_attribute(ds, path, name: str) -> np.datetime64:
    if name not in ds.ncattrs():
        raise InputError(f"{path}: global attribute {name!r} missing; expected the training "
                         "period as ISO 8601 UTC (a climatology file of 'landia climatology')")
    text = str(ds.getncattr(name))
    try:
        return np.datetime64(text.rstrip("Z"), "s")
    except ValueError:
        raise InputError(f"{path}: global attribute {name!r} = {text!r}; expected an ISO 8601 "
                         "UTC time such as 2016-05-01T06:00:00Z") from None


def _variable(ds, path, name: str, dims: tuple, units: set | None):
    if name not in ds.variables:
        raise InputError(missing_variable(path, name, ds) + " (a climatology file of "
                         "'landia climatology'?)")
    var = ds.variables[name]
    if var.dimensions != dims:
        raise InputError(f"{path}: variable {name!r} has dimensions {var.dimensions}; "
                         f"expected {dims}")
    if units is not None and str(getattr(var, "units", "")).strip() not in units:
        raise InputError(f"{path}: variable {name!r} has units "
                         f"{getattr(var, 'units', None)!r}; expected one of {sorted(units)}")
    return read_values(ds, path, name)


def read_climatology(path) -> Climatology:
    """Read and check a climatology file.

    Raises
    ------
    InputError
        Missing or foreign file, missing variable, wrong dimensions or units, probability
        levels that are not strictly increasing in [0, 1], negative counts or standard
        deviations, quantiles that decrease, or statistics missing where a cell has samples;
        naming the file and the variable.
    """
    path = Path(path)
    grid4 = ("quantile", "layer", "lat", "lon")
    grid3 = ("layer", "lat", "lon")
    with open_netcdf(path, "climatology") as ds:
        lat = _variable(ds, path, "lat", ("lat",), None)
        lon = _variable(ds, path, "lon", ("lon",), None)
        depth = _variable(ds, path, "depth", ("layer",), {"m"})
        levels = _variable(ds, path, "quantile", ("quantile",), None)
        mq = _variable(ds, path, "model_quantile", grid4, VOLUMETRIC_UNITS)
        oq = _variable(ds, path, "observation_quantile", grid4, VOLUMETRIC_UNITS)
        stats = {name: _variable(ds, path, name, grid3, VOLUMETRIC_UNITS)
                 for name, _, _ in _STATS}
        count = _variable(ds, path, "sample_count", grid3, None)
        start = _time_attribute(ds, path, "training_start")
        end = _time_attribute(ds, path, "training_end")
    for name, c in (("lat", lat), ("lon", lon), ("depth", depth)):
        if not np.all(np.isfinite(c)):
            raise InputError(f"{path}: coordinate {name!r} has missing values")
    if levels.size < 2 or not (np.all(np.isfinite(levels)) and np.all(np.diff(levels) > 0)
                               and levels[0] >= 0 and levels[-1] <= 1):
        raise InputError(f"{path}: variable 'quantile' = {levels.tolist()}; expected at least "
                         "2 probability levels, strictly increasing in [0, 1]")
    if not np.all(np.isfinite(count)) or np.any(count < 0):
        raise InputError(f"{path}: variable 'sample_count' must be a count >= 0 everywhere "
                         "(0 off land)")
    count = count.astype(np.int64)
    has = count > 0
    for name, values in (("model_quantile", mq), ("observation_quantile", oq),
                         ("model_mean", stats["model_mean"]),
                         ("observation_mean", stats["observation_mean"])):
        missing = (~np.isfinite(values) & has).sum()
        if missing:
            raise InputError(f"{path}: variable {name!r} is missing at {int(missing)} "
                             "value(s) of cells with samples (sample_count > 0)")
    for name in ("model_std", "observation_std"):
        with np.errstate(invalid="ignore"):
            bad = int(np.sum((stats[name] < 0) | (~np.isfinite(stats[name]) & (count > 1))))
        if bad:
            raise InputError(f"{path}: variable {name!r} is negative or missing at {bad} "
                             "cell(s) with 2 or more samples")
    for name, q in (("model_quantile", mq), ("observation_quantile", oq)):
        with np.errstate(invalid="ignore"):
            down = int(np.sum((np.diff(q, axis=0) < 0) & has))
        if down:
            raise InputError(f"{path}: variable {name!r} decreases along 'quantile' at {down} "
                             "place(s); expected quantiles non-decreasing in probability")
    if end < start:
        raise InputError(f"{path}: training_end {end} is before training_start {start}")
    return Climatology(lat=lat, lon=lon, depth=depth, levels=levels, model_quantiles=mq,
                       observation_quantiles=oq, count=count, start=start, end=end,
                       source=str(path), **stats)
