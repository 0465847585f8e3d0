"""P: hard thresholding of curvelet coefficients, with the kept set frozen."""

from __future__ import annotations

import math

import numpy as np
from pylops import LinearOperator

from landia.errors import OperatorError


class CoefficientSelection(LinearOperator):
    """Keep the ``sigma`` fraction of coefficients of largest modulus in ``reference``.

    Coefficients are complex numbers stored as interleaved (real, imaginary) pairs,
    as produced by :class:`~landia.operators.CurveletTransform`; a pair is kept or
    dropped as a whole and ranked by its modulus :math:`|c_k|`.

    Parameters
    ----------
    reference : ndarray, shape (2 m,)
        Coefficients of the observed image, ``C E y``. The kept set is computed once,
        here, and stays fixed so that the image term is a differentiable quadratic
        (Shen et al. 2024, section 2.2).
    sigma : float in (0, 1]
        Fraction kept ("sigma = 0.5 keeps the top 50 %"): ``ceil(sigma m)`` pairs.

    Notes
    -----
    :math:`P` maps :math:`\\mathbb{R}^{2m} \\to \\mathbb{R}^{2k}`, :math:`P^T` scatters
    back with zeros, :math:`P P^T = I`. Ties in modulus are broken by position so the
    selection is deterministic.
    """

    def __init__(self, reference: np.ndarray, sigma: float, name: str = "P") -> None:
        reference = np.asarray(reference, dtype=np.float64)
        if reference.ndim != 1 or reference.size % 2:
            raise OperatorError("CoefficientSelection: reference must be a 1-D array of "
                                f"(real, imag) pairs, got shape {reference.shape}")
        if not np.all(np.isfinite(reference)):
            raise OperatorError("CoefficientSelection: reference coefficients contain NaN/inf")
        if not 0.0 < sigma <= 1.0:
            raise OperatorError(f"CoefficientSelection: sigma must lie in (0, 1], got {sigma}")
        m = reference.size // 2
        k = min(m, max(1, math.ceil(sigma * m)))
        # Every pair kept (sigma 1, the default): no ranking, and P is the identity
        self.everything = k == m
        if self.everything:
            self.kept = np.arange(m)
        else:
            modulus = np.abs(reference.view(np.complex128))
            order = np.argsort(-modulus, kind="stable")
            self.kept = np.sort(order[:k])
        self.sigma = float(sigma)
        self.n_coefficients = m
        super().__init__(dtype=np.float64, shape=(2 * k, 2 * m), name=name)

    def _matvec(self, x: np.ndarray) -> np.ndarray:
        if self.everything:
            return np.array(x, dtype=np.float64)
        c = np.ascontiguousarray(x, dtype=np.float64).view(np.complex128)
        return np.ascontiguousarray(c[self.kept]).view(np.float64)

    def _rmatvec(self, y: np.ndarray) -> np.ndarray:
        if self.everything:
            return np.array(y, dtype=np.float64)
        out = np.zeros(self.n_coefficients, dtype=np.complex128)
        out[self.kept] = np.ascontiguousarray(y, dtype=np.float64).view(np.complex128)
        return out.view(np.float64)
