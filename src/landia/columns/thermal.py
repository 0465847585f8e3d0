"""Soil thermal properties of CoLM columns: heat capacity and Farouki/Johansen conductivity.

Follows CoLM2014 (subroutines ``soil_thermal_parameters`` in the soil-parameter setup and
``hCapacity`` / ``hConductivity`` of the soil-temperature step), for the 10 soil layers only
(no snow layers). Per-layer arrays are shaped (N columns, nlayer), top first; water in mm
(kg m-2) per layer as in :mod:`landia.columns.soilwater`.

Formulas (sand, clay in %, porosity theta_sat in m3 m-3, dz in m):

- solids heat capacity (J m-3 K-1): c_sol = (2.128 sand + 2.385 clay) / (sand + clay) * 1e6
- mineral conductivity (W m-1 K-1): k_min = (8.80 sand + 2.92 clay) / (sand + clay)
- bulk density (kg m-3): rho_d = 2700 (1 - theta_sat)
- dry conductivity: k_dry = (0.135 rho_d + 64.7) / (2700 - 0.947 rho_d)
- heat capacity per area (J m-2 K-1): C = c_sol (1 - theta_sat) dz + c_liq w_liq + c_ice w_ice,
  c_liq = 4188 J kg-1 K-1 (4.188e6 J m-3 K-1), c_ice = 2117.27 J kg-1 K-1 (1.94e6 J m-3 K-1)
- saturation S_r = min(1, (w_liq / rho_w + w_ice / rho_ice) / (dz theta_sat))
- Kersten number: Ke = max(0, log10(S_r) + 1) unfrozen (T >= T_FREEZE), Ke = S_r frozen
- saturated conductivity: k_sat = k_min^(1 - theta_sat) k_w^(f_l theta_sat) k_i^((1 - f_l) theta_sat),
  f_l = w_liq / (w_liq + w_ice), k_w = 0.57, k_i = 2.29 W m-1 K-1
- conductivity: k = Ke k_sat + (1 - Ke) k_dry; k = k_dry when S_r <= 1e-7.

Without a texture, c_sol defaults to 2.0e6 J m-3 K-1 and k_min to that of a loam with 40 % sand
and 20 % clay, (8.80 * 40 + 2.92 * 20) / 60 = 6.84 W m-1 K-1 (a documented simplification).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from landia.columns.soil import SoilParameters
from landia.columns.soilwater import RHO_ICE, RHO_WATER, T_FREEZE

#: Specific heat of liquid water (J kg-1 K-1), CoLM's cpliq.
C_LIQ = 4188.0
#: Specific heat of ice (J kg-1 K-1), CoLM's cpice.
C_ICE = 2117.27
#: Thermal conductivity of liquid water (W m-1 K-1), CoLM's tkwat.
K_WATER = 0.57
#: Thermal conductivity of ice (W m-1 K-1), CoLM's tkice.
K_ICE = 2.29
#: Density of the soil solids (kg m-3) used for the bulk density.
RHO_SOLIDS = 2700.0
#: Default volumetric heat capacity of the solids without a texture (J m-3 K-1).
C_SOLIDS_DEFAULT = 2.0e6
#: Default mineral conductivity without a texture (W m-1 K-1): loam, 40 % sand, 20 % clay.
K_MINERAL_DEFAULT = (8.80 * 40.0 + 2.92 * 20.0) / 60.0
#: Saturation at or below which a layer has its dry conductivity.
S_DRY = 1.0e-7


@dataclass(frozen=True)
class SoilThermalParameters:
    """Thermal parameters of N columns per layer.

    Parameters
    ----------
    porosity : ndarray, shape (N, nlayer)
        theta_sat (m3 m-3).
    c_solids : ndarray, shape (N, nlayer)
        Volumetric heat capacity of the solids (J m-3 K-1).
    k_mineral : ndarray, shape (N, nlayer)
        Conductivity of the mineral solids (W m-1 K-1).
    k_dry : ndarray, shape (N, nlayer)
        Dry-soil conductivity (W m-1 K-1).
    """

    porosity: np.ndarray
    c_solids: np.ndarray
    k_mineral: np.ndarray
    k_dry: np.ndarray

    def __post_init__(self) -> None:
        shape = np.shape(self.porosity)
        for name in ("porosity", "c_solids", "k_mineral", "k_dry"):
            a = np.ascontiguousarray(np.broadcast_to(getattr(self, name), shape), dtype=float)
            if not np.all(np.isfinite(a)) or np.any(a <= 0):
                raise ValueError(f"{name}: expected finite positive values")
            object.__setattr__(self, name, a)
        if len(shape) != 2:
            raise ValueError(f"porosity: expected shape (N, nlayer); got {shape}")

    def saturated_factors(self) -> tuple[np.ndarray, np.ndarray]:
        """(k_min^(1 - theta_sat), k_w^theta_sat): per-layer constants of the saturated
        conductivity (the second is the water factor of an ice-free layer, f_l = 1), made on
        first use and kept (the powers are the costly part of :func:`thermal_conductivity`).
        Shared, not copied: do not modify them."""
        cached = self.__dict__.get("_saturated_factors")
        if cached is None:
            cached = (self.k_mineral ** (1.0 - self.porosity), K_WATER ** self.porosity)
            object.__setattr__(self, "_saturated_factors", cached)
        return cached

    def layer_major(self) -> SoilThermalParameters:
        """The same parameters transposed to (nlayer, N), C-contiguous (made once, kept).

        For the layer-major conduction step (a layer is a contiguous row of N columns); pass
        dz as ``dz[:, None]`` with them.
        """
        cached = self.__dict__.get("_layer_major")
        if cached is None:
            cached = SoilThermalParameters(
                *(np.array(getattr(self, n).T, order="C")
                  for n in ("porosity", "c_solids", "k_mineral", "k_dry")))
            object.__setattr__(self, "_layer_major", cached)
        return cached

    @classmethod
    def from_porosity(
        cls,
        porosity: np.ndarray,
        sand: np.ndarray | None = None,
        clay: np.ndarray | None = None,
    ) -> SoilThermalParameters:
        """CoLM's thermal parameters from porosity and, optionally, sand and clay (%).

        ``sand`` and ``clay`` may be (N,) (same for every layer) or (N, nlayer). Without them
        the solids get :data:`C_SOLIDS_DEFAULT` and :data:`K_MINERAL_DEFAULT`.
        """
        porosity = np.asarray(porosity, dtype=float)
        if (sand is None) != (clay is None):
            raise ValueError("sand, clay: give both or neither")
        if sand is None:
            c_sol = np.full_like(porosity, C_SOLIDS_DEFAULT)
            k_min = np.full_like(porosity, K_MINERAL_DEFAULT)
        else:
            sand = np.asarray(sand, dtype=float)
            clay = np.asarray(clay, dtype=float)
            if sand.ndim == 1:
                sand, clay = sand[:, None], clay[:, None]
            total = sand + clay
            if np.any(total <= 0):
                raise ValueError("sand + clay: expected > 0 %")
            c_sol = np.broadcast_to((2.128 * sand + 2.385 * clay) / total * 1.0e6, porosity.shape)
            k_min = np.broadcast_to((8.80 * sand + 2.92 * clay) / total, porosity.shape)
        rho_d = RHO_SOLIDS * (1.0 - porosity)
        k_dry = (0.135 * rho_d + 64.7) / (RHO_SOLIDS - 0.947 * rho_d)
        return cls(porosity=porosity, c_solids=c_sol, k_mineral=k_min, k_dry=k_dry)

    @classmethod
    def from_soil(cls, soil: SoilParameters | SoilThermalParameters) -> SoilThermalParameters:
        """Pass thermal parameters through; derive defaults (no texture) from hydraulic ones."""
        if isinstance(soil, cls):
            return soil
        # Made once per SoilParameters (it is immutable) and kept on it: the model step asks
        # for them twice per step.
        cached = soil.__dict__.get("_thermal_defaults")
        if cached is None:
            cached = cls.from_porosity(soil.porosity)
            object.__setattr__(soil, "_thermal_defaults", cached)
        return cached


def heat_capacity(
    w_liq: np.ndarray, w_ice: np.ndarray, thermal: SoilThermalParameters, dz: np.ndarray,
    *, layer: int | None = None,
) -> np.ndarray:
    """Heat capacity of each layer per unit area (J m-2 K-1).

    C = c_sol (1 - theta_sat) dz + C_LIQ w_liq + C_ICE w_ice, water in mm (kg m-2), dz in m.
    With ``layer``, that layer only: ``w_liq`` and ``w_ice`` are its (N,) water and the
    result is (N,), the same values as that column of the whole (N, nlayer) result.
    """
    c_solids, porosity = thermal.c_solids, thermal.porosity
    if layer is not None:
        c_solids, porosity, dz = c_solids[:, layer], porosity[:, layer], np.asarray(dz)[layer]
    return (
        c_solids * (1.0 - porosity) * dz
        + C_LIQ * np.asarray(w_liq, dtype=float)
        + C_ICE * np.asarray(w_ice, dtype=float)
    )


def thermal_conductivity(
    t_soil: np.ndarray,
    w_liq: np.ndarray,
    w_ice: np.ndarray,
    thermal: SoilThermalParameters,
    dz: np.ndarray,
) -> np.ndarray:
    """Thermal conductivity of each layer (W m-1 K-1), Farouki (1981) / Johansen as in CoLM2014."""
    por = thermal.porosity
    w_liq = np.asarray(w_liq, dtype=float)
    w_ice = np.asarray(w_ice, dtype=float)
    shape = np.broadcast_shapes(por.shape, w_liq.shape, w_ice.shape)
    w_liq, w_ice = np.broadcast_to(w_liq, shape), np.broadcast_to(w_ice, shape)
    sat = np.minimum(1.0, (w_liq / RHO_WATER + w_ice / RHO_ICE) / (dz * por))
    wet = sat > S_DRY
    sat_safe = np.where(wet, sat, 1.0)
    kersten = np.where(
        np.asarray(t_soil) >= T_FREEZE, np.maximum(0.0, np.log10(sat_safe) + 1.0), sat_safe
    )
    # k_sat = k_min^(1-por) k_w^(f_l por) k_i^((1-f_l) por): the first factor and, for the
    # ice-free layers (f_l = 1, k_i^0 = 1), the second are per-layer constants; the powers
    # are taken only on the layers that hold ice (the same values, bit for bit).
    k_solids, k_water = thermal.saturated_factors()
    k_sat = k_solids * k_water
    if k_sat.shape != shape:
        k_sat = np.array(np.broadcast_to(k_sat, shape), order="C")
    icy = np.flatnonzero(w_ice > 0)
    if icy.size:
        wl, wi = w_liq.ravel()[icy], w_ice.ravel()[icy]
        p = np.broadcast_to(por, shape).ravel()[icy]
        f_liq = wl / (wl + wi)
        k_sat.ravel()[icy] = (
            np.broadcast_to(k_solids, shape).ravel()[icy]
            * K_WATER ** (f_liq * p)
            * K_ICE ** ((1.0 - f_liq) * p)
        )
    k = kersten * k_sat + (1.0 - kersten) * thermal.k_dry
    return np.where(wet, k, thermal.k_dry)


def interface_conductivity(
    k: np.ndarray, z: np.ndarray, zi: np.ndarray, *, layer_major: bool = False
) -> np.ndarray:
    """Conductivity at the interfaces between layers j and j+1, shape (N, nlayer - 1).

    As CoLM: harmonic weighting by distance from each node to the interface,
    k_{j+1/2} = k_j k_{j+1} (z_{j+1} - z_j) / (k_j (z_{j+1} - zi_j) + k_{j+1} (zi_j - z_j)).
    With ``layer_major`` k is (nlayer, N) and the result (nlayer - 1, N).
    """
    if layer_major:
        kj, kn, z, zi = k[:-1], k[1:], z[:, None], zi[:, None]
    else:
        kj, kn = k[:, :-1], k[:, 1:]
    return kj * kn * (z[1:] - z[:-1]) / (kj * (z[1:] - zi[:-1]) + kn * (zi[:-1] - z[:-1]))
