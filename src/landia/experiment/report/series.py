"""Figure 2 (the paper's figures 13 and 16): SCC and RMSE of each run against the truth
through time, for 0-7 cm and 7-28 cm (``timeseries.png``), inside the misspecified-error
region (``timeseries_region.png``) and where there is no observation (``timeseries_gaps.png``:
cells unobserved that day, withheld cells), from the series in ``results.json``. With several
seeds a line is the mean over the seeds and the shading their range."""

from __future__ import annotations

import numpy as np

from landia.experiment.report.demo_output import DemoOutput, parse_time
from landia.experiment.report.style import (
    RUN_STYLE,
    SM_UNITS,
    format_time_axis,
    misspecified,
    new_figure,
    shade_periods,
)
from landia.figures import save

# (key of the series in results.json, what it is)
LAYERS = [("surface", "0-7 cm"), ("layer_7_28", "7-28 cm")]
REGION = [("region_surface", "0-7 cm, region")]
GAPS = [("unobserved_surface", "0-7 cm, cells unobserved that day"),
        ("withheld_surface", "0-7 cm, withheld cells")]

SCORES_CAPTION = (
    "Spatial correlation (SCC, left) and RMSE (right) of each run against the truth per cycle, "
    "for 0-7 cm (top) and 7-28 cm (bottom). Grey: spin-up discarded from the scores; dotted "
    "line: end of the assimilation; khaki: free forecast from the last analysis.")
REGION_CAPTION = (
    "0-7 cm SCC and RMSE against the truth inside the region of misspecified observation "
    "error; dashed lines are the runs assimilating the misspecified observations (the paper's "
    "section 3.4: image DA should degrade less than point DA there).")
GAPS_CAPTION = (
    "0-7 cm SCC and RMSE against the truth on the land cells the satellite did not see that "
    "day (top) and on the withheld cells (bottom), during the assimilation: what reaches the "
    "cells between the swaths.")


def series_figures(output: DemoOutput, attempt) -> list:
    """The two score figures, each made through ``attempt`` (which turns a failure into a
    note), with their captions."""
    series_runs = output.ordered((output.results.get("series") or {}).keys())
    main_runs = [r for r in series_runs if not misspecified(r)]
    path, _, note = attempt(series_figure, output, main_runs, LAYERS, "timeseries.png",
                            "SCC and RMSE against the truth (cf. the paper's figures 13 and 16)")
    scores = (path, SCORES_CAPTION, note)
    region_runs = [r for r in series_runs
                   if ((output.results["series"][r] or {}).get("region_surface") or {}).get("scc")]
    if region_runs:
        path, _, note = attempt(series_figure, output, region_runs, REGION,
                                "timeseries_region.png",
                                "Inside the misspecified-error region: 0-7 cm SCC and RMSE")
    else:
        path, note = None, "no region series in results.json (idealised variant not run)"
    figures = [scores, (path, REGION_CAPTION, note)]
    gap_runs = [r for r in main_runs
                if any(v is not None for v in ((output.results["series"][r] or {}).get(
                    "unobserved_surface") or {}).get("scc") or [])]
    if gap_runs:
        path, _, note = attempt(series_figure, output, gap_runs, GAPS, "timeseries_gaps.png",
                                "Where there is no observation: unobserved and withheld cells")
        figures.append((path, GAPS_CAPTION, note))
    return figures


def series_figure(output: DemoOutput, runs: list[str], groups: list[tuple[str, str]], name: str,
                  title: str):
    """SCC (left) and RMSE (right) per cycle of ``runs`` for each group of ``groups``; returns
    (path, caption, note)."""
    series = output.results.get("series") or {}
    runs = [r for r in runs if r in series]
    if not runs:
        return None, "", "results.json has no series for these runs"
    fig = new_figure(12, 3.2 * len(groups) + 0.6)
    axes = fig.subplots(len(groups), 2, squeeze=False, sharex=True)
    plotted = 0
    for i, (group, glabel) in enumerate(groups):
        for j, (metric, mlabel) in enumerate((("scc", "SCC"), ("rmse", f"RMSE ({SM_UNITS})"))):
            ax = axes[i, j]
            shade_periods(ax, output, legend=(i == 0 and j == 0))
            for run in runs:
                s = series[run]
                times = [parse_time(x) for x in s.get("times") or []]
                vals = (s.get(group) or {}).get(metric)
                if not vals or len(vals) != len(times):
                    continue
                y = np.array([np.nan if v is None else v for v in vals], dtype=float)
                ax.plot(times, y, lw=1.3, label=output.label(run) if (i == 0 and j == 0) else None,
                        **RUN_STYLE.get(run, {}))
                lo, hi = ((s.get(group) or {}).get(f"{metric}_{e}") for e in ("min", "max"))
                if lo and hi and len(lo) == len(times) == len(hi):
                    band = [np.array([np.nan if v is None else v for v in b], dtype=float)
                            for b in (lo, hi)]
                    ax.fill_between(times, band[0], band[1], lw=0, alpha=0.15,
                                    color=RUN_STYLE.get(run, {}).get("color", "0.5"))
                plotted += 1
            ax.set_ylabel(f"{mlabel}", fontsize=9)
            ax.set_title(f"{glabel}: {'spatial correlation' if metric == 'scc' else 'RMSE'} "
                         "against the truth", fontsize=9)
            ax.grid(alpha=0.3)
            format_time_axis(ax)
    if not plotted:
        return None, "", "the series in results.json are empty"
    for ax in axes[-1]:
        ax.set_xlabel("time (UTC)", fontsize=9)
    fig.legend(loc="outside lower center", ncol=6, fontsize=8, frameon=False)
    fig.suptitle(title, fontsize=11)
    return save(fig, output.figure_path(name), dpi=110), "", ""
