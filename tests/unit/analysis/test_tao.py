"""An independent oracle on a problem too big for dense algebra: PETSc CG on a shell Hessian.

J is quadratic, so its unbounded minimiser solves  Hess x = -grad J(0). A KSP CG
solve with the Hessian as a shell matrix (its action from the cost terms) gives
that solution without ever forming the matrix; TAO's blmvm with inactive bounds
must land on it. With a correlated B the same holds for J in the control vector w.
"""

from __future__ import annotations

import numpy as np
import pytest

from landia.analysis import build_problem
from landia.analysis.control import ControlSpaceCost
from landia.analysis.minimisers import minimise
from landia.config import settings_from_dict
from tests.conftest import make_case

pytest.importorskip("petsc4py")


def _cg_oracle(hessian_vector, gradient_at_zero: np.ndarray) -> np.ndarray:
    """Solve Hess x = -g(0) by PETSc CG with the Hessian as a shell matrix."""
    from petsc4py import PETSc

    n = gradient_at_zero.size

    class Hessian:
        def mult(self, mat, x, y):
            y.setArray(hessian_vector(x.getArray(readonly=True).copy()))

    H = PETSc.Mat().createPython([n, n], Hessian(), comm=PETSc.COMM_SELF)
    H.setUp()
    ksp = PETSc.KSP().create(comm=PETSc.COMM_SELF)
    ksp.setOperators(H)
    ksp.setType("cg")
    ksp.getPC().setType("none")
    ksp.setTolerances(rtol=1e-13, atol=0.0, max_it=2000)
    b = PETSc.Vec().createSeq(n, comm=PETSc.COMM_SELF)
    b.setArray(-gradient_at_zero)
    x = b.duplicate()
    ksp.solve(b, x)
    assert ksp.getConvergedReason() > 0
    return x.getArray().copy()


def test_blmvm_matches_cg_in_the_control_vector_of_a_correlated_b():
    from landia.analysis.minimisers.tao import init_petsc

    init_petsc()
    bg, obs = make_case(shape=(64, 60), layers=3, seed=3)
    s = settings_from_dict({"analysis": {"terms": ["background", "point", "image"],
                                         "upper_bound": 0.6, "correlation_length_km": 300.0},
                            "minimiser": {"gttol": 1e-8, "max_iterations": 1000}})
    problem = build_problem(bg, obs, s)
    cost = ControlSpaceCost(problem.cost, problem.transform)
    n = problem.transform.size
    oracle = _cg_oracle(cost.hessian_vector, cost.value_and_gradient(np.zeros(n))[1])
    wide = np.full(n, np.inf)
    result = minimise(cost, np.zeros(n), -wide, wide, s.minimiser)
    assert result.solver == "tao:blmvm"
    assert np.linalg.norm(result.x - oracle) / np.linalg.norm(oracle) < 1e-7


def test_blmvm_matches_cg_on_the_shell_hessian():
    from landia.analysis.minimisers.tao import init_petsc

    init_petsc()
    from petsc4py import PETSc

    bg, obs = make_case(shape=(64, 60), layers=3, seed=3)
    s = settings_from_dict({"analysis": {"terms": ["background", "point", "image"],
                                         "upper_bound": 0.6, "correlation_length_km": 0.0},
                            "minimiser": {"gttol": 1e-8, "max_iterations": 1000}})
    problem = build_problem(bg, obs, s)
    n = problem.background.size

    class Hessian:
        def mult(self, mat, x, y):
            y.setArray(problem.cost.hessian_vector(x.getArray(readonly=True).copy()))

    H = PETSc.Mat().createPython([n, n], Hessian(), comm=PETSc.COMM_SELF)
    H.setUp()
    ksp = PETSc.KSP().create(comm=PETSc.COMM_SELF)
    ksp.setOperators(H)
    ksp.setType("cg")
    ksp.getPC().setType("none")
    ksp.setTolerances(rtol=1e-13, atol=0.0, max_it=2000)
    _, g0 = problem.cost.value_and_gradient(np.zeros(n))
    b = PETSc.Vec().createSeq(n, comm=PETSc.COMM_SELF)
    b.setArray(-g0)
    x = b.duplicate()
    ksp.solve(b, x)
    assert ksp.getConvergedReason() > 0
    oracle = x.getArray().copy()
    wide = np.full(n, 10.0)
    result = minimise(problem.cost, problem.background, -wide, wide, s.minimiser)
    assert result.solver == "tao:blmvm"
    assert np.linalg.norm(result.x - oracle) / np.linalg.norm(oracle) < 1e-8
