"""Building the report: every figure, each through a guard that turns its failure into a
note on the page, then the page."""

from __future__ import annotations

from pathlib import Path

from landia.experiment.report.cost import cost_figure
from landia.experiment.report.demo_output import DemoOutput
from landia.experiment.report.ensemble import rank_histogram_figure
from landia.experiment.report.excess import excess_figure
from landia.experiment.report.maps import map_figures
from landia.experiment.report.page import render_page
from landia.experiment.report.propagation import propagation_figure
from landia.experiment.report.series import series_figures
from landia.experiment.report.variances import has_estimates, variance_figure
from landia.log import get_logger

log = get_logger("landia.report")


def _attempt(fn, *args, **kwargs):
    """``fn(*args, **kwargs)``, or (None, "", note) when it fails."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - one broken input must not lose the report
        log.warning("report_figure_failed", figure=fn.__name__, error=str(exc), exc_info=True)
        return None, "", f"this figure could not be made: {type(exc).__name__}: {exc}"


def build_report(out_dir) -> Path:
    """Write ``OUT/figures/*.png`` and the self-contained ``OUT/report.html``; return the page.

    Parameters
    ----------
    out_dir : path-like
        The demo's output folder (``results.json``, ``runs/``, ``obs/``,
        ``obs_misspecified/``). Missing runs, files or numbers leave the corresponding
        figure out with a note on the page.
    """
    output = DemoOutput(Path(out_dir))
    sections = [
        ("Maps", map_figures(output, _attempt) + [_attempt(excess_figure, output)]),
        ("Scores through time", series_figures(output, _attempt)),
        ("Minimiser", [_attempt(cost_figure, output)]
         + ([_attempt(variance_figure, output)] if _attempt(has_estimates, output) is True
            else [])),
        ("Vertical propagation of the increments", [_attempt(propagation_figure, output)]),
    ]
    if output.results.get("ensemble"):  # only a demo with ensemble runs
        sections.append(("Ensemble", [_attempt(rank_histogram_figure, output)]))
    page = output.out / "report.html"
    page.write_text(render_page(output, sections), encoding="utf-8")
    return page
