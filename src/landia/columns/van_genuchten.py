r"""Van Genuchten (1980) retention and Mualem (1976) conductivity, with their derivatives.

Vectorised over arrays of any (matching) shape; the soil-water step calls them on its
layer-major (nlayer, N) arrays. With :math:`S_e = (\theta - \theta_r)/(\theta_{sat} - \theta_r)`
and m = 1 - 1/n:

.. math::
    \psi = -\frac{(S_e^{-1/m} - 1)^{1/n}}{\alpha}, \qquad
    K = K_s S_e^{1/2} \big(1 - (1 - S_e^{1/m})^m\big)^2 .

Both derivatives are singular at saturation (:math:`d\psi/dS_e \propto (1 - S_e)^{1/n - 1}`,
:math:`dK/dS_e \propto (1 - S_e)^{m - 1}`, infinite for n > 1; K - K_s itself goes as
:math:`(1 - S_e)^m`, so that a change of 1e-15 in S_e changes K by up to 1 %). Between
:math:`S_r = 1 - 10^{-4}` (:data:`SE_REGULAR`) and saturation both psi and K are therefore the
straight chords from their values at :math:`S_r` to (0, K_s), with the chords' slopes as
derivatives: finite derivatives for the linearised implicit step, and a state-to-result map
that is Lipschitz. Below :math:`S_r` the closed forms and their analytic derivatives hold.
"""

from __future__ import annotations

import numpy as np

from landia.columns.soil import PSI_MIN, S_MIN, THETA_LIQ_MIN

#: Effective saturation above which psi and K are the chords to saturation (1 - 1e-4).
SE_REGULAR = 1.0 - 1.0e-4
#: Lowest effective saturation used for the conductivity (as Clapp-Hornberger's 1e-3).
SE_K_MIN = 1.0e-3
_LOG_PSI_MAX = float(np.log(-PSI_MIN))


def _log_x_minus_one(log_x):
    """ln(x - 1) from ln x >= 0 without forming x (no overflow): ln x + ln(1 - e^-ln x)."""
    with np.errstate(divide="ignore"):
        return log_x + np.log1p(-np.exp(-log_x))


def retention(theta, porosity, theta_r, alpha, n):
    r"""Matric potential (mm) and its derivative d psi / d theta (mm per m3 m-3).

    Parameters
    ----------
    theta : ndarray
        Liquid water content (m3 m-3).
    porosity, theta_r : ndarray
        Saturated and residual water content (m3 m-3), theta_r < porosity.
    alpha : ndarray
        Van Genuchten alpha (mm-1).
    n : ndarray
        Van Genuchten n (> 1).

    Returns
    -------
    psi : ndarray
        :math:`\max(-10^8, -(S_e^{-1/m} - 1)^{1/n}/\alpha)` (mm, <= 0) with
        :math:`S_e` clipped to [0.01, 1] (as Clapp-Hornberger's s); above
        :math:`S_r = 1 - 10^{-4}` the chord :math:`\psi(S_r)(1 - S_e)/(1 - S_r)` to 0 at
        saturation.
    dpsi : ndarray
        With :math:`x = S_e^{-1/m}`, :math:`d\psi/d\theta = -\psi\, x /
        ((n - 1) S_e (x - 1)(\theta_{sat} - \theta_r))` with the floored psi (as
        Clapp-Hornberger's :math:`-b\psi/\theta`); the chord's slope above :math:`S_r`; > 0.
    """
    width = porosity - theta_r
    se = np.clip((theta - theta_r) / width, S_MIN, 1.0)
    se_d = np.minimum(se, SE_REGULAR)
    log_x = -(n / (n - 1.0)) * np.log(se_d)  # ln S_e^(-1/m)
    psi = -np.exp(np.minimum(_log_x_minus_one(log_x) / n - np.log(alpha), _LOG_PSI_MAX))
    # x / (x - 1) = 1 / (1 - 1/x) = -1 / expm1(-ln x)
    dpsi = -psi / ((n - 1.0) * se_d * width * -np.expm1(-log_x))
    wet = se > SE_REGULAR
    if np.any(wet):
        chord = np.broadcast_to(psi / (1.0 - SE_REGULAR), se.shape)
        psi = np.where(wet, chord * (1.0 - se), psi)
        dpsi = np.where(wet, -chord / np.broadcast_to(width, se.shape), dpsi)
    return psi, dpsi


def conductivity(theta, porosity, theta_r, n, k_sat):
    r"""Mualem-van Genuchten conductivity (mm s-1) and dK/d theta (mm s-1 per m3 m-3).

    Parameters
    ----------
    theta : ndarray
        Liquid water content (m3 m-3).
    porosity, theta_r : ndarray
        Saturated and residual water content (m3 m-3).
    n : ndarray
        Van Genuchten n (> 1).
    k_sat : ndarray
        Conductivity at saturation (mm s-1).

    Returns
    -------
    k : ndarray
        :math:`K_s S_e^{1/2} F^2`, :math:`F = 1 - (1 - y)^m`, :math:`y = S_e^{1/m}`, with
        :math:`S_e` clipped to [1e-3, 1]; above :math:`S_r = 1 - 10^{-4}` the chord from
        :math:`K(S_r)` to :math:`K_s` at saturation; 0 where theta <= max(theta_r, 1e-3)
        (residual water does not move).
    dk : ndarray
        :math:`dK/d\theta = K / (\theta_{sat} - \theta_r)\,
        \big(\tfrac{1}{2 S_e} + \tfrac{2 y (1 - y)^{m - 1}}{S_e F}\big)`, the chord's slope
        above :math:`S_r`. F is formed as :math:`-\mathrm{expm1}(m\, \mathrm{log1p}(-y))`,
        accurate for small y.
    """
    width = porosity - theta_r
    se = np.clip((theta - theta_r) / width, SE_K_MIN, 1.0)
    se_d = np.minimum(se, SE_REGULAR)
    m = 1.0 - 1.0 / n
    y = np.exp(np.log(se_d) / m)
    log1p = np.log1p(-y)
    f = -np.expm1(m * log1p)
    k = k_sat * np.sqrt(se_d) * f * f
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(f > 0.0, y / f, 1.0 / m)  # y/F -> 1/m as y -> 0
    dk = k * (0.5 + 2.0 * ratio * np.exp((m - 1.0) * log1p)) / (se_d * width)
    wet = se > SE_REGULAR
    if np.any(wet):
        slope = np.broadcast_to((k_sat - k) / (1.0 - SE_REGULAR), se.shape)
        k = np.where(wet, k + slope * (se - SE_REGULAR), k)
        dk = np.where(wet, slope / np.broadcast_to(width, se.shape), dk)
    dry = (theta <= THETA_LIQ_MIN) | (theta <= theta_r)
    k = np.where(dry, 0.0, k)
    dk = np.where(dry, 0.0, dk)
    return k, dk
