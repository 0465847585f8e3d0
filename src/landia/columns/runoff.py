"""CoLM2014 SIMTOP surface runoff and TOPMODEL-type base flow from the aquifer."""

from __future__ import annotations

import numpy as np

#: Maximum saturated fraction of the SIMTOP parameterisation (CoLM2014 global mean).
F_SAT_MAX = 0.38
#: Decay factor of the saturated fraction with water-table depth (m-1).
F_SAT_DECAY = 0.25
#: Maximum base flow at a water table at the surface (mm s-1).
BASE_FLOW_MAX = 5.5e-3
#: Decay factor of base flow with water-table depth (m-1).
BASE_FLOW_DECAY = 2.5


def saturated_fraction(z_wt: np.ndarray) -> np.ndarray:
    """Fraction of the column area that is saturated (SIMTOP).

    Parameters
    ----------
    z_wt : array_like, shape (N,)
        Water-table depth (m, positive downward).

    Returns
    -------
    f_sat : ndarray, shape (N,)

    Notes
    -----
    .. math:: f_{sat} = 0.38 \\min(1, \\exp(-0.25\\, z_{wt}))
    """
    z_wt = np.asarray(z_wt, dtype=float)
    return F_SAT_MAX * np.minimum(1.0, np.exp(-F_SAT_DECAY * z_wt))


def max_infiltration(k_sat: np.ndarray, ice_fraction: np.ndarray, n_top: int = 3) -> np.ndarray:
    """Infiltration capacity (mm s-1): the smallest ice-impeded k_sat of the top layers.

    Parameters
    ----------
    k_sat : ndarray, shape (N, nlayer)
        Saturated hydraulic conductivity (mm s-1).
    ice_fraction : ndarray, shape (N, nlayer)
        Fraction of the pore space filled with ice, theta_ice / porosity, in [0, 1].
    n_top : int
        Number of top layers considered (CoLM: 3, i.e. 0-9 cm).

    Notes
    -----
    .. math:: q_{max} = \\min_{j=1..3} 10^{-6 f_{ice,j}} k_{sat,j}
    """
    k = np.asarray(k_sat, dtype=float)[:, :n_top]
    f = np.clip(np.asarray(ice_fraction, dtype=float)[:, :n_top], 0.0, 1.0)
    impeded = k.copy()
    icy = f != 0.0  # 10^-0 k = k: the power only where there is ice (the same bits)
    if icy.any():
        impeded[icy] = 10.0 ** (-6.0 * f[icy]) * k[icy]
    # layer by layer: numpy's min over a short row is a slow call per row (min is exact in
    # any order)
    out = impeded[:, 0].copy()
    for j in range(1, impeded.shape[1]):
        np.minimum(out, impeded[:, j], out=out)
    return out


def surface_runoff(
    water_input: np.ndarray, f_sat: np.ndarray, q_max: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Split the water reaching the soil surface into surface runoff and infiltration.

    Parameters
    ----------
    water_input : array_like, shape (N,)
        g = rain + snowmelt - soil evaporation reaching the surface (mm s-1).
    f_sat : array_like, shape (N,)
        Saturated fraction, from :func:`saturated_fraction`.
    q_max : array_like, shape (N,)
        Infiltration capacity (mm s-1), from :func:`max_infiltration`.

    Returns
    -------
    runoff, infiltration : ndarray, shape (N,)
        Surface runoff and infiltration (mm s-1); ``runoff + infiltration == water_input``.

    Notes
    -----
    .. math:: r = f_{sat}\\, g + (1 - f_{sat}) \\max(0, g - q_{max}), \\qquad i = g - r

    Where g is negative (evaporation larger than the input) there is no runoff and the
    whole of g is passed to the soil as a (negative) infiltration, as CoLM does.
    """
    g = np.asarray(water_input, dtype=float)
    f_sat = np.asarray(f_sat, dtype=float)
    q_max = np.asarray(q_max, dtype=float)
    runoff = np.where(g > 0.0, f_sat * g + (1.0 - f_sat) * np.maximum(0.0, g - q_max), 0.0)
    return runoff, g - runoff


def pond_infiltration_excess(
    runoff: np.ndarray, water_input: np.ndarray, f_sat: np.ndarray, pond: np.ndarray,
    dt: float, capacity: float,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Hold back the infiltration excess in the surface pond instead of letting it run off.

    Parameters
    ----------
    runoff : array_like, shape (N,)
        SIMTOP surface runoff of :func:`surface_runoff` (mm s-1).
    water_input, f_sat : array_like, shape (N,)
        The net surface input g (mm s-1) and saturated fraction it was computed with.
    pond : array_like, shape (N,)
        Water already ponding on the surface at the start of the step (mm).
    dt : float
        Time step (s).
    capacity : float
        Largest pond (mm): CoLM's ``pondmx`` (10 mm); 0 gives back ``runoff`` unchanged.

    Returns
    -------
    runoff, ponded : ndarray, shape (N,)
        The runoff that leaves (mm s-1) and the infiltration excess kept on the surface
        (mm s-1, to be offered to the soil with the infiltration); their sum is the input
        ``runoff``.

    Notes
    -----
    SIMTOP's runoff has two parts: the saturation excess :math:`f_{sat} g` and the
    infiltration excess :math:`(1 - f_{sat}) \max(0, g - q_{max})`. The second is water that
    arrives faster than the soil can take it, not water that cannot enter it; on the flat
    footprint of a site it waits on the surface. Up to the free room of the pond,

    .. math:: p = \min\big(r - f_{sat} \max(g, 0),\; \max(w_{pond,max} - w_{pond}, 0)/\Delta t\big),

    it is kept and :math:`r - p` runs off. This departs from CoLM2014 (which routes the whole
    excess to runoff, see ``docs/columns.md``); with ``capacity = 0`` it is CoLM2014's scheme.
    """
    runoff = np.asarray(runoff, dtype=float)
    g = np.asarray(water_input, dtype=float)
    excess = np.maximum(runoff - np.asarray(f_sat, dtype=float) * np.maximum(g, 0.0), 0.0)
    room = np.maximum(float(capacity) - np.asarray(pond, dtype=float), 0.0) / dt
    ponded = np.minimum(excess, room)
    return runoff - ponded, ponded


def base_flow(z_wt: np.ndarray) -> np.ndarray:
    """Base flow out of the aquifer (mm s-1), TOPMODEL-type.

    Parameters
    ----------
    z_wt : array_like, shape (N,)
        Water-table depth (m, positive downward).

    Notes
    -----
    .. math:: q_{base} = 5.5 \\times 10^{-3} \\exp(-2.5\\, z_{wt})

    Only the flux; the aquifer store it is taken from (initial 4800 mm, cap 5000 mm, z_wt
    clipped to 0-80 m) belongs to the column state and is not modelled here yet.
    """
    z_wt = np.asarray(z_wt, dtype=float)
    return BASE_FLOW_MAX * np.exp(-BASE_FLOW_DECAY * z_wt)
