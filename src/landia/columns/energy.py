"""Soil temperature of CoLM columns: implicit heat conduction, then freezing and thawing.

Per-layer arrays are shaped (N columns, nlayer), top first; water in mm (kg m-2) per layer,
temperature in K. See ``docs/columns-energy.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from landia.columns.soil import SoilParameters
from landia.columns.soilwater import LATENT_HEAT_FUSION, T_FREEZE
from landia.columns.thermal import (
    C_ICE,
    C_LIQ,
    SoilThermalParameters,
    heat_capacity,
    interface_conductivity,
    thermal_conductivity,
)
from landia.columns.tridiagonal import solve_tridiagonal_layer_major
from landia.grid import colm_interface_depths, colm_layer_thickness, colm_node_depths


@dataclass(frozen=True)
class SoilTemperatureResult:
    """Result of :func:`soil_temperature_step`.

    Attributes
    ----------
    t_soil, w_liq, w_ice : ndarray, shape (N, nlayer)
        New temperature (K), liquid water and ice (mm).
    phase_change_energy : ndarray, shape (N, nlayer)
        Energy used by phase change in the step (J m-2): positive for melting (liquid gained),
        negative for freezing; ``L_f * (w_ice_before - w_ice_after)``.
    melt : ndarray, shape (N, nlayer)
        Ice melted (mm), negative where water froze.
    """

    t_soil: np.ndarray
    w_liq: np.ndarray
    w_ice: np.ndarray
    phase_change_energy: np.ndarray
    melt: np.ndarray


def column_heat_content(
    t_soil: np.ndarray,
    w_liq: np.ndarray,
    w_ice: np.ndarray,
    soil: SoilParameters | SoilThermalParameters,
    dz: np.ndarray | None = None,
) -> np.ndarray:
    """Heat content of each column (J m-2): sum of C_j (T_j - T_FREEZE) - L_f w_ice_j.

    Sensible heat relative to the freezing point (with the heat capacity of the current phases)
    plus the latent heat of the ice (negative). This is the quantity that
    :func:`soil_temperature_step` changes by exactly G dt.
    """
    thermal = SoilThermalParameters.from_soil(soil)
    if dz is None:
        dz = colm_layer_thickness(np.shape(t_soil)[1])
    c = heat_capacity(w_liq, w_ice, thermal, dz)
    return np.sum(c * (np.asarray(t_soil) - T_FREEZE) - LATENT_HEAT_FUSION * np.asarray(w_ice), axis=1)


def conduction_matrix(
    t_soil: np.ndarray,
    w_liq: np.ndarray,
    w_ice: np.ndarray,
    thermal: SoilThermalParameters,
    ground_heat_flux: np.ndarray,
    dt: float,
    implicit_weight: float,
    z: np.ndarray,
    dz: np.ndarray,
    zi: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The tridiagonal system (lower, diag, upper, rhs), each (N, nlayer), of the conduction step.

    Layer j: C_j (T'_j - T_j) / dt = w (F'_in - F'_out) + (1 - w) (F_in - F_out), with the flux
    between nodes F_{j+1/2} = k_{j+1/2} (T_j - T_{j+1}) / (z_{j+1} - z_j) (positive downward),
    F_in = G at the top and F_out = 0 at the bottom; w is the implicit weight.
    """
    t = np.asarray(t_soil, dtype=float)
    lower, diag, upper, rhs = _conduction_matrix_layer_major(
        np.array(t.T, order="C"),
        np.array(np.asarray(w_liq, dtype=float).T, order="C"),
        np.array(np.asarray(w_ice, dtype=float).T, order="C"),
        thermal.layer_major(), ground_heat_flux, dt, implicit_weight, z, dz, zi,
    )
    return tuple(np.ascontiguousarray(m.T) for m in (lower, diag, upper, rhs))


def _conduction_matrix_layer_major(t, w_liq, w_ice, thermal, ground_heat_flux, dt,
                                   implicit_weight, z, dz, zi):
    """:func:`conduction_matrix` with every array (nlayer, N) (``thermal`` too): the same
    operations, bit for bit, on contiguous rows of N columns."""
    z_col, dz_col = z[:, None], dz[:, None]
    c = heat_capacity(w_liq, w_ice, thermal, dz_col)
    k = thermal_conductivity(t, w_liq, w_ice, thermal, dz_col)
    g = interface_conductivity(k, z, zi, layer_major=True) / (z_col[1:] - z_col[:-1])  # W m-2 K-1
    n, n_col = t.shape
    k_up = np.zeros((n, n_col))  # conductance to the layer above
    k_dn = np.zeros((n, n_col))  # conductance to the layer below
    k_up[1:] = g
    k_dn[:-1] = g
    flux = g * (t[:-1] - t[1:])  # explicit downward interface fluxes
    net = np.zeros((n, n_col))
    net[0] += ground_heat_flux
    net[1:] += flux
    net[:-1] -= flux
    w = implicit_weight
    lower = -w * k_up
    upper = -w * k_dn
    diag = c / dt + w * (k_up + k_dn)
    rhs = c / dt * t + (1.0 - w) * net
    rhs[0] += w * ground_heat_flux  # with (1 - w) G in net: G enters the top in total
    return lower, diag, upper, rhs


def phase_change(
    t_soil: np.ndarray,
    w_liq: np.ndarray,
    w_ice: np.ndarray,
    thermal: SoilThermalParameters,
    dz: np.ndarray,
) -> SoilTemperatureResult:
    """CoLM's freezing and thawing (subroutine meltf, soil layers) after the conduction step.

    A layer melts where T > T_FREEZE and it holds ice, and freezes where T < T_FREEZE and it
    holds liquid. Its heat excess H = C (T - T_FREEZE) (C with the water before the change)
    converts ice to liquid (H > 0) or liquid to ice (H < 0) at L_f, limited by the water
    available; the temperature is T_FREEZE, plus what is left of H over the new heat capacity
    when the water ran out. Supercooled liquid water (CoLM's option) is not modelled.
    """
    t = np.asarray(t_soil, dtype=float)
    w_liq = np.asarray(w_liq, dtype=float)
    w_ice = np.asarray(w_ice, dtype=float)
    # Only the active layers change: the arithmetic runs on them alone (elementwise, so the
    # values are those of the whole-array form bit for bit), the others are copied.
    melting = (t > T_FREEZE) & (w_ice > 0.0)
    freezing = (t < T_FREEZE) & (w_liq > 0.0)
    at = np.flatnonzero(melting | freezing)
    new_liq, new_ice, t_new = w_liq.copy(), w_ice.copy(), t.copy()
    melt_all = np.zeros(t.shape)
    if at.size:
        melting, freezing = melting.ravel()[at], freezing.ravel()[at]
        wl, wi, ta = w_liq.ravel()[at], w_ice.ravel()[at], t.ravel()[at]
        # heat_capacity of these layers: c_sol (1 - theta_sat) dz + C_LIQ w_liq + C_ICE w_ice
        dry = (np.broadcast_to(thermal.c_solids, t.shape).ravel()[at]
               * (1.0 - np.broadcast_to(thermal.porosity, t.shape).ravel()[at])
               * np.broadcast_to(dz, t.shape).ravel()[at])
        excess = (dry + C_LIQ * wl + C_ICE * wi) * (ta - T_FREEZE)
        want = excess / LATENT_HEAT_FUSION  # mm to melt (> 0) or freeze (< 0)
        melt = np.where(melting, np.minimum(want, wi), 0.0)
        melt = np.where(freezing, np.maximum(want, -wl), melt)
        liq, ice = wl + melt, wi - melt
        # Exactly exhausted stores are set to zero (no round-off residue).
        ice[melting & (melt == wi)] = 0.0
        liq[freezing & (melt == -wl)] = 0.0
        c_new = dry + C_LIQ * liq + C_ICE * ice
        left = excess - LATENT_HEAT_FUSION * melt
        new_liq.ravel()[at], new_ice.ravel()[at] = liq, ice
        t_new.ravel()[at] = T_FREEZE + left / c_new
        melt_all.ravel()[at] = melt
    melt = melt_all
    return SoilTemperatureResult(
        t_soil=t_new,
        w_liq=new_liq,
        w_ice=new_ice,
        phase_change_energy=LATENT_HEAT_FUSION * melt,
        melt=melt,
    )


def soil_temperature_step(
    t_soil: np.ndarray,
    w_liq: np.ndarray,
    w_ice: np.ndarray,
    soil: SoilParameters | SoilThermalParameters,
    ground_heat_flux: np.ndarray | float,
    dt: float = 1800.0,
    *,
    implicit_weight: float = 1.0,
) -> SoilTemperatureResult:
    """One step of soil heat conduction with freezing and thawing for N columns at once.

    Parameters
    ----------
    t_soil : ndarray, shape (N, nlayer)
        Soil temperature (K).
    w_liq, w_ice : ndarray, shape (N, nlayer)
        Liquid water and ice per layer (mm), >= 0.
    soil : SoilParameters or SoilThermalParameters
        Hydraulic parameters (thermal ones then take the texture-free defaults of
        :meth:`SoilThermalParameters.from_porosity`) or thermal parameters.
    ground_heat_flux : array_like, shape (N,) or scalar
        Heat flux into the top of the soil G (W m-2), positive downward. The bottom is
        insulated (zero flux).
    dt : float
        Time step (s).
    implicit_weight : float
        Weight of the new time level in the fluxes: 1 backward Euler (default, monotone for
        any dt), 0.5 Crank-Nicolson as CoLM's cnfac. Any value in [0.5, 1] conserves energy.

    Returns
    -------
    SoilTemperatureResult

    Notes
    -----
    Conduction uses the conductivities and heat capacities of the state at the start of the
    step (as CoLM), solved with :func:`landia.columns.tridiagonal.solve_tridiagonal`; then
    :func:`phase_change`. The heat content of :func:`column_heat_content` changes by G dt to
    round-off, and w_liq + w_ice is unchanged per layer.
    """
    t = np.asarray(t_soil, dtype=float)
    w_liq = np.asarray(w_liq, dtype=float)
    w_ice = np.asarray(w_ice, dtype=float)
    if t.ndim != 2 or w_liq.shape != t.shape or w_ice.shape != t.shape:
        raise ValueError(
            f"t_soil, w_liq, w_ice: expected the same (N, nlayer) shape; got "
            f"{t.shape}, {w_liq.shape}, {w_ice.shape}"
        )
    if not 0.5 <= implicit_weight <= 1.0:
        raise ValueError(f"implicit_weight: expected a value in [0.5, 1]; got {implicit_weight}")
    thermal = SoilThermalParameters.from_soil(soil)
    if thermal.porosity.shape != t.shape:
        raise ValueError(f"soil: expected parameters shaped {t.shape}; got {thermal.porosity.shape}")
    n = t.shape[1]
    z, dz, zi = colm_node_depths(n), colm_layer_thickness(n), colm_interface_depths(n)
    g = np.broadcast_to(np.asarray(ground_heat_flux, dtype=float), (t.shape[0],))
    # Layer-major (nlayer, N) from here to the solution: contiguous rows of N columns.
    lower, diag, upper, rhs = _conduction_matrix_layer_major(
        np.array(t.T, order="C"), np.array(w_liq.T, order="C"), np.array(w_ice.T, order="C"),
        thermal.layer_major(), g, dt, implicit_weight, z, dz, zi
    )
    t_cond = np.ascontiguousarray(solve_tridiagonal_layer_major(lower, diag, upper, rhs).T)
    return phase_change(t_cond, w_liq, w_ice, thermal, dz)
