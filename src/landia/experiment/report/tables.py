"""The report's tables: the period means of every run and their difference from CTRL, the
scores where the observations are not (cells unobserved that day, withheld cells), the
experiment next to the paper's numbers, and the scores inside the misspecified-error region.
Each is an HTML ``<table>`` (or a note when ``results.json`` lacks its numbers). With several
seeds a value is their mean, with the range over the seeds (min-max) beneath it."""

from __future__ import annotations

import html
import math

import numpy as np

from landia.experiment.report.demo_output import DemoOutput
from landia.experiment.report.style import misspecified


def _fmt(v, digits=3) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    try:
        return f"{float(v):.{digits}f}"
    except (TypeError, ValueError):
        return html.escape(str(v))


def _fmt_signed(v) -> str:
    return "–" if v is None or not math.isfinite(v) else f"{v:+.3f}"


def _value(output: DemoOutput, run: str, period: str, key: str):
    return (((output.results.get("table") or {}).get(run) or {}).get(period) or {}).get(key)


def _cell(output: DemoOutput, run: str, period: str, key: str, digits: int = 3) -> str:
    """``<td>`` of a mean, with the range over the seeds beneath it when there is one."""
    v = _value(output, run, period, key)
    spread = ((((output.results.get("spread") or {}).get(run) or {}).get(period) or {})
              .get(key) or {})
    text = _fmt(v, digits)
    if spread.get("n", 0) > 1:
        text += (f"<br><span class=s>{_fmt(spread['min'], digits)}–"
                 f"{_fmt(spread['max'], digits)}</span>")
    return f"<td>{text}</td>"


def results_table(output: DemoOutput) -> str:
    """Mean scores of each run over the assimilation period and the free forecast, each
    followed by its difference from CTRL (the idealised variant's runs are left out)."""
    table = output.results.get("table") or {}
    if not table:
        return '<p class="note">results.json has no table.</p>'
    cols = [("surface_scc", "SCC 0-7"), ("surface_rmse", "RMSE 0-7"),
            ("layer_7_28_scc", "SCC 7-28"), ("layer_7_28_rmse", "RMSE 7-28")]
    periods = [("assimilation", "assimilation period"), ("forecast", "free forecast")]
    head = ("<tr><th rowspan=2>run</th><th rowspan=2>terms</th>"
            + "".join(f"<th colspan={len(cols)}>{p}</th>" for _, p in periods) + "</tr><tr>"
            + "".join(f"<th>{c}</th>" for _ in periods for _, c in cols) + "</tr>")
    rows = []
    ctrl = table.get("ctrl") or {}
    for run in output.ordered(table):
        if misspecified(run):
            continue
        info = (output.results.get("runs") or {}).get(run) or {}
        terms = "+".join({"background": "JB", "image": "JI", "point": "JO"}.get(t, t)
                         for t in info.get("terms") or []) or "–"
        cells = [_cell(output, run, p, key, 4 if "rmse" in key else 3)
                 for p, _ in periods for key, _ in cols]
        rows.append(f"<tr><td class=l>{html.escape(output.label(run))}</td><td>{terms}</td>"
                    + "".join(cells) + "</tr>")
        if run != "ctrl" and ctrl:
            gains = []
            for p, _ in periods:
                vals = (table[run] or {}).get(p) or {}
                base = ctrl.get(p) or {}
                for key, _ in cols:
                    a, b = vals.get(key), base.get(key)
                    g = _fmt_signed(a - b) if a is not None and b is not None else "–"
                    gains.append(f"<td class=g>{g}</td>")
            rows.append("<tr class=gain><td class=l>&nbsp;&nbsp;− CTRL</td><td></td>"
                        + "".join(gains) + "</tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def paper_table(output: DemoOutput) -> str:
    """The paper's numbers next to this experiment's for each DA run (empty when
    results.json has neither)."""
    paper = output.results.get("paper") or {}
    table = output.results.get("table") or {}
    ctrl = (table.get("ctrl") or {})
    das = [r for r in output.ordered(table) if r not in ("ctrl", "truth")
           and not misspecified(r)]
    if not paper and not das:
        return ""
    minim = output.results.get("minimiser") or {}

    def gain(run, period, key):
        a = ((table.get(run) or {}).get(period) or {}).get(key)
        b = (ctrl.get(period) or {}).get(key)
        return None if a is None or b is None else a - b

    def val(run, period, key):
        return ((table.get(run) or {}).get(period) or {}).get(key)

    def mean_it(run):
        over_seeds = ((output.results.get("iterations") or {}).get(run) or {}).get("mean")
        if over_seeds is not None:
            return over_seeds
        it = [v for v in ((minim.get(run) or {}).get("iterations") or []) if v is not None]
        return float(np.mean(it)) if it else None

    rows = [
        ("surface SCC gain over CTRL", "surface_scc_gain",
         lambda r, p: _fmt_signed(gain(r, p, "surface_scc")), lambda v: f"{v:+.2f}"),
        ("7-28 cm SCC gain over CTRL", "layer_7_28_scc_gain",
         lambda r, p: _fmt_signed(gain(r, p, "layer_7_28_scc")), lambda v: f"{v:+.2f}"),
        ("surface RMSE, CTRL", "surface_rmse_ctrl",
         lambda r, p: _fmt(val("ctrl", p, "surface_rmse")), lambda v: f"{v:.2f}"),
        ("surface RMSE, DA", "surface_rmse_da",
         lambda r, p: _fmt(val(r, p, "surface_rmse")), lambda v: f"{v:.2f}"),
        ("mean iterations per analysis", "iterations",
         lambda r, p: _fmt(mean_it(r), 1) if p == "assimilation" else "", lambda v: f"{v:g}"),
    ]
    head = ("<tr><th rowspan=2>quantity</th><th rowspan=2>paper</th>"
            + "".join(f"<th colspan=2>{html.escape(output.label(r))}</th>" for r in das)
            + "</tr><tr>" + "".join("<th>assim.</th><th>forecast</th>" for _ in das) + "</tr>")
    body = []
    for text, pkey, ours, pfmt in rows:
        pv = paper.get(pkey)
        cells = "".join(f"<td>{ours(r, 'assimilation')}</td><td>{ours(r, 'forecast')}</td>"
                        for r in das)
        body.append(f"<tr><td class=l>{text}</td><td class=p>"
                    f"{pfmt(pv) if isinstance(pv, (int, float)) else '–'}</td>{cells}</tr>")
    return f"<table>{head}{''.join(body)}</table>"


def region_table(output: DemoOutput) -> str:
    """Scores inside the misspecified-error region of the runs that have them; the runs
    assimilating the misspecified observations highlighted."""
    table = output.results.get("table") or {}
    runs = [r for r in output.ordered(table)
            if any(((table[r] or {}).get(p) or {}).get("region_surface_scc") is not None
                   for p in ("assimilation", "forecast"))]
    if not runs:
        return ('<p class="note">No region scores in results.json (the idealised variant with '
                'misspecified observation error was not run).</p>')
    head = ("<tr><th rowspan=2>run</th><th colspan=2>assimilation period</th>"
            "<th colspan=2>forecast</th></tr><tr><th>SCC</th><th>RMSE</th><th>SCC</th>"
            "<th>RMSE</th></tr>")
    body = []
    for r in runs:
        cells = "".join(_cell(output, r, p, "region_surface_scc")
                        + _cell(output, r, p, "region_surface_rmse", 4)
                        for p in ("assimilation", "forecast"))
        cls = " class=hl" if misspecified(r) else ""
        body.append(f"<tr{cls}><td class=l>{html.escape(output.label(r))}</td>{cells}</tr>")
    return f"<table>{head}{''.join(body)}</table>"


#: The columns of the table of scores away from the observations: (key, heading, digits).
GAP_COLUMNS = [("unobserved_surface_scc", "SCC 0-7", 3), ("unobserved_surface_rmse", "RMSE 0-7", 4),
               ("unobserved_layer_7_28_scc", "SCC 7-28", 3),
               ("withheld_surface_scc", "SCC 0-7", 3), ("withheld_surface_rmse", "RMSE 0-7", 4),
               ("withheld_layer_7_28_rmse", "RMSE 7-28", 4),
               ("withheld_obs_surface_rmse", "RMSE vs withheld obs", 4),
               ("surface_bias", "bias 0-7 (all cells)", 4)]


def gaps_table(output: DemoOutput) -> str:
    """Assimilation-period scores on the cells without an observation that day and on the
    withheld cells (against the truth, and the RMSE against the withheld observations), and
    the surface bias, for every run that has them."""
    table = output.results.get("table") or {}
    runs = [r for r in output.ordered(table)
            if _value(output, r, "assimilation", "unobserved_surface_scc") is not None
            or _value(output, r, "assimilation", "withheld_surface_rmse") is not None]
    if not runs:
        return ('<p class="note">No scores on unobserved or withheld cells in results.json '
                '(an experiment without gaps or withheld observations).</p>')
    head = ("<tr><th rowspan=2>run</th><th colspan=3>cells unobserved that day</th>"
            "<th colspan=4>withheld cells (10 % of the observed)</th><th rowspan=2>"
            f"{GAP_COLUMNS[-1][1]}</th></tr><tr>"
            + "".join(f"<th>{h}</th>" for _, h, _ in GAP_COLUMNS[:-1]) + "</tr>")
    body = []
    for r in runs:
        cls = " class=hl" if misspecified(r) else ""
        body.append(f"<tr{cls}><td class=l>{html.escape(output.label(r))}</td>"
                    + "".join(_cell(output, r, "assimilation", k, d) for k, _, d in GAP_COLUMNS)
                    + "</tr>")
    return f"<table>{head}{''.join(body)}</table>"
