"""Online checks run before a minimisation (``landia analyse --check``)."""

from __future__ import annotations

import numpy as np

from landia.analysis.control import ControlSpaceCost
from landia.errors import LandiaError
from landia.operators import dot_test, taylor_test


def online_checks(problem, log, rtol: float = 1e-12) -> dict:
    """Dot test of every image operator and a Taylor test of J at the background; for a
    correlated B also dot tests of the control-variable transform and a Taylor test of J in
    the control vector.

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
    rng = np.random.default_rng(0)
    _taylor(report, "taylor_ratios", problem.cost.value_and_gradient, x0,
            rng.standard_normal(x0.size) * 0.01)
    transform = getattr(problem, "transform", None)
    if transform is not None:  # correlated B: the transform and J in the control vector
        for name in ("increment", "control"):
            err = dot_test(getattr(transform, name))
            report[f"dot_test_transform_{name}"] = err
            if err > rtol:
                raise LandiaError(f"adjoint check failed for the control-variable transform "
                                  f"({name}): relative mismatch {err:.2e} > {rtol:.0e}")
        _taylor(report, "taylor_ratios_control", ControlSpaceCost(problem.cost,
                                                                  transform).value_and_gradient,
                np.zeros(transform.size), rng.standard_normal(transform.size))
    log.info("online_checks_passed",
             **{k: v for k, v in report.items() if not k.startswith("taylor_ratios")},
             taylor_last=report["taylor_ratios"][-1])
    return report


def _taylor(report: dict, key: str, func, x: np.ndarray, direction: np.ndarray) -> None:
    """Taylor test of ``func`` at ``x`` along ``direction``, recorded under ``key``."""
    ratios = taylor_test(func, x, direction=direction)
    report[key] = ratios.tolist()
    if not ratios[-1] < 1e-2 * max(ratios[0], 1e-12) and ratios[-1] > 1e-6:
        raise LandiaError(f"gradient check failed ({key}): Taylor ratios {ratios} do not "
                          "decrease")
