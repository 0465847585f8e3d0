"""Cost terms of the 3D-Var: J = JB + JO + JI.

Each term is a quadratic in the control vector x (soil moisture of the top
``layers`` layers over the land cells, m3 m-3, layer-major: x[l * n + i]) and
gives its value, gradient and Hessian-vector product. The structure follows
OOPS's CostTermBase: a cost function is a sum of terms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class CostTerm:
    """Interface of a cost term: ``name``, value/gradient and Hessian action."""

    name: str = "term"

    def value_and_gradient(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        raise NotImplementedError

    def hessian_vector(self, d: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class _DiagonalWeight:
    """A term weighted by the inverse of a diagonal error variance (``self.variance``)."""

    variance: np.ndarray

    def __post_init__(self) -> None:
        self._inv = 1.0 / self.variance

    def _half_weighted_square(self, r: np.ndarray) -> tuple[float, np.ndarray]:
        """(1/2 r^T W r, W r) with W = diag(1 / variance)."""
        w = r * self._inv
        return 0.5 * float(np.dot(r, w)), w


@dataclass
class BackgroundTerm(_DiagonalWeight, CostTerm):
    """JB = 1/2 (x - xb)^T B^-1 (x - xb) with a diagonal B.

    Parameters
    ----------
    background : ndarray (n,)
        xb, m3 m-3.
    variance : ndarray (n,)
        Diagonal of B, (m3 m-3)^2, one value per cell and layer, all > 0.

    Notes
    -----
    :math:`\\nabla J_B = B^{-1}(x - x_b)`, :math:`\\nabla^2 J_B = B^{-1}`.
    """

    background: np.ndarray
    variance: np.ndarray
    name: str = "background"

    def value_and_gradient(self, x):
        return self._half_weighted_square(x - self.background)

    def hessian_vector(self, d):
        return d * self._inv


@dataclass
class PointObservationTerm(_DiagonalWeight, CostTerm):
    """JO = 1/2 (H x - y)^T (O + F)^-1 (H x - y) for point observations on model cells.

    Parameters
    ----------
    operator : PointSelection
        H, picking the observed entries of x.
    observations : ndarray (p,)
        y, m3 m-3.
    variance : ndarray (p,)
        Diagonal of O + F (observation plus representativeness error), (m3 m-3)^2.

    Notes
    -----
    :math:`\\nabla J_O = H^T R^{-1}(Hx - y)`, :math:`\\nabla^2 J_O = H^T R^{-1} H`.
    """

    operator: object
    observations: np.ndarray
    variance: np.ndarray
    name: str = "point"

    def value_and_gradient(self, x):
        value, w = self._half_weighted_square(self.operator.matvec(x) - self.observations)
        return value, self.operator.rmatvec(w)

    def hessian_vector(self, d):
        return self.operator.rmatvec(self._inv * self.operator.matvec(d))


@dataclass
class ImageLayer:
    """The image operator of one layer: Hc = P C E S acting on the whole x.

    ``cells`` are the positions in x of this layer's cells with a valid observation
    (S), ``operator`` is ``P @ C @ E`` and ``target`` is ``P C E y``.
    """

    cells: np.ndarray
    operator: object
    target: np.ndarray


@dataclass
class ImageTerm(CostTerm):
    """JI = 1/(2 s2) sum_l || P_l C E_l S_l x - P_l C E_l y_l ||^2.

    Parameters
    ----------
    layers : list of ImageLayer
        One image operator per analysed layer.
    variance : float
        s2, the image-error variance, (m3 m-3)^2; 1 gives the paper's unweighted term.

    Notes
    -----
    :math:`\\nabla J_I = \\frac{1}{s^2} \\sum_l S_l^T E_l^T C^T P_l^T
    (P_l C E_l S_l x - P_l C E_l y_l)`, and the Hessian is
    :math:`\\frac{1}{s^2}\\sum_l S_l^T E_l^T C^T P_l^T P_l C E_l S_l`. Because C is a
    Parseval frame its eigenvalues lie in :math:`[0, \\|E\\|^2/s^2]`, which keeps the
    analysis well conditioned (science notes 4b).
    """

    layers: list
    variance: float
    name: str = "image"

    def value_and_gradient(self, x):
        value = 0.0
        grad = np.zeros_like(x)
        for layer in self.layers:
            r = layer.operator.matvec(x[layer.cells]) - layer.target
            value += float(np.dot(r, r))
            grad[layer.cells] += layer.operator.rmatvec(r)
        return 0.5 * value / self.variance, grad / self.variance

    def hessian_vector(self, d):
        out = np.zeros_like(d)
        for layer in self.layers:
            out[layer.cells] += layer.operator.rmatvec(layer.operator.matvec(d[layer.cells]))
        return out / self.variance
