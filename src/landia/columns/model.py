"""One full CoLM-style step of N columns driven by model-step forcing: energy, then water.

Order within the step (CoLM's: energy first, then water; ``docs/columns-energy.md``, *Full
step*):

1. precipitation split into rain and snowfall (the forcing's ``rain``/``snow`` when it has them,
   else snowfall below T_FREEZE rising linearly to rain at T_FREEZE + 1 K);
2. surface terms (:func:`landia.columns.surface.surface_demand`): net radiation, ground heat flux
   and the Penman-Monteith demands of the snow-free surface; where there is snow (after the
   snowfall), the pack's energy balance (:func:`landia.columns.surface.snow_surface`) instead,
   with no soil evaporation and no transpiration (short vegetation under the pack);
3. :func:`landia.columns.snow.snow_step` (snow-free columns pass their G straight through);
4. :func:`landia.columns.energy.soil_temperature_step` with the G that reaches the soil;
5. :func:`landia.columns.hydrology.water_step` with rain, melt (``snowmelt_from_store=False``)
   and the demands.

This replaces CoLM's full canopy/ground energy balance with a Penman-Monteith demand (allowed
by issue 3). The pack temperature is carried beside :class:`ColumnState` in
:class:`ModelState`. Physics only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from landia.columns.energy import soil_temperature_step
from landia.columns.hydrology import water_step
from landia.columns.snow import snow_step
from landia.columns.soilwater import RHO_ICE, T_FREEZE
from landia.columns.thermal import C_ICE, SoilThermalParameters, heat_capacity
from landia.columns.state import ColumnParameters, ColumnState
from landia.columns.surface import (
    LATENT_HEAT_SUBLIMATION,
    LATENT_HEAT_VAPORISATION,
    aerodynamic_resistance,
    snow_surface,
    snow_surface_derivative,
    surface_demand,
    top_layer_potential,
)
from landia.grid import colm_layer_thickness

#: Width of the snow-to-rain ramp above T_FREEZE (K).
SNOW_RAMP = 1.0


#: Every array of a :class:`ModelState`, in the fixed order used by the exchange and the
#: checkpoint checksum: the :class:`ColumnState` fields (w_liq, w_ice, t_soil: (N, nlayer);
#: pond, snow, wa, z_wt: (N,)) then t_snow (N,).
STATE_FIELDS: tuple[str, ...] = ("w_liq", "w_ice", "t_soil", "pond", "snow", "wa", "z_wt",
                                 "t_snow")
#: The fields of shape (N, nlayer); the others are (N,).
LAYERED_FIELDS: tuple[str, ...] = ("w_liq", "w_ice", "t_soil")


@dataclass(frozen=True)
class ModelState:
    """A :class:`ColumnState` and the snowpack temperature ``t_snow`` (N,) in K.

    As named arrays (:meth:`arrays`, :meth:`from_arrays`, in :data:`STATE_FIELDS` order) it is
    what the MPI exchange sends and the checkpoint files store.
    """

    columns: ColumnState
    t_snow: np.ndarray

    @classmethod
    def default(cls, soil, **kwargs) -> ModelState:
        cols = ColumnState.default(soil, **kwargs)
        return cls(columns=cols, t_snow=np.full(cols.snow.shape, T_FREEZE))

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays of the state by name, in :data:`STATE_FIELDS` order (no copies)."""
        arrays = {name: getattr(self.columns, name) for name in STATE_FIELDS if name != "t_snow"}
        arrays["t_snow"] = np.asarray(self.t_snow)
        return arrays

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> ModelState:
        """A state from arrays named as in :data:`STATE_FIELDS` (validated).

        Raises
        ------
        ValueError
            When a field is missing or unknown, ``t_snow`` is not (N,) float, or the
            :class:`ColumnState` checks fail (shapes, finite values, physical bounds).
        """
        missing = [n for n in STATE_FIELDS if n not in arrays]
        unknown = [n for n in arrays if n not in STATE_FIELDS]
        if missing or unknown:
            raise ValueError(f"model state arrays: expected exactly {list(STATE_FIELDS)}; "
                             f"missing {missing}, unknown {unknown}")
        cols = ColumnState(**{n: arrays[n] for n in STATE_FIELDS if n != "t_snow"})
        t_snow = np.ascontiguousarray(arrays["t_snow"], dtype=np.float64)
        if t_snow.shape != (cols.n_columns,):
            raise ValueError(f"t_snow: expected shape ({cols.n_columns},); got {t_snow.shape}")
        if not np.all(np.isfinite(t_snow)):
            raise ValueError("t_snow: expected finite values; found NaN or inf")
        return cls(columns=cols, t_snow=t_snow)


@dataclass(frozen=True)
class StepFluxes:
    """Per-step fluxes, each (N,). Water in mm s-1 (means over the step), energy in W m-2.

    Attributes
    ----------
    precipitation, rain, snowfall : inputs.
    evaporation, transpiration, sublimation : the parts of ET actually taken.
    evapotranspiration : their sum (mm s-1).
    latent_heat : L_v (evaporation + transpiration) + L_s sublimation (W m-2).
    runoff : surface + saturation runoff + aquifer overflow + frost expulsion
        (:func:`expel_frost_excess`).
    drainage : out of the soil bottom into the aquifer (internal to the column).
    base_flow : out of the aquifer.
    correction : refill of overdrawn soil water (CoLM takes it from the runoff).
    total_runoff : runoff + base_flow - correction.
    melt : snowmelt (mm s-1).
    net_radiation, ground_heat_flux : Rn of the surface (snow or soil) and the heat reaching the
        soil (W m-2, positive downward).
    potential_evaporation : Penman demand of the snow-free surface (mm s-1).
    residual : water-budget residual (mm per step): change in total water (soil liquid + ice,
        pond, snow, aquifer) minus (precipitation - ET - total_runoff) dt.
    """

    precipitation: np.ndarray
    rain: np.ndarray
    snowfall: np.ndarray
    evaporation: np.ndarray
    transpiration: np.ndarray
    sublimation: np.ndarray
    evapotranspiration: np.ndarray
    latent_heat: np.ndarray
    runoff: np.ndarray
    drainage: np.ndarray
    base_flow: np.ndarray
    correction: np.ndarray
    total_runoff: np.ndarray
    melt: np.ndarray
    net_radiation: np.ndarray
    ground_heat_flux: np.ndarray
    potential_evaporation: np.ndarray
    residual: np.ndarray


def _col(x, n: int) -> np.ndarray:
    return np.array(np.broadcast_to(np.asarray(x, dtype=float), (n,)))


def split_precipitation(precip, tair, rain=None, snow=None):
    """(rain, snowfall) in mm s-1: the given split, else all snow at T <= T_FREEZE, all rain at
    T >= T_FREEZE + 1 K, linear between."""
    if rain is not None and snow is not None:
        return np.maximum(np.asarray(rain, float), 0.0), np.maximum(np.asarray(snow, float), 0.0)
    p = np.maximum(np.asarray(precip, dtype=float), 0.0)
    frac = np.clip((T_FREEZE + SNOW_RAMP - np.asarray(tair, dtype=float)) / SNOW_RAMP, 0.0, 1.0)
    snowfall = p * frac
    return p - snowfall, snowfall


def expel_frost_excess(w_liq, w_ice, porosity, dz):
    """Water pushed out of layers whose freezing made theta_liq + theta_ice exceed the porosity.

    Ice (917 kg m-3) takes 9 % more room than the water it froze from, so a (near-)saturated
    layer that freezes overfills. The excess volume leaves as liquid water first, then (for a
    layer frozen solid) as ice mass, and goes to the runoff ("frost expulsion"; CoLM lets the
    ice exceed the porosity instead). Returns (w_liq, w_ice, expelled mm per column).
    """
    room = porosity * dz * 1000.0  # mm of liquid-equivalent volume
    excess = w_liq + w_ice * (1000.0 / RHO_ICE) - room  # mm of liquid volume
    over = excess > 0
    rows = np.flatnonzero(over.any(axis=1))
    removed_per_column = np.zeros(w_liq.shape[0])
    if not rows.size:
        return w_liq, w_ice, removed_per_column
    # Only the columns with an overfull layer change (the same arithmetic, bit for bit).
    all_liq, all_ice = w_liq, w_ice
    w_liq, w_ice, excess, over = w_liq[rows], w_ice[rows], excess[rows], over[rows]
    room = np.broadcast_to(room, all_liq.shape)[rows]
    from_liq = np.where(over, np.minimum(excess, w_liq), 0.0)
    left = np.where(over, excess - from_liq, 0.0)
    from_ice = np.minimum(left * RHO_ICE / 1000.0, w_ice)
    new_liq = w_liq - from_liq
    new_ice = w_ice - from_ice
    # Exactly full: remove round-off residue so that the checks downstream pass.
    new_liq = np.where(over, np.maximum(np.minimum(new_liq, room - new_ice * (1000.0 / RHO_ICE)), 0.0), new_liq)
    removed = (w_liq - new_liq) + from_ice
    removed_per_column[rows] = removed.sum(axis=1)
    out_liq, out_ice = all_liq.copy(), all_ice.copy()
    out_liq[rows], out_ice[rows] = new_liq, new_ice
    return out_liq, out_ice, removed_per_column


def step(
    state: ModelState,
    params: ColumnParameters,
    forcing: dict,
    lai,
    dt: float = 1800.0,
    *,
    z_ref=10.0,
) -> tuple[ModelState, StepFluxes]:
    """Advance N columns by one step of ``dt`` seconds.

    Parameters
    ----------
    state : ModelState
    params : ColumnParameters
    forcing : mapping with ``tair``, ``qair``, ``psurf``, ``wind``, ``swdown``, ``lwdown``,
        ``precip`` (each (N,) or scalar, SI units as :class:`landia.forcing.record.Forcing`) and
        optionally ``rain``, ``snow`` (given split). :func:`forcing_at` builds it from a record.
    lai : array_like (N,) or scalar
        Leaf area index (m2 m-2).
    dt : float
        Step (s), CoLM's 1800.
    z_ref : float
        Reference height of the forcing (m).

    Returns
    -------
    (ModelState, StepFluxes)
    """
    cols = state.columns
    soil = params.soil
    n, nl = soil.n_columns, soil.n_layers
    f = {k: _col(forcing[k], n) for k in ("tair", "qair", "psurf", "wind", "swdown", "lwdown", "precip")}
    given = [forcing.get(k) for k in ("rain", "snow")]
    rain, snowfall = split_precipitation(
        f["precip"], f["tair"], *(None if g is None else _col(g, n) for g in given)
    )
    lai = _col(lai, n)
    dz = colm_layer_thickness(nl)

    # Energy: surface terms.
    vg = None if soil.theta_r is None else (soil.theta_r[:, 0], soil.vg_alpha[:, 0], soil.vg_n[:, 0])
    psi1 = top_layer_potential(cols.w_liq[:, 0], soil.porosity[:, 0], soil.psi_sat[:, 0], soil.b[:, 0], dz[0],
                               vg=vg)
    t_g = cols.t_soil[:, 0]
    demand = surface_demand(
        f["tair"], f["qair"], f["psurf"], f["wind"], f["swdown"], f["lwdown"], t_g, psi1, lai,
        params.land_cover, has_roots=params.has_roots, z_ref=z_ref,
        ground_heat_capacity=heat_capacity(
            cols.w_liq[:, 0], cols.w_ice[:, 0], SoilThermalParameters.from_soil(soil), dz,
            layer=0,
        ),
        dt=dt,
    )
    snowy = cols.snow + snowfall * dt > 0
    r_a_snow = aerodynamic_resistance(f["wind"], np.zeros(n), z_ref)  # snow: z0m = Z0_BARE
    # Surface temperature of the pack: its own, or the fresh snow's for a new pack.
    t_s = np.where(cols.snow > 0, state.t_snow, np.minimum(f["tair"], T_FREEZE))
    rn_snow, q_snow, sub_demand = snow_surface(
        f["tair"], f["qair"], f["psurf"], f["swdown"], f["lwdown"], t_s, r_a_snow
    )
    # A thin pack has little heat capacity: explicit fluxes would overshoot its temperature
    # (and the next step's fluxes would swing back). The pack's balance is linearised in T_s
    # and taken implicitly: C = c_ice SWE, k = -dQ/dT_s, T* = T_s + Q dt / (C + k dt);
    # Q_eff = C (T* - T_s) / dt while T* <= T_FREEZE, else the fluxes at T_FREEZE,
    # Q - k (T_FREEZE - T_s) (>= the cold content per dt), which warm the pack and melt it.
    cap = C_ICE * (cols.snow + snowfall * dt)
    k = snow_surface_derivative(f["tair"], f["qair"], f["psurf"], t_s, r_a_snow)
    t_star = t_s + q_snow * dt / (cap + k * dt)
    q_snow = np.where(t_star <= T_FREEZE, cap * (t_star - t_s) / dt, q_snow - k * (T_FREEZE - t_s))
    energy_in = np.where(snowy, q_snow, demand.ground_heat_flux)
    snow = snow_step(
        cols.snow, t_s, snowfall, energy_in, dt,
        sublimation=np.where(snowy, sub_demand, 0.0),
        t_snowfall=np.minimum(f["tair"], T_FREEZE),
    )
    g_soil = snow.ground_heat_flux
    temp = soil_temperature_step(cols.t_soil, cols.w_liq, cols.w_ice, soil, g_soil, dt)
    w_liq, w_ice, expelled = expel_frost_excess(temp.w_liq, temp.w_ice, soil.porosity, dz)

    # Water.
    mid = ColumnState(
        w_liq=w_liq, w_ice=w_ice, t_soil=temp.t_soil, pond=cols.pond,
        snow=snow.swe, wa=cols.wa, z_wt=cols.z_wt,
    )
    e_dem = np.where(snowy, 0.0, demand.soil_evaporation)
    t_dem = np.where(snowy, 0.0, demand.transpiration)
    new_cols, wf = water_step(
        mid, params, rain, snow.melt, e_dem, t_dem, dt, snowmelt_from_store=False
    )

    et = wf.evaporation + wf.transpiration + snow.sublimation
    runoff = wf.runoff + expelled / dt
    total_runoff = runoff + wf.base_flow - wf.correction
    precip = rain + snowfall
    residual = (new_cols.total_water() - cols.total_water()) - dt * (precip - et - total_runoff)
    fluxes = StepFluxes(
        precipitation=precip,
        rain=rain,
        snowfall=snowfall,
        evaporation=wf.evaporation,
        transpiration=wf.transpiration,
        sublimation=snow.sublimation,
        evapotranspiration=et,
        latent_heat=LATENT_HEAT_VAPORISATION * (wf.evaporation + wf.transpiration)
        + LATENT_HEAT_SUBLIMATION * snow.sublimation,
        runoff=runoff,
        drainage=wf.drainage,
        base_flow=wf.base_flow,
        correction=wf.correction,
        total_runoff=total_runoff,
        melt=snow.melt,
        net_radiation=np.where(snowy, rn_snow, demand.net_radiation),
        ground_heat_flux=g_soil,
        potential_evaporation=demand.potential_evaporation,
        residual=residual,
    )
    return ModelState(columns=new_cols, t_snow=snow.t_snow), fluxes


def forcing_at(forcing, k: int) -> dict:
    """The model-step forcing at step ``k`` of a :class:`landia.forcing.record.Forcing` record
    (already interpolated to the model step), as the mapping :func:`step` takes."""
    out = {name: getattr(forcing, name)[k] for name in
           ("tair", "qair", "psurf", "wind", "swdown", "lwdown", "precip")}
    if forcing.rain is not None and forcing.snow is not None:
        out["rain"], out["snow"] = forcing.rain[k], forcing.snow[k]
    return out
