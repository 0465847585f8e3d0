"""The ensemble runs in the report: their spread-skill ratios (a table) and their rank
histograms (``rank_histogram.png``), from ``results.json``'s ``ensemble`` entry
(:mod:`landia.experiment.ensemble_scores`)."""

from __future__ import annotations

import html

import numpy as np

from landia.experiment.report.demo_output import DemoOutput
from landia.experiment.report.style import RUN_STYLE, new_figure
from landia.figures import save

#: The table's columns: (key, heading, digits).
COLUMNS = (("spread_skill_obs", "spread / skill, obs space", 2),
           ("spread", "RMS spread 0-7 cm", 4), ("rmse", "RMSE of the mean 0-7 cm", 4),
           ("spread_skill_truth", "spread / RMSE vs truth", 2), ("analyses", "analyses", 0))


def _fmt(v, digits: int) -> str:
    if v is None or not np.isfinite(float(v)):
        return "–"
    return f"{float(v):.{digits}f}"


def ensemble_table(output: DemoOutput) -> str:
    """The spread-skill table of the ensemble runs (assimilation period, after the spin-up),
    each value the mean over the seeds with their range beneath; "" without ensemble runs."""
    ens = output.results.get("ensemble") or {}
    table = ens.get("table") or {}
    if not table:
        return ""
    spread = ens.get("spread") or {}
    head = "<tr><th>run</th>" + "".join(f"<th>{h}</th>" for _, h, _ in COLUMNS) + "</tr>"
    rows = []
    for run, periods in table.items():
        row = periods.get("assimilation") or {}
        cells = []
        for key, _, digits in COLUMNS:
            text = _fmt(row.get(key), digits)
            rng = ((spread.get(run) or {}).get("assimilation") or {}).get(key) or {}
            if rng.get("n", 0) > 1:
                text += (f"<br><span class=s>{_fmt(rng['min'], digits)}–"
                         f"{_fmt(rng['max'], digits)}</span>")
            cells.append(f"<td>{text}</td>")
        rows.append(f"<tr><td>{html.escape(output.label(run))}</td>{''.join(cells)}</tr>")
    return ("<p>Ensemble runs, assimilation period after the spin-up. Spread / skill in "
            "observation space: sqrt(mean ensemble variance of HX + mean R) over the RMS of "
            "O minus the mean HX (from the run log). Against the truth: the RMS ensemble "
            "spread of the top layer over the RMSE of the ensemble mean (the acceptance's "
            "ratio, aim 0.7-1.3).</p><table>" + head + "".join(rows) + "</table>")


def rank_histogram_figure(output: DemoOutput):
    """``rank_histogram.png``: each ensemble run's rank histogram (summed over the analyses
    after the spin-up and over the seeds), as frequencies. Returns (path, caption, note)."""
    hists = {r: c for r, c in ((output.results.get("ensemble") or {})
                               .get("rank_histogram") or {}).items() if c}
    if not hists:
        return None, "", "results.json has no rank histogram"
    fig = new_figure(4.2 * len(hists), 3.4)
    axes = np.atleast_1d(fig.subplots(1, len(hists)))
    for ax, (run, counts) in zip(axes, hists.items()):
        c = np.asarray(counts, dtype=float)
        ax.bar(np.arange(c.size), c / c.sum(), width=0.9,
               color=(RUN_STYLE.get(run) or {}).get("color", "0.5"))
        ax.axhline(1.0 / c.size, color="black", lw=0.8, ls="--")
        ax.set_title(output.label(run), fontsize=9)
        ax.set_xlabel("rank of the observation among the members")
        ax.set_ylabel("frequency")
    caption = ("Rank histograms of the ensemble runs: the rank of each used observation among "
               "the members' model equivalents (each with observation-error noise), summed over "
               "the analyses after the spin-up and over the seeds. Flat (dashed line) when the "
               "observations are indistinguishable from the members; U-shaped when the spread "
               "is too small, dome-shaped when too large.")
    return save(fig, output.figure_path("rank_histogram.png"), dpi=110), caption, ""
