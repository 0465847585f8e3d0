"""The common form of a soil-moisture product at one time, on its own regular lat/lon grid.

Every product reader (ERA5/ERA5-Land, GLDAS-2.1, C3S/ESA CCI, SMAP L3, ...) returns
:class:`ProductField` objects; regridding, the vertical mapping, QC and ``prepare-obs`` work on
them and never on a product's own layout.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from landia.errors import InputError


@dataclass
class ProductField:
    """Volumetric soil moisture of one product at one time.

    Attributes
    ----------
    time : numpy.datetime64
        Validity time (UTC; for daily/dekadal/monthly products the start of the period).
    lat : ndarray (ny,)
        Cell-centre latitudes, degrees_north, strictly monotonic (either orientation).
    lon : ndarray (nx,)
        Cell-centre longitudes, degrees_east, strictly increasing, either -180..180 or 0..360.
    values : ndarray (nlayer, ny, nx)
        Soil moisture, m3 m-3; NaN where there is no value or the reader rejected it.
    layer_top, layer_bottom : ndarray (nlayer,)
        Depth range of each product layer, m (ERA5 layer 1: 0-0.07; satellites ~0-0.05).
    error_variance : ndarray (nlayer, ny, nx) or None
        Observation-error variance, (m3 m-3)^2, where the product gives an uncertainty.
    rejected : dict[str, int]
        Values the reader rejected, counted by reason (``fill``, ``flag_frozen_or_snow``, ...).
    source : str
        File (and group/variable) it came from, for messages.
    product : str
        Product name (``era5``, ``gldas``, ``c3s``, ``esa_cci``, ``smap_l3``).
    period : str
        ``instant``, ``day``, ``dekad`` or ``month``.
    """

    time: np.datetime64
    lat: np.ndarray
    lon: np.ndarray
    values: np.ndarray
    layer_top: np.ndarray
    layer_bottom: np.ndarray
    error_variance: np.ndarray | None = None
    rejected: dict = field(default_factory=dict)
    source: str = "<memory>"
    product: str = "unknown"
    period: str = "instant"

    def __post_init__(self) -> None:
        self.time = np.datetime64(self.time, "s")
        self.lat = np.asarray(self.lat, dtype=float)
        self.lon = np.asarray(self.lon, dtype=float)
        self.values = np.asarray(self.values, dtype=float)
        if self.values.ndim == 2:
            self.values = self.values[None]
        self.layer_top = np.atleast_1d(np.asarray(self.layer_top, dtype=float))
        self.layer_bottom = np.atleast_1d(np.asarray(self.layer_bottom, dtype=float))
        if self.error_variance is not None:
            self.error_variance = np.asarray(self.error_variance, dtype=float)
            if self.error_variance.ndim == 2:
                self.error_variance = self.error_variance[None]
        self.validate()

    @property
    def n_layers(self) -> int:
        return self.values.shape[0]

    def validate(self) -> "ProductField":
        """Check shapes, coordinates and depth ranges; raise InputError naming the source."""
        nl, ny, nx = self.values.shape
        if self.lat.shape != (ny,) or self.lon.shape != (nx,):
            raise InputError(f"{self.source}: values have shape {self.values.shape} but lat "
                             f"{self.lat.shape} and lon {self.lon.shape}; expected (nlayer, "
                             f"lat, lon)")
        for name, c in (("lat", self.lat), ("lon", self.lon)):
            if not np.all(np.isfinite(c)):
                raise InputError(f"{self.source}: coordinate {name} has non-finite values")
        if ny > 1 and not (np.all(np.diff(self.lat) > 0) or np.all(np.diff(self.lat) < 0)):
            raise InputError(f"{self.source}: latitudes must be strictly monotonic")
        if nx > 1 and not np.all(np.diff(self.lon) > 0):
            raise InputError(f"{self.source}: longitudes must be strictly increasing")
        if self.layer_top.shape != (nl,) or self.layer_bottom.shape != (nl,):
            raise InputError(f"{self.source}: {nl} layers but depth ranges of shapes "
                             f"{self.layer_top.shape} and {self.layer_bottom.shape}")
        if np.any(self.layer_top < 0) or np.any(self.layer_bottom <= self.layer_top):
            raise InputError(f"{self.source}: layer depth ranges must satisfy 0 <= top < bottom "
                             f"(m); got {list(zip(self.layer_top, self.layer_bottom))}")
        if self.error_variance is not None and self.error_variance.shape != self.values.shape:
            raise InputError(f"{self.source}: error variance shape {self.error_variance.shape} "
                             f"differs from values {self.values.shape}")
        return self
