"""The image term JI evaluated by curvelet wedges split into parts (one part per rank).

JI sums over the kept coefficients, and a coefficient belongs to one wedge. With the
coefficients cut into P contiguous ranges of whole wedges (part p: coefficients
:math:`[l_p, h_p)`, its kept set :math:`P_{lp}`, its rows :math:`C_p` of C),

.. math:: J_I = \\sum_p \\tfrac12 \\sum_l \\| P_{lp} C_p u_l - t_{lp} \\|^2_{W},
          \\qquad \\nabla J_I = \\sum_l S_l^T E_l^T \\mathcal{F}^{-1}\\Big[\\sum_p
          H^{(p)}_l\\Big],

with :math:`u_l = E_l S_l x` the filled image of layer l, :math:`t_{lp}` the part's targets,
and :math:`H^{(p)}_l` part p's half spectrum of :math:`C_p^T P_{lp}^T W (P_{lp} C_p u_l -
t_{lp})` (:class:`~landia.operators.fast_udct.FastUDCTPart`). One evaluation is therefore:

1. the root fills the images and takes their ``rfft2`` (:meth:`FastUDCT.half_spectrum`);
2. every part computes its wedges' coefficients, residuals, its share of JI and its half
   spectra (:meth:`ImagePart.contribute`);
3. ONE sum over the parts (an MPI reduction in a cycle) of [share of JI, half spectra];
4. the root takes one ``irfft2`` per layer and applies the fills' adjoints.

Equality: the coefficients are the serial ones bit for bit (the same sparse rows and FFTs);
JI and the gradient differ from the serial term by the order of summation only (the parts'
shares of JI, the half spectra summed before one ``irfft2`` instead of inside one sparse
product). tests/unit/analysis/test_wedge_split.py checks 1e-12 relative for 1 to 4 parts.

The exchange (the parts' communication) is passed in: :class:`InProcessWedges` evaluates every
part in this process (the serial form, and the test reference);
:mod:`landia.cycling.wedge_exchange` runs one part per rank of a communicator. Nothing here
imports MPI.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from landia.analysis.terms import CostTerm, ImageTerm
from landia.errors import OperatorError
from landia.log import get_logger

#: Evaluation modes sent to the parts: value and gradient (residual c - t), Hessian action
#: (residual c), and the end of the minimisation.
VALUE_AND_GRADIENT, HESSIAN, DONE = 1.0, 2.0, 0.0


def wedge_bounds(offsets: np.ndarray, parts: int) -> list[tuple[int, int]]:
    """Contiguous ranges of whole wedges with about equal coefficient counts.

    Parameters
    ----------
    offsets : ndarray of int
        Start of every wedge and the end (:attr:`FastUDCT.wedge_offsets`).
    parts : int
        Number of ranges (>= 1); more parts than wedges leaves some empty.

    Returns
    -------
    list of (lo, hi)
        Boundary r is the wedge boundary nearest r / parts of the coefficients (ties to the
        lower), never below the previous one: deterministic, the same on every rank.
    """
    offsets = np.asarray(offsets, dtype=np.int64)
    total = int(offsets[-1])
    cuts = [0]
    for r in range(1, parts):
        goal = total * r / parts
        i = int(np.searchsorted(offsets, goal))
        i = min(i, offsets.size - 1)
        if i > 0 and goal - offsets[i - 1] <= offsets[i] - goal:
            i -= 1
        cuts.append(max(cuts[-1], int(offsets[i])))
    cuts.append(total)
    return [(cuts[r], cuts[r + 1]) for r in range(parts)]


@dataclass
class PartSpec:
    """What one part needs (picklable, sent to its rank).

    ``shape``, ``scales``, ``wedges``: the curvelet transform; ``lo``, ``hi``: its coefficient
    range; per image layer: ``kept`` (kept coefficients, local to the range), ``target``
    (their complex targets) and ``weights`` (1/s2_j of each, or None for one s2 applied by
    the root).
    """

    shape: tuple
    scales: int
    wedges: int
    lo: int
    hi: int
    kept: list
    target: list
    weights: list

    @property
    def payload_size(self) -> int:
        """float64 values of the broadcast half spectra: layers x 2 (n0 (n1 // 2 + 1))."""
        return 2 * len(self.kept) * self.shape[0] * (self.shape[1] // 2 + 1)


def part_specs(term: ImageTerm, curvelet, parts: int) -> list[PartSpec]:
    """The :class:`PartSpec` of every part of ``term`` (balanced by :func:`wedge_bounds`)."""
    fast = curvelet._fast
    specs = []
    for lo, hi in wedge_bounds(fast.wedge_offsets, parts):
        kept, target, weights = [], [], []
        for i, layer in enumerate(term.layers):
            inside = (layer.selection.kept >= lo) & (layer.selection.kept < hi)
            kept.append((layer.selection.kept[inside] - lo).astype(np.int64))
            target.append(np.ascontiguousarray(
                np.ascontiguousarray(layer.target).view(np.complex128)[inside]))
            weights.append(None if term._uniform
                           else 1.0 / term.scale_variance[layer.kept_scale[inside]])
        specs.append(PartSpec(tuple(fast.shape), curvelet.scales, curvelet.wedges, lo, hi,
                              kept, target, weights))
    return specs


class ImagePart:
    """One part's share of JI: its wedges' coefficients, residuals and half spectra.

    Parameters
    ----------
    spec : PartSpec
    transform : FastUDCT
        The whole transform of ``spec.shape`` (this part uses its rows ``lo:hi``).
    """

    def __init__(self, spec: PartSpec, transform) -> None:
        if tuple(transform.shape) != tuple(spec.shape):
            raise ValueError(f"ImagePart: transform shape {transform.shape} differs from the "
                             f"part's {spec.shape}")
        self.spec = spec
        self.wedges = transform.part(spec.lo, spec.hi)
        self.layers = len(spec.kept)
        self.nh = spec.shape[0] * (spec.shape[1] // 2 + 1)
        self.seconds = 0.0  # wall time in contribute()
        # reused between calls (a fresh one costs page faults on large grids); the caller
        # reads it before the next call
        self._out = np.empty(2 + 2 * self.layers * self.nh)
        # W on the (real, imaginary) pairs, as the serial term applies it
        self._weights = [None if w is None else np.repeat(w, 2) for w in spec.weights]

    @classmethod
    def from_spec(cls, spec: PartSpec) -> "ImagePart":
        """Build the transform (cached per process and shape) and the part, on any rank."""
        from landia.operators import CurveletTransform
        curvelet = CurveletTransform(spec.shape, spec.scales, spec.wedges, "udct")
        return cls(spec, curvelet._fast)

    def contribute(self, mode: float, payload: np.ndarray) -> np.ndarray:
        """[0, share of sum r^T W r, half spectra (layers x nh complex as float pairs)].

        ``payload``: the layers' image half spectra as float64 pairs, length
        ``spec.payload_size``. The leading 0 is the failure flag the exchange sums. The
        array returned is this part's work array: read it before the next call."""
        t0 = time.perf_counter()
        out = self._out
        out[0] = 0.0
        halves = out[2:].view(np.complex128).reshape(self.layers, self.nh)
        spectra = np.asarray(payload).view(np.complex128).reshape(self.layers, -1)
        value = 0.0
        shape = (self.spec.shape[0], self.spec.shape[1] // 2 + 1)
        for k in range(self.layers):
            kept = self.spec.kept[k]
            c = self.wedges.forward(spectra[k].reshape(shape))
            r = c[kept] - self.spec.target[k] if mode == VALUE_AND_GRADIENT else c[kept]
            rf = r.view(np.float64)
            w = self._weights[k]
            wr = rf if w is None else rf * w
            value += float(np.dot(rf, wr))
            c[...] = 0.0
            c[kept] = wr.view(np.complex128)
            halves[k] = self.wedges.backward(c).ravel()
        out[1] = value
        self.seconds += time.perf_counter() - t0
        return out


class InProcessWedges:
    """Every part in this process, their contributions summed in part order.

    The serial form of the split (and its test reference): the same arithmetic as one part
    per rank, whose reduction sums the same contributions.
    """

    def __init__(self, parts: int) -> None:
        self.parts = int(parts)
        self.members: list[ImagePart] = []

    def start(self, specs: list[PartSpec], curvelet) -> None:
        self.members = [ImagePart(spec, curvelet._fast) for spec in specs]

    def evaluate(self, mode: float, payload: np.ndarray) -> np.ndarray:
        total = None
        for part in self.members:
            share = part.contribute(mode, payload)
            if total is None:
                total = share.copy()
            else:
                total += share
        return total


class SplitImageTerm(CostTerm):
    """JI of ``term`` evaluated by wedge parts through ``exchange`` (module notes).

    Attributes the rest of the analysis reads (``layers``, ``scale_variance``,
    ``cell_variance``, ...) are ``term``'s.
    """

    def __init__(self, term: ImageTerm, curvelet, exchange) -> None:
        self.term = term
        self.name = term.name
        self.curvelet = curvelet
        self.fast = curvelet._fast
        self.exchange = exchange
        # root's work (fills, adjoints, its FFTs) and the exchange's (all parts, collectives)
        self.seconds = {"root": 0.0, "exchange": 0.0}

    def __getattr__(self, item):
        if item == "term":
            raise AttributeError(item)
        return getattr(self.term, item)

    def _apply(self, mode: float, x: np.ndarray) -> tuple[float, np.ndarray]:
        t0 = time.perf_counter()
        layers = self.term.layers
        nh = self.fast.shape[0] * (self.fast.shape[1] // 2 + 1)
        payload = np.empty((len(layers), nh), dtype=np.complex128)
        ffts = 0.0  # the root's rfft2/irfft2, counted with the transform's time
        for k, layer in enumerate(layers):
            image = layer.fill.matvec(x[layer.cells]).reshape(self.fast.shape)
            if not np.all(np.isfinite(image)):
                raise OperatorError("SplitImageTerm: the filled image contains NaN/inf")
            t = time.perf_counter()
            payload[k] = self.fast.half_spectrum(image).ravel()
            ffts += time.perf_counter() - t
        t1 = time.perf_counter()
        summed = self.exchange.evaluate(mode, payload.view(np.float64).ravel())
        t2 = time.perf_counter()
        halves = summed[2:].view(np.complex128).reshape(len(layers), -1)
        half_shape = (self.fast.shape[0], self.fast.shape[1] // 2 + 1)
        grad = np.zeros_like(x)
        for k, layer in enumerate(layers):
            t = time.perf_counter()
            image = self.fast.image_from_half(halves[k].reshape(half_shape))
            ffts += time.perf_counter() - t
            grad[layer.cells] += layer.fill.rmatvec(image.ravel())
        self.seconds["root"] += (t1 - t0) + (time.perf_counter() - t2)
        self.seconds["exchange"] += t2 - t1
        self.curvelet.seconds += ffts + (t2 - t1)
        if self.term._uniform:
            s2 = self.term.scale_variance[0]
            return 0.5 * float(summed[1]) / s2, grad / s2
        return 0.5 * float(summed[1]), grad

    def value_and_gradient(self, x):
        return self._apply(VALUE_AND_GRADIENT, x)

    def hessian_vector(self, d):
        return self._apply(HESSIAN, d)[1]


def unsplittable(term, curvelet) -> str | None:
    """Why JI cannot be split by wedges (None: it can)."""
    if term is None:
        return "no image term"
    if getattr(curvelet, "_fast", None) is None:
        return f"curvelet.backend = {curvelet.backend!r} (the split needs 'udct')"
    if curvelet.padded:
        return "a zero-padded transform"
    if not term.layers or any(layer.fill is None for layer in term.layers):
        return "an image layer without its fill operator"
    return None


@contextmanager
def image_split(problem, exchange):
    """While inside, ``problem.cost``'s image term is a :class:`SplitImageTerm` over
    ``exchange`` (None, or a term that cannot be split: unchanged, logged)."""
    term = next((t for t in problem.cost.terms if isinstance(t, ImageTerm)), None)
    reason = None if exchange is None else unsplittable(term, problem.curvelet)
    if exchange is None or reason is not None:
        if reason is not None and term is not None:
            get_logger("landia.analysis").info("image_split_skipped", reason=reason)
        yield None
        return
    exchange.start(part_specs(term, problem.curvelet, exchange.parts), problem.curvelet)
    terms = problem.cost.terms
    i = next(j for j, t in enumerate(terms) if t is term)
    split = SplitImageTerm(term, problem.curvelet, exchange)
    terms[i] = split
    try:
        yield split
    finally:
        terms[i] = term
