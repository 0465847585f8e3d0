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
analysed layers keep their own per-layer B).

With ``analysis.vertical_carry = "anomaly"`` the layers below take the anomaly of that
increment about its land mean instead,

.. math:: \\delta x_k = \\exp\\!\\big(-(z_k - z_L) / L_z\\big)\\,
          \\big(\\delta x_L - \\overline{\\delta x_L}\\big), \\qquad
          \\overline{\\delta x_L} = \\frac{1}{n} \\sum_{i=1}^{n} \\delta x_{L,i}

over the n land cells with a finite increment: the regression applied to the increment's
spatial structure, not to its domain-wide level. When the analysis takes a product's level
(a 3D-Var that trusts the stated error), that level is mostly the product's bias against the
model, which the deeper layers, remembering every day's increment, would accumulate
(docs/analysis.md, *Below the analysed layers*). The mean is the cycle's to compute over all
ranks (:func:`land_mean` on the gathered values). Pure numpy: no MPI, no I/O.
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


def land_mean(values) -> float:
    """Mean of the finite values (the deepest analysed layer's increment over the land
    cells), m3 m-3; 0.0 when none is finite.

    Summed in the order given: the cycle passes the values gathered in the global cell order,
    so the mean has the same bits on any number of ranks.
    """
    v = np.asarray(values, dtype=float).ravel()
    v = v[np.isfinite(v)]
    return float(np.mean(v)) if v.size else 0.0


def extend_increment(increment, depths, length_m: float, offset: float = 0.0) -> np.ndarray:
    """The increment of every layer: the analysed layers' own, and below them the deepest
    analysed layer's, less ``offset``, times :func:`vertical_weights`.

    Parameters
    ----------
    increment : array_like (N, L)
        Increment of the top L layers, m3 m-3 (NaN: no change, carried below as NaN).
    depths : array_like (nlayer,)
        Node depths, m.
    length_m : float
        :math:`L_z`, m; 0 leaves the increment as it is.
    offset : float, optional
        Subtracted from the deepest analysed layer's increment before it is carried down,
        m3 m-3: 0 (``vertical_carry = "increment"``) or its :func:`land_mean` (``"anomaly"``).
        The analysed layers keep their own increment either way.

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
    if not np.isfinite(offset):
        raise ValueError(f"offset: expected a finite number; got {offset}")
    weights = vertical_weights(depths, analysed, length_m)
    # x - 0.0 has the bits of x: the whole increment's (vertical_carry = 'increment') as before
    return np.concatenate([inc, (inc[:, analysed - 1:] - offset) * weights[None, :]], axis=1)
