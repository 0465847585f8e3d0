"""Minimisers of the analysis cost: PETSc/TAO (default) and scipy L-BFGS-B.

Both take a :class:`~landia.analysis.cost.CostFunction`, a start point and
bounds, and return a :class:`MinimiserResult`. Only :mod:`.tao` imports petsc4py.
"""

from __future__ import annotations

from landia.analysis.minimisers.result import MinimiserResult, projected_gradient_norm
from landia.analysis.minimisers import scipy_lbfgsb, tao
from landia.log import get_logger

__all__ = ["MinimiserResult", "init_minimiser", "minimise", "projected_gradient_norm"]


def init_minimiser(settings) -> None:
    """Initialise the minimiser's library (PETSc, for the TAO backend) before any arithmetic
    of an analysis.

    PETSc's initialisation changes process state that later floating-point work
    sees: an analysis run before it differed from the same analysis run after it by
    2e-14 (measured). Initialising first makes every analysis in a process, and
    under any number of MPI ranks, bit-identical.
    """
    if _use_tao(settings):
        tao.init_petsc()


def _use_tao(settings) -> bool:
    """True for the TAO backend when petsc4py imports; warns once when it does not."""
    if settings.backend != "tao":
        return False
    if tao.petsc_available():
        return True
    if not _warned:
        get_logger("landia.minimiser").warning(
            "petsc4py_unavailable", note="minimiser.backend = 'tao' but petsc4py does not "
            "import; using scipy L-BFGS-B (same analysis, same stopping rule)")
        _warned.append(True)
    return False


_warned: list = []


def minimise(cost, x0, lower, upper, settings) -> MinimiserResult:
    """Dispatch to the configured backend (``settings`` is a MinimiserSettings)."""
    if _use_tao(settings):
        return tao.minimise_tao(cost, x0, lower, upper, settings)
    return scipy_lbfgsb.minimise_scipy(cost, x0, lower, upper, settings)
