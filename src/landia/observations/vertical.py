"""Vertical mapping of product layers (depth ranges) to CoLM layers (node depths).

A product gives soil moisture over depth ranges :math:`[t_k, b_k)` (ERA5 0-7, 7-28, 28-100,
100-289 cm; GLDAS-2.1 Noah 0-10, 10-40, 40-100, 100-200 cm; satellites about 0-5 cm); the
model's layers are represented by their node depths :math:`z_j`
(:func:`landia.grid.colm_node_depths`: 0.0071, 0.0279, 0.0623, 0.1189, ... m). The mapping is
a weight matrix :math:`W` (n_model, n_product) applied layer-wise,
:math:`v^{model}_j = \\sum_k W_{jk} v^{product}_k`; a model layer whose row of :math:`W` is
zero is *not observed* (NaN). Only the product layers with a non-zero weight enter a model
layer, so a NaN in an unused product layer does not spread.

Methods
-------
``"node_in_range"`` (default)
    :math:`W_{jk} = 1` for the product layer with :math:`t_k \\le z_j < b_k`. This is what
    the paper did with ERA-Interim's 0-7 cm layer for the top three CoLM layers.
``"linear"``
    Linear interpolation in depth between the product layers' mid-depths
    :math:`m_k = (t_k + b_k)/2`; constant (the first layer's value) above :math:`m_1`,
    constant (the last layer's value) between :math:`m_n` and :math:`b_n`, not observed at
    or below :math:`b_n`.

The error variance is mapped with the same weights (for ``"linear"`` an interpolation of
variances, not the variance of the interpolated value). Arithmetic only: no I/O here.
"""

from __future__ import annotations

import numpy as np

from landia.errors import InputError
from landia.grid import colm_node_depths, coordinate_pair

METHODS = ("node_in_range", "linear")


def _check_layers(layer_top, layer_bottom) -> tuple[np.ndarray, np.ndarray]:
    top, bot = coordinate_pair(layer_top, layer_bottom, "vertical: layer_top and layer_bottom")
    if not (np.all(np.isfinite(top)) and np.all(np.isfinite(bot))):
        raise InputError("vertical: layer depths must be finite")
    if np.any(top < 0) or np.any(bot <= top):
        raise InputError(f"vertical: layer depth ranges must satisfy 0 <= top < bottom (m); "
                         f"got {[(float(a), float(b)) for a, b in zip(top, bot)]}")
    if np.any(top[1:] < bot[:-1]):
        raise InputError(f"vertical: product layers must be ordered from the surface down "
                         f"and not overlap; got {[(float(a), float(b)) for a, b in zip(top, bot)]}")
    return top, bot


def _check_nodes(node_depths) -> np.ndarray:
    z = colm_node_depths() if node_depths is None else np.atleast_1d(
        np.asarray(node_depths, dtype=float))
    if z.ndim != 1 or z.size == 0 or not np.all(np.isfinite(z)) or np.any(z < 0):
        raise InputError(f"vertical: node depths must be a 1-D array of finite depths >= 0 m; "
                         f"got {node_depths!r}")
    if np.any(np.diff(z) <= 0):
        raise InputError("vertical: node depths must be strictly increasing")
    return z


def vertical_weights(layer_top, layer_bottom, node_depths=None,
                     method: str = "node_in_range") -> np.ndarray:
    """Weight matrix W (n_model, n_product) of the vertical mapping.

    Parameters
    ----------
    layer_top, layer_bottom : array (n_product,)
        Product layer depth ranges, m, from the surface down.
    node_depths : array (n_model,), optional
        Model node depths, m (default: the 10 CoLM nodes, :func:`colm_node_depths`).
    method : ``"node_in_range"`` or ``"linear"``

    Returns
    -------
    ndarray (n_model, n_product)
        Rows sum to 1 for observed model layers and are zero for the others.
    """
    top, bot = _check_layers(layer_top, layer_bottom)
    z = _check_nodes(node_depths)
    if method not in METHODS:
        raise InputError(f"vertical: method must be one of {METHODS}; got {method!r}")
    w = np.zeros((z.size, top.size))
    if method == "node_in_range":
        inside = (z[:, None] >= top[None, :]) & (z[:, None] < bot[None, :])
        w[inside] = 1.0
        return w
    mid = 0.5 * (top + bot)
    for j, zj in enumerate(z):
        if zj >= bot[-1]:
            continue
        if zj <= mid[0]:
            w[j, 0] = 1.0
        elif zj >= mid[-1]:
            w[j, -1] = 1.0
        else:
            k = int(np.searchsorted(mid, zj, side="right")) - 1
            a = (zj - mid[k]) / (mid[k + 1] - mid[k])
            w[j, k] = 1.0 - a
            if a > 0:
                w[j, k + 1] = a
    return w


def observed_layers(layer_top, layer_bottom, node_depths=None,
                    method: str = "node_in_range") -> np.ndarray:
    """Which model layers a product layering observes: bool (n_model,).

    E.g. a 0-5 cm satellite layer observes CoLM layers 1-2 (nodes 0.0071, 0.0279 m) with
    ``"node_in_range"``; ERA5's four layers (0-2.89 m) observe all ten (node 10 is at
    2.865 m), GLDAS's (0-2 m) layers 1-9.
    """
    return vertical_weights(layer_top, layer_bottom, node_depths, method).sum(axis=1) > 0


def map_layers(values, layer_top, layer_bottom, node_depths=None,
               method: str = "node_in_range", error_variance=None
               ) -> tuple[np.ndarray, np.ndarray | None]:
    """Map product layers to model layers.

    Parameters
    ----------
    values : array (n_product, ...)
        Product soil moisture, m3 m-3, layers first (e.g. (n_product, ny, nx)).
    layer_top, layer_bottom : array (n_product,)
        Product layer depth ranges, m.
    node_depths : array (n_model,), optional
        Model node depths, m (default: the 10 CoLM nodes).
    method : ``"node_in_range"`` (default) or ``"linear"``
    error_variance : array like ``values``, optional
        Product error variance, (m3 m-3)^2, mapped with the same weights.

    Returns
    -------
    values : ndarray (n_model, ...)
        NaN for model layers that are not observed, and where a contributing product value
        is NaN.
    error_variance : ndarray (n_model, ...) or None
    """
    w = vertical_weights(layer_top, layer_bottom, node_depths, method)
    v = np.asarray(values, dtype=float)
    if v.ndim == 0 or v.shape[0] != w.shape[1]:
        raise InputError(f"vertical: values have shape {v.shape}; expected {w.shape[1]} "
                         f"product layers first")
    ev = None
    if error_variance is not None:
        ev = np.asarray(error_variance, dtype=float)
        if ev.shape != v.shape:
            raise InputError(f"vertical: error variance shape {ev.shape} differs from values "
                             f"{v.shape}")

    def apply(x: np.ndarray) -> np.ndarray:
        out = np.full((w.shape[0],) + x.shape[1:], np.nan)
        for j in range(w.shape[0]):
            ks = np.flatnonzero(w[j])
            if ks.size:
                out[j] = sum(w[j, k] * x[k] for k in ks)
        return out

    return apply(v), (None if ev is None else apply(ev))


def map_field(field, node_depths=None, method: str = "node_in_range"):
    """Map a :class:`~landia.observations.product.ProductField`'s layers to model layers.

    Returns
    -------
    values : ndarray (n_model, ny, nx)
    error_variance : ndarray (n_model, ny, nx) or None
    observed : ndarray of bool (n_model,)
    """
    try:
        values, ev = map_layers(field.values, field.layer_top, field.layer_bottom,
                                node_depths, method, field.error_variance)
    except InputError as e:
        raise InputError(f"{field.source}: {e}") from None
    return values, ev, observed_layers(field.layer_top, field.layer_bottom, node_depths, method)
