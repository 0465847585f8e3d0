"""Meteorological forcing of the land columns: the record, readers and CoLM's time interpolation.

``record``      :class:`Forcing`, arrays (T, N) of the near-surface atmosphere with validation
``alma``        reader of ALMA / PLUMBER2 site files (the only module here that does file I/O)
``solar``       cosine of the solar zenith angle
``interpolate`` forcing times -> model steps (linear states, step precipitation,
                zenith-weighted shortwave, derived longwave)
"""

from landia.forcing.record import Forcing

__all__ = ["Forcing"]
