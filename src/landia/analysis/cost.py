"""The 3D-Var cost function: a sum of cost terms, with bookkeeping."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from landia.analysis.terms import CostTerm


@dataclass
class CostFunction:
    """J(x) = sum of the active terms.

    Records every evaluation (value, gradient norm, wall time) so that the
    minimiser's iteration history and the time spent in J can be reported.
    """

    terms: list[CostTerm]
    evaluations: int = 0
    seconds: float = 0.0
    _per_term: dict = field(default_factory=dict)

    def value_and_gradient(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """J(x) and its gradient (units of J per m3 m-3)."""
        t0 = time.perf_counter()
        total = 0.0
        grad = np.zeros_like(x)
        for term in self.terms:
            v, g = term.value_and_gradient(x)
            total += v
            grad += g
        self.evaluations += 1
        self.seconds += time.perf_counter() - t0
        return total, grad

    def hessian_vector(self, d: np.ndarray) -> np.ndarray:
        """Exact Hessian action (every term is quadratic)."""
        out = np.zeros_like(d)
        for term in self.terms:
            out += term.hessian_vector(d)
        return out

    def term_values(self, x: np.ndarray) -> dict[str, float]:
        """Value of each active term at x."""
        return {term.name: term.value_and_gradient(x)[0] for term in self.terms}
