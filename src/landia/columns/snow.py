"""A one-layer snowpack bucket for CoLM columns, melted by an energy input.

State per column: snow water equivalent ``swe`` (mm, kg m-2) and pack temperature ``t_snow``
(K, at most T_FREEZE). One step (see ``docs/columns-energy.md``):

1. snowfall (mm s-1) is added at ``t_snowfall`` (default T_FREEZE), mixing temperatures by mass;
2. sublimation (mm s-1, from the surface balance, optional) is removed, limited by the pack;
3. the energy input Q (W m-2, positive into the pack) first warms the pack to T_FREEZE (heat
   capacity C_ICE swe), then melts it at LATENT_HEAT_FUSION; energy left when the pack is gone
   passes to the soil. A negative Q cools the pack, but not below ``t_min``; the rest of the
   deficit passes to the soil. Without snow all of Q passes to the soil.

Melt water leaves the pack at once (no liquid water holding or refreezing in the pack). Mass:
snowfall - melt - sublimation = change in swe, to round-off. Energy: Q dt = change in pack
cold content + L_f melt + (heat passed to the soil) dt, with the snowfall and sublimation
carrying their own sensible heat (see the docs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from landia.columns.soilwater import LATENT_HEAT_FUSION, T_FREEZE
from landia.columns.thermal import C_ICE

#: Lowest pack temperature (K): a deficit beyond it passes to the soil.
T_SNOW_MIN = T_FREEZE - 40.0


@dataclass(frozen=True)
class SnowResult:
    """Result of :func:`snow_step`, arrays shaped (N,).

    Attributes
    ----------
    swe : new snow water equivalent (mm).
    t_snow : new pack temperature (K); T_FREEZE where there is no snow.
    melt : melt water leaving the pack (mm s-1), for the soil-water step.
    sublimation : sublimation actually taken (mm s-1).
    ground_heat_flux : energy input not used by the pack (W m-2), passed to the soil.
    """

    swe: np.ndarray
    t_snow: np.ndarray
    melt: np.ndarray
    sublimation: np.ndarray
    ground_heat_flux: np.ndarray


def _column(x, n: int, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    try:
        return np.array(np.broadcast_to(a, (n,)))
    except ValueError:
        raise ValueError(f"{name}: expected a scalar or shape ({n},); got {a.shape}") from None


def snow_step(
    swe: np.ndarray,
    t_snow: np.ndarray | float,
    snowfall: np.ndarray | float,
    energy_input: np.ndarray | float,
    dt: float = 1800.0,
    *,
    sublimation: np.ndarray | float = 0.0,
    t_snowfall: np.ndarray | float = T_FREEZE,
    t_min: float = T_SNOW_MIN,
) -> SnowResult:
    """One step of the snow bucket for N columns at once.

    Parameters
    ----------
    swe : ndarray, shape (N,)
        Snow water equivalent (mm), >= 0.
    t_snow : array_like, shape (N,) or scalar
        Pack temperature (K), <= T_FREEZE.
    snowfall : array_like, shape (N,) or scalar
        Snowfall (mm s-1), >= 0.
    energy_input : array_like, shape (N,) or scalar
        Net energy into the pack (W m-2): net radiation minus turbulent fluxes, or a
        ground-heat-flux estimate from the surface energy balance.
    dt : float
        Time step (s).
    sublimation : array_like, optional
        Sublimation demand (mm s-1), >= 0; at most the pack is taken.
    t_snowfall : array_like, optional
        Temperature of the fresh snow (K), capped at T_FREEZE.
    t_min : float
        Lowest pack temperature (K).
    """
    swe = np.asarray(swe, dtype=float)
    if swe.ndim != 1:
        raise ValueError(f"swe: expected shape (N,); got {swe.shape}")
    n = swe.shape[0]
    t_snow = np.minimum(_column(t_snow, n, "t_snow"), T_FREEZE)
    snowfall = _column(snowfall, n, "snowfall")
    q = _column(energy_input, n, "energy_input")
    sub_demand = _column(sublimation, n, "sublimation")
    t_fall = np.minimum(_column(t_snowfall, n, "t_snowfall"), T_FREEZE)
    if np.any(swe < 0) or np.any(snowfall < 0) or np.any(sub_demand < 0):
        raise ValueError("swe, snowfall, sublimation: expected values >= 0")

    fresh = snowfall * dt
    swe1 = swe + fresh
    has1 = swe1 > 0
    t1 = np.where(has1, (swe * t_snow + fresh * t_fall) / np.where(has1, swe1, 1.0), T_FREEZE)
    sub = np.minimum(sub_demand * dt, swe1)
    swe2 = np.where(sub == swe1, 0.0, swe1 - sub)
    has = swe2 > 0

    energy = q * dt
    cap = C_ICE * swe2
    cold = cap * (T_FREEZE - t1)  # energy to bring the pack to T_FREEZE, >= 0
    warm = has & (energy >= cold)
    # Melting branch: warm to T_FREEZE, then melt.
    melt_want = (energy - cold) / LATENT_HEAT_FUSION
    melt = np.where(warm, np.minimum(melt_want, swe2), 0.0)
    swe3 = np.where(warm & (melt == swe2), 0.0, swe2 - melt)
    passed_warm = energy - cold - LATENT_HEAT_FUSION * melt
    # Cooling / part-warming branch: change the pack temperature, not below t_min.
    cool = has & ~warm
    dt_snow = np.where(cool, energy / np.where(cap > 0, cap, 1.0), 0.0)
    t_cool = np.maximum(t1 + dt_snow, np.minimum(t_min, t1))
    passed_cool = energy - cap * (t_cool - t1)

    passed = np.where(warm, passed_warm, np.where(cool, passed_cool, energy))
    t_new = np.where(cool, t_cool, T_FREEZE)
    t_new = np.where(swe3 > 0, t_new, T_FREEZE)
    return SnowResult(
        swe=swe3,
        t_snow=t_new,
        melt=melt / dt,
        sublimation=sub / dt,
        ground_heat_flux=passed / dt,
    )
