"""The unconfined aquifer below the soil column (CoLM2014 / CLM3.5): store, water table, base flow.

Physics only (numpy and :mod:`landia.grid`).

science.md (section 5) gives the base flow 5.5e-3 exp(-2.5 z_wt) mm s-1, the initial store
(4800 mm), its cap (5000 mm) and the clipping of the water-table depth to 0-80 m. It does NOT
give the relation between the store and the water-table depth; we use that of CoLM2014, taken
from CLM3.5 (Niu et al. 2007):

.. math:: z_{wt} = (25 + z_{i,N}) - \\frac{w_a}{1000\\, S_y}, \\qquad S_y = 0.2

with :math:`z_{i,N}` the depth of the bottom of the soil column (3.43 m) and :math:`w_a` in mm.

Simplifications (documented in docs/columns.md, "Hydrology step"):

- The aquifer lies wholly below the soil column: with the store capped at 5000 mm the water
  table never rises above :math:`z_{i,N}` (25 - 5000/200 = 0), so CLM3.5's case of a water
  table inside the soil column (and the recharge computed from the water-table layer) does not
  arise. Recharge is simply the soil column's free drainage out of its bottom.
- Water above the cap leaves the aquifer as ``overflow`` (mm s-1), counted as runoff.
- Base flow is computed from the water table at the start of the step and limited so that the
  store never goes below zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from landia.columns.runoff import base_flow
from landia.grid import N_SOIL_LAYERS, colm_interface_depths

#: Initial aquifer store (mm), CoLM's wa at cold start.
AQUIFER_INITIAL = 4800.0
#: Largest aquifer store (mm).
AQUIFER_MAX = 5000.0
#: Specific yield of the aquifer (m3 m-3), CLM3.5 / CoLM2014.
SPECIFIC_YIELD = 0.2
#: Depth (m) of the aquifer's reference level below the bottom of the soil column.
AQUIFER_REFERENCE_DEPTH = 25.0
#: Range of the water-table depth (m).
Z_WT_MIN, Z_WT_MAX = 0.0, 80.0


def water_table_depth(wa: np.ndarray, soil_bottom: float | None = None) -> np.ndarray:
    """Water-table depth (m, positive down) from the aquifer store wa (mm), clipped to 0-80 m.

    .. math:: z_{wt} = \\mathrm{clip}\\big((25 + z_{i,N}) - w_a / (1000 S_y), 0, 80\\big)

    ``soil_bottom`` is :math:`z_{i,N}` (m); default the bottom of CoLM's 10 layers (3.433 m).
    """
    zb = colm_interface_depths(N_SOIL_LAYERS)[-1] if soil_bottom is None else float(soil_bottom)
    wa = np.asarray(wa, dtype=float)
    return np.clip((AQUIFER_REFERENCE_DEPTH + zb) - wa / (1000.0 * SPECIFIC_YIELD), Z_WT_MIN, Z_WT_MAX)


@dataclass(frozen=True)
class AquiferResult:
    """New aquifer store and water table, and the fluxes of one step (all (N,)).

    Attributes
    ----------
    wa : new store (mm), in [0, 5000].
    z_wt : new water-table depth (m), in [0, 80].
    recharge : water entering from the soil column (mm s-1), as given.
    base_flow : water leaving as base flow (mm s-1), >= 0.
    overflow : water above the 5000 mm cap, leaving as runoff (mm s-1), >= 0.

    Per column, exactly: ``wa_new - wa = (recharge - base_flow - overflow) dt``.
    """

    wa: np.ndarray
    z_wt: np.ndarray
    recharge: np.ndarray
    base_flow: np.ndarray
    overflow: np.ndarray


def aquifer_step(
    wa: np.ndarray, recharge: np.ndarray, dt: float, soil_bottom: float | None = None
) -> AquiferResult:
    """One step of the aquifer store for N columns.

    Parameters
    ----------
    wa : ndarray, shape (N,)
        Aquifer store (mm), in [0, 5000].
    recharge : ndarray, shape (N,)
        Drainage out of the bottom of the soil column into the aquifer (mm s-1), >= 0.
    dt : float
        Time step (s).
    soil_bottom : float, optional
        Depth of the bottom of the soil column (m); default CoLM's 3.433 m.

    Notes
    -----
    Base flow :math:`q_b = \\min(5.5\\times10^{-3} e^{-2.5 z_{wt}}, w_a/\\Delta t + q_r)` from
    the water table at the start of the step; then
    :math:`w_a' = w_a + (q_r - q_b)\\Delta t`, water above 5000 mm is ``overflow``, and the
    new water-table depth is :func:`water_table_depth` of the new store.
    """
    if not dt > 0:
        raise ValueError(f"dt: expected a positive time step (s); got {dt}")
    wa = np.asarray(wa, dtype=float)
    recharge = np.asarray(recharge, dtype=float)
    if wa.ndim != 1 or recharge.shape != wa.shape:
        raise ValueError(f"wa, recharge: expected shape (N,) each; got {wa.shape} and {recharge.shape}")
    if np.any(~np.isfinite(wa)) or np.any(wa < 0) or np.any(wa > AQUIFER_MAX * (1 + 1e-12)):
        raise ValueError(f"wa: expected an aquifer store in [0, {AQUIFER_MAX:g}] mm")
    if np.any(~np.isfinite(recharge)) or np.any(recharge < 0):
        raise ValueError("recharge: expected finite values >= 0 mm s-1")
    q_base = np.minimum(base_flow(water_table_depth(wa, soil_bottom)), wa / dt + recharge)
    new = wa + (recharge - q_base) * dt
    new = np.maximum(new, 0.0)  # round-off only: q_base <= wa/dt + recharge
    overflow = np.maximum(new - AQUIFER_MAX, 0.0)
    new = new - overflow
    return AquiferResult(
        wa=new,
        z_wt=water_table_depth(new, soil_bottom),
        recharge=recharge,
        base_flow=q_base,
        overflow=overflow / dt,
    )
