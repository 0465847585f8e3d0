"""Figure: where the image analysis finds the observation error larger than stated.

The local error estimate (``analysis.local_image_error``, on by default with the image term)
carries, per land cell, the observation-error variance beyond the stated one, e; every analysis
file holds it (``observation_error_excess``, :mod:`landia.io.analysis_diagnostics`). The figure
maps its mean over the scored assimilation period, as a standard deviation
sqrt(max(mean e, 0)) in m3 m-3, for the image runs of the correctly stated observations and of
the misspecified set, with the misspecified region outlined. Inside that region the random
error is ``region_factor`` times the stated one, an excess of sqrt(region_factor^2 - 1) x
``random_std`` (the caption gives it); elsewhere the truth is none.
"""

from __future__ import annotations

import math

import numpy as np

from landia.experiment.report.demo_output import DemoOutput
from landia.experiment.report.maps import (MAP_DPI, MAP_WIDTH_IN, TITLE_SIZE, _map_panel,
                                           _panel_grid)
from landia.experiment.report.style import new_figure
from landia.figures import save
from landia.io.analysis_file import read_analysis_local_error

#: The runs mapped, in order: image DA of the correctly stated and of the misspecified set.
EXCESS_RUNS = ("image", "image_misspecified")
NAME = "observation_error_excess.png"


def mean_of_files(paths) -> tuple[np.ndarray, np.ndarray, np.ndarray, int] | None:
    """(lat, lon, mean carried excess e, number of files) over the analysis files ``paths``
    that hold the local error estimate; None when none does."""
    total, count, grid = None, 0, None
    for path in paths:
        lat, lon, local = read_analysis_local_error(path)
        if local is None:
            continue
        e = local["observation_error_excess"]
        total = e.copy() if total is None else total + e
        count, grid = count + 1, (lat, lon)
    if not count:
        return None
    return grid[0], grid[1], total / count, count


def mean_excess(output: DemoOutput, run: str) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                       int] | None:
    """:func:`mean_of_files` of one run's analyses after ``discard_end`` up to
    ``assimilation_end`` (the scored assimilation period)."""
    start, end = output.time("discard_end"), output.time("assimilation_end")
    return mean_of_files(path for t, path in sorted(output.analyses(run).items())
                         if (start is None or t > start) and (end is None or t <= end))


def excess_figure(output: DemoOutput):
    """The map of the excess of each run of :data:`EXCESS_RUNS` present; (path, caption,
    note)."""
    found, missing = [], []
    for run in EXCESS_RUNS:
        got = mean_excess(output, run) if run in output.run_dirs else None
        (found if got is not None else missing).append((run, got))
    if not found:
        return None, "", ("no analysis file of " + ", ".join(f"runs/{r}" for r in EXCESS_RUNS)
                          + " holds the local error estimate (analysis.local_image_error)")
    lat, lon = found[0][1][0], found[0][1][1]
    panels = [(f"{output.label(run)}\n(mean of {n} analyses)",
               np.sqrt(np.clip(e, 0.0, None))) for run, (_, _, e, n) in found]
    box = output.region_box()
    observing = output.exp.get("observing") or {}
    factor, std = observing.get("region_factor"), observing.get("random_std")
    true_excess = (math.sqrt(factor ** 2 - 1.0) * std
                   if factor is not None and std is not None and factor >= 1 else None)
    path = save(excess_canvas(panels, lat, lon, box, true_excess), output.figure_path(NAME),
                dpi=MAP_DPI)
    truth = (f" Inside the region the random error is {factor:g} x {std:g} m3 m-3 instead of "
             f"{std:g}: an excess of {true_excess:.3f} m3 m-3 (dashed on the colour bar); "
             f"elsewhere none." if true_excess is not None else "")
    caption = ("Observation error beyond the stated one found by the image analysis' local "
               "estimate (analysis.local_image_error, the default with JI), as a standard "
               "deviation sqrt(max(e, 0)), mean of e over the scored assimilation period, "
               "first seed; the misspecified region outlined." + truth)
    note = ("Not shown: " + ", ".join(f"runs/{r}" for r, _ in missing)
            + " (absent or without the estimate).") if missing else ""
    return path, caption, note


def excess_canvas(panels, lat, lon, box=None, true_excess=None):
    """One row of maps of ``panels`` (title, sqrt(max(e, 0)) on the grid) on a shared scale
    from 0; ``box`` (S, N, W, E) outlined; the colour bar marks ``true_excess`` (a dashed
    line) when known."""
    n = len(panels)
    panel_w = (MAP_WIDTH_IN - 1.9) / max(n, 2)
    aspect = ((float(np.ptp(lat)) + 1e-9) / (float(np.ptp(lon)) + 1e-9)
              / max(math.cos(math.radians(float(np.mean(lat)))), 0.2))
    fig = new_figure(MAP_WIDTH_IN, panel_w * min(max(aspect, 0.4), 1.6) + 1.4)
    land = np.isfinite(panels[0][1])
    finite = np.concatenate([v[np.isfinite(v)] for _, v in panels])
    vmax = max(float(np.percentile(finite, 99)) if finite.size else 0.0,
               1.2 * (true_excess or 0.0), 1e-3)  # room above the true excess's mark
    axes = _panel_grid(fig, n, max(n, 2))
    m = None
    for ax, (title, values) in zip(axes, panels):
        m = _map_panel(ax, lat, lon, values, title, "magma_r", 0.0, vmax, land, box)
    bar = fig.colorbar(m, ax=axes, shrink=0.9,
                       label="error beyond the stated (m3 m-3, s.d.)")
    if true_excess is not None:
        bar.ax.axhline(true_excess, color="magenta", lw=1.5, ls="--")
    fig.suptitle("Where the observations' error exceeds the stated one",
                 fontsize=TITLE_SIZE + 1)
    return fig
