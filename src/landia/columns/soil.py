"""Soil hydraulic parameters of CoLM columns (Clapp-Hornberger, Cosby 1984)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from landia.grid import N_SOIL_LAYERS

#: Seconds per day, for the Cosby k_sat given in cm/day.
_SECONDS_PER_DAY = 86400.0


def _check_range(name: str, value: np.ndarray, low: float, high: float, unit: str) -> None:
    if not np.all(np.isfinite(value)):
        raise ValueError(f"{name}: expected finite values in [{low}, {high}] {unit}; found NaN or inf")
    if np.any(value < low) or np.any(value > high):
        raise ValueError(
            f"{name}: expected values in [{low}, {high}] {unit}; "
            f"found min {np.min(value):g}, max {np.max(value):g}"
        )


@dataclass(frozen=True)
class SoilParameters:
    """Clapp-Hornberger hydraulic parameters of N soil columns, per layer.

    Parameters
    ----------
    porosity : ndarray, shape (N, nlayer)
        Volumetric water content at saturation theta_sat (m3 m-3), in (0, 1].
    psi_sat : ndarray, shape (N, nlayer)
        Matric potential at saturation (mm of water), negative.
    b : ndarray, shape (N, nlayer)
        Clapp-Hornberger exponent (dimensionless), positive.
    k_sat : ndarray, shape (N, nlayer)
        Hydraulic conductivity at saturation (mm s-1), positive.

    Notes
    -----
    Clapp and Hornberger (1978) retention and conductivity, with s = theta / theta_sat:

    .. math:: \\psi = \\psi_{sat} s^{-b}, \\qquad K = k_{sat} s^{2b+3}

    The arrays are stored as float64, C-contiguous, and validated on construction; a
    ``ValueError`` names the offending parameter and the expected range.
    """

    porosity: np.ndarray
    psi_sat: np.ndarray
    b: np.ndarray
    k_sat: np.ndarray

    def __post_init__(self) -> None:
        names = ("porosity", "psi_sat", "b", "k_sat")
        arrays = {n: np.ascontiguousarray(getattr(self, n), dtype=float) for n in names}
        shape = arrays["porosity"].shape
        if len(shape) != 2:
            raise ValueError(f"porosity: expected a 2-D array (N columns, nlayer); got shape {shape}")
        for n in names:
            if arrays[n].shape != shape:
                raise ValueError(f"{n}: expected shape {shape} like porosity; got {arrays[n].shape}")
            object.__setattr__(self, n, arrays[n])
        _check_range("porosity", self.porosity, 1e-3, 1.0, "m3 m-3")
        _check_range("psi_sat", self.psi_sat, -1e5, -1e-3, "mm (negative)")
        _check_range("b", self.b, 0.1, 50.0, "(dimensionless)")
        _check_range("k_sat", self.k_sat, 1e-12, 10.0, "mm s-1")
        # Layer-major copies (nlayer, N) for the solvers, made once: a per-layer row is then
        # contiguous, which makes the loops over layers several times faster.
        layer_major = tuple(np.array(getattr(self, n).T, order="C") for n in names)
        object.__setattr__(self, "_layer_major", layer_major)
        b = layer_major[2]
        object.__setattr__(self, "_layer_major_exponents", (-b, 2.0 * b + 3.0))

    def layer_major(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(porosity, psi_sat, b, k_sat), each transposed to a C-contiguous (nlayer, N) array.

        The arrays are shared, not copied: do not modify them.
        """
        return self._layer_major

    def layer_major_exponents(self) -> tuple[np.ndarray, np.ndarray]:
        """(-b, 2b + 3), the retention and conductivity exponents, layer-major (nlayer, N).

        Shared, not copied: do not modify them.
        """
        return self._layer_major_exponents

    @property
    def n_columns(self) -> int:
        """Number of columns N."""
        return self.porosity.shape[0]

    @property
    def n_layers(self) -> int:
        """Number of soil layers."""
        return self.porosity.shape[1]

    @classmethod
    def from_sand_clay(
        cls, sand: np.ndarray, clay: np.ndarray, n_layers: int = N_SOIL_LAYERS
    ) -> SoilParameters:
        """Parameters from sand and clay percentages with the Cosby et al. (1984) fits.

        Parameters
        ----------
        sand, clay : array_like, shape (N,) or (N, n_layers)
            Sand and clay content (%), each in [0, 100] with sand + clay <= 100. A 1-D array
            gives the same texture to every layer of a column.
        n_layers : int
            Number of layers when ``sand`` and ``clay`` are 1-D (CoLM: 10).

        Returns
        -------
        SoilParameters

        Notes
        -----
        As CoLM's Cosby pedotransfer function (sand, clay in %):

        .. math::
            \\theta_{sat} &= 0.489 - 0.00126\\,\\mathrm{sand} \\\\
            \\psi_{sat} &= -10^{1.88 - 0.013\\,\\mathrm{sand}}\\ \\mathrm{cm}
                        = -10 \\cdot 10^{1.88 - 0.013\\,\\mathrm{sand}}\\ \\mathrm{mm} \\\\
            b &= 2.91 + 0.159\\,\\mathrm{clay} \\\\
            k_{sat} &= 60.96 \\cdot 10^{-0.884 + 0.0153\\,\\mathrm{sand}}\\ \\mathrm{cm\\,day^{-1}}
                     = \\frac{609.6}{86400} 10^{-0.884 + 0.0153\\,\\mathrm{sand}}\\ \\mathrm{mm\\,s^{-1}}
        """
        sand = np.asarray(sand, dtype=float)
        clay = np.asarray(clay, dtype=float)
        if sand.shape != clay.shape:
            raise ValueError(f"sand, clay: expected the same shape; got {sand.shape} and {clay.shape}")
        if sand.ndim == 0:
            sand, clay = sand.reshape(1), clay.reshape(1)
        if sand.ndim == 1:
            sand = np.repeat(sand[:, None], n_layers, axis=1)
            clay = np.repeat(clay[:, None], n_layers, axis=1)
        elif sand.ndim != 2:
            raise ValueError(f"sand: expected shape (N,) or (N, n_layers); got {sand.shape}")
        _check_range("sand", sand, 0.0, 100.0, "%")
        _check_range("clay", clay, 0.0, 100.0, "%")
        if np.any(sand + clay > 100.0 + 1e-9):
            raise ValueError(
                f"sand + clay: expected at most 100 %; found max {np.max(sand + clay):g} %"
            )
        porosity = 0.489 - 0.00126 * sand
        psi_sat = -10.0 * 10.0 ** (1.88 - 0.013 * sand)
        b = 2.91 + 0.159 * clay
        k_sat = 60.96 * 10.0 / _SECONDS_PER_DAY * 10.0 ** (-0.884 + 0.0153 * sand)
        return cls(porosity=porosity, psi_sat=psi_sat, b=b, k_sat=k_sat)
