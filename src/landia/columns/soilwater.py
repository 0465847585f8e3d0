"""CoLM2014 soil water: implicit linearised Richards equation over 10 layers, many columns.

State convention: liquid and ice water of each layer in mm of water (kg m-2), as CoLM's
``wliq_soisno`` and ``wice_soisno``: ``w_liq = theta_liq * dz * 1000`` with dz in m and
``w_ice = theta_ice * dz * rho_ice``. Per-layer arrays are shaped (N columns, nlayer), top first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The retention floors are shared by both hydraulic models (defined with the parameters).
from landia.columns.soil import PSI_MIN, S_MIN, THETA_LIQ_MIN, SoilParameters
from landia.columns.van_genuchten import conductivity as vg_conductivity
from landia.columns.van_genuchten import retention as vg_retention
from landia.columns.tridiagonal import solve_tridiagonal_negated_lower
from landia.grid import colm_layer_thickness, colm_node_depths

#: Density of liquid water (kg m-3): 1 mm of water per m2 is 1 kg m-2.
RHO_WATER = 1000.0
#: Density of ice (kg m-3), CoLM's denice.
RHO_ICE = 917.0
#: Freezing point (K), CoLM's tfrz.
T_FREEZE = 273.16
#: Latent heat of fusion (J kg-1), CoLM's hfus.
LATENT_HEAT_FUSION = 0.3336e6
#: Gravity (m s-2), CoLM's grav.
GRAVITY = 9.80616
#: Effective porosity below which a layer is impermeable (m3 m-3), CoLM's wimp.
EFFECTIVE_POROSITY_MIN = 0.05
#: Ice impedance exponent: K is multiplied by 10^(-6 f_ice).
ICE_IMPEDANCE = 6.0
#: Water that may pond on the surface before it runs off (mm), CoLM's pondmx.
POND_MAX = 10.0

_BOTTOM_CONDITIONS = ("free", "zero")


@dataclass(frozen=True)
class SoilWaterResult:
    """New state and fluxes of one soil-water step for N columns.

    Attributes
    ----------
    w_liq : ndarray, shape (N, nlayer)
        Liquid water per layer after the step (mm), within [0, (porosity - theta_ice) dz].
    pond : ndarray, shape (N,)
        Water ponding on the surface after the step (mm), within [0, 10].
    infiltration : ndarray, shape (N,)
        Infiltration into the top of the column (mm s-1), as given.
    transpiration : ndarray, shape (N,)
        Transpiration taken from the layers by the roots (mm s-1), as given.
    drainage : ndarray, shape (N,)
        Flux out of the bottom of the column (mm s-1): the free-drainage K of the last
        layer, or zero.
    runoff : ndarray, shape (N,)
        Saturation excess beyond the ponding limit, leaving as runoff (mm s-1), >= 0.
    correction : ndarray, shape (N,)
        Water added to refill layers the step left negative (mm s-1), >= 0; CoLM takes it
        from the runoff.

    Notes
    -----
    Per column, to round-off,

    .. math:: \\Delta\\Big(\\sum_j w_{liq,j} + w_{pond}\\Big) =
              (i - T - q_{drain} - r + c)\\, \\Delta t
    """

    w_liq: np.ndarray
    pond: np.ndarray
    infiltration: np.ndarray
    transpiration: np.ndarray
    drainage: np.ndarray
    runoff: np.ndarray
    correction: np.ndarray


def _column_field(name: str, value: np.ndarray | float, n: int) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        raise ValueError(f"{name}: expected a scalar or shape ({n},); got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: expected finite values (mm s-1); found NaN or inf")
    return arr


def _layer_depths(values: np.ndarray | None, default, n_layers: int, name: str) -> np.ndarray:
    arr = default(n_layers) if values is None else np.asarray(values, dtype=float)
    if arr.shape != (n_layers,):
        raise ValueError(f"{name}: expected shape ({n_layers},) in m; got shape {arr.shape}")
    return arr


def _ice_free_constants(params: SoilParameters, dz: np.ndarray):
    """(capacity porosity dz 1000 mm, permeable porosity >= 0.05), layer-major, of columns
    without ice: constants of the parameters, made once per layer-thickness vector and kept
    on ``params`` (immutable)."""
    cache = params.__dict__.setdefault("_ice_free_constants", {})
    key = dz.tobytes()
    if key not in cache:
        por = params.layer_major()[0]
        constants = (por * (RHO_WATER * dz)[:, None], por >= EFFECTIVE_POROSITY_MIN)
        for a in constants:
            a.setflags(write=False)
        cache[key] = constants
    return cache[key]


def _flux_divergence(q_top, q, q_bottom, out):
    """q_in - q_out per layer, (nlayer, N), into ``out``: the top flux, the interface
    fluxes ``q`` (nlayer - 1, N) and the bottom flux (the same subtractions as building
    the q_in and q_out arrays and subtracting them)."""
    if not len(q):  # a single layer
        np.subtract(q_top, q_bottom, out=out[0])
        return out
    np.subtract(q_top, q[0], out=out[0])
    np.subtract(q[:-1], q[1:], out=out[1:-1])
    np.subtract(q[-1], q_bottom, out=out[-1])
    return out


def soil_water_step(
    w_liq: np.ndarray,
    params: SoilParameters,
    infiltration: np.ndarray | float,
    transpiration: np.ndarray | float,
    root_fraction: np.ndarray,
    dt: float,
    *,
    w_ice: np.ndarray | None = None,
    pond: np.ndarray | None = None,
    t_soil: np.ndarray | None = None,
    dz: np.ndarray | None = None,
    z: np.ndarray | None = None,
    bottom: str = "free",
    check_values: bool = True,
) -> SoilWaterResult:
    r"""One implicit step of CoLM2014's soil-water scheme for N columns at once.

    Parameters
    ----------
    w_liq : ndarray, shape (N, nlayer)
        Liquid water per layer (mm), within [0, (porosity - theta_ice) dz 1000].
    params : SoilParameters
        Porosity, psi_sat, b and k_sat per column and layer.
    infiltration : array_like, shape (N,) or scalar
        Water entering the top of the soil (mm s-1), e.g. from
        :func:`landia.columns.runoff.surface_runoff`; may be negative (net evaporation).
    transpiration : array_like, shape (N,) or scalar
        Water taken by the roots (mm s-1), >= 0.
    root_fraction : ndarray, shape (N, nlayer) or (nlayer,)
        Share of the transpiration taken from each layer, >= 0, summing to 1 per column.
    dt : float
        Time step (s); CoLM: 1800.
    w_ice : ndarray, shape (N, nlayer), optional
        Ice per layer (mm); default none.
    pond : ndarray, shape (N,), optional
        Water ponding on the surface (mm) from the previous step; it is offered to the soil
        with the infiltration. Default none.
    t_soil : ndarray, shape (N, nlayer), optional
        Soil temperature (K). Where it is below freezing, the matric potential is that of
        liquid water in equilibrium with ice and does not depend on the water content.
        Default: all layers above freezing.
    dz, z : ndarray, shape (nlayer,), optional
        Layer thicknesses and node depths (m); default CoLM's
        (:func:`landia.grid.colm_layer_thickness`, :func:`landia.grid.colm_node_depths`).
    bottom : {"free", "zero"}
        Bottom boundary: free drainage at the conductivity of the last layer (CoLM), or no
        flux (for tests of equilibrium).
    check_values : bool
        True (default): refuse out-of-range inputs (negative transpiration or ice, root
        fractions not summing to 1, water outside [0, capacity]). False skips these value
        checks (shapes are still checked) for callers whose inputs are valid by construction:
        :func:`landia.columns.hydrology.water_step` passes a validated ``ColumnState`` and
        the uptake fractions of :func:`root_water_stress`. About 10 % of the step at 100,000
        columns.

    Returns
    -------
    SoilWaterResult
        New liquid water and pond, and the fluxes over the step.

    Notes
    -----
    With depth z positive downward (mm), theta = w_liq / (1000 dz) and s = theta / porosity,
    the Clapp-Hornberger retention is

    .. math::
        \psi = \max(-10^8, \psi_{sat} \max(s, 0.01)^{-b}), \qquad
        \frac{d\psi}{d\theta} = -\frac{b\,\psi}{s\,\theta_{sat}}

    and, below freezing, :math:`\psi = 10^3 L_f (T - T_f) / (g T)` with
    :math:`d\psi/d\theta = 0`. The downward flux across the interface below layer j is

    .. math::
        q_j = -K_j \alpha_j, \qquad
        \alpha_j = \frac{\psi_{j+1} - \psi_j}{z_{j+1} - z_j} - 1, \qquad
        K_j = 10^{-6 \bar f_{ice}} k_{sat,u} (\theta_u / \theta_{sat,u})^{2 b_u + 3}

    with u the upstream layer (j when the flow is downward, j+1 otherwise),
    :math:`\bar f_{ice}` the mean of the two layers' ice fractions theta_ice / porosity, and
    K = 0 where either layer's effective porosity porosity - theta_ice is below 0.05 or
    theta_liq,u <= 1e-3. The top flux q_0 is the infiltration (plus the pond, released over
    the step); the bottom flux is :math:`K_N = 10^{-6 f_{ice,N}} k_{sat,N} s_N^{2b_N+3}`
    (free drainage) or zero. As in CoLM, both psi and K are linearised about the start of
    the step (K through the upstream layer's water content,
    :math:`dK/d\theta = (2b+3) K / \theta`),

    .. math::
        q_j^{n+1} = q_j^n + \frac{\partial q_j}{\partial\theta_j}\Delta\theta_j
                  + \frac{\partial q_j}{\partial\theta_{j+1}}\Delta\theta_{j+1},
        \qquad q_N^{n+1} = K_N + \frac{dK_N}{d\theta_N} \Delta\theta_N \ (\ge 0),

    and the tridiagonal system
    :math:`1000\,dz_j \Delta\theta_j / \Delta t = q_{j-1}^{n+1} - q_j^{n+1} - T r_j`
    is solved for all columns at once. The new water is then updated from the interface
    fluxes :math:`q^{n+1}` themselves, so that the column's budget telescopes exactly:
    change in storage = (infiltration - transpiration - drainage) dt to round-off.

    Post-solve fixes, in CoLM's order: water above the liquid capacity
    (porosity - theta_ice) dz of a layer moves up to the layer above; above the first layer
    it ponds on the surface up to 10 mm and the rest is runoff. Then negative water is
    refilled from the layer below, and below the last layer from outside (``correction``).
    """
    if bottom not in _BOTTOM_CONDITIONS:
        raise ValueError(f"bottom: expected one of {_BOTTOM_CONDITIONS}; got {bottom!r}")
    if not dt > 0:
        raise ValueError(f"dt: expected a positive time step (s); got {dt}")
    n, nl = params.n_columns, params.n_layers
    w = np.asarray(w_liq, dtype=float)
    if w.shape != (n, nl):
        raise ValueError(f"w_liq: expected shape {(n, nl)} like params; got {w.shape}")
    dz = _layer_depths(dz, colm_layer_thickness, nl, "dz")
    z = _layer_depths(z, colm_node_depths, nl, "z")
    infiltration = _column_field("infiltration", infiltration, n)
    transpiration = _column_field("transpiration", transpiration, n)
    if check_values and np.any(transpiration < 0):
        raise ValueError(f"transpiration: expected >= 0 mm s-1; found min {transpiration.min():g}")
    roots = np.asarray(root_fraction, dtype=float)
    if roots.shape not in ((nl,), (n, nl)):
        raise ValueError(f"root_fraction: expected shape ({nl},) or {(n, nl)}; got {roots.shape}")
    if check_values and (np.any(roots < 0) or np.abs(roots.sum(axis=-1) - 1.0).max() > 1e-9):
        raise ValueError("root_fraction: expected values >= 0 summing to 1 over the layers of each column")
    pond = np.zeros(n) if pond is None else np.asarray(pond, dtype=float)
    if pond.shape != (n,) or (check_values and np.any(pond < 0)):
        raise ValueError(f"pond: expected shape ({n},) with values >= 0 mm")

    # Everything below is layer-major, (nlayer, N): a layer is a contiguous row of N columns.
    por = params.layer_major()[0]
    dz_mm = (RHO_WATER * dz)[:, None]
    w = np.array(w.T, order="C")
    if w_ice is None:
        has_ice = False
    else:
        w_ice = np.asarray(w_ice, dtype=float)
        if w_ice.shape != (n, nl) or (check_values and np.any(w_ice < 0)):
            raise ValueError(f"w_ice: expected shape {(n, nl)} with values >= 0 mm")
        has_ice = bool(np.any(w_ice > 0))
    if has_ice:
        theta_ice = w_ice.T / (RHO_ICE * dz[:, None])
        if check_values and np.any(theta_ice > por * (1 + 1e-12)):
            raise ValueError("w_ice: ice fills more than the pore space (theta_ice > porosity)")
        eff_por = np.maximum(por - theta_ice, 0.0)
        f_ice = theta_ice / por
        capacity = eff_por * dz_mm  # liquid water a layer can hold (mm)
        permeable = eff_por >= EFFECTIVE_POROSITY_MIN
    else:
        f_ice = None
        capacity, permeable = _ice_free_constants(params, dz)
    if check_values and (np.any(w < 0) or np.any(w > capacity * (1 + 1e-12) + 1e-12)):
        raise ValueError(
            "w_liq: expected liquid water in [0, (porosity - theta_ice) dz] mm in every layer"
        )

    if params.hydraulics == "van_genuchten":
        psi, dpsi, k_layer, dk_layer = _van_genuchten_layers(w / dz_mm, params)
        _freeze(psi, dpsi, t_soil, n, nl)
    else:
        psi, dpsi, k_layer, dk_layer = _clapp_hornberger_layers(w, dz_mm, params, t_soil, n, nl)
    return _solve(w, psi, dpsi, k_layer, dk_layer, infiltration, transpiration, roots,
                  pond, dt, dz_mm, z, bottom, has_ice, f_ice, permeable, capacity, n, nl)


def _van_genuchten_layers(theta, params):
    """psi, dpsi/dtheta, K and dK/dtheta of every layer, layer-major, van Genuchten-Mualem
    (:mod:`landia.columns.van_genuchten`)."""
    por, _, _, k_sat = params.layer_major()
    theta_r, alpha, vg_n = params.layer_major_van_genuchten()
    psi, dpsi = vg_retention(theta, por, theta_r, alpha, vg_n)
    k_layer, dk_layer = vg_conductivity(theta, por, theta_r, vg_n, k_sat)
    return psi, dpsi, k_layer, dk_layer


def _freeze(psi, dpsi, t_soil, n, nl):
    """Below freezing, psi (in place) is that of liquid water in equilibrium with ice and
    dpsi/dtheta is 0."""
    if t_soil is not None:
        t_soil = np.asarray(t_soil, dtype=float)
        if t_soil.shape != (n, nl) or np.any(~(t_soil > 0)):
            raise ValueError(f"t_soil: expected shape {(n, nl)} with positive temperatures (K)")
        t_soil = np.array(t_soil.T, order="C")
        frozen = np.flatnonzero(t_soil < T_FREEZE)  # psi and dpsi own their memory
        if frozen.size:
            t_frozen = t_soil.ravel()[frozen]
            psi_frozen = 1e3 * LATENT_HEAT_FUSION / GRAVITY * (t_frozen - T_FREEZE) / t_frozen
            psi.ravel()[frozen] = np.maximum(PSI_MIN, psi_frozen)
            dpsi.ravel()[frozen] = 0.0


def _clapp_hornberger_layers(w, dz_mm, params, t_soil, n, nl):
    """psi, dpsi/dtheta, K and dK/dtheta of every layer, layer-major, Clapp-Hornberger."""
    por, psi_sat, _, k_sat = params.layer_major()
    # Retention curve and conductivity of each layer: one log and two exp on 10 N values,
    # in place where possible (this block is the largest cost of the step).
    neg_b, k_exponent = params.layer_major_exponents()  # -b, 2b + 3
    theta = w / dz_mm
    s = theta / por
    log_s = np.clip(s, THETA_LIQ_MIN, 1.0)
    np.log(log_s, out=log_s)
    psi = np.maximum(log_s, np.log(S_MIN))
    psi *= neg_b
    np.exp(psi, out=psi)
    psi *= psi_sat
    np.maximum(psi, PSI_MIN, out=psi)
    np.clip(s, S_MIN, 1.0, out=s)
    s *= por
    dpsi = np.divide(psi, s, out=s)
    dpsi *= neg_b  # dpsi/dtheta = -b psi / (s porosity)
    _freeze(psi, dpsi, t_soil, n, nl)
    k_layer = np.multiply(k_exponent, log_s, out=log_s)
    np.exp(k_layer, out=k_layer)
    k_layer *= k_sat
    k_layer[theta <= THETA_LIQ_MIN] = 0.0
    dk_layer = k_exponent * k_layer
    dk_layer /= np.maximum(theta, THETA_LIQ_MIN, out=theta)  # dK/dtheta = (2b+3) K / theta
    return psi, dpsi, k_layer, dk_layer


def _solve(w, psi, dpsi, k_layer, dk_layer, infiltration, transpiration, roots, pond,
           dt, dz_mm, z, bottom, has_ice, f_ice, permeable, capacity, n, nl):
    """The linearised fluxes, the tridiagonal solve and the post-solve fixes (layer-major)."""
    # Interfaces j = 0..nl-2 (below layer j); K and dK/dtheta from the upstream layer.
    dzn = RHO_WATER * np.diff(z)[:, None]
    alpha = np.subtract(psi[1:], psi[:-1])
    alpha /= dzn
    alpha -= 1.0
    down = alpha <= 0.0
    k_int = np.where(down, k_layer[:-1], k_layer[1:])
    dk_int = np.where(down, dk_layer[:-1], dk_layer[1:])
    if has_ice or not permeable.all():  # factor 1 everywhere otherwise
        factor = (permeable[:-1] & permeable[1:]).astype(float)
        if has_ice:
            # 10^(-6 mean f_ice), taken only where there is ice (exp(-0) = 1 elsewhere)
            f_sum = f_ice[:-1] + f_ice[1:]
            icy = np.flatnonzero(f_sum)
            factor.ravel()[icy] *= np.exp(
                -ICE_IMPEDANCE * np.log(10.0) * 0.5 * f_sum.ravel()[icy]
            )
        k_int *= factor
        dk_int *= factor
    q = -k_int * alpha
    # change of q_j with the upstream water content through K, split by upstream side
    dq_k = np.multiply(alpha, dk_int, out=dk_int)
    np.negative(dq_k, out=dq_k)
    dq_k_down = np.where(down, dq_k, 0.0)
    dq_k -= dq_k_down  # now the part where layer j+1 is upstream
    dq_upper = k_int * dpsi[:-1]
    dq_upper /= dzn
    dq_upper += dq_k_down  # d q_j / d theta_j
    dq_lower = k_int * dpsi[1:]
    dq_lower /= -dzn
    dq_lower += dq_k  # d q_j / d theta_{j+1}

    q_top = infiltration + pond / dt
    if bottom == "free":
        factor_bottom = permeable[-1].astype(float)
        if has_ice:
            factor_bottom *= 10.0 ** (-ICE_IMPEDANCE * f_ice[-1])
        q_bottom = k_layer[-1] * factor_bottom
        dq_bottom = dk_layer[-1] * factor_bottom
    else:
        q_bottom = np.zeros(n)
        dq_bottom = np.zeros(n)
    # (nlayer, N) in C order: roots.T is a transposed view, and the product would keep its
    # column-major layout (making every later use of the sink a strided pass).
    sink = (roots.T[:, None] * transpiration if roots.ndim == 1
            else np.multiply(roots.T, transpiration, order="C"))

    # The matrix: sub-diagonal -dq_upper, super-diagonal dq_lower (passed as they are).
    diag = np.empty((nl, n))
    diag[:] = dz_mm / dt
    diag[:-1] += dq_upper
    diag[1:] -= dq_lower
    diag[-1] += dq_bottom
    rhs = _flux_divergence(q_top, q, q_bottom, np.empty((nl, n)))  # q_in - q_out
    rhs -= sink
    dtheta = solve_tridiagonal_negated_lower(dq_upper, diag, dq_lower, rhs)

    # Interface fluxes at the new time level; the update from them telescopes exactly.
    q_new = np.multiply(dq_upper, dtheta[:-1], out=dq_upper)
    q_new += q
    q_new += np.multiply(dq_lower, dtheta[1:], out=dq_lower)
    # Free drainage never pumps water up into the column.
    q_bottom = np.maximum(q_bottom + dq_bottom * dtheta[-1], 0.0)
    w_new = _flux_divergence(q_top, q_new, q_bottom, rhs)  # dtheta (= rhs) is spent
    w_new -= sink
    w_new *= dt
    w_new += w

    # Post-solve fixes, only on the columns that need them.
    pond_new = np.zeros(n)
    runoff = np.zeros(n)
    over = np.flatnonzero(np.any(w_new > capacity, axis=0))
    if over.size:
        # Water above a layer's capacity moves up; above layer 1 it ponds, then runs off.
        ws = w_new[:, over]
        cap = capacity[:, over]
        for j in range(nl - 1, 0, -1):
            excess = np.maximum(ws[j] - cap[j], 0.0)
            ws[j] = np.minimum(ws[j], cap[j])
            ws[j - 1] += excess
        excess = np.maximum(ws[0] - cap[0], 0.0)
        ws[0] = np.minimum(ws[0], cap[0])
        runoff[over] = np.maximum(excess - POND_MAX, 0.0)
        pond_new[over] = excess - runoff[over]
        w_new[:, over] = ws
    correction = np.zeros(n)
    under = np.flatnonzero(np.any(w_new < 0.0, axis=0))
    if under.size:
        # Negative water is refilled from the layer below, below the last layer from outside.
        ws = w_new[:, under]
        for j in range(nl - 1):
            deficit = np.maximum(-ws[j], 0.0)
            ws[j] += deficit
            ws[j + 1] -= deficit
        correction[under] = np.maximum(-ws[-1], 0.0)
        ws[-1] += correction[under]
        w_new[:, under] = ws

    return SoilWaterResult(
        w_liq=np.ascontiguousarray(w_new.T),
        pond=pond_new,
        infiltration=infiltration,
        transpiration=transpiration,
        drainage=q_bottom,
        runoff=runoff / dt,
        correction=correction / dt,
    )
