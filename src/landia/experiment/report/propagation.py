"""Figure 4 (the paper's figure 12), ``propagation.png``: how deep the analysis increments
reach -- a depth-time section of the mean |DA - CTRL| and profiles at a few times, from the
``propagation`` block of ``results.json``."""

from __future__ import annotations

import textwrap

import numpy as np

from landia.experiment.report.demo_output import DemoOutput, parse_time
from landia.experiment.report.style import (
    SM_UNITS,
    format_time_axis,
    mark_forecast_start,
    new_figure,
)
from landia.figures import save

# depths (m) marked on the figure, with the colour of their line; results.json's reach_hours
# are keyed by these depths
REACH_DEPTHS = (("0.1", "tab:cyan"), ("0.5", "tab:green"))


def propagation_numbers(output: DemoOutput):
    """(block, depths, times, |DA - CTRL| (time, depth)) of results.json's ``propagation``,
    or a note saying why there are none."""
    p = output.results.get("propagation") or {}
    depths = np.asarray(p.get("depths_m") or [], dtype=float)
    times = [parse_time(x) for x in p.get("times") or []]
    mad = p.get("mean_abs_difference")
    if depths.size == 0 or not times or mad is None:
        return "results.json has no propagation numbers"
    z = np.array([[np.nan if v is None else v for v in row] for row in mad], dtype=float)
    if z.shape != (len(times), depths.size):
        return (f"propagation.mean_abs_difference has shape {z.shape}; expected "
                f"({len(times)}, {depths.size}) (times, depths)")
    return p, depths, times, z


def propagation_figure(output: DemoOutput):
    """The depth-time section (left) and profiles (right); returns (path, caption, note)."""
    numbers = propagation_numbers(output)
    if isinstance(numbers, str):
        return None, "", numbers
    fig, lines = propagation_canvas(output, *numbers)
    p = numbers[0]
    caption = (f"Mean over land of |{output.label(p.get('run', 'DA'))} − CTRL| soil moisture at "
               "the CoLM node depths, from the first analysis on. Dashed lines: 10 cm and 50 cm; "
               + "; ".join(lines) + " (time after the first analysis at which the difference "
               "at that depth first exceeds the threshold used in results.json).")
    return save(fig, output.figure_path("propagation.png"), dpi=110), caption, ""


def propagation_canvas(output: DemoOutput, p: dict, depths, times, z):
    """The figure of :func:`propagation_figure` from :func:`propagation_numbers`, and the
    lines saying when 10 cm and 50 cm were reached."""
    import matplotlib.dates as mdates  # matplotlib only on first use: see landia.figures
    from matplotlib.colors import LogNorm

    # depth edges: CoLM interfaces when the depths are the CoLM nodes, else midpoints
    top = max(depths[0] / 2.0, 1e-3)
    mids = (np.sqrt(depths[1:] * depths[:-1]) if np.all(depths > 0)
            else 0.5 * (depths[1:] + depths[:-1]))
    bottom = depths[-1] * (depths[-1] / mids[-1]) if mids.size else depths[-1] * 2
    yedges = np.r_[top, mids, bottom]
    tnum = mdates.date2num(times)
    if len(tnum) > 1:
        half = np.diff(tnum) / 2
        xedges = np.r_[tnum[0] - half[0], tnum[:-1] + half, tnum[-1] + half[-1]]
    else:
        xedges = np.r_[tnum[0] - 0.125, tnum[0] + 0.125]
    positive = z[np.isfinite(z) & (z > 0)]
    fig = new_figure(11.4, 4.8)
    ax, ax2 = fig.subplots(1, 2, width_ratios=[2.3, 1])
    if positive.size:
        vmax = float(np.nanmax(positive))
        vmin = max(float(np.percentile(positive, 5)), vmax * 1e-4)
        norm = LogNorm(vmin=vmin, vmax=vmax)
    else:
        norm = None
    m = ax.pcolormesh(mdates.num2date(xedges), yedges, np.ma.masked_invalid(z.T), cmap="magma_r",
                      norm=norm, shading="flat")
    ax.set_yscale("log")
    ax.set_ylim(yedges[-1], yedges[0])
    _depth_ticks(ax, yedges)
    # wrapped, the units on their own line: a run's label of any length stays inside the
    # figure's height (4.8 in: about 40 characters a line at 10 pt)
    fig.colorbar(m, ax=ax, label=textwrap.fill(f"mean |{output.label(p.get('run', 'DA'))} − "
                                               "CTRL|", 40) + f"\n({SM_UNITS})")
    reach = p.get("reach_hours") or {}
    lines = []
    for key, color in REACH_DEPTHS:
        d = float(key)
        ax.axhline(d, color=color, lw=1.2, ls="--")
        h = reach.get(key)
        txt = (f"{d * 100:.0f} cm reached after {h:.0f} h" if h is not None else
               f"{d * 100:.0f} cm not reached")
        lines.append(txt)
        ax.text(0.01, d, " " + txt, color=color, fontsize=8, va="bottom",
                transform=ax.get_yaxis_transform(),
                bbox=dict(fc="white", ec="none", alpha=0.7, pad=1))
    ax.set_ylabel("depth (log scale)")
    ax.set_xlabel("time (UTC)")
    format_time_axis(ax)
    mark_forecast_start(ax, output)
    ax.set_title("depth-time section of the mean absolute difference DA − CTRL", fontsize=9)
    _profiles(ax2, z, depths, times, yedges, norm)
    fig.suptitle("Vertical propagation of the analysis increments (cf. the paper's figure 12)",
                 fontsize=11)
    return fig, lines


def _profiles(ax, z, depths, times, yedges, norm) -> None:
    """Right panel: mean |DA - CTRL| against depth at a few times."""
    picks = sorted({0, len(times) // 4, len(times) // 2, len(times) - 1})
    for k in picks:
        prof = z[k]
        if np.isfinite(prof).any() and np.nanmax(prof) > 0:
            ax.plot(prof, depths, marker="o", ms=3, label=f"{times[k]:%Y-%m-%d %H:%M}")
    ax.set_yscale("log")
    ax.set_ylim(yedges[-1], yedges[0])
    _depth_ticks(ax, yedges)
    if ax.lines:
        ax.set_xscale("log")
        if norm is not None:
            ax.set_xlim(norm.vmin, norm.vmax * 1.5)
        ax.legend(fontsize=7)
    for key, color in REACH_DEPTHS:
        ax.axhline(float(key), color=color, lw=1.0, ls="--")
    ax.set_xlabel(f"mean |DA − CTRL| ({SM_UNITS})")
    ax.set_ylabel("depth (log scale)")
    ax.set_title("profiles at a few times", fontsize=9)
    ax.grid(alpha=0.3, which="both")


def _depth_ticks(ax, yedges) -> None:
    """Depth ticks in cm above 1 m, in m below, on a log axis."""
    # matplotlib only on first use: see landia.figures
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    ticks = [d for d in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)
             if yedges[0] <= d <= yedges[-1]]
    ax.yaxis.set_major_locator(FixedLocator(ticks))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(FuncFormatter(
        lambda v, _: f"{v * 100:g} cm" if v < 1 else f"{v:g} m"))
