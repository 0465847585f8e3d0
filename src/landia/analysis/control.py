"""The correlated background term and the (preconditioned) control-variable transform.

With a correlated background-error covariance B = D^1/2 C D^1/2 (D the diagonal of
variances, C = U U^T the unit-variance diffusion correlation of
:mod:`landia.operators.correlation`, U = N A^{-m/2}) the analysis is minimised over a
control vector instead of x (NEMOVAR, JEDI):

    x = xb + D^1/2 U v,      J = 1/2 v^T v + JO(x) + JI(x).

The Hessian in v, I + U^T D^1/2 (H^T R^-1 H + ...) D^1/2 U, is bounded below by 1 but its
largest eigenvalue grows with the number of observations within a correlation length
(measured with dense observations and L = 230 km: 52-98 iterations on the paper grid, 370-530
at 1 deg, where polar cells are tiny). landia therefore preconditions once more,
v = S w with S = A^{m/2} F^{-1}, F = A^{m/2} + Gamma^{1/2}, Gamma = N D Omega N and Omega a
diagonal of observation precisions (see :class:`ControlVariableTransform`). Then

    x = xb + D^1/2 N F^{-1} w,   v = A^{m/2} F^{-1} w,

one sparse solve with F forward and one backward per evaluation of J. The bounds
0 <= x <= porosity are not boxes in w: w is minimised without bounds and x clipped to them
afterwards (the number of values clipped is reported).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from pylops import LinearOperator

from landia.analysis.cost import CostFunction
from landia.analysis.minimisers import MinimiserResult, minimise
from landia.analysis.terms import BackgroundTerm, CostTerm, ImageTerm, PointObservationTerm
from landia.errors import InputError
from landia.io.normalisation_cache import (load_normalisation, normalisation_path,
                                           store_normalisation)
from landia.log import get_logger
from landia.operators.correlation import (DiffusionCorrelation, built_correlation,
                                          diffusion_correlation, normalisation_key)


@dataclass
class CorrelatedBackgroundTerm(CostTerm):
    """JB = 1/2 (x - xb)^T B^-1 (x - xb), B = D^1/2 C D^1/2, evaluated in x.

    Parameters
    ----------
    background : ndarray (layers * n,)
        xb, m3 m-3 (layer-major).
    variance : ndarray (layers * n,)
        D, (m3 m-3)^2, all > 0.
    correlation : DiffusionCorrelation
        C, the same in every layer.
    nlayers : int
        Number of analysed layers.

    Notes
    -----
    With :math:`v = U^{-1} D^{-1/2}(x - x_b) = A^{m/2} N^{-1} D^{-1/2}(x - x_b)` (sparse
    products only): :math:`J_B = \\frac12 v^T v`, :math:`\\nabla J_B = D^{-1/2} N^{-1}
    A^{m/2} v = B^{-1}(x - x_b)`, :math:`\\nabla^2 J_B = B^{-1}`. The minimisation works in
    the control vector (:class:`ControlSpaceCost`); this term reports JB at any x, a clipped
    analysis included.
    """

    background: np.ndarray
    variance: np.ndarray
    correlation: DiffusionCorrelation
    nlayers: int
    name: str = "background"

    def __post_init__(self) -> None:
        self.std = np.sqrt(self.variance)
        self.inverse_sqrt = self.correlation.inverse_sqrt(self.nlayers)   # U^{-1}

    def control(self, x: np.ndarray) -> np.ndarray:
        """v(x) = U^{-1} D^{-1/2} (x - xb)."""
        return self.inverse_sqrt.matvec((x - self.background) / self.std)

    def value_and_gradient(self, x):
        v = self.control(x)
        return 0.5 * float(np.dot(v, v)), self.inverse_sqrt.rmatvec(v) / self.std

    def hessian_vector(self, d):
        return self.inverse_sqrt.rmatvec(self.inverse_sqrt.matvec(d / self.std)) / self.std


def observation_precision(terms: list, size: int) -> np.ndarray:
    """Omega: the diagonal of the observation terms' Hessian in x, as the preconditioner sees
    it: 1/r at each point observation, 1/s2 at each cell of an image layer (the image term
    keeps the large scales whole, and they set the largest eigenvalues: with one variance per
    curvelet scale, s2 is the low-pass scale's; with a per-cell standardised residual, the
    term's ``cell_variance``); (m3 m-3)^-2."""
    omega = np.zeros(size)
    for term in terms:
        if isinstance(term, PointObservationTerm):
            np.add.at(omega, term.operator.index, 1.0 / term.variance)
        elif isinstance(term, ImageTerm):
            for layer in term.layers:
                omega[layer.cells] += (1.0 / float(term.scale_variance[0])
                                       if term.cell_variance is None
                                       else 1.0 / term.cell_variance[layer.cells])
    return omega


#: The last preconditioner factor built: (correlation, g, factor). A layer-by-layer analysis
#: (landia.analysis.layered) factorises F = A^{m/2} + diag(g) of layers with the same g one
#: after another; the factor is stateless, so reusing it changes no result.
_LAST_ROOT: list = []


def _shifted_root(correlation, g: np.ndarray):
    """``correlation.shifted_root(g)``, the last one built when it is the same."""
    if not (_LAST_ROOT and _LAST_ROOT[0] is correlation and np.array_equal(_LAST_ROOT[1], g)):
        _LAST_ROOT[:] = [correlation, np.array(g, copy=True), correlation.shifted_root(g)]
    return _LAST_ROOT[2]


class ControlVariableTransform:
    """x = xb + D^{1/2} U S w with the preconditioner S = A^{m/2} F^{-1}.

    Parameters
    ----------
    background_term : CorrelatedBackgroundTerm
        xb, D and the correlation model.
    precision : ndarray (layers * n,), optional
        Omega (:func:`observation_precision`); zeros give S = I (the plain transform).

    Notes
    -----
    Per layer, with :math:`\\Gamma = N D \\Omega N` (diagonal) and
    :math:`F = A^{m/2} + \\Gamma^{1/2}` (symmetric positive definite, factorised once per
    distinct layer):

    .. math:: x - x_b = D^{1/2} N F^{-1} w, \\qquad v = A^{m/2} F^{-1} w, \\qquad
              J(w) = \\tfrac12 v^T v + J_O(x) + J_I(x)

    (:math:`D^{1/2} U S = D^{1/2} N A^{-m/2} A^{m/2} F^{-1}`). If the observation terms'
    Hessian were :math:`\\Omega` (point observations on model cells), the Hessian in v would
    be :math:`A^{-m/2}(A^m + \\Gamma)A^{-m/2}` and the one in w
    :math:`F^{-1}(A^m + \\Gamma)F^{-1}`, whose eigenvalues lie in [1/2, 1] when
    :math:`\\Gamma` is constant (:math:`(a^m + g^2)/(a^{m/2} + g)^2`); with gaps, coasts and
    the image term they stay within a small range, so the iteration count no longer grows
    with resolution or with the density of observations. The gradient is
    :math:`\\nabla_w J = F^{-T}(A^{m/2 T} v + N D^{1/2} \\nabla_x J_{obs})`.
    """

    def __init__(self, background_term: CorrelatedBackgroundTerm,
                 precision: np.ndarray | None = None) -> None:
        t0 = time.perf_counter()
        self.term = background_term
        self.background = background_term.background
        self.correlation = background_term.correlation
        self.layers = background_term.nlayers
        self.n = self.correlation.n
        size = self.layers * self.n
        omega = np.zeros(size) if precision is None else np.asarray(precision, dtype=float)
        self.std = background_term.std                      # D^{1/2}
        # Gamma^{1/2} = N (D Omega)^{1/2}, per layer; layers with the same one share F.
        gamma_sqrt = (np.tile(self.correlation.normalisation, self.layers)
                      * np.sqrt(background_term.variance * omega))
        self._groups: list[list] = []   # [layers, g, factors of F = A^{m/2} + diag(g)]
        for k in range(self.layers):
            g = gamma_sqrt[k * self.n:(k + 1) * self.n]
            for group in self._groups:
                if np.array_equal(group[1], g):
                    group[0].append(k)
                    break
            else:
                self._groups.append([[k], g, _shifted_root(self.correlation, g)])
        self.build_seconds = time.perf_counter() - t0
        self.factor_mb = sum(group[2].mb for group in self._groups)
        self.seconds = 0.0
        self.size = size
        self.increment = _TransformOperator(self, "increment")   # w -> x - xb
        self.control = _TransformOperator(self, "control")       # w -> v

    def _solve(self, w: np.ndarray, transpose: bool = False) -> np.ndarray:
        """F^{-1} (or F^{-T}) per layer; w and the result are (n, layers)."""
        t0 = time.perf_counter()
        out = np.empty_like(w)
        for members, _, factor in self._groups:
            out[:, members] = factor.solve(w[:, members], transpose)
        self.seconds += time.perf_counter() - t0
        return out

    def _layers(self, a: np.ndarray) -> np.ndarray:
        return np.asarray(a, dtype=np.float64).reshape(self.layers, self.n).T

    @staticmethod
    def _flat(a: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(a.T).ravel()

    def state_and_control(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(x(w), v(w)): the state and the unpreconditioned control vector."""
        u = self._solve(self._layers(w))
        half = self.correlation.steps // 2
        v = self.correlation.power(u, half)
        dx = self._flat(self.correlation.normalisation[:, None] * u) * self.std
        return self.background + dx, self._flat(v)

    def gradient(self, v: np.ndarray, grad_x: np.ndarray) -> np.ndarray:
        """grad_w J = F^{-T} (A^{m/2 T} v + N D^{1/2} grad_x J_obs)."""
        half = self.correlation.steps // 2
        r = self.correlation.power(self._layers(v), half, transpose=True)
        r += self.correlation.normalisation[:, None] * self._layers(self.std * grad_x)
        return self._flat(self._solve(r, transpose=True))

    def to_state(self, w: np.ndarray) -> np.ndarray:
        return self.state_and_control(w)[0]


class _TransformOperator(LinearOperator):
    """w -> x - xb (``increment``: D^{1/2} N F^{-1}) or w -> v (``control``: A^{m/2} F^{-1}),
    with exact adjoints (transposed solves and products)."""

    def __init__(self, transform: ControlVariableTransform, kind: str) -> None:
        self.t, self.kind = transform, kind
        super().__init__(dtype=np.float64, shape=(transform.size, transform.size), name=kind)

    def _matvec(self, w):
        x, v = self.t.state_and_control(w)
        return x - self.t.background if self.kind == "increment" else v

    def _rmatvec(self, y):
        t = self.t
        if self.kind == "increment":
            return t.gradient(np.zeros(t.size), y)
        return t.gradient(y, np.zeros(t.size))


class ControlSpaceCost:
    """J(w) = 1/2 v^T v + the observation terms of ``cost`` at x(w), v = S w.

    Same interface as :class:`~landia.analysis.cost.CostFunction` (value and gradient,
    Hessian action, evaluation count and time, which it adds to ``cost``'s own counters).
    """

    def __init__(self, cost: CostFunction, transform: ControlVariableTransform) -> None:
        self.cost = cost
        self.transform = transform
        self.terms = [t for t in cost.terms if t is not transform.term]

    @property
    def evaluations(self) -> int:
        return self.cost.evaluations

    @property
    def seconds(self) -> float:
        return self.cost.seconds

    def value_and_gradient(self, w: np.ndarray) -> tuple[float, np.ndarray]:
        t0 = time.perf_counter()
        x, v = self.transform.state_and_control(w)
        total = 0.5 * float(np.dot(v, v))
        gx = np.zeros_like(x)
        for term in self.terms:
            value, g = term.value_and_gradient(x)
            total += value
            gx += g
        grad = self.transform.gradient(v, gx)
        self.cost.evaluations += 1
        self.cost.seconds += time.perf_counter() - t0
        return total, grad

    def hessian_vector(self, d: np.ndarray) -> np.ndarray:
        """S^T S d + (T S)^T H_obs (T S) d."""
        t = self.transform
        dx, v = t.state_and_control(d)
        dx = dx - t.background
        hx = np.zeros_like(dx)
        for term in self.terms:
            hx += term.hessian_vector(dx)
        return t.gradient(v, hx)


def correlation_of(grid, length_km: float, steps: int,
                   normalisation_cache=None) -> DiffusionCorrelation:
    """The diffusion correlation of ``grid`` (built once per process and grid), its
    normalisation read from the folder ``normalisation_cache`` when a valid file is there
    (:mod:`landia.io.normalisation_cache`), else computed and stored there. A cache that
    cannot be written is logged and the analysis goes on."""
    if normalisation_cache is None:
        return diffusion_correlation(grid, length_km, steps)
    key = normalisation_key(grid, length_km, steps)
    correlation = built_correlation(key)
    if correlation is not None:   # built by this process already: the file is not read again
        stored = normalisation_path(normalisation_cache, key).is_file()
    else:
        variance = load_normalisation(normalisation_cache, key, grid.n_land)
        correlation = diffusion_correlation(grid, length_km, steps, variance=variance)
        stored = variance is not None
    if not stored:
        try:
            store_normalisation(normalisation_cache, key, correlation.variance)
        except (OSError, InputError) as exc:
            get_logger("landia.analysis").warning(
                "normalisation_cache_unwritable", folder=str(normalisation_cache),
                reason=str(exc), note="the next process computes the normalisation again")
    return correlation


def background_term(grid, background: np.ndarray, variance: np.ndarray, layers: int,
                    length_km: float, steps: int, normalisation_cache=None) -> CostTerm:
    """JB: diagonal (``length_km = 0``, the paper's B) or correlated, B = D^1/2 C D^1/2 with
    the diffusion correlation of ``grid`` (:func:`correlation_of`, its normalisation cached
    in the folder ``normalisation_cache`` when given), the same C in every layer and no
    covariance between layers."""
    if length_km == 0:
        return BackgroundTerm(background, variance)
    return CorrelatedBackgroundTerm(
        background, variance, correlation_of(grid, length_km, steps, normalisation_cache),
        layers)


def control_transform(terms: list) -> ControlVariableTransform | None:
    """The preconditioned transform of a correlated JB among ``terms`` (None for a diagonal
    B or no JB), its preconditioner built from the observation terms."""
    jb = [t for t in terms if isinstance(t, CorrelatedBackgroundTerm)]
    if not jb:
        return None
    return ControlVariableTransform(jb[0], observation_precision(terms, jb[0].background.size))


def minimise_in_control_space(cost: CostFunction, transform: ControlVariableTransform,
                              lower: np.ndarray, upper: np.ndarray, settings) -> MinimiserResult:
    """Minimise J(w) from w = 0 (x = xb) without bounds; return x(w) clipped to the bounds.

    The result's ``x`` is the clipped analysis, ``control`` the minimising w, ``clipped``
    the number of values of x(w) outside [lower, upper] (logged as ``analysis_clipped``);
    its cost history is J at the iterates (J(w) = J(x(w))).
    """
    vcost = ControlSpaceCost(cost, transform)
    unbounded = np.full(transform.size, np.inf)
    result = minimise(vcost, np.zeros(transform.size), -unbounded, unbounded, settings)
    x = transform.to_state(result.x)
    clipped = np.clip(x, lower, upper)
    result.control = result.x
    result.x = clipped
    result.clipped = int(np.count_nonzero(clipped != x))
    if result.clipped:
        get_logger("landia.analysis").info(
            "analysis_clipped", values=result.clipped, of=int(transform.size),
            largest=float(np.max(np.abs(clipped - x))),
            note="x(w) outside lower_bound <= x <= upper_bound; clipped to the bounds")
    return result
