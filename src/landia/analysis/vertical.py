"""The analysis increment below the analysed layers: an exponential vertical correlation.

The 3D-Var analyses the top ``analysis.layers`` CoLM layers with a background-error covariance
that has no correlation between layers (the paper's). The layers below take no increment, and
the root zone hears of the observations only by drainage. With ``analysis.vertical_length_m``
= :math:`L_z > 0` the background errors are taken to be correlated in depth as
:math:`\\rho(z_i, z_k) = \\exp(-|z_i - z_k| / L_z)` (node depths :math:`z`, m) with equal
variances below the analysed layers. That correlation is Markov: given the deepest analysed
layer :math:`L`, a deeper layer :math:`k` is independent of the layers above and of the
observations (which see the analysed layers only), so its analysis is the regression on
layer :math:`L`,

.. math:: \\delta x_k = \\exp\\!\\big(-(z_k - z_L) / L_z\\big)\\, \\delta x_L, \\qquad k > L,

the conditional mean of :math:`x_k` given the analysed :math:`x_L` (a two-step analysis: the
analysed layers keep their own per-layer B). Pure numpy: no MPI, no I/O.
"""

from __future__ import annotations

import numpy as np


def vertical_weights(depths, analysed: int, length_m: float) -> np.ndarray:
    """Weights :math:`\\exp(-(z_k - z_L) / L_z)` of the layers below the analysed ones.

    Parameters
    ----------
    depths : array_like (nlayer,)
        Node depths, m, increasing.
    analysed : int
        Number of analysed layers L (from the top), 1 <= L <= nlayer.
    length_m : float
        Vertical correlation length :math:`L_z`, m (> 0).

    Returns
    -------
    ndarray (nlayer - L,)
        One weight in (0, 1) per layer below the analysed ones.
    """
    z = np.asarray(depths, dtype=float)
    if z.ndim != 1 or not 1 <= analysed <= z.size:
        raise ValueError(f"analysed: expected 1 <= L <= {z.size} layers; got {analysed}")
    if not np.all(np.diff(z) > 0):
        raise ValueError("depths: expected increasing node depths")
    if not length_m > 0:
        raise ValueError(f"length_m: expected a length > 0 m; got {length_m}")
    return np.exp(-(z[analysed:] - z[analysed - 1]) / float(length_m))


def extend_increment(increment, depths, length_m: float) -> np.ndarray:
    """The increment of every layer: the analysed layers' own, and below them the deepest
    analysed layer's times :func:`vertical_weights`.

    Parameters
    ----------
    increment : array_like (N, L)
        Increment of the top L layers, m3 m-3 (NaN: no change, carried below as NaN).
    depths : array_like (nlayer,)
        Node depths, m.
    length_m : float
        :math:`L_z`, m; 0 leaves the increment as it is.

    Returns
    -------
    ndarray (N, nlayer) or the increment itself (``length_m`` 0, or L = nlayer)
    """
    inc = np.asarray(increment, dtype=float)
    if inc.ndim != 2:
        raise ValueError(f"increment: expected shape (N, L); got {inc.shape}")
    analysed = inc.shape[1]
    if length_m == 0 or analysed == len(depths):
        return inc
    weights = vertical_weights(depths, analysed, length_m)
    return np.concatenate([inc, inc[:, analysed - 1:] * weights[None, :]], axis=1)
