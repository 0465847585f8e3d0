"""What every soil-moisture product reader does: open the file (refusing empty, foreign and
truncated files, naming the known formats), split it by time, drop size-1 dimensions, and
count rejected values by reason. Arithmetic and netCDF access only."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from landia.errors import InputError
from landia.io.netcdf import check_signature, open_netcdf
from landia.io.netcdf_size import check_complete

#: format name -> what identifies it, for messages
KNOWN_FORMATS = {
    "era5": "ERA5 / ERA5-Land / ERA-Interim netCDF (CDS): variables swvl1..swvl4 (+ lsm)",
    "gldas": "GLDAS-2.x Noah netCDF: variables SoilMoi0_10cm_inst, SoilMoi10_40cm_inst, ...",
    "cci": "C3S or ESA CCI soil moisture netCDF: variable sm with flag / sm_uncertainty / t0 "
           "/ nobs",
    "smap_l3": "SMAP L3 radiometer (SPL3SMP) HDF5: groups Soil_Moisture_Retrieval_Data_AM/_PM",
}


def known_formats_text() -> str:
    return "; ".join(f"{k} ({v})" for k, v in KNOWN_FORMATS.items())


def check_file(path, role: str) -> Path:
    """The path as a Path, refused with an InputError if absent, not a regular file, empty or
    of unknown type (:func:`landia.io.netcdf.check_signature`, naming the known product
    formats), or shorter than its header declares
    (:func:`landia.io.netcdf_size.check_complete`; HDF5 products are read with h5py)."""
    return check_complete(check_signature(path, role, known_formats_text()), role)


def open_product(path, role: str):
    """Open a netCDF product file, refusing empty, non-netCDF and truncated files."""
    check_file(path, role)
    return open_netcdf(path, role)


def fields_by_time(values: np.ndarray, time_axis: int | None) -> list[np.ndarray]:
    """Split an array along its time axis (None: a single time) into a list."""
    if time_axis is None:
        return [values]
    return [np.take(values, k, axis=time_axis) for k in range(values.shape[time_axis])]


def squeeze_extra(path, name: str, var, data: np.ndarray, keep: tuple[str, ...]) -> tuple:
    """Drop size-1 dimensions not in ``keep``; refuse others, naming them.

    Returns the array and the names of its remaining dimensions (in order).
    """
    dims = list(var.dimensions)
    if data.ndim != len(dims):
        raise InputError(f"{path}: variable {name!r} has {data.ndim} dimensions but declares "
                         f"{dims}")
    for axis in reversed(range(len(dims))):
        if dims[axis] in keep:
            continue
        if data.shape[axis] != 1:
            raise InputError(f"{path}: variable {name!r} has dimension {dims[axis]!r} of size "
                             f"{data.shape[axis]}; expected only time, latitude and longitude "
                             f"(other dimensions of size 1 are dropped; select one "
                             f"{dims[axis]} first)")
        data = np.take(data, 0, axis=axis)
        del dims[axis]
    return data, tuple(dims)


def add_count(rejected: dict, reason: str, n) -> None:
    """Add ``n`` to ``rejected[reason]`` (only when positive)."""
    n = int(n)
    if n > 0:
        rejected[reason] = rejected.get(reason, 0) + n


def reject_fill_and_negative(values: np.ndarray, rejected: dict) -> None:
    """Count the missing values (``fill``) and set negative ones to NaN (``negative``), in
    place."""
    add_count(rejected, "fill", np.isnan(values).sum())
    with np.errstate(invalid="ignore"):
        negative = values < 0
    add_count(rejected, "negative", negative.sum())
    values[negative] = np.nan
