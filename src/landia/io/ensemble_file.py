"""The ensemble file of a cycle, ``ensemble/ens_<YYYYMMDDTHHMM>.nc``: mean and spread.

A CF-1.8 netCDF file in the time-record layout of the state files (:mod:`landia.io.netcdf`:
``time`` unlimited of length 1, then ``layer``, ``lat``, ``lon``) with

* ``soil_moisture`` (time, layer, lat, lon), m3 m-3: the ensemble mean,
  ``cell_methods = "realization: mean"``;
* ``soil_moisture_spread`` (time, layer, lat, lon), m3 m-3: the members' standard deviation
  (N - 1 in the denominator), ``cell_methods = "realization: standard_deviation"``;
* ``soil_moisture_background`` (time, layer, lat, lon), m3 m-3, optional: the ensemble mean
  BEFORE the analysis of this time (the 1-day forecast's mean, from which O-F innovations are
  computed), ``cell_methods = "realization: mean"``; written only at times with an analysis,
  absent from files written before 2026-12 (read back as None);
* ``prior_inflation`` (time, lat, lon), 1, optional: with ``ensemble.adaptive_inflation``,
  each land cell's carried multiplicative prior inflation for the next analysis (the map of
  where the members' spread falls short of the innovations; DART writes its inflation to files
  of its own);

NaN off land, and the global attribute ``ensemble_members``. The cell methods name
``realization``, a scalar coordinate variable of that CF standard name (an ensemble member's
number), so a CF checker finds what the members were reduced to (compliance-checker cf:1.8:
no finding).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from landia.errors import InputError
from landia.io.atomic import atomic_path
from landia.io.netcdf import (FIELD_COORDINATES, create_grid_file, field_dimensions,
                              open_netcdf, read_record, read_valid_time, write_record)

#: The variables, their long names and cell methods.
VARIABLES = {
    "soil_moisture": ("ensemble mean of volumetric soil moisture", "realization: mean"),
    "soil_moisture_spread": ("ensemble standard deviation of volumetric soil moisture",
                             "realization: standard_deviation"),
    "soil_moisture_background": ("ensemble mean of volumetric soil moisture before the "
                                 "analysis", "realization: mean"),
}


@dataclass(frozen=True)
class EnsembleFile:
    """The content of an ensemble file.

    Attributes
    ----------
    lat, lon : ndarray
        Cell centres, degrees.
    depth : ndarray (nlayer,)
        Layer node depths, m.
    mean, spread : ndarray (nlayer, ny, nx)
        Ensemble mean and standard deviation of volumetric soil moisture, m3 m-3, NaN off land.
    members : int
        Number of members.
    valid_time : numpy.datetime64
    background : ndarray (nlayer, ny, nx) or None
        Ensemble mean before the analysis of ``valid_time``, m3 m-3; None where the file has
        none (no analysis at that time, or a file from before the variable existed).
    inflation : ndarray (ny, nx) or None
        The carried adaptive prior inflation (dimensionless, >= 1), NaN off land; None
        without adaptive inflation.
    """

    lat: np.ndarray
    lon: np.ndarray
    depth: np.ndarray
    mean: np.ndarray
    spread: np.ndarray
    members: int
    valid_time: np.datetime64
    background: np.ndarray | None = None
    inflation: np.ndarray | None = None


def write_ensemble_file(path: str | Path, content: EnsembleFile,
                        attributes: dict | None = None) -> None:
    """Write ``content`` atomically (see the module notes); ``attributes`` are added as
    global attributes."""
    with atomic_path(Path(path)) as tmp:
        with create_grid_file(tmp, content.lat, content.lon, content.depth,
                              "landia ensemble mean and spread of soil moisture",
                              valid_time=content.valid_time) as ds:
            dims = field_dimensions(ds)
            real = ds.createVariable("realization", "i4")
            real.standard_name = "realization"
            real.long_name = "ensemble members (the statistics are over them)"
            real.units = "1"
            real.comment = (f"the statistics are over the members 0 to {content.members - 1}"
                            " (global attribute ensemble_members)")
            real.assignValue(0)
            fields = [("soil_moisture", content.mean), ("soil_moisture_spread", content.spread)]
            if content.background is not None:
                fields.append(("soil_moisture_background", content.background))
            for name, values in fields:
                long_name, methods = VARIABLES[name]
                var = ds.createVariable(name, "f8", dims, fill_value=np.nan, zlib=True)
                var.units = "m3 m-3"
                if name == "soil_moisture":
                    var.standard_name = "volume_fraction_of_condensed_water_in_soil"
                var.long_name = long_name
                var.cell_methods = methods
                if name == "soil_moisture_background":
                    var.comment = ("the members' mean before this time's analysis (the "
                                   "forecast from the previous one); soil_moisture is after it")
                var.coordinates = f"{FIELD_COORDINATES} realization"
                write_record(var, values)
            if content.inflation is not None:
                var = ds.createVariable("prior_inflation", "f8",
                                        field_dimensions(ds, ("lat", "lon")),
                                        fill_value=np.nan, zlib=True)
                var.units = "1"
                var.long_name = ("multiplicative prior inflation of the LETKF for the next "
                                 "analysis (adaptive, per land cell)")
                var.comment = ("the members' background perturbations of a cell with "
                               "observations are scaled by its square root (docs/ensemble.md)")
                write_record(var, content.inflation)
            ds.ensemble_members = np.int32(content.members)
            for key, value in (attributes or {}).items():
                ds.setncattr(key, value)


def read_ensemble_file(path: str | Path) -> EnsembleFile:
    """Read an ensemble file.

    Raises
    ------
    InputError
        Not a netCDF file, or a variable or the ``ensemble_members`` attribute missing;
        naming the file.
    """
    path = Path(path)
    with open_netcdf(path, "ensemble file") as ds:
        if "ensemble_members" not in ds.ncattrs():
            raise InputError(f"{path}: global attribute 'ensemble_members' is missing; "
                             f"expected a landia ensemble file")
        return EnsembleFile(
            lat=np.asarray(ds.variables["lat"][:], dtype=float),
            lon=np.asarray(ds.variables["lon"][:], dtype=float),
            depth=np.asarray(ds.variables["depth"][:], dtype=float),
            mean=read_record(ds, path, "soil_moisture"),
            spread=read_record(ds, path, "soil_moisture_spread"),
            members=int(ds.getncattr("ensemble_members")),
            valid_time=read_valid_time(ds, path),
            background=(read_record(ds, path, "soil_moisture_background")
                        if "soil_moisture_background" in ds.variables else None),
            inflation=(read_record(ds, path, "prior_inflation", dims=("lat", "lon"))
                       if "prior_inflation" in ds.variables else None))
