"""Tables of verification scores of model fields against reference fields (arithmetic only).

For every paired time :math:`t` and layer :math:`l`, over the cells :math:`i` that are land
(the model's top layer is finite) and finite in both fields (:math:`n` cells):

.. math::

    \\mathrm{SCC} = \\frac{\\sum_i (m_i - \\bar m)(r_i - \\bar r)}
                         {\\sqrt{\\sum_i (m_i - \\bar m)^2 \\sum_i (r_i - \\bar r)^2}}, \\quad
    b = \\frac1n \\sum_i (m_i - r_i), \\quad
    \\mathrm{RMSE} = \\sqrt{\\frac1n \\sum_i (m_i - r_i)^2}, \\quad
    \\mathrm{ubRMSE} = \\sqrt{\\frac1n \\sum_i (m_i - r_i - b)^2} = \\sqrt{\\mathrm{RMSE}^2 - b^2}

(:math:`m` model, :math:`r` reference, m3 m-3). No common cell gives NaN scores with n = 0.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from landia.scores import all_scores, temporal_correlation

SCORE_NAMES = ("scc", "rmse", "ubrmse", "bias")


@dataclass
class ScoreRow:
    """Scores of one time and one layer (``layer`` 1-based, ``time`` ISO text or the pair index)."""

    time: str
    layer: int
    n: int
    scc: float
    rmse: float
    ubrmse: float
    bias: float

    def as_dict(self) -> dict:
        return asdict(self)


def land_mask(model: np.ndarray) -> np.ndarray:
    """Land cells of a (layer, lat, lon) model field: where its top layer is finite."""
    return np.isfinite(np.asarray(model, dtype=float)[0])


def pair_times(model_times: list, reference_times: list) -> list[tuple[int, int]]:
    """Index pairs (model, reference).

    By equal validity time when every file has one (model times without a reference are
    left out); otherwise by order, which needs as many models as references.

    Raises
    ------
    ValueError
        Order pairing with different counts, or no common time.
    """
    if all(t is not None for t in model_times) and all(t is not None for t in reference_times):
        where = {np.datetime64(t, "s"): k for k, t in enumerate(reference_times)}
        pairs = [(k, where[np.datetime64(t, "s")]) for k, t in enumerate(model_times)
                 if np.datetime64(t, "s") in where]
        if not pairs:
            raise ValueError("no model time equals a reference time")
        return pairs
    if len(model_times) != len(reference_times):
        raise ValueError(f"{len(model_times)} model and {len(reference_times)} reference files "
                         "without a validity time each cannot be paired by order")
    return [(k, k) for k in range(len(model_times))]


def common_layers(n_model: int, n_reference: int, requested=None) -> list[int]:
    """1-based layers to score: ``requested`` (checked) or all those both fields have."""
    n = min(n_model, n_reference)
    if requested is None:
        return list(range(1, n + 1))
    bad = [k for k in requested if not 1 <= k <= n]
    if bad:
        raise ValueError(f"layers {bad} not available: model has {n_model}, reference has "
                         f"{n_reference} layers (1-based)")
    return list(requested)


def score_table(model: list[np.ndarray], reference: list[np.ndarray], layers: list[int],
                labels: list[str], land: np.ndarray | None = None) -> list[ScoreRow]:
    """Scores of each (time, layer).

    Parameters
    ----------
    model, reference : list of ndarray (nlayer, ny, nx)
        Paired fields (same grid), m3 m-3, NaN where missing.
    layers : list of int
        1-based layers.
    labels : list of str
        Time label of each pair.
    land : ndarray of bool (ny, nx), optional
        Land cells; default :func:`land_mask` of each model field.
    """
    rows = []
    for m, r, label in zip(model, reference, labels):
        mask = land_mask(m) if land is None else land
        for layer in layers:
            s = all_scores(m[layer - 1], r[layer - 1], mask)
            rows.append(ScoreRow(time=label, layer=layer, **s))
    return rows


def _mean(values) -> float:
    v = np.asarray([x for x in values if x is not None and math.isfinite(x)], dtype=float)
    return float(v.mean()) if v.size else float("nan")


def summarise(rows: list[ScoreRow]) -> dict:
    """Means over times of each score, per layer and for all layers (NaN scores skipped).

    Returns ``{"layers": {"1": {"n_times", "mean_n", "scc", "rmse", "ubrmse", "bias"}, ...},
    "all": {...}}``.
    """
    def block(sel):
        out = {"n_times": len({r.time for r in sel}), "mean_n": _mean([r.n for r in sel])}
        for name in SCORE_NAMES:
            out[name] = _mean([getattr(r, name) for r in sel])
        return out

    layers = sorted({r.layer for r in rows})
    return {"layers": {str(k): block([r for r in rows if r.layer == k]) for k in layers},
            "all": block(rows)}


def correlation_maps(model: list[np.ndarray], reference: list[np.ndarray], layers: list[int],
                     min_count: int = 3) -> dict[int, np.ndarray]:
    """Temporal correlation of each cell across the paired times, per 1-based layer (a map)."""
    m = np.stack([np.asarray(x, dtype=float) for x in model])
    r = np.stack([np.asarray(x, dtype=float) for x in reference])
    return {k: temporal_correlation(m[:, k - 1], r[:, k - 1], min_count=min_count)
            for k in layers}


def format_table(rows: list[ScoreRow]) -> str:
    """A fixed-width text table of the rows (for the terminal)."""
    head = f"{'time':<20s} {'layer':>5s} {'n':>7s} {'scc':>7s} {'rmse':>8s} {'ubrmse':>8s} " \
           f"{'bias':>8s}"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r.time:<20s} {r.layer:5d} {r.n:7d} {r.scc:7.3f} {r.rmse:8.4f} "
                     f"{r.ubrmse:8.4f} {r.bias:8.4f}")
    return "\n".join(lines)
