"""Readers of soil-moisture products, each returning :class:`ProductField` objects.

=============  ====================================================  ============================
format         module / reader                                       recognised by
=============  ====================================================  ============================
``era5``       :func:`~.era5.read_era5_soil_moisture` (ERA5,          variables ``swvl1`` ..
               ERA5-Land, ERA-Interim; CDS netCDF, both layouts)     ``swvl4``
``gldas``      :func:`~.gldas.read_gldas_soil_moisture`               ``SoilMoi0_10cm_inst`` ...
               (GLDAS-2.x Noah)
``cci``        :func:`~.cci.read_cci` (C3S and ESA CCI SM)            ``sm`` with ``flag``,
                                                                     ``sm_uncertainty``, ``t0``
                                                                     or ``nobs``
``smap_l3``    :func:`~.smap.read_smap` (SPL3SMP, HDF5)               groups
                                                                     ``Soil_Moisture_Retrieval_
                                                                     Data_AM`` / ``_PM``
=============  ====================================================  ============================

The ERA5 and GLDAS readers are named ``..._soil_moisture``: :mod:`landia.forcing` has readers
of the same products' meteorological forcing (``read_era5``, ``read_gldas``).

:func:`read_product` detects the format from a file's groups and variables and dispatches.
Readers do I/O only: they convert units, set fill values and rejected retrievals to NaN and
count them by reason in :attr:`ProductField.rejected` (values, i.e. layer x cell), and leave
the refusal of too-sparse images to QC. Every problem is an :class:`~landia.errors.InputError`
naming the file, the variable, what was found and what was expected. See
``docs/observation-products.md``.
"""

from __future__ import annotations

from pathlib import Path

import h5py

from landia.errors import InputError
from landia.io.netcdf import HDF5_SIGNATURE
from landia.observations.product import ProductField
from landia.observations.products.cci import read_cci
from landia.observations.products.era5 import read_era5_soil_moisture
from landia.observations.products.gldas import read_gldas_soil_moisture
from landia.observations.products.reading import (KNOWN_FORMATS, check_file, known_formats_text,
                                                  open_product)
from landia.observations.products.smap import read_smap

def _detect_hdf5_groups(path: Path) -> list[str]:
    try:
        with h5py.File(path, "r") as h:
            return [k for k in h.keys() if isinstance(h[k], h5py.Group)]
    except OSError as exc:
        raise InputError(f"{path}: cannot open soil-moisture product as HDF5 / netCDF-4 "
                         f"(truncated or corrupt file?): "
                         f"{exc}") from None


def detect_format(path) -> str:
    """The format of a product file: one of :data:`KNOWN_FORMATS`' keys.

    Raises
    ------
    InputError
        Absent, empty, truncated or unrecognised files, naming what the file holds and the
        known formats.
    """
    path = check_file(path, "soil-moisture product")
    with open(path, "rb") as fh:
        head = fh.read(8)
    groups: list[str] = []
    if head.startswith(HDF5_SIGNATURE):
        groups = _detect_hdf5_groups(path)
        if any(g.startswith("Soil_Moisture_Retrieval_Data") for g in groups):
            return "smap_l3"
    ds = open_product(path, "soil-moisture product")
    try:
        names = set(ds.variables)
        groups = groups or list(ds.groups)
    finally:
        ds.close()
    if any(n.startswith("swvl") and n[4:].isdigit() for n in names):
        return "era5"
    if any(n.startswith("SoilMoi") and n.endswith("cm_inst") for n in names):
        return "gldas"
    if "sm" in names and names & {"flag", "sm_uncertainty", "t0", "nobs", "dnflag"}:
        return "cci"
    raise InputError(
        f"{path}: unknown soil-moisture product: the file has variables "
        f"{', '.join(sorted(names)) or 'none'}"
        f"{'; groups ' + ', '.join(sorted(groups)) if groups else ''}; known formats: "
        f"{known_formats_text()}")


def read_product(path, **options) -> list[ProductField]:
    """Read a soil-moisture product file of any known format.

    Parameters
    ----------
    path : path-like
        An ERA5/ERA5-Land/ERA-Interim, GLDAS-2.x, C3S/ESA CCI or SMAP L3 file.
    format : str, optional
        One of ``era5``, ``gldas``, ``cci``, ``smap_l3`` to skip detection.
    **options
        Passed to the reader (e.g. ``lsm_threshold`` for ERA5, ``passes`` for SMAP).

    Returns
    -------
    list of ProductField
        One per time (and per SMAP pass), values in m3 m-3.

    Raises
    ------
    InputError
        Unknown format (listing the known ones), empty or truncated file, wrong units, ...
    """
    fmt = options.pop("format", None) or detect_format(path)
    readers = {"era5": read_era5_soil_moisture, "gldas": read_gldas_soil_moisture,
               "cci": read_cci, "smap_l3": read_smap}
    if fmt not in readers:
        raise InputError(f"{path}: unknown product format {fmt!r}; expected one of "
                         f"{sorted(readers)}")
    try:
        return readers[fmt](path, **options)
    except TypeError as exc:
        if "unexpected keyword" in str(exc):
            raise InputError(f"{path}: option not accepted by the {fmt} reader: {exc}") from None
        raise


__all__ = ["read_product", "detect_format", "read_era5_soil_moisture",
           "read_gldas_soil_moisture", "read_cci", "read_smap", "KNOWN_FORMATS"]
