"""Applying an analysis increment to the columns' liquid water (physics only, no MPI or I/O).

The analysis corrects volumetric soil moisture :math:`\\theta = \\theta_{liq} + \\theta_{ice}`
of the top ``L`` layers. The increment goes to the liquid water only (ice is left to the
energy balance), bounded so that every column stays physical:

.. math:: \\theta_{liq}^a = \\mathrm{clip}\\big(\\theta_{liq}^b + \\delta\\theta,\\;
          \\theta_{min},\\; \\phi - \\theta_{ice}\\big)

with the porosity :math:`\\phi` and a floor :math:`\\theta_{min}` (default 1e-3 m3 m-3, the
soil-water scheme's own lower limit). The water added (mm, positive = added) per column,

.. math:: S = \\sum_{j \\le L} 1000\\, \\Delta z_j (\\theta_{liq,j}^a - \\theta_{liq,j}^b),

is the *assimilation source term* of the water budget: over a cycle,
:math:`\\Delta W = (P - ET - R)\\,\\Delta t + S`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from landia.columns.soilwater import RHO_ICE, RHO_WATER
from landia.grid import colm_layer_thickness

#: Lowest liquid water content an increment may leave (m3 m-3).
THETA_LIQ_FLOOR = 1e-3


@dataclass(frozen=True)
class IncrementResult:
    """The columns after the increment and what it did.

    Attributes
    ----------
    columns : ColumnState
        New state (only ``w_liq`` of the top layers changed).
    source : ndarray (N,)
        Water added per column, mm (the assimilation source term).
    applied : ndarray (N, L)
        Increment actually applied, m3 m-3 (differs from the requested one where clipped).
    clipped : int
        Number of (column, layer) values the bounds changed.
    """

    columns: object
    source: np.ndarray
    applied: np.ndarray
    clipped: int


def apply_increment(columns, porosity, increment, floor: float = THETA_LIQ_FLOOR) -> IncrementResult:
    """Add a volumetric increment to the liquid water of the top layers, within bounds.

    Parameters
    ----------
    columns : ColumnState
        State of N columns.
    porosity : ndarray (N, nlayer)
        Porosity, m3 m-3.
    increment : ndarray (N, L)
        Analysis increment of the top ``L`` layers, m3 m-3 (NaN = no change).
    floor : float
        Lowest liquid water content left, m3 m-3.

    Returns
    -------
    IncrementResult
    """
    inc = np.asarray(increment, dtype=float)
    n, nl = columns.w_liq.shape
    if inc.ndim != 2 or inc.shape[0] != n or not 1 <= inc.shape[1] <= nl:
        raise ValueError(f"increment: expected shape ({n}, L) with 1 <= L <= {nl}; got "
                         f"{inc.shape}")
    layers = inc.shape[1]
    dz = colm_layer_thickness(nl)[:layers]
    por = np.asarray(porosity, dtype=float)[:, :layers]
    theta_liq = columns.w_liq[:, :layers] / (RHO_WATER * dz)
    theta_ice = columns.w_ice[:, :layers] / (RHO_ICE * dz)
    top = np.maximum(por - theta_ice, 0.0)
    wanted = theta_liq + np.where(np.isfinite(inc), inc, 0.0)
    new_theta = np.minimum(np.maximum(wanted, np.minimum(floor, theta_liq)), top)
    clipped = int(np.sum(np.isfinite(inc) & (new_theta != wanted)))
    w_liq = columns.w_liq.copy()
    # Only values that change are rewritten: theta -> w would cost a rounding otherwise.
    w_liq[:, :layers] = np.where(new_theta != theta_liq, new_theta * (RHO_WATER * dz),
                                 columns.w_liq[:, :layers])
    source = (w_liq[:, :layers] - columns.w_liq[:, :layers]).sum(axis=1)
    return IncrementResult(columns=replace(columns, w_liq=w_liq), source=source,
                           applied=new_theta - theta_liq, clipped=clipped)
