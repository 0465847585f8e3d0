"""Figure 3 (the paper's figure 8), ``cost.png``: the minimiser's behaviour -- J per
iteration of a few analyses (from the analysis files), iterations per cycle and J before and
after each cycle (from ``results.json``)."""

from __future__ import annotations

import numpy as np

from landia.experiment.report.demo_output import DemoOutput, parse_time
from landia.experiment.report.style import RUN_STYLE, format_time_axis, new_figure
from landia.figures import save
from landia.io.analysis_file import read_analysis


def cost_figure(output: DemoOutput, run: str = "image"):
    """(a) J per iteration of the first, middle and last analysis of ``run``; (b) iterations
    per cycle and (c) J before/after each cycle of every DA run. Returns (path, caption, note).
    """
    minim = output.results.get("minimiser") or {}
    files = sorted(output.analyses(run).items())
    if not files and not minim:
        return None, "", (f"no analysis files (runs/{run}/cycles/) and no minimiser numbers in "
                          "results.json")
    fig, notes = cost_canvas(output, run)
    caption = ("(a) The cost function J at each minimiser iteration (iteration 0 = background) "
               f"for the first, middle and last analysis of the {output.label(run)} run, log "
               "scale. (b) Iterations of each analysis per run. (c) J at the start (dotted) and "
               "end (solid) of each analysis. The runs' legend, below, serves (b) and (c).")
    return save(fig, output.figure_path("cost.png"), dpi=110), caption, "; ".join(notes)


def cost_canvas(output: DemoOutput, run: str = "image"):
    """The figure of :func:`cost_figure` and its notes on unreadable analysis files. The
    legend of the runs, shared by (b) and (c), lies below the panels, off the data."""
    fig = new_figure(11.4, 4.8)
    axes = fig.subplots(1, 3)
    notes = _cost_per_iteration(axes[0], output, run, sorted(output.analyses(run).items()))
    _cost_per_cycle(axes[1], axes[2], output, output.results.get("minimiser") or {})
    handles, labels = axes[1].get_legend_handles_labels()
    if not handles:
        handles, labels = axes[2].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncols=min(len(handles), 4),
                   fontsize=8, frameon=False)
    fig.suptitle("Minimiser behaviour (cf. the paper's figure 8)", fontsize=11)
    return fig, notes


def _cost_per_iteration(ax, output: DemoOutput, run: str, files) -> list[str]:
    """Panel (a); returns notes on analysis files that could not be read."""
    notes = []
    picks = []
    if files:
        idx = sorted({0, len(files) // 2, len(files) - 1})
        picks = [files[i] for i in idx]
    for (t, p), color in zip(picks, ("tab:blue", "tab:purple", "tab:red")):
        try:
            a = read_analysis(p)
        except Exception as exc:  # noqa: BLE001 - a bad file must not stop the report
            notes.append(f"{p.name}: {exc}")
            continue
        if not np.isfinite(a.cost).any():
            continue
        ax.plot(np.arange(a.cost.size), a.cost, marker="o", ms=3, color=color,
                label=f"{t:%Y-%m-%d %H:%M} ({a.iterations} it.)")
    if ax.lines:
        ax.set_yscale("log")
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, f"no analysis files in runs/{run}/cycles/", ha="center",
                transform=ax.transAxes)
    ax.set_xlabel("minimiser iteration")
    ax.set_ylabel("cost J (dimensionless)")
    ax.set_title(f"(a) {output.label(run)}: J per iteration", fontsize=9)
    ax.grid(alpha=0.3, which="both")
    return notes


def _cost_per_cycle(ax_it, ax_cost, output: DemoOutput, minim: dict) -> None:
    """Panels (b) iterations per cycle and (c) J before/after per cycle."""
    for run_m in output.ordered(minim):
        m = minim[run_m] or {}
        times = [parse_time(x) for x in m.get("times") or []]
        style = RUN_STYLE.get(run_m, {})
        it = m.get("iterations") or []
        if it and len(it) == len(times):
            ax_it.plot(times, it, marker=".", ms=3, lw=0.8, color=style.get("color"),
                       ls=style.get("ls", "-"), label=output.label(run_m))
        jb, ja = m.get("J_before") or [], m.get("J_after") or []
        if jb and len(jb) == len(times):
            ax_cost.plot(times, jb, lw=0.8, color=style.get("color"), ls=":")
        if ja and len(ja) == len(times):
            ax_cost.plot(times, ja, lw=1.2, color=style.get("color"), ls=style.get("ls", "-"),
                         label=output.label(run_m))
    paper_it = (output.results.get("paper") or {}).get("iterations")
    if paper_it:
        ax_it.axhline(paper_it, color="k", ls="--", lw=0.8, label=f"paper: {paper_it}")
    ax_it.set_ylabel("iterations per analysis")
    ax_it.set_title("(b) minimiser iterations per cycle", fontsize=9)
    ax_cost.set_ylabel("cost J (dimensionless)")
    ax_cost.set_title("(c) J before (dotted) and after\n(solid/dashed) each analysis",
                      fontsize=9)
    if ax_cost.lines:
        ax_cost.set_yscale("log")
    for ax in (ax_it, ax_cost):
        ax.set_xlabel("analysis time (UTC)")
        ax.grid(alpha=0.3, which="both")
        format_time_axis(ax)
        if not ax.lines:
            ax.text(0.5, 0.5, "no minimiser numbers in results.json", ha="center",
                    transform=ax.transAxes)
