"""Initial-state files of a single column (netCDF4, CF-1.8).

Layout (see ``docs/column-files.md``)::

    dimensions:  layer (10)
    variables:   layer(layer)             1-based CoLM layer index
                 depth(layer)             node depth, m (optional on reading)
                 soil_moisture(layer)     m3 m-3, in [0, porosity]
                 soil_temperature(layer)  K, optional, in [150, 350]

Errors are :class:`~landia.errors.InputError` naming the file and the variable.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import netCDF4
import numpy as np

from landia.errors import InputError
from landia.grid import N_SOIL_LAYERS, colm_node_depths
from landia.io.atomic import atomic_path
from landia.io.fields import VOLUMETRIC_UNITS
from landia.io.netcdf import (missing_variable, open_netcdf, write_cf_header,
                              write_layer_coordinates)

TEMPERATURE_UNITS = {"K", "k", "kelvin", "Kelvin"}
#: Plausible soil temperature range (K).
TEMPERATURE_RANGE = (150.0, 350.0)


@dataclass
class ColumnInitialState:
    """Initial soil moisture (m3 m-3) and optional soil temperature (K) per layer."""

    soil_moisture: np.ndarray
    soil_temperature: np.ndarray | None = None
    source: str = "<memory>"


def _read(ds, path: Path, name: str, units_ok: set[str], n_layers: int, required: bool):
    if name not in ds.variables:
        if required:
            raise InputError(missing_variable(path, name, ds))
        return None
    var = ds.variables[name]
    if var.dimensions != ("layer",):
        raise InputError(f"{path}: variable {name!r} has dimensions {var.dimensions}; "
                         "expected ('layer',)")
    units = getattr(var, "units", None)
    if units is None or str(units).strip() not in units_ok:
        raise InputError(f"{path}: variable {name!r} has units {units!r}; expected one of "
                         f"{sorted(units_ok)}")
    var.set_auto_maskandscale(True)
    arr = np.ma.filled(np.ma.asarray(var[...], dtype=float), np.nan)
    if arr.shape != (n_layers,):
        raise InputError(f"{path}: variable {name!r} has {arr.size} layers; expected "
                         f"{n_layers} CoLM soil layers")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{path}: variable {name!r} contains NaN, inf or fill values; "
                         "expected a finite value in every layer")
    return arr


def read_column_state(path: str | Path, porosity: np.ndarray | None = None,
                      n_layers: int = N_SOIL_LAYERS) -> ColumnInitialState:
    """Read an initial-state file, checking units, shape and range.

    Parameters
    ----------
    path : path-like
    porosity : array_like, shape (n_layers,), optional
        Upper bound of soil moisture per layer (m3 m-3); without it the bound is 1.
    n_layers : int
    """
    path = Path(path)
    with open_netcdf(path, "initial-state") as ds:
        sm = _read(ds, path, "soil_moisture", VOLUMETRIC_UNITS, n_layers, True)
        temp = _read(ds, path, "soil_temperature", TEMPERATURE_UNITS, n_layers, False)
    upper = np.ones(n_layers) if porosity is None else np.asarray(porosity, float).reshape(-1)
    if upper.shape != (n_layers,):
        raise ValueError(f"porosity: expected shape ({n_layers},); got {upper.shape}")
    bad = (sm < 0.0) | (sm > upper + 1e-9)
    if np.any(bad):
        k = int(np.argmax(bad))
        raise InputError(f"{path}: variable 'soil_moisture' = {sm[k]:g} m3 m-3 in layer {k + 1}; "
                         f"expected values in [0, porosity = {upper[k]:g}]")
    if temp is not None:
        lo, hi = TEMPERATURE_RANGE
        if np.any(temp < lo) or np.any(temp > hi):
            raise InputError(f"{path}: variable 'soil_temperature': expected values in "
                             f"[{lo:g}, {hi:g}] K; found min {temp.min():g}, max {temp.max():g}"
                             " (degrees Celsius instead of K?)")
    return ColumnInitialState(soil_moisture=sm, soil_temperature=temp, source=str(path))


def write_column_state(path: str | Path, soil_moisture, soil_temperature=None,
                       title: str = "landia column initial state") -> None:
    """Write an initial-state file atomically (a failed write leaves no file)."""
    sm = np.asarray(soil_moisture, dtype=float).reshape(-1)
    n = sm.size
    temp = None if soil_temperature is None else np.asarray(soil_temperature, float).reshape(-1)
    if temp is not None and temp.shape != (n,):
        raise ValueError(f"soil_temperature: expected shape ({n},) like soil_moisture; got "
                         f"{temp.shape}")
    with atomic_path(path) as tmp:
        with netCDF4.Dataset(tmp, "w", format="NETCDF4") as ds:
            write_cf_header(ds, title)
            write_layer_coordinates(ds, colm_node_depths(n))
            variables = [("soil_moisture", sm, "m3 m-3",
                          "volume_fraction_of_condensed_water_in_soil",
                          "initial volumetric soil moisture")]
            if temp is not None:
                variables.append(("soil_temperature", temp, "K", "soil_temperature",
                                  "initial soil temperature"))
            for name, values, units, standard_name, long_name in variables:
                v = ds.createVariable(name, "f8", ("layer",))
                v.units, v.standard_name, v.long_name = units, standard_name, long_name
                v.coordinates = "depth"
                v[:] = values
