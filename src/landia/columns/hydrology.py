"""The water half of one CoLM2014 step for N columns, with the whole water budget closed.

Composes the existing pieces in CoLM's order: soil evaporation limited by the water at the
surface, SIMTOP surface runoff and infiltration, transpiration limited by the root-zone water
stress, the Richards step with free drainage (:func:`landia.columns.soilwater.soil_water_step`),
and the aquifer (:func:`landia.columns.aquifer.aquifer_step`). Physics only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from landia.columns.aquifer import aquifer_step
from landia.columns.runoff import (
    max_infiltration, pond_infiltration_excess, saturated_fraction, surface_runoff,
)
from landia.columns.soilwater import POND_MAX, RHO_ICE, soil_water_step
from landia.columns.state import ColumnParameters, ColumnState
from landia.columns.transpiration import TRANSPIRATION_MAX, root_water_stress
from landia.grid import colm_layer_thickness

#: CoLM's time step (s).
DT = 1800.0


@dataclass(frozen=True)
class WaterFluxes:
    """Fluxes of one water step, each shaped (N,), in mm s-1 (mean over the step).

    Attributes
    ----------
    rain, snowmelt : the inputs, as given.
    evaporation : soil evaporation, the demand limited by the water at the surface.
    transpiration : demand (capped at 2e-4 mm s-1) x root-zone water-stress factor.
    stress : the water-stress factor beta in [0, 1] (dimensionless; 0 without roots).
    infiltration : net water entering the soil top through SIMTOP (negative where evaporation
        exceeds input); at most the infiltration capacity.
    ponded : infiltration excess held in the surface pond instead of running off (>= 0), offered
        to the soil together with ``infiltration``.
    surface_runoff : SIMTOP runoff (saturated fraction + infiltration excess) less ``ponded``.
    saturation_runoff : water above saturation and above the 10 mm pond (soil-water fixes).
    aquifer_overflow : water above the 5000 mm aquifer cap.
    runoff : the sum of the three runoffs.
    drainage : free drainage out of the soil column bottom = aquifer recharge (internal).
    base_flow : out of the aquifer.
    correction : water added to refill an overdrawn soil column (>= 0; CoLM takes it from
        the runoff).
    residual : water-budget residual (mm per step, not per second):
        change of :meth:`ColumnState.total_water` minus
        (rain - evaporation - transpiration - runoff - base_flow + correction) dt
        (+ snowmelt dt when ``water_step(..., snowmelt_from_store=False)``).
    """

    rain: np.ndarray
    snowmelt: np.ndarray
    evaporation: np.ndarray
    transpiration: np.ndarray
    stress: np.ndarray
    infiltration: np.ndarray
    ponded: np.ndarray
    surface_runoff: np.ndarray
    saturation_runoff: np.ndarray
    aquifer_overflow: np.ndarray
    runoff: np.ndarray
    drainage: np.ndarray
    base_flow: np.ndarray
    correction: np.ndarray
    residual: np.ndarray

    @property
    def evapotranspiration(self) -> np.ndarray:
        return self.evaporation + self.transpiration


def _rate(name: str, value, n: int) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        raise ValueError(f"{name}: expected a scalar or shape ({n},); got {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name}: expected finite rates >= 0 mm s-1")
    return arr


def water_step(
    state: ColumnState,
    params: ColumnParameters,
    rain,
    snowmelt,
    soil_evaporation_demand,
    transpiration_demand,
    dt: float = DT,
    *,
    snowmelt_from_store: bool = True,
    pond_excess: bool = True,
) -> tuple[ColumnState, WaterFluxes]:
    """Advance the water of N columns by one step.

    Parameters
    ----------
    state : ColumnState
        State at the start of the step (temperatures and ice as the energy half left them).
    params : ColumnParameters
    rain, snowmelt, soil_evaporation_demand, transpiration_demand : array_like, (N,) or scalar
        Rates in mm s-1, >= 0. ``snowmelt`` is taken from ``state.snow`` here (so
        ``snowmelt * dt`` may not exceed the snow store); snowfall and the snowpack itself
        belong to the energy half.
    dt : float
        Time step (s), default 1800.
    snowmelt_from_store : bool
        True (default): the melt is taken from ``state.snow`` here, and the budget counts the
        snow store. False: the caller has already removed the melt from the snow (as
        :func:`landia.columns.snow.snow_step` does); ``state.snow`` is left as it is and the
        melt counts as an input of the budget, like the rain.
    pond_excess : bool
        True (default): SIMTOP's infiltration excess first fills the surface pond up to
        ``POND_MAX`` (10 mm) and only the rest runs off (:func:`pond_infiltration_excess`).
        False: CoLM2014's scheme, the whole excess runs off.

    Returns
    -------
    new_state : ColumnState
        ``t_soil`` and ``w_ice`` unchanged; ``w_liq``, ``pond``, ``snow``, ``wa``, ``z_wt`` new.
    fluxes : WaterFluxes

    Notes
    -----
    1. Soil evaporation :math:`E = \\min(E_{dem}, P + M + (w_{pond} + w_{liq,1})/\\Delta t)`:
       at most the water reaching the surface plus the pond and the liquid water of layer 1.
    2. Net surface input :math:`g = P + M - E`; SIMTOP (science.md 5) splits it into
       surface runoff and infiltration with the saturated fraction of the water-table depth
       at the start of the step and the ice-impeded k_sat of layers 1-3. With
       ``pond_excess`` the infiltration excess is kept on the surface up to the 10 mm pond;
       the pond is offered to the soil with the infiltration.
    3. Transpiration :math:`T = \\beta \\min(T_{dem}, 2\\times10^{-4})` with beta and the
       uptake fractions of :func:`root_water_stress` (no uptake from frozen layers); zero
       for columns without roots.
    4. :func:`soil_water_step` with free drainage; its post-solve fixes keep
       0 <= theta_liq <= porosity - theta_ice and report saturation runoff and corrections.
    5. The drainage recharges the aquifer; :func:`aquifer_step` gives the base flow and the
       new store and water table.

    The budget closes per column to round-off: see ``WaterFluxes.residual``.
    """
    if not dt > 0:
        raise ValueError(f"dt: expected a positive time step (s); got {dt}")
    soil = params.soil
    n, nl = soil.n_columns, soil.n_layers
    if state.w_liq.shape != (n, nl):
        raise ValueError(f"state: expected {(n, nl)} layers like params; got {state.w_liq.shape}")
    rain = _rate("rain", rain, n)
    snowmelt = _rate("snowmelt", snowmelt, n)
    e_demand = _rate("soil_evaporation_demand", soil_evaporation_demand, n)
    t_demand = _rate("transpiration_demand", transpiration_demand, n)
    if snowmelt_from_store and np.any(snowmelt * dt > state.snow * (1 + 1e-12) + 1e-12):
        raise ValueError("snowmelt: expected snowmelt * dt <= the snow store (mm)")
    dz = colm_layer_thickness(nl)

    # 1-2. Evaporation from the surface water, then SIMTOP on the net input.
    evaporation = np.minimum(e_demand, rain + snowmelt + (state.pond + state.w_liq[:, 0]) / dt)
    g = rain + snowmelt - evaporation
    ice_fraction = state.w_ice / (RHO_ICE * dz) / soil.porosity
    f_sat = saturated_fraction(state.z_wt)
    runoff_surface, infiltration = surface_runoff(
        g, f_sat, max_infiltration(soil.k_sat, ice_fraction)
    )
    runoff_surface, ponded = pond_infiltration_excess(
        runoff_surface, g, f_sat, state.pond, dt, POND_MAX if pond_excess else 0.0
    )

    # 3. Transpiration limited by the root-zone water stress.
    stress, uptake = root_water_stress(state.w_liq, soil, params.root_fraction, t_soil=state.t_soil)
    transpiration = stress * np.minimum(t_demand, TRANSPIRATION_MAX)
    rootless = ~params.has_roots
    if np.any(rootless):
        # No transpiration; any valid fraction keeps soil_water_step's check happy.
        uptake = uptake.copy()
        uptake[rootless] = 0.0
        uptake[rootless, 0] = 1.0
        transpiration[rootless] = 0.0

    # 4. Richards step with free drainage.
    soil_result = soil_water_step(
        state.w_liq, soil, infiltration + ponded, transpiration, uptake, dt,
        w_ice=state.w_ice, pond=state.pond, t_soil=state.t_soil, dz=dz,
        check_values=False,  # a validated ColumnState and root_water_stress's fractions
    )

    # 5. Aquifer.
    aquifer = aquifer_step(state.wa, soil_result.drainage, dt)

    new_state = ColumnState(
        w_liq=soil_result.w_liq,
        w_ice=state.w_ice,
        t_soil=state.t_soil,
        pond=soil_result.pond,
        snow=np.maximum(state.snow - snowmelt * dt, 0.0) if snowmelt_from_store else state.snow,
        wa=aquifer.wa,
        z_wt=aquifer.z_wt,
    )
    runoff = runoff_surface + soil_result.runoff + aquifer.overflow
    external_melt = 0.0 if snowmelt_from_store else snowmelt
    residual = (new_state.total_water() - state.total_water()) - dt * (
        rain + external_melt - evaporation - transpiration - runoff - aquifer.base_flow + soil_result.correction
    )
    fluxes = WaterFluxes(
        rain=rain,
        snowmelt=snowmelt,
        evaporation=evaporation,
        transpiration=transpiration,
        stress=np.where(rootless, 0.0, stress),
        infiltration=infiltration,
        ponded=ponded,
        surface_runoff=runoff_surface,
        saturation_runoff=soil_result.runoff,
        aquifer_overflow=aquifer.overflow,
        runoff=runoff,
        drainage=soil_result.drainage,
        base_flow=aquifer.base_flow,
        correction=soil_result.correction,
        residual=residual,
    )
    return new_state, fluxes
