"""The aims the benchmark figures are read against (issue 17), and their evaluation.

Each :class:`Aim` names the bench case that measures it, the figure it reads (one key, or the
quotient of two keys of the same run), a threshold and a direction. At the end of a run,
:func:`evaluate` reads every aim off the run's figures and :func:`format_table` prints one line
per aim, ``aim | measured | verdict``, where the verdict is

``PASS``
    The figure ``x`` meets the aim: ``x <= threshold`` (direction ``<=``) or
    ``x >= threshold`` (``>=``).
``MISS``
    It does not; the line also gives by how much: ``x / threshold`` for ``<=`` aims and
    ``threshold / x`` for ``>=`` aims (1.5x: the figure must improve by half again).
``not run``
    The case did not run in this run (``--quick`` leaves out the large cases).
``failed``
    The case's process failed (the run printed ``{case}_failed``).
``skipped``
    The run did not start the case: the machine had too little memory available
    (``{case}_skipped``, :data:`landia.benchmarks.runner.MEMORY_GIB`).
``no figure``
    The case ran but did not report the key (e.g. an analysis that raised).
``not measured here``
    No bench case measures the aim (:attr:`Aim.case` is None); the line says where it is.

Absolute seconds and MB depend on the machine and on its load (the run prints ``load_1m``
first); the ratios (the curvelet pair in FFT pairs, the 2-rank speedup) are the figures to
compare across machines. Nothing here times anything: the evaluation is a pure function of the
figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Printed before the table.
HEADER = ("# aims (issue 17). Seconds and MB depend on the machine and its load (load_1m above):"
          " read them on the machine the aim was set for; ratios are the robust figures.")


@dataclass(frozen=True)
class Aim:
    """One aim: ``figure <direction> threshold``.

    Attributes
    ----------
    label : str
        What is aimed at, as printed.
    case : str or None
        The bench case (a key of :data:`landia.benchmarks.runner.CASES`) whose figures hold
        the key; None when no bench case measures it.
    key : str or tuple of str
        The figure read, or (numerator, denominator): the aim reads their quotient.
    threshold : float
    direction : str
        ``"<="`` (at most the threshold) or ``">="`` (at least).
    unit : str
        Printed after the measured figure and the threshold.
    note : str
        For an aim no case measures: where it is measured instead.
    """

    label: str
    case: str | None
    key: str | tuple[str, str]
    threshold: float
    direction: str
    unit: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        if self.direction not in ("<=", ">="):
            raise ValueError(f"aim {self.label!r}: direction must be '<=' or '>=', "
                             f"not {self.direction!r}")

    def value(self, figures: dict) -> float | None:
        """The aim's figure in ``figures``, or None when a key is missing."""
        keys = (self.key,) if isinstance(self.key, str) else self.key
        if any(k not in figures for k in keys):
            return None
        values = [float(figures[k]) for k in keys]
        return values[0] if len(values) == 1 else values[0] / values[1]

    def met(self, value: float) -> bool:
        """Whether ``value`` meets the aim (a NaN never does)."""
        if math.isnan(value):
            return False
        return value <= self.threshold if self.direction == "<=" else value >= self.threshold


_CYCLE = "cycle_eastasia_025"

#: The aims of issue 17, in its table's order.
AIMS = (
    Aim("curvelet forward+adjoint / FFT pair, 1800 x 3600", "curvelet_1800x3600",
        "curvelet_ratio_1800x3600", 3.0, "<=", "x"),
    Aim("the same with curvelet.fft_shape (1920 x 3600)", "curvelet_1800x3600",
        "curvelet_fft_shape_ratio_1800x3600", 3.0, "<=", "x"),
    Aim("curvelet forward+adjoint / FFT pair, 256 x 256", "curvelet_256x256",
        "curvelet_ratio_256x256", 4.0, "<=", "x"),
    Aim("global 0.25 deg analysis, one process: time", "global_025deg",
        "analysis_global_025deg_total_s", 5.0, "<=", "s"),
    Aim("global 0.25 deg analysis, one process: peak memory", "global_025deg",
        "analysis_global_025deg_peak_mb", 1024.0, "<=", "MB"),
    Aim("global 0.25 deg analysis, 2 ranks (JI's wedges split): time", "global_025deg_2ranks",
        "analysis_global_025deg_2ranks_s", 3.0, "<=", "s"),
    Aim("0.25 deg East Asia cycle: analysis phase, 1 rank / 2 ranks", _CYCLE,
        (f"{_CYCLE}_1rank_analysis_s", f"{_CYCLE}_2rank_analysis_s"), 1.7, ">=", "x"),
    Aim("whole column step, 100,000 columns", "columns_step_100000",
        "columns_step_100000_column_steps_per_s", 1.5e6, ">=", "column-steps/s"),
    Aim("soil-water step, 100,000 columns", "columns_soilwater_100000",
        "columns_soilwater_100000_column_steps_per_s", 4.0e6, ">=", "column-steps/s"),
    Aim("global 0.1 deg analysis, one process: peak memory", "global_01deg",
        "analysis_global_01deg_peak_mb", 8192.0, "<=", "MB"),
    Aim("setup on a fresh Debian machine (./run demo's setup part)", None, "", 10.0, "<=",
        "min", note="measured by deploy/test-fresh-debian.sh, not by the bench: "
                    "6.0 min on 2026-12-02 (docs/setup-time.md)"),
)


def _number(value: float) -> str:
    """A figure as printed: 4 significant digits; from 100,000 up, in millions (M)."""
    if abs(value) >= 1e5:
        return f"{value / 1e6:.3g} M"
    return f"{value:.4g}"


def evaluate(figures: dict, ran: set[str] | frozenset[str], aims=AIMS) -> list[dict]:
    """Every aim read off one run's figures.

    Parameters
    ----------
    figures : dict
        The run's figures (``landia bench --json``'s object).
    ran : set of str
        The cases the run started (failed ones included).
    aims : sequence of Aim

    Returns
    -------
    list of dict
        Per aim: ``aim``, ``case``, ``key`` (joined by ``/`` for a quotient), ``threshold``,
        ``direction``, ``unit``, ``measured`` (float or None), ``verdict`` (module notes) and
        ``factor``: for a MISS, by how much (``x / t`` for ``<=``, ``t / x`` for ``>=``),
        else None.
    """
    rows = []
    for aim in aims:
        value, factor = None, None
        if aim.case is None:
            verdict = "not measured here"
        elif figures.get(f"{aim.case}_failed"):
            verdict = "failed"
        elif f"{aim.case}_skipped" in figures:
            verdict = f"skipped: {figures[f'{aim.case}_skipped']}"
        elif aim.case not in ran:
            verdict = "not run"
        else:
            value = aim.value(figures)
            if value is None:
                verdict = "no figure"
            elif aim.met(value):
                verdict = "PASS"
            else:
                verdict = "MISS"
                if value > 0:
                    factor = (value / aim.threshold if aim.direction == "<="
                              else aim.threshold / value)
        rows.append({"aim": aim.label, "case": aim.case,
                     "key": aim.key if isinstance(aim.key, str) else "/".join(aim.key),
                     "threshold": aim.threshold, "direction": aim.direction,
                     "unit": aim.unit, "measured": value, "verdict": verdict,
                     "factor": factor, "note": aim.note})
    return rows


def format_table(rows: list[dict]) -> list[str]:
    """The printed lines: ``aim (direction threshold unit) | measured | verdict``."""
    lines = [HEADER, "# aim | measured | verdict"]
    for r in rows:
        aim = f"{r['aim']} ({r['direction']} {_number(r['threshold'])} {r['unit']})".rstrip()
        measured = "-" if r["measured"] is None else f"{_number(r['measured'])} {r['unit']}"
        verdict = r["verdict"]
        if r["factor"] is not None:
            verdict += f" by {r['factor']:.2f}x"
        if r["note"]:
            verdict += f" ({r['note']})"
        lines.append(f"{aim} | {measured.rstrip()} | {verdict}")
    return lines
