"""Minimisers of the analysis cost: PETSc/TAO (default) and scipy L-BFGS-B.

Both take a :class:`~landia.analysis.cost.CostFunction`, a start point and
bounds, and return a :class:`MinimiserResult`. Only :mod:`.tao` imports petsc4py.
"""

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
    """

    x: np.ndarray
    cost: list = field(default_factory=list)
    gradient_norm: list = field(default_factory=list)
    reason: str = ""
    solver: str = ""
    evaluations: int = 0

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


def prepare(settings) -> None:
    """Initialise the minimiser's library before any arithmetic of an analysis.

    PETSc's initialisation changes process state that later floating-point work
    sees: an analysis run before it differed from the same analysis run after it by
    2e-14 (measured). Initialising first makes every analysis in a process, and
    under any number of MPI ranks, bit-identical.
    """
    if _use_tao(settings):
        from landia.analysis.minimisers.tao import init_petsc

        init_petsc()


def _use_tao(settings) -> bool:
    """True for the TAO backend when petsc4py imports; warns once when it does not."""
    if settings.backend != "tao":
        return False
    from landia.analysis.minimisers.tao import petsc_available

    if petsc_available():
        return True
    if not _warned:
        from landia.log import get_logger

        get_logger("landia.minimiser").warning(
            "petsc4py_unavailable", note="minimiser.backend = 'tao' but petsc4py does not "
            "import; using scipy L-BFGS-B (same analysis, same stopping rule)")
        _warned.append(True)
    return False


_warned: list = []


def minimise(cost, x0, lower, upper, settings) -> MinimiserResult:
    """Dispatch to the configured backend (``settings`` is a MinimiserSettings)."""
    if _use_tao(settings):
        from landia.analysis.minimisers.tao import minimise_tao

        return minimise_tao(cost, x0, lower, upper, settings)
    from landia.analysis.minimisers.scipy_lbfgsb import minimise_scipy

    return minimise_scipy(cost, x0, lower, upper, settings)
