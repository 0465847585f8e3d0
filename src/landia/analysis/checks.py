"""Online checks run before a minimisation (``landia analyse --check``)."""

from __future__ import annotations

import numpy as np

from landia.errors import LandiaError
from landia.operators import dot_test, taylor_test


def online_checks(problem, log, rtol: float = 1e-12) -> dict:
    """Dot test of every image operator and a Taylor test of J at the background.

    Raises
    ------
    LandiaError
        An adjoint mismatch above ``rtol`` or a gradient whose Taylor remainder
        does not decrease.
    """
    report = {}
    for term in problem.cost.terms:
        for k, layer in enumerate(getattr(term, "layers", [])):
            err = dot_test(layer.operator)
            report[f"dot_test_image_{k}"] = err
            if err > rtol:
                raise LandiaError(f"adjoint check failed for the image operator {k}: "
                                  f"relative mismatch {err:.2e} > {rtol:.0e}")
    x0 = np.clip(problem.background, problem.lower, problem.upper)
    ratios = taylor_test(problem.cost.value_and_gradient, x0,
                         direction=np.random.default_rng(0).standard_normal(x0.size) * 0.01)
    report["taylor_ratios"] = ratios.tolist()
    if not ratios[-1] < 1e-2 * max(ratios[0], 1e-12) and ratios[-1] > 1e-6:
        raise LandiaError(f"gradient check failed: Taylor ratios {ratios} do not decrease")
    log.info("online_checks_passed", **{k: v for k, v in report.items() if k != "taylor_ratios"},
             taylor_last=float(ratios[-1]))
    return report
