"""Online checks of operators and gradients: the dot test and the Taylor test.

They are used by the test suite and, optionally, before a minimisation
(``landia analyse --check``), following OOPS's online adjoint/gradient tests.
"""

from __future__ import annotations

from typing import Callable

import numpy as np


def dot_test(op, rng: np.random.Generator | None = None) -> float:
    """Relative mismatch of the adjoint identity <A x, y> = <x, A^T y>.

    Parameters
    ----------
    op : pylops.LinearOperator
        Real operator of shape (m, n).
    rng : numpy.random.Generator, optional
        Source of the random x (n,) and y (m,).

    Returns
    -------
    float
        :math:`|\\langle Ax, y\\rangle - \\langle x, A^T y\\rangle| /
        \\max(|\\langle Ax, y\\rangle|, |\\langle x, A^T y\\rangle|)`; round-off for a
        correct adjoint (tests require <= 1e-12).
    """
    rng = rng or np.random.default_rng(1234)
    m, n = op.shape
    x = rng.standard_normal(n)
    y = rng.standard_normal(m)
    lhs = float(np.dot(op.matvec(x), y))
    rhs = float(np.dot(x, op.rmatvec(y)))
    scale = max(abs(lhs), abs(rhs), np.finfo(float).tiny)
    return abs(lhs - rhs) / scale


def taylor_test(
    func: Callable[[np.ndarray], tuple[float, np.ndarray]],
    x: np.ndarray,
    direction: np.ndarray | None = None,
    steps: np.ndarray | None = None,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Taylor remainders of a value-and-gradient function.

    For a correct gradient g, the first-order remainder
    :math:`r(h) = |J(x + h d) - J(x) - h\\, g \\cdot d|` decreases as :math:`h^2`
    (exactly 0 up to round-off for a quadratic only in the h^2 term). Returns the
    ratio :math:`r(h) / (h\\,|g \\cdot d|)` for each step h, which goes to 0 linearly
    in h for a correct gradient and stays O(1) for a wrong one.
    """
    rng = rng or np.random.default_rng(4321)
    d = rng.standard_normal(x.shape) if direction is None else direction
    steps = np.logspace(-1, -6, 6) if steps is None else steps
    j0, g0 = func(x)
    slope = float(np.dot(g0, d))
    out = []
    for h in steps:
        jh, _ = func(x + h * d)
        out.append(abs(jh - j0 - h * slope) / max(abs(h * slope), np.finfo(float).tiny))
    return np.asarray(out)
