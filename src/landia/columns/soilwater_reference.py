"""A straightforward per-column, per-layer reference of :func:`soil_water_step`.

Plain Python loops over columns and layers, scalar maths, as a CoLM Fortran port would read.
It is slow on purpose: it exists to check the vectorised step (tests) and to measure it
against (benchmarks). Same inputs, same outputs, same numbers to round-off.
"""

from __future__ import annotations

import math

import numpy as np

from landia.columns.soil import SoilParameters
from landia.columns.soilwater import (
    EFFECTIVE_POROSITY_MIN,
    GRAVITY,
    ICE_IMPEDANCE,
    LATENT_HEAT_FUSION,
    POND_MAX,
    PSI_MIN,
    RHO_ICE,
    RHO_WATER,
    S_MIN,
    T_FREEZE,
    THETA_LIQ_MIN,
    SoilWaterResult,
)
from landia.columns.van_genuchten import SE_K_MIN, SE_REGULAR
from landia.grid import colm_layer_thickness, colm_node_depths


def _van_genuchten(theta, por, theta_r, alpha, n, k_sat):
    """psi, dpsi/dtheta, K, dK/dtheta of one layer, van Genuchten-Mualem, scalar maths
    (closed forms below S_r = 1 - 1e-4, chords to saturation above)."""
    m = 1.0 - 1.0 / n
    width = por - theta_r
    se = min(max((theta - theta_r) / width, S_MIN), 1.0)
    se_d = min(se, SE_REGULAR)
    x = se_d ** (-1.0 / m)
    psi = max(PSI_MIN, -((x - 1.0) ** (1.0 / n)) / alpha)
    dpsi = -psi * x / ((n - 1.0) * se_d * (x - 1.0) * width)
    if se > SE_REGULAR:
        psi, dpsi = psi * (1.0 - se) / (1.0 - SE_REGULAR), -psi / ((1.0 - SE_REGULAR) * width)
    k, dk = 0.0, 0.0
    if theta > THETA_LIQ_MIN and theta > theta_r:
        se = min(max((theta - theta_r) / width, SE_K_MIN), 1.0)
        se_d = min(se, SE_REGULAR)
        y = se_d ** (1.0 / m)
        f = -math.expm1(m * math.log1p(-y))
        k = k_sat * math.sqrt(se_d) * f * f
        dk = k / width * (0.5 / se_d + 2.0 * y * (1.0 - y) ** (m - 1.0) / (se_d * f))
        if se > SE_REGULAR:
            slope = (k_sat - k) / (1.0 - SE_REGULAR)
            k, dk = k + slope * (se - SE_REGULAR), slope / width
    return psi, dpsi, k, dk


def _column(w, w_ice, t, por, psi_sat, b, k_sat, infil, transp, roots, pond, dt, dz, z, free,
            vg=None):
    """One column; lists of floats in, (w_new, pond, drainage, runoff, correction) out.
    ``vg``: None (Clapp-Hornberger) or the lists (theta_r, alpha, n) of van Genuchten."""
    nl = len(w)
    dzmm = [RHO_WATER * d for d in dz]
    theta_ice = [w_ice[j] / (RHO_ICE * dz[j]) for j in range(nl)]
    eff = [max(por[j] - theta_ice[j], 0.0) for j in range(nl)]
    cap = [eff[j] * dzmm[j] for j in range(nl)]
    f_ice = [theta_ice[j] / por[j] for j in range(nl)]
    psi, dpsi, k, dk = [0.0] * nl, [0.0] * nl, [0.0] * nl, [0.0] * nl
    for j in range(nl):
        theta = w[j] / dzmm[j]
        if vg is not None:
            psi[j], dpsi[j], k[j], dk[j] = _van_genuchten(
                theta, por[j], vg[0][j], vg[1][j], vg[2][j], k_sat[j])
        else:
            s = theta / por[j]
            s_psi = min(max(s, S_MIN), 1.0)
            psi[j] = max(PSI_MIN, psi_sat[j] * s_psi ** (-b[j]))
            dpsi[j] = -b[j] * psi[j] / (s_psi * por[j])
            if theta > THETA_LIQ_MIN:
                k[j] = k_sat[j] * min(s, 1.0) ** (2 * b[j] + 3)
                dk[j] = (2 * b[j] + 3) * k[j] / theta
        if t is not None and t[j] < T_FREEZE:  # both models: liquid water in equilibrium with ice
            psi[j] = max(PSI_MIN, 1e3 * LATENT_HEAT_FUSION / GRAVITY * (t[j] - T_FREEZE) / t[j])
            dpsi[j] = 0.0
    # interface fluxes and their derivatives
    q, dq_up, dq_lo = [0.0] * (nl - 1), [0.0] * (nl - 1), [0.0] * (nl - 1)
    for j in range(nl - 1):
        dzn = RHO_WATER * (z[j + 1] - z[j])
        alpha = (psi[j + 1] - psi[j]) / dzn - 1.0
        u = j if alpha <= 0.0 else j + 1
        factor = 0.0
        if eff[j] >= EFFECTIVE_POROSITY_MIN and eff[j + 1] >= EFFECTIVE_POROSITY_MIN:
            factor = 10.0 ** (-ICE_IMPEDANCE * 0.5 * (f_ice[j] + f_ice[j + 1]))
        kj, dkj = k[u] * factor, dk[u] * factor
        q[j] = -kj * alpha
        dq_up[j] = kj * dpsi[j] / dzn + (-alpha * dkj if u == j else 0.0)
        dq_lo[j] = -kj * dpsi[j + 1] / dzn + (-alpha * dkj if u == j + 1 else 0.0)
    if free and eff[-1] >= EFFECTIVE_POROSITY_MIN:
        fb = 10.0 ** (-ICE_IMPEDANCE * f_ice[-1])
        qb, dqb = k[-1] * fb, dk[-1] * fb
    else:
        qb, dqb = 0.0, 0.0
    q_top = infil + pond / dt
    sink = [transp * r for r in roots]
    # tridiagonal system for dtheta, then Thomas
    a, bb, c, d = [0.0] * nl, [0.0] * nl, [0.0] * nl, [0.0] * nl
    for j in range(nl):
        q_in = q_top if j == 0 else q[j - 1]
        q_out = qb if j == nl - 1 else q[j]
        bb[j] = dzmm[j] / dt
        if j > 0:
            a[j] = -dq_up[j - 1]
            bb[j] -= dq_lo[j - 1]
        if j < nl - 1:
            c[j] = dq_lo[j]
            bb[j] += dq_up[j]
        else:
            bb[j] += dqb
        d[j] = q_in - q_out - sink[j]
    cp, dp = [0.0] * nl, [0.0] * nl
    cp[0], dp[0] = c[0] / bb[0], d[0] / bb[0]
    for j in range(1, nl):
        m = bb[j] - a[j] * cp[j - 1]
        cp[j] = c[j] / m
        dp[j] = (d[j] - a[j] * dp[j - 1]) / m
    x = [0.0] * nl
    x[-1] = dp[-1]
    for j in range(nl - 2, -1, -1):
        x[j] = dp[j] - cp[j] * x[j + 1]
    q_new = [q[j] + dq_up[j] * x[j] + dq_lo[j] * x[j + 1] for j in range(nl - 1)]
    drainage = max(qb + dqb * x[-1], 0.0)
    wn = [0.0] * nl
    for j in range(nl):
        q_in = q_top if j == 0 else q_new[j - 1]
        q_out = drainage if j == nl - 1 else q_new[j]
        wn[j] = w[j] + dt * (q_in - q_out - sink[j])
    # post-solve fixes
    for j in range(nl - 1, 0, -1):
        if wn[j] > cap[j]:
            wn[j - 1] += wn[j] - cap[j]
            wn[j] = cap[j]
    excess = max(wn[0] - cap[0], 0.0)
    wn[0] = min(wn[0], cap[0])
    runoff = max(excess - POND_MAX, 0.0)
    pond_new = excess - runoff
    for j in range(nl - 1):
        if wn[j] < 0.0:
            wn[j + 1] += wn[j]
            wn[j] = 0.0
    correction = max(-wn[-1], 0.0)
    wn[-1] += correction
    return wn, pond_new, drainage, runoff / dt, correction / dt


def soil_water_step_reference(
    w_liq: np.ndarray,
    params: SoilParameters,
    infiltration,
    transpiration,
    root_fraction: np.ndarray,
    dt: float,
    *,
    w_ice: np.ndarray | None = None,
    pond: np.ndarray | None = None,
    t_soil: np.ndarray | None = None,
    dz: np.ndarray | None = None,
    z: np.ndarray | None = None,
    bottom: str = "free",
) -> SoilWaterResult:
    """Per-column reference of :func:`landia.columns.soilwater.soil_water_step` (same API).

    Inputs are not validated beyond what the vectorised step checks; use valid inputs.
    """
    n, nl = params.n_columns, params.n_layers
    dz = colm_layer_thickness(nl) if dz is None else np.asarray(dz, dtype=float)
    z = colm_node_depths(nl) if z is None else np.asarray(z, dtype=float)
    infiltration = np.broadcast_to(np.asarray(infiltration, dtype=float), (n,))
    transpiration = np.broadcast_to(np.asarray(transpiration, dtype=float), (n,))
    roots = np.broadcast_to(np.asarray(root_fraction, dtype=float), (n, nl))
    w_ice = np.zeros((n, nl)) if w_ice is None else np.asarray(w_ice, dtype=float)
    pond = np.zeros(n) if pond is None else np.asarray(pond, dtype=float)
    out_w = np.empty((n, nl))
    out = np.empty((4, n))
    dz_l, z_l = dz.tolist(), z.tolist()
    vg = (None if params.hydraulics == "clapp_hornberger"
          else (params.theta_r, params.vg_alpha, params.vg_n))
    for i in range(n):
        t = None if t_soil is None else t_soil[i].tolist()
        wn, *rest = _column(
            w_liq[i].tolist(), w_ice[i].tolist(), t, params.porosity[i].tolist(),
            params.psi_sat[i].tolist(), params.b[i].tolist(), params.k_sat[i].tolist(),
            float(infiltration[i]), float(transpiration[i]), roots[i].tolist(), float(pond[i]),
            dt, dz_l, z_l, bottom == "free", None if vg is None else [a[i].tolist() for a in vg],
        )  # fmt: skip
        out_w[i] = wn
        out[:, i] = rest
    return SoilWaterResult(
        w_liq=out_w,
        pond=out[0],
        infiltration=np.array(infiltration),
        transpiration=np.array(transpiration),
        drainage=out[1],
        runoff=out[2],
        correction=out[3],
    )
