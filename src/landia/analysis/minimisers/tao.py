"""PETSc/TAO backend: the only module of landia that imports petsc4py.

petsc4py is imported inside the functions, not at module level: it is optional (the scipy
backend stands in), and ``petsc4py.init`` must run, with the command line's options and on
``COMM_SELF``, before ``PETSc`` is imported.

TAO runs on ``PETSc.COMM_SELF`` on the root rank: the control vector of the
image analysis is global (the curvelet transform couples all cells) and small
enough for one process (about 1 M values at 0.25 deg).
"""

from __future__ import annotations

import re

import numpy as np

from landia.analysis.minimisers.result import MinimiserResult, projected_gradient_norm
from landia.errors import ConfigError, MinimisationError
from landia.log import get_logger

_BOUNDED = {"blmvm", "bqnls", "bncg", "bqnkls", "bqnktr", "bqnktl", "tron", "gpcg", "bnls",
            "bntr", "bntl"}


def petsc_available() -> bool:
    """True when petsc4py imports (the scipy backend is used otherwise)."""
    try:
        import petsc4py  # noqa: F401
    except ImportError:
        return False
    return True  # a broken PETSc build fails loudly at init, not silently here


def init_petsc(argv: list[str] | None = None) -> None:
    """Initialise petsc4py once, on this process alone, with PETSc options from ``argv``.

    TAO runs on the root only, so PETSc's world communicator is ``MPI_COMM_SELF``: PETSc's
    initialisation (which broadcasts options over its world communicator) must not
    be collective over the job while the other ranks wait elsewhere. Must run
    before ``from petsc4py import PETSc``; later calls are no-ops.
    """
    import petsc4py  # optional: see the module notes

    try:
        from mpi4py import MPI  # initialises MPI on import: only when PETSc starts

        comm = MPI.COMM_SELF
    except ImportError:  # serial installation without mpi4py
        comm = None
    petsc4py.init(["landia"] + list(argv or []), comm=comm)


class _TaoProblem:
    """Adapter between a CostFunction and TAO's objective-and-gradient callback."""

    def __init__(self, cost, lower, upper) -> None:
        self.cost = cost
        self.lower = lower
        self.upper = upper
        self.history_cost: list[float] = []
        self.history_grad: list[float] = []
        self._last: tuple | None = None

    def objective_gradient(self, tao, x, g) -> float:
        xa = x.getArray(readonly=True)
        f, grad = self.cost.value_and_gradient(np.array(xa))
        g.setArray(grad)
        self._last = (np.array(xa), f, grad)
        return f

    def monitor(self, tao) -> None:
        x = tao.getSolution().getArray(readonly=True)
        if self._last is not None and np.array_equal(self._last[0], x):
            _, f, grad = self._last
        else:
            f, grad = self.cost.value_and_gradient(np.array(x))
        self.history_cost.append(float(f))
        self.history_grad.append(projected_gradient_norm(np.asarray(x), grad, self.lower, self.upper))
        get_logger("landia.tao").info("minimiser_iteration", iteration=len(self.history_cost) - 1,
                                      J=float(f), gradient_norm=self.history_grad[-1])


def minimise_tao(cost, x0, lower, upper, settings) -> MinimiserResult:
    """Minimise ``cost`` within [lower, upper] with PETSc/TAO.

    The solver type, tolerances and iteration limit come from ``settings``
    (MinimiserSettings); PETSc's options database (command line, ``PETSC_OPTIONS``,
    ``settings.petsc_options``) is applied last with ``setFromOptions()``, so
    ``-tao_type``, ``-tao_monitor`` ... override the configuration. The relative
    gradient tolerance maps to TAO's ``gttol`` (||g|| <= gttol ||g0||).

    Raises
    ------
    ConfigError
        PETSc refused an option of its database (an unknown ``-tao_type``, a value that is not
        a number ...), naming the option.
    MinimisationError
        TAO stopped with a negative (diverged) converged reason.
    """
    init_petsc()
    from petsc4py import PETSc

    log = get_logger("landia.tao")
    opts = PETSc.Options()
    # The configuration's options are this solve's: removed again after it (the command line
    # and PETSC_OPTIONS, already in the database, win and stay).
    added = [key for key in _parse_options(settings.petsc_options) if not opts.hasName(key)]
    for key, value in _parse_options(settings.petsc_options).items():
        if key in added:
            opts.setValue(key, value)
    # Scalar initial-Hessian scaling: 2.5x fewer iterations than lmvm's default diagonal
    # scaling on this problem (science notes 4b).
    # (Measured on the demo case: lmvm 30 iterations with scalar scaling, 92 with the
    # default.) Removed again after the solve so bounded types do not report it unused.
    scale_key = "tao_lmvm_mat_lmvm_scale_type"
    own_scale = not opts.hasName(scale_key)
    if own_scale:
        opts.setValue(scale_key, "scalar")

    # Reproducible reductions: by default PETSc computes VecMDot/VecMAXPY (used by the LMVM
    # matrices) with one BLAS gemv over vectors that happen to be adjacent in memory, so the
    # summation order, and the last bits of the analysis, depended on where PETSc's
    # allocator put the work vectors (1 solve in 3 differed by ~1e-13 from a repeat of
    # itself). Vector by vector, the result is the same on every run and every restart.
    for key in ("vec_mdot_use_gemv", "vec_maxpy_use_gemv"):
        if not opts.hasName(key):
            opts.setValue(key, "0")

    n = x0.size
    problem = _TaoProblem(cost, lower, upper)
    x = PETSc.Vec().createSeq(n, comm=PETSc.COMM_SELF)
    x.setArray(np.clip(x0, lower, upper))
    g = x.duplicate()
    tao = PETSc.TAO().create(comm=PETSc.COMM_SELF)
    try:
        tao.setType(settings.tao_type)
        tao.setObjectiveGradient(problem.objective_gradient, g)
        bounded = bool(np.any(np.isfinite(lower)) or np.any(np.isfinite(upper)))
        if bounded:  # infinite bounds (the control-space analysis): none at all
            xl, xu = x.duplicate(), x.duplicate()
            xl.setArray(lower)
            xu.setArray(upper)
            tao.setVariableBounds(xl, xu)
        tao.setTolerances(gatol=settings.gatol, grtol=0.0, gttol=settings.gttol)
        tao.setMaximumIterations(settings.max_iterations)
        tao.setMonitor(problem.monitor)
        try:
            tao.setFromOptions()
        except PETSc.Error as exc:
            raise _options_error(opts, exc) from None
        solver_type = tao.getType()
        if bounded and solver_type not in _BOUNDED:
            log.warning("tao_unbounded_type", tao_type=solver_type,
                        note="bounds are ignored by this TAO type; result clipped")
        tao.solve(x)
        reason_code = tao.getConvergedReason()
        reason = _reason_name(PETSc, reason_code)
        xa = np.array(x.getArray(readonly=True))
        iterations = tao.getIterationNumber()
    finally:
        tao.destroy()
        if own_scale:
            opts.delValue(scale_key)
        for key in added:
            opts.delValue(key)
    clipped = np.clip(xa, lower, upper)
    result = MinimiserResult(x=clipped, cost=problem.history_cost,
                             gradient_norm=problem.history_grad, reason=reason,
                             solver=f"tao:{solver_type}", evaluations=cost.evaluations,
                             clipped=int(np.count_nonzero(clipped != xa)))
    if reason_code < 0:
        raise MinimisationError(
            f"TAO {solver_type} diverged: {reason} after {iterations} iterations "
            f"(J = {result.cost[-1] if result.cost else float('nan'):.6g}, |g| = "
            f"{result.gradient_norm[-1] if result.gradient_norm else float('nan'):.3e}); "
            "check the error variances and bounds, or raise minimiser.max_iterations")
    return result


def _options_error(opts, exc) -> ConfigError:
    """A one-line ConfigError for a PETSc error raised while TAO read its options.

    petsc4py's message is ``error code N`` followed by PETSc's error stack (``[rank] ...``
    lines), the last of which says what was wrong (``Unable to find requested Tao type
    nonexistent``); the option is the one of the database whose value that line quotes.
    """
    lines = [re.sub(r"^\[\d+\]\s*", "", line).strip() for line in str(exc).splitlines()]
    reason = lines[-1] if len(lines) > 1 and lines[-1] else f"error code {exc.ierr}"
    options = opts.getAll()
    named = [f"-{k} {v}" for k, v in options.items() if v and str(v) in reason]
    if not named:  # no value quoted: name every TAO option that was set
        named = [f"-{k} {v}".strip() for k, v in options.items() if k.startswith("tao_")]
    which = ", ".join(named) or "(none named)"
    return ConfigError(f"PETSc option {which}: {reason} (PETSc error {exc.ierr}); fix or remove "
                       f"it (command line, PETSC_OPTIONS or minimiser.petsc_options; -help "
                       f"lists TAO's options)")


def _reason_name(PETSc, code: int) -> str:
    for name in dir(PETSc.TAO.ConvergedReason):
        if not name.startswith("_") and getattr(PETSc.TAO.ConvergedReason, name) == code:
            return name
    return str(code)


def _parse_options(text: str) -> dict[str, str]:
    """'-tao_monitor -tao_max_it 50' -> {'tao_monitor': '', 'tao_max_it': '50'}."""
    out: dict[str, str] = {}
    words = text.split()
    i = 0
    while i < len(words):
        word = words[i]
        if not word.startswith("-"):
            raise MinimisationError(f"minimiser.petsc_options: expected '-option [value]' "
                                    f"pairs, got stray {word!r}")
        key = word.lstrip("-")
        value = ""
        if i + 1 < len(words) and not words[i + 1].startswith("-"):
            value = words[i + 1]
            i += 1
        out[key] = value
        i += 1
    return out
