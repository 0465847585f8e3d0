"""What a minimiser returns, and the stopping measure both backends share."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class MinimiserResult:
    """Outcome of a minimisation.

    Attributes
    ----------
    x : ndarray
        The minimiser (analysis control vector).
    cost, gradient_norm : list of float
        J and the norm of the projected gradient per iteration (0 = start point).
    reason : str
        Why it stopped (TAO's converged reason name, or scipy's message).
    solver : str
        e.g. ``"tao:blmvm"`` or ``"scipy:L-BFGS-B"``.
    clipped : int
        Values of the analysis clipped to the bounds after the minimisation (an unbounded
        minimisation in control space, or an unbounded TAO type).
    control : ndarray or None
        The minimising control vector v when the analysis was minimised in control space
        (x = xb + T v); None otherwise.
    """

    x: np.ndarray
    cost: list = field(default_factory=list)
    gradient_norm: list = field(default_factory=list)
    reason: str = ""
    solver: str = ""
    evaluations: int = 0
    clipped: int = 0
    control: np.ndarray | None = None

    @property
    def iterations(self) -> int:
        return max(0, len(self.cost) - 1)


def projected_gradient_norm(x: np.ndarray, g: np.ndarray, lower: np.ndarray,
                            upper: np.ndarray) -> float:
    """Norm of the gradient with components pushing against an active bound removed."""
    pg = g.copy()
    pg[(x <= lower) & (g > 0)] = 0.0
    pg[(x >= upper) & (g < 0)] = 0.0
    return float(np.linalg.norm(pg))
