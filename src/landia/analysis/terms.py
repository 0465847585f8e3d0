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

    Parameters
    ----------
    cells : ndarray of int
        Positions in x of the cells the term compares (S): the layer's observed cells, or all
        its land cells for the image term over the whole analysis image.
    selection : CoefficientSelection
        P, the kept coefficients of this layer's observed image.
    transform : LinearOperator
        ``C @ E`` (times the gap weights W^1/2 for the whole image): every curvelet
        coefficient of the filled image of ``cells``.
    observed : ndarray
        ``transform`` applied to the observed image (interleaved real pairs).
    scale : ndarray of int
        The image-error variance class of every complex coefficient of C: its scale
        (``CurveletTransform.coefficient_scale``), or its band
        (``CurveletTransform.coefficient_band``) with ``analysis.image_error_bands =
        "wedge"``. Class 0 is the low-pass band either way.
    innovation_cells, innovation_transform, innovation_observed : optional
        The same three for the observed cells only, ``C E_obs`` and ``C E_obs y``: the
        innovations y - H x of the image diagnostics. Default: ``cells``, ``transform`` and
        ``observed`` (the term compares the observed cells only).
    fill : LinearOperator, optional
        The operator before C: ``transform = C @ fill`` (the fill E, times W^1/2 where the
        term weights cells). Set by the builders; the wedge split of JI
        (:mod:`landia.analysis.wedge_split`) needs it.

    Attributes
    ----------
    operator : LinearOperator
        ``P @ transform``.
    target : ndarray
        ``P observed``.
    kept_scale : ndarray of int
        Variance class (scale or band) of each kept complex coefficient.
    """

    cells: np.ndarray
    selection: object
    transform: object
    observed: np.ndarray
    scale: np.ndarray
    innovation_cells: np.ndarray | None = None
    innovation_transform: object = None
    innovation_observed: np.ndarray | None = None
    fill: object = None

    def __post_init__(self) -> None:
        self.operator = self.selection @ self.transform
        self.target = self.selection.matvec(self.observed)
        self.kept_scale = np.asarray(self.scale)[self.selection.kept]
        if self.innovation_cells is None:
            self.innovation_cells = self.cells
            self.innovation_transform = self.transform
            self.innovation_observed = self.observed


@dataclass
class ImageTerm(CostTerm):
    """JI = 1/2 sum_l sum_j || P_lj C E_l S_l x - P_lj C E_l y_l ||^2 / s2_j.

    Parameters
    ----------
    layers : list of ImageLayer
        One image operator per analysed layer.
    variance : float or ndarray (scales,) or (bands,)
        The image-error variance, (m3 m-3)^2: one s2 for every scale, or one s2_j per
        curvelet scale j (0 = low-pass), or one per band (scale and wedge) when the layers'
        ``scale`` holds bands (``analysis.image_error_bands = "wedge"``). 1 gives the paper's
        unweighted term.

    Notes
    -----
    :math:`P_{lj}` keeps the kept coefficients of scale (or band) j. With
    :math:`W_l = \\mathrm{diag}(1/s^2_{j(k)})` over the kept coefficients k (both numbers
    of a complex pair),

    .. math:: \\nabla J_I = \\sum_l S_l^T E_l^T C^T P_l^T W_l
              (P_l C E_l S_l x - P_l C E_l y_l),

    and the Hessian is :math:`\\sum_l S_l^T E_l^T C^T P_l^T W_l P_l C E_l S_l`. Because C is
    a Parseval frame its eigenvalues lie in :math:`[0, \\|E\\|^2/\\min_j s^2_j]`, which keeps
    the analysis well conditioned (science notes 4b). A scale's s2_j means what a single
    s2 means: the variance of a white image error that the term would see, per cell (see
    :mod:`landia.analysis.image_diagnostics`).
    """

    layers: list
    variance: float | np.ndarray
    name: str = "image"
    #: Per x entry, the variance of a white image error the correlated B's preconditioner
    #: assumes at each compared cell (None: the low-pass scale's s2 everywhere); set with the
    #: per-cell standardised residual of :mod:`landia.analysis.local_error`, (m3 m-3)^2.
    cell_variance: np.ndarray | None = None

    def __post_init__(self) -> None:
        v = np.atleast_1d(np.asarray(self.variance, dtype=np.float64))
        if v.ndim != 1 or not np.all(np.isfinite(v) & (v > 0)):
            raise ValueError(f"ImageTerm: image-error variances must be finite and > 0, got "
                             f"{v}")
        self.scale_variance = v
        # One s2 for all scales keeps the scalar arithmetic (and its bits) of a single s2.
        self._uniform = bool(np.all(v == v[0]))
        self._weights = []
        for layer in self.layers:
            if self._uniform:
                self._weights.append(None)
                continue
            if layer.kept_scale.size and layer.kept_scale.max() >= v.size:
                raise ValueError(f"ImageTerm: {v.size} scale variance(s) for a transform "
                                 f"with {layer.kept_scale.max() + 1} scales")
            self._weights.append(np.repeat(1.0 / v[layer.kept_scale], 2))

    def value_and_gradient(self, x):
        if self._uniform:
            value = 0.0
            grad = np.zeros_like(x)
            for layer in self.layers:
                r = layer.operator.matvec(x[layer.cells]) - layer.target
                value += float(np.dot(r, r))
                grad[layer.cells] += layer.operator.rmatvec(r)
            s2 = self.scale_variance[0]
            return 0.5 * value / s2, grad / s2
        value = 0.0
        grad = np.zeros_like(x)
        for i, layer in enumerate(self.layers):
            r = layer.operator.matvec(x[layer.cells]) - layer.target
            wr = r * self._weights[i]
            value += float(np.dot(r, wr))
            grad[layer.cells] += layer.operator.rmatvec(wr)
        return 0.5 * value, grad

    def hessian_vector(self, d):
        out = np.zeros_like(d)
        if self._uniform:
            for layer in self.layers:
                out[layer.cells] += layer.operator.rmatvec(layer.operator.matvec(d[layer.cells]))
            return out / self.scale_variance[0]
        for i, layer in enumerate(self.layers):
            r = layer.operator.matvec(d[layer.cells])
            out[layer.cells] += layer.operator.rmatvec(r * self._weights[i])
        return out
