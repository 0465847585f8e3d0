"""Meteorological forcing of the land columns: the record, readers and CoLM's time interpolation.

``record``      :class:`Forcing`, arrays (T, N) of the near-surface atmosphere with validation
``alma``        reader of ALMA / PLUMBER2 site files
``gridded``     shared machinery of the gridded readers: grid, nearest-cell columns, cell reads
``gldas``, ``era5``, ``qian``   readers of GLDAS-2.1, ERA5 (CDS) and Qian/CLM gridded forcing
                (alma, gridded, gldas, era5 and qian are the modules here that do file I/O)
``solar``       cosine of the solar zenith angle
``interpolate`` forcing times -> model steps (linear states, step precipitation,
                zenith-weighted shortwave, derived longwave)
"""

from landia.forcing.record import Forcing

__all__ = ["Forcing", "read_era5", "read_gldas", "read_qian"]

_READERS = {"read_era5": "era5", "read_gldas": "gldas", "read_qian": "qian"}


def __getattr__(name):
    # the gridded readers load on first use, so that importing the record or the time
    # interpolation does not load file I/O
    if name in _READERS:
        import importlib

        return getattr(importlib.import_module(f"landia.forcing.{_READERS[name]}"), name)
    raise AttributeError(f"module 'landia.forcing' has no attribute {name!r}")
