"""Root-zone water stress: how much of the transpiration demand the soil can meet, and where."""

from __future__ import annotations

import numpy as np

from landia.columns.soil import SoilParameters, clapp_hornberger_potential
from landia.columns.soilwater import T_FREEZE
from landia.columns.state import layer_sum
from landia.columns.van_genuchten import retention
from landia.grid import colm_layer_thickness

#: Matric potential at which roots stop taking water (mm), CoLM's smpmax (wilting point).
PSI_WILT = -1.5e5
#: Largest transpiration CoLM allows (mm s-1).
TRANSPIRATION_MAX = 2.0e-4


def root_water_stress(
    w_liq: np.ndarray,
    params: SoilParameters,
    root_fraction: np.ndarray,
    *,
    t_soil: np.ndarray | None = None,
    dz: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Water-stress factor of each column and the share of uptake from each layer.

    Parameters
    ----------
    w_liq : ndarray, shape (N, nlayer)
        Liquid water per layer (mm).
    params : SoilParameters
    root_fraction : ndarray, shape (N, nlayer) or (nlayer,)
        Root fraction per layer (Schenk and Jackson 2002 in CoLM), summing to 1.
    t_soil : ndarray, shape (N, nlayer), optional
        Soil temperature (K); roots take no water from frozen layers (T <= 273.16 K).
    dz : ndarray, shape (nlayer,), optional
        Layer thicknesses (m); default CoLM's.

    Returns
    -------
    stress : ndarray, shape (N,)
        beta in [0, 1]: actual transpiration = beta x potential (and <= 2e-4 mm s-1).
    uptake_fraction : ndarray, shape (N, nlayer)
        Share of the transpiration taken from each layer, >= 0 and summing to 1; where
        beta = 0 (nothing can be taken) the root fraction itself, so that it stays a valid
        ``root_fraction`` for :func:`landia.columns.soilwater.soil_water_step`.

    Notes
    -----
    With :math:`\\psi_j` the Clapp-Hornberger potential of layer j (as in the soil-water
    step) and :math:`\\psi_{max} = -1.5 \\times 10^5` mm,

    .. math::
        w_j = \\mathrm{clip}\\Big(\\frac{1 - \\psi_j/\\psi_{max}}{1 - \\psi_{sat,j}/\\psi_{max}},
              0, 1\\Big), \\qquad
        \\beta = \\sum_j r_j w_j, \\qquad u_j = r_j w_j / \\beta

    With van Genuchten hydraulics :math:`\\psi_j` is van Genuchten's potential and the
    reference :math:`\\psi_{sat,j}` is :math:`-1/\\alpha_j`, the air-entry potential of the
    Clapp-Hornberger correspondence (:meth:`SoilParameters.from_sand_clay`): w_j = 1 for
    :math:`\\psi_j \\ge -1/\\alpha_j`, then falls linearly in psi to 0 at the wilting point
    (monotone in the water content, within [0, 1]).
    """
    n, nl = params.n_columns, params.n_layers
    w = np.asarray(w_liq, dtype=float)
    if w.shape != (n, nl):
        raise ValueError(f"w_liq: expected shape {(n, nl)} like params; got {w.shape}")
    dz = colm_layer_thickness(nl) if dz is None else np.asarray(dz, dtype=float)
    roots = np.broadcast_to(np.asarray(root_fraction, dtype=float), (n, nl))
    if params.hydraulics == "van_genuchten":
        psi = retention(w / (1000.0 * dz), params.porosity, params.theta_r, params.vg_alpha,
                        params.vg_n)[0]
        psi_ref = -1.0 / params.vg_alpha
    else:
        psi = clapp_hornberger_potential(w / (1000.0 * dz), params.porosity, params.psi_sat,
                                         params.b)
        psi_ref = params.psi_sat
    weight = np.clip((1.0 - psi / PSI_WILT) / (1.0 - psi_ref / PSI_WILT), 0.0, 1.0)
    if t_soil is not None:
        weight = np.where(np.asarray(t_soil, dtype=float) > T_FREEZE, weight, 0.0)
    share = roots * weight
    stress = layer_sum(share)  # share.sum(axis=1), bit for bit, faster
    uptake = np.array(roots, dtype=float)
    np.divide(share, stress[:, None], out=uptake, where=(stress > 0.0)[:, None])
    return stress, uptake
