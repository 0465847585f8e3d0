"""The forcing record: the near-surface atmosphere over N columns at T times.

All arrays are (T, N): time first, column second, float64, SI units as CoLM reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from landia.errors import InputError

#: attribute -> (description, units, lower, upper, lower inclusive, upper inclusive)
PHYSICAL_RANGES = {
    "tair": ("air temperature", "K", 150.0, 350.0, False, False),
    "qair": ("specific humidity", "kg/kg", 0.0, 0.1, True, False),
    "psurf": ("surface pressure", "Pa", 30000.0, 110000.0, False, False),
    "wind": ("wind speed", "m/s", 0.0, 100.0, True, False),
    "swdown": ("downward shortwave", "W m-2", 0.0, 1500.0, True, False),
    "lwdown": ("downward longwave", "W m-2", 0.0, 1000.0, True, False),
    "precip": ("precipitation rate", "kg m-2 s-1", 0.0, 0.2, True, False),
    "rain": ("rainfall rate", "kg m-2 s-1", 0.0, 0.2, True, False),
    "snow": ("snowfall rate", "kg m-2 s-1", 0.0, 0.2, True, False),
}


@dataclass
class Forcing:
    """Near-surface meteorology for ``N`` columns at ``T`` times.

    Attributes
    ----------
    times : ndarray (T,) of datetime64[s]
        UTC times, strictly increasing. For interval quantities (precipitation, shortwave,
        longwave) the value at ``times[k]`` is the mean over ``[times[k], times[k+1])``.
    lat, lon : ndarray (N,)
        Column positions, degrees north / east.
    tair : ndarray (T, N)
        Air temperature at the reference height, K.
    qair : ndarray (T, N)
        Specific humidity, kg kg-1.
    psurf : ndarray (T, N)
        Surface air pressure, Pa.
    wind : ndarray (T, N)
        Wind speed, m s-1.
    swdown : ndarray (T, N)
        Downward shortwave radiation at the surface, W m-2.
    lwdown : ndarray (T, N) or None
        Downward longwave radiation, W m-2; None when the source has none (then
        :func:`landia.forcing.interpolate.longwave_from_emissivity` derives it).
    precip : ndarray (T, N)
        Total precipitation rate, kg m-2 s-1 (= mm s-1).
    rain, snow : ndarray (T, N) or None
        The liquid / solid parts when the source splits them (``rain + snow = precip``).
    source : str
        Where it came from, for messages.
    utc_offset_hours : float
        Offset that was subtracted from the source's clock to get UTC (0 for UTC sources).
    """

    times: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    tair: np.ndarray
    qair: np.ndarray
    psurf: np.ndarray
    wind: np.ndarray
    swdown: np.ndarray
    precip: np.ndarray
    lwdown: np.ndarray | None = None
    rain: np.ndarray | None = None
    snow: np.ndarray | None = None
    source: str = "<memory>"
    utc_offset_hours: float = 0.0

    def __post_init__(self) -> None:
        self.times = np.asarray(self.times).astype("datetime64[s]")
        self.lat = np.atleast_1d(np.asarray(self.lat, dtype=float))
        self.lon = np.atleast_1d(np.asarray(self.lon, dtype=float))
        for name in PHYSICAL_RANGES:
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, np.asarray(value, dtype=float))

    @property
    def n_times(self) -> int:
        return self.times.shape[0]

    @property
    def n_columns(self) -> int:
        return self.lat.shape[0]

    def validate(self) -> "Forcing":
        """Check shapes, times, finiteness and physical ranges; return self.

        Raises
        ------
        InputError
            Naming the source, the variable, the first offending time and column, and the
            range that was expected.
        """
        T, N = self.n_times, self.n_columns
        if self.times.ndim != 1 or T < 1:
            raise InputError(f"{self.source}: forcing times must be a non-empty 1-D array, "
                             f"got shape {self.times.shape}")
        if T > 1 and not np.all(np.diff(self.times) > np.timedelta64(0, "s")):
            k = int(np.argmin(np.diff(self.times) > np.timedelta64(0, "s")))
            raise InputError(f"{self.source}: forcing times must increase strictly; "
                             f"{self.times[k]} is followed by {self.times[k + 1]}")
        if self.lon.shape != (N,):
            raise InputError(f"{self.source}: lat has shape {self.lat.shape} but lon "
                             f"{self.lon.shape}; expected both (N,)")
        if np.any(np.abs(self.lat) > 90) or not np.all(np.isfinite(self.lat + self.lon)):
            raise InputError(f"{self.source}: column latitudes must be finite in [-90, 90], "
                             f"got {self.lat}")
        for name, (what, units, lo, hi, lo_in, hi_in) in PHYSICAL_RANGES.items():
            a = getattr(self, name)
            if a is None:
                continue
            if a.shape != (T, N):
                raise InputError(f"{self.source}: {name} ({what}) has shape {a.shape}; "
                                 f"expected (T, N) = ({T}, {N})")
            ok = np.isfinite(a)
            ok &= (a >= lo) if lo_in else (a > lo)
            ok &= (a <= hi) if hi_in else (a < hi)
            if not ok.all():
                t, n = np.argwhere(~ok)[0]
                raise InputError(
                    f"{self.source}: {name} ({what}) is {a[t, n]!r} {units} at "
                    f"{self.times[t]} UTC, column {n} ({np.sum(~ok)} bad values); expected "
                    f"finite values in {'[' if lo_in else '('}{lo:g}, {hi:g}"
                    f"{']' if hi_in else ')'} {units}")
        if (self.rain is None) != (self.snow is None):
            raise InputError(f"{self.source}: rain and snow must be given together")
        if self.rain is not None:
            total = self.rain + self.snow
            if not np.allclose(total, self.precip, rtol=1e-6, atol=1e-12):
                raise InputError(f"{self.source}: precip differs from rain + snow; expected "
                                 f"precip = rain + snow")
        return self

    def select(self, start=None, end=None) -> "Forcing":
        """The times ``start <= t < end`` (UTC; None = open), as a new record."""
        keep = np.ones(self.n_times, dtype=bool)
        if start is not None:
            keep &= self.times >= np.datetime64(start, "s")
        if end is not None:
            keep &= self.times < np.datetime64(end, "s")
        if not keep.any():
            raise InputError(f"{self.source}: no forcing time in [{start}, {end}); the record "
                             f"covers {self.times[0]} to {self.times[-1]} UTC")
        changes = {n: getattr(self, n)[keep] for n in PHYSICAL_RANGES if getattr(self, n) is not None}
        return replace(self, times=self.times[keep], **changes)
