"""Surface energy terms and evaporative demand of N columns (Penman-Monteith).

**Simplification of CoLM.** CoLM2014 solves a full canopy and ground energy balance (two-stream
radiation, leaf and ground temperatures iterated with Monin-Obukhov stability, photosynthesis-
coupled stomata). This module replaces it, as issue 3 allows, with a Penman-Monteith
evaporative demand computed from the forcing (air temperature, humidity, pressure, wind at the
reference height), the net radiation and a ground heat flux taken as a fraction of it. Only the
CoLM pieces named in ``science.md`` section 5 are kept: the relative-humidity limit of soil
evaporation at the top layer and the root-zone water stress (applied later by
:func:`landia.columns.hydrology.water_step`). Physics only (numpy and landia constants).

Conventions: arrays shaped (N,); temperatures K, pressure Pa, humidity kg kg-1, radiation and
heat fluxes W m-2 (G positive into the ground), water fluxes mm s-1 (= kg m-2 s-1).

Pieces (see ``docs/columns-energy.md``, section *Full step*):

* net radiation ``Rn = (1 - albedo) SW + eps (LW - sigma T_g^4)``, with the land-cover albedo
  of :data:`ALBEDO` (snow :data:`ALBEDO_SNOW`) and eps = :data:`EMISSIVITY` (0.96, CoLM's soil
  emissivity; 0.97 for snow, :data:`EMISSIVITY_SNOW`);
* ground heat flux ``G = f_G Rn + rho c_p (T_a - T_g) / r_a``, ``f_G = 0.1 + 0.2 exp(-0.5 LAI)``
  (0.3 bare, ~0.1 under a dense canopy, as in FAO-56 and Choudhury et al. 1987); the second
  term couples the ground to the air (see :func:`surface_demand`, ``ground_coupling``);
* aerodynamic resistance ``r_a = ln((z - d)/z0m) ln((z - d)/z0h) / (k^2 u)``, neutral, with
  ``d = 0.67 h``, ``z0m = 0.123 h``, ``z0h = 0.1 z0m`` (FAO-56), h per land cover
  (:data:`CANOPY_HEIGHT`; bare soil z0m = 0.01 m);
* potential evaporation (Penman, no surface resistance)
  ``E_p = (Delta A + rho c_p D / r_a) / (Delta + gamma) / lambda`` with ``A = Rn - G`` and D the
  vapour-pressure deficit;
* soil evaporation demand ``(Delta f A + f rho c_p D / r_a,g) / (Delta + gamma) / lambda *
  beta_soil`` with ``f = exp(-0.5 LAI)`` (Beer's law share of the energy reaching the soil)
  and ``r_a,g`` the resistance of a bare surface (z0 = 0.01 m): the ground under a canopy is
  not ventilated like the canopy itself (with the canopy's r_a, a forest floor evaporated
  ~2 mm/day under LAI 4); beta_soil = clip((q_g - q_a)/(q_sat(T_g) - q_a), 0, 1), q_g = exp(psi_1 /
  (4.71047e4 T_g)) q_sat(T_g) (CoLM's relative-humidity method, psi_1 of the top layer in mm);
* transpiration demand ``(1 - exp(-0.5 LAI)) (Delta A + rho c_p D / r_a) / (Delta + gamma (1 +
  r_c / r_a)) / lambda`` with a Jarvis-type canopy resistance (Noilhan and Planton 1989):
  ``r_c = r_s,min / LAI * (1 + f) / (f + r_s,min / r_s,max)``, ``f = 0.55 (SW / R_gl) (2 / LAI)``,
  :data:`RS_MIN` per land cover, r_s,max = 5000 s m-1, R_gl = 100 W m-2; zero without roots or
  leaves. Root-zone water stress is applied by ``water_step``.

Negative demands (dew, frost) are set to zero: condensation is not modelled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from landia.columns.soil import clapp_hornberger_potential
from landia.columns.soilwater import T_FREEZE
from landia.columns.van_genuchten import retention

#: Stefan-Boltzmann constant (W m-2 K-4).
STEFAN_BOLTZMANN = 5.670374419e-8
#: Emissivity of the soil surface (CoLM2014's ground emissivity for soil).
EMISSIVITY = 0.96
#: Emissivity of snow.
EMISSIVITY_SNOW = 0.97
#: Latent heat of vaporisation (J kg-1, CoLM's hvap).
LATENT_HEAT_VAPORISATION = 2.501e6
#: Latent heat of sublimation (J kg-1, CoLM's hsub).
LATENT_HEAT_SUBLIMATION = 2.8338e6
#: Specific heat of dry air at constant pressure (J kg-1 K-1).
CP_AIR = 1004.64
#: Gas constant of dry air (J kg-1 K-1).
R_DRY = 287.04
#: von Karman constant.
VON_KARMAN = 0.4
#: CoLM's constant in the ground relative humidity exp(psi / (4.71047e4 T)) (psi in mm):
#: R_v / g in mm K-1 (461.5 / 9.80616 x 1e3).
RH_CONSTANT = 4.71047e4

#: Broadband snow-free surface albedo per land cover (typical values of CLM/CoLM's
#: vegetation and soil albedos averaged over visible and near infrared).
ALBEDO = {
    "grassland": 0.20,
    "cropland": 0.20,
    "shrubland": 0.18,
    "deciduous_forest": 0.15,
    "evergreen_forest": 0.12,
    "bare_soil": 0.25,
}
#: Albedo of a snow-covered column (aged snow; fresh snow is 0.8-0.9).
ALBEDO_SNOW = 0.70
#: Canopy height (m) for the roughness length and displacement height.
CANOPY_HEIGHT = {
    "grassland": 0.5,
    "cropland": 1.0,
    "shrubland": 1.5,
    "deciduous_forest": 15.0,
    "evergreen_forest": 17.0,
    "bare_soil": 0.0,
}
#: Roughness length of bare soil and snow (m).
Z0_BARE = 0.01
#: Minimum stomatal resistance (s m-1) per land cover (Noah LSM / Noilhan and Planton values).
RS_MIN = {
    "grassland": 40.0,
    "cropland": 40.0,
    "shrubland": 300.0,
    "deciduous_forest": 100.0,
    "evergreen_forest": 125.0,
    "bare_soil": 5000.0,
}
#: Maximum (cuticular) stomatal resistance (s m-1).
RS_MAX = 5000.0
#: Radiation limit of the Jarvis light factor (W m-2).
R_GL = 100.0
#: Albedo, height and r_s,min for a land cover not in the tables.
DEFAULT_COVER = "grassland"


_LOOKUP_CACHE: dict = {}


def _lookup(table: dict, land_cover) -> np.ndarray:
    """Per-column values of a land-cover table (cached per table and cover tuple: the step
    calls it every time with the same covers). Returns a read-only array."""
    cover = tuple(land_cover)
    key = (id(table), cover)
    hit = _LOOKUP_CACHE.get(key)
    if hit is None:
        if len(_LOOKUP_CACHE) > 64:
            _LOOKUP_CACHE.clear()
        hit = np.array([table.get(c, table[DEFAULT_COVER]) for c in cover], dtype=float)
        hit.setflags(write=False)
        _LOOKUP_CACHE[key] = hit
    return hit


def land_cover_albedo(land_cover) -> np.ndarray:
    """Snow-free albedo (N,) of each land-cover name (grassland's for unknown names)."""
    return _lookup(ALBEDO, land_cover)


def saturation_vapour_pressure(t) -> np.ndarray:
    """Saturation vapour pressure over water (Pa), Bolton 1980: 611.2 exp(17.67 T_c/(T_c + 243.5))."""
    tc = np.asarray(t, dtype=float) - 273.15
    return 611.2 * np.exp(17.67 * tc / (tc + 243.5))


def saturation_slope(t) -> np.ndarray:
    """d e_sat / dT (Pa K-1) of :func:`saturation_vapour_pressure`."""
    tc = np.asarray(t, dtype=float) - 273.15
    return saturation_vapour_pressure(t) * 17.67 * 243.5 / (tc + 243.5) ** 2


def specific_humidity(e, p) -> np.ndarray:
    """Specific humidity (kg kg-1) of vapour pressure e at pressure p (Pa)."""
    e = np.asarray(e, dtype=float)
    return 0.622 * e / (np.asarray(p, dtype=float) - 0.378 * e)


def vapour_pressure(q, p) -> np.ndarray:
    """Vapour pressure (Pa) of specific humidity q at pressure p."""
    q = np.asarray(q, dtype=float)
    return q * np.asarray(p, dtype=float) / (0.622 + 0.378 * q)


def net_radiation(swdown, lwdown, t_ground, albedo, emissivity=EMISSIVITY) -> np.ndarray:
    """Rn = (1 - albedo) SW + eps (LW - sigma T_g^4) (W m-2)."""
    t = np.asarray(t_ground, dtype=float)
    return (1.0 - np.asarray(albedo)) * np.asarray(swdown) + np.asarray(emissivity) * (
        np.asarray(lwdown) - STEFAN_BOLTZMANN * t**4
    )


def ground_heat_fraction(lai) -> np.ndarray:
    """f_G = 0.1 + 0.2 exp(-0.5 LAI): G / Rn, 0.3 for bare soil, towards 0.1 under a canopy."""
    return 0.1 + 0.2 * np.exp(-0.5 * np.asarray(lai, dtype=float))


def aerodynamic_resistance(wind, canopy_height, z_ref=10.0) -> np.ndarray:
    """Neutral aerodynamic resistance (s m-1) for heat and vapour.

    r_a = ln((z - d)/z0m) ln((z - d)/z0h) / (k^2 u), d = 0.67 h, z0m = max(0.123 h, 0.01 m),
    z0h = 0.1 z0m; the reference height is raised to at least h + 2 m, the wind to 0.5 m s-1.
    """
    h = np.asarray(canopy_height, dtype=float)
    d = 0.67 * h
    z0m = np.maximum(0.123 * h, Z0_BARE)
    z0h = 0.1 * z0m
    z = np.maximum(np.asarray(z_ref, dtype=float), h + 2.0)
    u = np.maximum(np.asarray(wind, dtype=float), 0.5)
    return np.log((z - d) / z0m) * np.log((z - d) / z0h) / (VON_KARMAN**2 * u)


def soil_beta(psi_top, t_ground, qair, psurf) -> np.ndarray:
    """CoLM's relative-humidity limit of soil evaporation, as a factor in [0, 1].

    q_g = exp(psi / (4.71047e4 T_g)) q_sat(T_g); beta = clip((q_g - q_a)/(q_sat(T_g) - q_a), 0, 1),
    0 where q_sat(T_g) <= q_a (no evaporation into air at or above saturation at T_g).
    """
    t = np.asarray(t_ground, dtype=float)
    qsat = specific_humidity(saturation_vapour_pressure(t), psurf)
    qg = np.exp(np.asarray(psi_top, dtype=float) / (RH_CONSTANT * t)) * qsat
    qa = np.asarray(qair, dtype=float)
    den = qsat - qa
    ok = den > 0
    return np.where(ok, np.clip((qg - qa) / np.where(ok, den, 1.0), 0.0, 1.0), 0.0)


def top_layer_potential(w_liq_top, porosity_top, psi_sat_top, b_top, dz_top, *, vg=None) -> np.ndarray:
    """Matric potential (mm) of the top layer, as the soil-water step: Clapp-Hornberger, or
    van Genuchten where ``vg`` is (theta_r, alpha, n) of the top layer
    (:func:`landia.columns.van_genuchten.retention`; psi_sat and b are then unused)."""
    if vg is not None:
        theta = np.asarray(w_liq_top, dtype=float) / (1000.0 * dz_top)
        return retention(theta, np.asarray(porosity_top, dtype=float), *(np.asarray(v, dtype=float) for v in vg))[0]
    return clapp_hornberger_potential(np.asarray(w_liq_top) / (1000.0 * dz_top), porosity_top,
                                      psi_sat_top, b_top)


def canopy_resistance(lai, swdown, rs_min) -> np.ndarray:
    """Jarvis-type canopy resistance (s m-1), Noilhan and Planton (1989) light factor.

    r_c = r_s,min / LAI (1 + f) / (f + r_s,min / r_s,max), f = 0.55 (SW / R_gl)(2 / LAI);
    r_s,max where LAI is 0 (then there is no transpiration anyway).
    """
    lai = np.asarray(lai, dtype=float)
    leaf = np.maximum(lai, 1e-3)
    rs_min = np.asarray(rs_min, dtype=float)
    f = 0.55 * np.maximum(np.asarray(swdown, dtype=float), 0.0) / R_GL * 2.0 / leaf
    rc = rs_min / leaf * (1.0 + f) / (f + rs_min / RS_MAX)
    return np.minimum(np.where(lai > 0, rc, RS_MAX), 1e6)


@dataclass(frozen=True)
class SurfaceDemand:
    """Energy terms and evaporative demands of one step, each (N,).

    Attributes
    ----------
    net_radiation, ground_heat_flux : W m-2 (G positive into the ground), snow-free surface.
    aerodynamic_resistance : s m-1.
    potential_evaporation : Penman E_p (mm s-1, >= 0).
    soil_evaporation : demand on the soil (mm s-1), with the relative-humidity factor.
    transpiration : demand of the canopy (mm s-1), before the root-zone water stress.
    soil_beta : the relative-humidity factor in [0, 1].
    """

    net_radiation: np.ndarray
    ground_heat_flux: np.ndarray
    aerodynamic_resistance: np.ndarray
    potential_evaporation: np.ndarray
    soil_evaporation: np.ndarray
    transpiration: np.ndarray
    soil_beta: np.ndarray


def penman_terms(tair, qair, psurf, r_a):
    """(Delta, gamma, rho c_p D / r_a, lambda) of the Penman-Monteith equation."""
    t = np.asarray(tair, dtype=float)
    p = np.asarray(psurf, dtype=float)
    e = vapour_pressure(qair, p)
    deficit = np.maximum(saturation_vapour_pressure(t) - e, 0.0)
    q = np.asarray(qair, dtype=float)
    rho = p / (R_DRY * t * (1.0 + 0.608 * q))
    gamma = CP_AIR * p / (0.622 * LATENT_HEAT_VAPORISATION)
    return saturation_slope(t), gamma, rho * CP_AIR * deficit / r_a, LATENT_HEAT_VAPORISATION


def surface_demand(
    tair, qair, psurf, wind, swdown, lwdown, t_ground, psi_top, lai, land_cover,
    *, has_roots=None, z_ref=10.0, ground_coupling=True, ground_heat_capacity=None, dt=1800.0,
) -> SurfaceDemand:
    """Net radiation, ground heat flux and evaporative demands of snow-free columns.

    Parameters
    ----------
    tair, qair, psurf, wind, swdown, lwdown : array_like (N,)
        Forcing at the step (K, kg kg-1, Pa, m s-1, W m-2, W m-2).
    t_ground : array_like (N,)
        Ground (top soil layer) temperature (K).
    psi_top : array_like (N,)
        Matric potential of the top soil layer (mm, <= 0).
    lai : array_like (N,)
        Leaf area index (m2 m-2).
    land_cover : sequence of str, length N
    has_roots : array_like (N,) of bool, optional
        Columns without roots (bare soil) get no transpiration and all the energy at the soil.
    z_ref : float or array_like
        Reference height of the forcing (m).
    ground_coupling : bool
        True (default): G = f_G Rn + rho c_p (T_a - T_g) / r_a; False: G = f_G Rn only.
        The second term is the sensible-heat exchange of the ground surface with the air that
        the fraction formula leaves out. Without it an insulated soil column can lose heat
        only by radiation, so its annual mean needs Rn ~ 0: at CN-Cng 2008 the top layer then
        ran 12 K warmer than the air on average (mean Rn 6 W m-2 against 59 observed).
    ground_heat_capacity : array_like (N,), optional
        Heat capacity of the top soil layer C (J m-2 K-1). Given, the coupling conductance
        h = rho c_p / r_a is taken implicitly in the top-layer temperature over the step dt,
        h_eff = h C / (C + h dt) (< C / dt), which keeps the explicit G stable (h reaches
        100-200 W m-2 K-1 over forests in strong wind, against C / dt ~ 30 for the 1.75 cm
        layer). :func:`landia.columns.model.step` passes it.
    dt : float
        Step (s), for the implicit coupling.

    The Penman-Monteith demand replaces CoLM's canopy energy balance (module docstring).
    """
    cover = tuple(land_cover)
    n = len(cover)
    lai = np.broadcast_to(np.asarray(lai, dtype=float), (n,))
    roots = np.ones(n, bool) if has_roots is None else np.asarray(has_roots, bool)
    lai = np.where(roots, lai, 0.0)
    albedo = land_cover_albedo(cover)
    rn = net_radiation(swdown, lwdown, t_ground, albedo)
    heights = _lookup(CANOPY_HEIGHT, cover)
    r_a = aerodynamic_resistance(wind, heights, z_ref)
    delta, gamma, aero, lam = penman_terms(tair, qair, psurf, r_a)
    g = ground_heat_fraction(lai) * rn
    if ground_coupling:
        t = np.asarray(tair, dtype=float)
        rho = np.asarray(psurf, dtype=float) / (R_DRY * t * (1.0 + 0.608 * np.asarray(qair, dtype=float)))
        h = rho * CP_AIR / r_a
        if ground_heat_capacity is not None:
            # Implicit in the top-layer temperature (stable for any step): h C / (C + h dt).
            c = np.asarray(ground_heat_capacity, dtype=float)
            h = h * c / (c + h * dt)
        g = g + h * (t - np.asarray(t_ground, dtype=float))
    available = rn - g
    potential = np.maximum((delta * available + aero) / (delta + gamma) / lam, 0.0)
    soil_share = np.exp(-0.5 * lai)
    beta = soil_beta(psi_top, t_ground, qair, psurf)
    # The ground under a canopy gets the canopy's share of the available energy and exchanges
    # vapour through the resistance of a bare surface (z0 = 0.01 m), not through the canopy's
    # rougher, better ventilated boundary layer.
    r_a_ground = aerodynamic_resistance(wind, np.zeros(n), z_ref)
    _, _, aero_ground, _ = penman_terms(tair, qair, psurf, r_a_ground)
    ground_potential = np.maximum((delta * soil_share * available + soil_share * aero_ground)
                                  / (delta + gamma) / lam, 0.0)
    soil_e = ground_potential * beta
    r_c = canopy_resistance(lai, swdown, _lookup(RS_MIN, cover))
    pm = np.maximum((delta * available + aero) / (delta + gamma * (1.0 + r_c / r_a)) / lam, 0.0)
    transp = np.where(roots & (lai > 0), (1.0 - soil_share) * pm, 0.0)
    return SurfaceDemand(
        net_radiation=rn,
        ground_heat_flux=g,
        aerodynamic_resistance=r_a,
        potential_evaporation=potential,
        soil_evaporation=soil_e,
        transpiration=transp,
        soil_beta=beta,
    )


def snow_surface(tair, qair, psurf, swdown, lwdown, t_snow, r_a):
    """Energy into a snowpack and its sublimation demand, each (N,).

    Rn_s = (1 - 0.70) SW + 0.97 (LW - sigma T_s^4); sensible heat H = rho c_p (T_a - T_s)/r_a
    (towards the pack); sublimation E_s = max(0, rho (q_sat(T_s) - q_a)/r_a) (mm s-1).
    Returns (Rn_s, energy_input = Rn_s + H - L_s E_s, E_s).
    """
    t_s = np.minimum(np.asarray(t_snow, dtype=float), T_FREEZE)
    p = np.asarray(psurf, dtype=float)
    t = np.asarray(tair, dtype=float)
    q = np.asarray(qair, dtype=float)
    rho = p / (R_DRY * t * (1.0 + 0.608 * q))
    rn = net_radiation(swdown, lwdown, t_s, ALBEDO_SNOW, EMISSIVITY_SNOW)
    h = rho * CP_AIR * (t - t_s) / r_a
    qsat = specific_humidity(saturation_vapour_pressure(t_s), p)
    sub = np.maximum(rho * (qsat - q) / r_a, 0.0)
    return rn, rn + h - LATENT_HEAT_SUBLIMATION * sub, sub


def snow_surface_derivative(tair, qair, psurf, t_snow, r_a) -> np.ndarray:
    """-d(energy_input)/dT_s (W m-2 K-1, > 0) of :func:`snow_surface`: 4 eps sigma T_s^3 +
    rho c_p / r_a + L_s rho (dq_sat/dT) / r_a (the last only where the pack sublimates)."""
    t_s = np.minimum(np.asarray(t_snow, dtype=float), T_FREEZE)
    p = np.asarray(psurf, dtype=float)
    t = np.asarray(tair, dtype=float)
    q = np.asarray(qair, dtype=float)
    rho = p / (R_DRY * t * (1.0 + 0.608 * q))
    es = saturation_vapour_pressure(t_s)
    qsat = specific_humidity(es, p)
    dqsat = 0.622 * p / (p - 0.378 * es) ** 2 * saturation_slope(t_s)
    sub = qsat > q
    return (4.0 * EMISSIVITY_SNOW * STEFAN_BOLTZMANN * t_s**3 + rho * CP_AIR / r_a
            + np.where(sub, LATENT_HEAT_SUBLIMATION * rho * dqsat / r_a, 0.0))
