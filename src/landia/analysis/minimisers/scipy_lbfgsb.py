"""scipy L-BFGS-B backend: where petsc4py is absent, the same analysis."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from landia.analysis.minimisers.result import MinimiserResult, projected_gradient_norm
from landia.errors import MinimisationError
from landia.log import get_logger


def minimise_scipy(cost, x0, lower, upper, settings) -> MinimiserResult:
    """Minimise ``cost`` within [lower, upper] with scipy's L-BFGS-B.

    The stopping rule is the same as TAO's: projected gradient norm below
    ``max(gatol, gttol * |g0|)``; scipy's own tests are disabled (set to 0) and the
    rule is applied in the callback.
    """
    x0 = np.clip(x0, lower, upper)
    f0, g0 = cost.value_and_gradient(x0)
    pg0 = projected_gradient_norm(x0, g0, lower, upper)
    target = max(settings.gatol, settings.gttol * pg0)
    result = MinimiserResult(x=x0.copy(), cost=[f0], gradient_norm=[pg0],
                             solver="scipy:L-BFGS-B")
    if pg0 <= target:
        result.reason = "CONVERGED_GTTOL"
        return result
    last = {}

    def fun(x):
        f, g = cost.value_and_gradient(x)
        last["x"], last["f"], last["g"] = x.copy(), f, g
        return f, g

    def callback(intermediate_result):  # scipy passes an OptimizeResult to this name
        x = intermediate_result.x
        f, g = (last["f"], last["g"]) if np.array_equal(last.get("x"), x) else cost.value_and_gradient(x)
        pg = projected_gradient_norm(x, g, lower, upper)
        result.cost.append(float(f))
        result.gradient_norm.append(pg)
        result.x = x.copy()
        get_logger("landia.scipy").info("minimiser_iteration", iteration=result.iterations,
                                        J=float(f), gradient_norm=pg)
        if pg <= target:
            raise StopIteration

    out = minimize(fun, x0, jac=True, method="L-BFGS-B", bounds=np.column_stack([lower, upper]),
                   callback=callback,
                   options={"maxiter": settings.max_iterations, "ftol": 0.0, "gtol": 0.0,
                            "maxcor": 10, "maxls": 40})
    result.evaluations = int(out.nfev)
    if result.gradient_norm[-1] <= target:
        result.reason = "CONVERGED_GTTOL" if target > settings.gatol else "CONVERGED_GATOL"
        return result
    result.x = out.x
    msg = str(out.message)
    raise MinimisationError(
        f"scipy L-BFGS-B stopped without reaching the gradient tolerance after "
        f"{result.iterations} iterations ({msg}); |g| = {result.gradient_norm[-1]:.3e}, "
        f"target {target:.3e}")
