"""Meteorological forcing of the land columns: the record, readers and CoLM's time interpolation.

``record``      :class:`Forcing`, arrays (T, N) of the near-surface atmosphere with validation
``alma``        reader of ALMA / PLUMBER2 site files
``gridded``     shared machinery of the gridded readers: grid, nearest-cell columns, cell reads
``gldas``, ``era5``, ``qian``   readers of GLDAS-2.1, ERA5 (CDS) and Qian/CLM gridded forcing
``cell_series`` daily-mean forcing from a CF time series per cell (NLDAS-2 daily means)
                (alma, gridded, gldas, era5, qian and cell_series are the modules here that do
                file I/O, through :mod:`landia.io.netcdf` and :mod:`landia.io.cell_series`)
``solar``       cosine of the solar zenith angle
``interpolate`` forcing times -> model steps (linear states, step precipitation,
                zenith-weighted shortwave, derived longwave)
``disaggregate`` daily means -> sub-daily steps, every daily budget kept (solar shortwave,
                a temperature cycle, humidity below saturation, T^4 longwave)
``perturbation`` reproducible, rank-independent forcing perturbations (SMAP Level-4 style)
"""

from landia.forcing.era5 import read_era5
from landia.forcing.gldas import read_gldas
from landia.forcing.qian import read_qian
from landia.forcing.record import Forcing

__all__ = ["Forcing", "read_era5", "read_gldas", "read_qian"]
