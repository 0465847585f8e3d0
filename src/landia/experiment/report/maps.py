"""Figure 1 (the paper's figures 7, 9, 10): maps of 0-7 cm soil moisture of the truth, the
observation, CTRL and the DA analyses at one time, and their differences from the truth.

One figure per observation set of the experiment: ``maps.png`` for the runs assimilating
``obs``, ``maps_misspecified.png`` (with the large-error region outlined) for those assimilating
``obs_misspecified``.
"""

from __future__ import annotations

import math
import textwrap
from datetime import datetime

import numpy as np

from landia.experiment.observing import TRUE_ERROR_SET
from landia.experiment.report.demo_output import DemoOutput, read_state_surface
from landia.experiment.report.style import (
    MISSPECIFIED_OBSERVATIONS,
    SM_UNITS,
    new_figure,
)
from landia.experiment.runs import RUNS
from landia.figures import save

# The map figures are drawn the width of the report page's column (max-width 1300 px less
# padding) at MAP_DPI, so that the browser shows them unscaled: at most MAP_COLUMNS panels a row
MAP_WIDTH_IN = 11.4
MAP_DPI = 110
MAP_COLUMNS = 4
TITLE_SIZE = 9

# observation set -> (file name, title, outline the misspecified-error region)
MAP_FIGURES = {
    "obs": ("maps.png", "0-7 cm soil moisture: truth, observation, CTRL and analyses "
                        "(cf. the paper's figures 7, 9, 10)", False),
    MISSPECIFIED_OBSERVATIONS: ("maps_misspecified.png", "Idealised variant: misspecified "
                                "observation error inside the region", True),
}


def assimilating(observations: str) -> list[str]:
    """The runs of the experiment that assimilate one observation set, in its order; the
    misspecified set's map also shows the runs told its true error (the same values)."""
    sets = {observations, TRUE_ERROR_SET} if observations == MISSPECIFIED_OBSERVATIONS \
        else {observations}
    return [name for name, spec in RUNS.items() if spec["observations"] in sets]


def map_figures(output: DemoOutput, attempt) -> list:
    """Every map figure, each made through ``attempt`` (which turns a failure into a note)."""
    box = output.region_box()
    return [attempt(maps_figure, output, assimilating(folder), folder, name, title,
                    box=box if outline else None, extra=["ctrl"])
            for folder, (name, title, outline) in MAP_FIGURES.items()]


def _map_time(output: DemoOutput, da_runs: list[str], obs_folder: str):
    """The latest truth-state time at or before the end of assimilation where the DA runs and
    the observation have a field; falls back to the latest common truth/DA time."""
    times = set(output.states("truth"))
    if not times:
        return None, "the truth run has no states/state_*.nc files"
    for run in da_runs:
        have = set(output.analyses(run)) | set(output.states(run))
        if times & have:
            times &= have
    obs = set(output.observations(obs_folder))
    if times & obs:
        times &= obs
    assim = output.time("assimilation_end")
    before = sorted(t for t in times if assim is None or t <= assim)
    chosen = before[-1] if before else max(times)
    return chosen, ""


def _edges(c: np.ndarray) -> np.ndarray:
    """Cell edges of cell centres ``c``."""
    c = np.asarray(c, dtype=float)
    if c.size == 1:
        return np.array([c[0] - 0.5, c[0] + 0.5])
    mid = 0.5 * (c[1:] + c[:-1])
    return np.r_[c[0] - (mid[0] - c[0]), mid, c[-1] + (c[-1] - mid[-1])]


def _map_panel(ax, lat, lon, values, title, cmap, vmin, vmax, land, box=None):
    """One map: the field, the land mask's outline (the coastline of the model grid), the
    region box when given."""
    import matplotlib.patches as mpatches  # matplotlib only on first use: see landia.figures
    from matplotlib.ticker import MaxNLocator

    ax.set_facecolor("0.88")
    m = ax.pcolormesh(_edges(lon), _edges(lat), np.ma.masked_invalid(values), cmap=cmap,
                      vmin=vmin, vmax=vmax, shading="flat")
    if land.any() and not land.all():  # the outline of the land mask, at 0.5 between cells
        ax.contour(lon, lat, land.astype(float), levels=[0.5], colors="k", linewidths=0.8)
    ax.set_title(title, fontsize=TITLE_SIZE)
    ax.set_aspect(1.0 / max(math.cos(math.radians(float(np.mean(lat)))), 0.2))
    ax.xaxis.set_major_locator(MaxNLocator(4))
    ax.yaxis.set_major_locator(MaxNLocator(5))
    ax.tick_params(labelsize=8)
    if box is not None:
        s, n, w, e = box
        ax.add_patch(mpatches.Rectangle((w, s), e - w, n - s, fill=False, ec="magenta", lw=1.5,
                                        ls="--"))
    return m


def maps_figure(output: DemoOutput, da_runs: list[str], obs_folder: str, name: str, title: str,
                box=None, extra: list[str] | None = None):
    """The maps of one observation set (:func:`maps_canvas`): truth, observation, other runs and
    DA analyses, then each minus the truth. Returns (path, caption, note)."""
    if "truth" not in output.run_dirs:
        return None, "", "no truth run (runs/truth) in the output folder"
    wanted = list(da_runs)
    da_runs = [r for r in da_runs if r in output.run_dirs]
    if not da_runs:
        return None, "", ("none of the DA runs " + ", ".join(f"runs/{r}" for r in wanted)
                          + " is in the output folder")
    t, why = _map_time(output, da_runs, obs_folder)
    if t is None:
        return None, "", why
    lat, lon, ts, _ = output.run_surface("truth", t)
    panels = [("truth", "truth", ts)]
    skipped = []
    obs_file = output.observations(obs_folder).get(t)
    if obs_file is not None:
        _, _, os_ = read_state_surface(obs_file)
        panels.append(("observation", f"observation ({obs_folder}/)", os_))
    else:
        skipped.append(f"observation ({obs_folder}/obs_{t:%Y%m%dT%H%M}.nc absent)")
    for run in (extra or []) + wanted:
        if run in [p[0] for p in panels]:
            continue
        r = output.run_surface(run, t) if run in output.run_dirs else None
        if r is None or r[2].shape != ts.shape:
            why = "no field at this time" if run in output.run_dirs else "run absent"
            skipped.append(f"{output.label(run)} ({why})")
            continue
        panels.append((run, f"{output.label(run)}\n({r[3]})", r[2]))
    path = _draw_maps(output, panels, lat, lon, ts, t, name, title, box)
    note = ("Not shown: " + ", ".join(skipped) + ".") if skipped else ""
    return path, _caption(panels, ts, t, box), note


def _panel_grid(sub, n: int, ncol: int):
    """``n`` map axes of a subfigure in rows of ``ncol``, the unused slots removed."""
    rows = math.ceil(n / ncol)
    axes = sub.subplots(rows, ncol, squeeze=False)
    for k in range(n, rows * ncol):
        axes.flat[k].remove()
    for k in range(n):
        ax = axes.flat[k]
        if k % ncol == 0:
            ax.set_ylabel("latitude (°N)", fontsize=8)
        if k + ncol >= n:  # the lowest panel of its column
            ax.set_xlabel("longitude (°E)", fontsize=8)
    return list(axes.flat[:n])


def _wrap(text: str, width_in: float) -> str:
    """``text`` wrapped to the width of a panel (lines kept)."""
    chars = max(12, int(width_in * 72 / (0.56 * TITLE_SIZE)))
    return "\n".join(textwrap.fill(line, chars) for line in text.splitlines())


def _draw_maps(output: DemoOutput, panels, lat, lon, ts, t: datetime, name: str, title: str,
               box):
    return save(maps_canvas(panels, lat, lon, ts, t, title, box), output.figure_path(name),
                dpi=MAP_DPI)


def maps_canvas(panels, lat, lon, ts, t: datetime, title: str, box=None):
    """The map figure: the fields (truth, observation, runs; shared colour scale) above, each
    minus the truth (shared symmetric scale) below, at most :data:`MAP_COLUMNS` panels a row,
    the page's width wide (:data:`MAP_WIDTH_IN` at :data:`MAP_DPI`). ``panels`` are (key,
    title, 0-7 cm field); the truth ``ts`` gives the land mask whose outline every map
    draws."""
    n = len(panels)
    ncol = min(n, MAP_COLUMNS)
    rows = math.ceil(n / ncol) + math.ceil((n - 1) / ncol)
    panel_w = (MAP_WIDTH_IN - 1.9) / ncol  # less the colour bar and the latitude labels
    aspect = ((float(np.ptp(lat)) + 1e-9) / (float(np.ptp(lon)) + 1e-9)
              / max(math.cos(math.radians(float(np.mean(lat)))), 0.2))
    row_h = panel_w * min(max(aspect, 0.4), 1.6) + 0.75  # + title and tick labels
    fig = new_figure(MAP_WIDTH_IN, rows * row_h + 0.7)
    top, bottom = fig.subfigures(2, 1, height_ratios=[math.ceil(n / ncol),
                                                      max(math.ceil((n - 1) / ncol), 1)])
    land = np.isfinite(ts)
    stacked = np.array([p[2] for p in panels])
    finite = stacked[np.isfinite(stacked)]
    vmin, vmax = (np.percentile(finite, [1, 99]) if finite.size else (0.0, 0.5))
    if vmax <= vmin:
        vmax = vmin + 0.01
    axes = _panel_grid(top, n, ncol)
    m = None
    for ax, (_, ttl, v) in zip(axes, panels):
        m = _map_panel(ax, lat, lon, v, _wrap(ttl, panel_w), "YlGnBu", vmin, vmax, land, box)
    top.colorbar(m, ax=axes, shrink=0.9, label=f"0-7 cm soil moisture ({SM_UNITS})")
    diffs = [(ttl.split("\n")[0], v - ts) for (_, ttl, v) in panels[1:]]
    bottom.suptitle("minus the truth (blue: wetter, red: drier)", fontsize=10)
    if diffs:
        dmax = max((np.nanpercentile(np.abs(d), 99) for _, d in diffs
                    if np.isfinite(d).any()), default=0.05)
        dmax = float(dmax) if dmax > 0 else 0.05
        daxes = _panel_grid(bottom, len(diffs), ncol)
        dm = None
        for ax, (ttl, d) in zip(daxes, diffs):
            dm = _map_panel(ax, lat, lon, d, _wrap(ttl, panel_w), "RdBu", -dmax, dmax, land,
                            box)
        bottom.colorbar(dm, ax=daxes, shrink=0.9, label=f"difference from truth ({SM_UNITS})")
    fig.suptitle(f"{title} — {t:%Y-%m-%d %H:%M} UTC", fontsize=11)
    return fig


def _caption(panels, ts, t: datetime, box) -> str:
    rmse = []
    for key, ttl, v in panels[1:]:
        d = v - ts
        ok = np.isfinite(d)
        if ok.any():
            rmse.append(f"{ttl.splitlines()[0]} {np.sqrt(np.mean(d[ok] ** 2)):.3f}")
    caption = (f"0-7 cm soil moisture (thickness-weighted mean of the top CoLM layers) at "
               f"{t:%Y-%m-%d %H:%M} UTC, the last common time before the end of the "
               f"assimilation period. DA panels show the analysis of that cycle. Grey: not "
               f"land (black line: the outline of the model grid's land mask) or not observed; in the difference maps blue is wetter, red drier than the truth. "
               f"Spatial RMSE against the truth at this time (m3 m-3): "
               + "; ".join(rmse) + ".")
    if box is not None:
        caption += (" Dashed magenta box: the region where the observations carry a large "
                    "error that their stated error variance does not admit.")
    return caption
