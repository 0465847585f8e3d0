"""The demo's report: PNG figures and one self-contained HTML page.

:func:`build_report` reads the demo's output folder ``OUT`` (the layout written by
:mod:`landia.experiment.demo_run`)::

    OUT/results.json                       the numbers (experiment, runs, series, table, ...)
    OUT/runs/<name>/states/state_*.nc      model states of each run (field files)
    OUT/runs/<name>/cycles/analysis_*.nc   analysis files of the DA runs
    OUT/obs/obs_*.nc, OUT/obs_misspecified/obs_*.nc   observation images

and writes ``OUT/figures/*.png`` and ``OUT/report.html``. The page embeds every figure as a
base64 ``data:`` URI and carries its own CSS, so it opens from ``file://`` with no server and
no network. The figures follow the paper's:

1. ``maps.png`` (figures 7, 9, 10): 0-7 cm soil moisture of truth, observation, CTRL and the
   DA analyses at one time near the end of the assimilation period, and their differences
   from the truth; ``maps_misspecified.png`` the same for the idealised variant with the
   large-error region outlined.
2. ``timeseries.png`` (figures 13, 16): SCC and RMSE against the truth per run for 0-7 cm
   and 7-28 cm; ``timeseries_region.png`` the same inside the misspecified region.
3. ``cost.png`` (figure 8): J per iteration for a few analyses, iterations per cycle and J
   before/after each cycle.
4. ``propagation.png`` (figure 12): depth-time plot of the mean |DA - CTRL|.

A missing run, file or series never stops the report: that figure (or panel) is left out
and the page says why.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import math
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from landia.grid import depth_weights

log = logging.getLogger(__name__)

RUN_ORDER = ["truth", "ctrl", "image", "point", "hybrid", "image_misspecified",
             "point_misspecified", "hybrid_misspecified"]
RUN_STYLE = {
    "truth": dict(color="black", ls="-"),
    "ctrl": dict(color="0.45", ls="-"),
    "image": dict(color="tab:blue", ls="-"),
    "point": dict(color="tab:orange", ls="-"),
    "hybrid": dict(color="tab:green", ls="-"),
    "image_misspecified": dict(color="tab:blue", ls="--"),
    "point_misspecified": dict(color="tab:orange", ls="--"),
    "hybrid_misspecified": dict(color="tab:green", ls="--"),
}
METRICS = [("surface", "0-7 cm"), ("layer_7_28", "7-28 cm"), ("region_surface", "0-7 cm, region")]
SM_UNITS = "m$^3$ m$^{-3}$"


# ----------------------------------------------------------------------------- reading

def _parse_time(text) -> datetime | None:
    """An ISO 8601 string (with or without Z) or a file label YYYYMMDDTHHMM -> naive UTC."""
    if text is None:
        return None
    s = str(text).strip()
    for fmt in ("%Y%m%dT%H%M", "%Y%m%dT%H%M%S"):
        try:
            return datetime.strptime(s, fmt)
        except ValueError:
            pass
    try:
        t = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t.replace(tzinfo=None) if t.tzinfo is not None else t


def _files_by_time(folder: Path, prefix: str) -> dict[datetime, Path]:
    """``<prefix>_YYYYMMDDTHHMM.nc`` files of a folder, keyed by their time."""
    out = {}
    if folder.is_dir():
        for p in sorted(folder.glob(f"{prefix}_*.nc")):
            t = _parse_time(p.stem[len(prefix) + 1:])
            if t is not None:
                out[t] = p
    return out


def _surface_weights(n: int) -> np.ndarray:
    """Weights of the first ``n`` layers in the 0-7 cm mean."""
    w = depth_weights(0.0, 0.07)[:n]
    return w / w.sum() if w.sum() > 0 else w


def _surface(values: np.ndarray) -> np.ndarray:
    """0-7 cm thickness-weighted mean of a (layer, lat, lon) array."""
    values = np.asarray(values, dtype=float)
    return np.tensordot(_surface_weights(values.shape[0]), values, axes=(0, 0))


def _read_state_surface(path: Path):
    """(lat, lon, 0-7 cm soil moisture) of a field file."""
    from landia.io.fields import read_field
    f = read_field(path)
    return f.lat, f.lon, _surface(f.values)


def _read_analysis(path: Path) -> dict:
    """Variables of an analysis file as arrays (missing ones absent)."""
    import netCDF4
    out = {}
    with netCDF4.Dataset(path) as ds:
        for name in ("lat", "lon", "analysis", "background", "increment", "observation",
                     "cost", "gradient_norm", "cost_before", "cost_after"):
            if name in ds.variables:
                v = ds.variables[name]
                v.set_auto_maskandscale(True)
                out[name] = np.ma.filled(np.ma.asarray(v[...], dtype=float), np.nan)
        out["iterations"] = int(getattr(ds, "iterations", len(out.get("cost", [])) - 1))
        out["converged_reason"] = str(getattr(ds, "converged_reason", ""))
    return out


# ----------------------------------------------------------------------------- helpers

class _Report:
    def __init__(self, out_dir: Path):
        self.out = Path(out_dir)
        self.fig_dir = self.out / "figures"
        self.fig_dir.mkdir(parents=True, exist_ok=True)
        path = self.out / "results.json"
        try:
            self.results = json.loads(path.read_text()) if path.exists() else {}
        except (OSError, ValueError) as exc:
            log.warning("report: cannot read %s: %s", path, exc)
            self.results = {}
        self.notes: list[str] = []  # general notes for the page header
        if not self.results:
            self.notes.append(f"{path.name} is missing or unreadable: the tables are empty.")
        self.exp = self.results.get("experiment", {}) or {}
        runs_dir = self.out / "runs"
        self.run_dirs = {p.name: p for p in sorted(runs_dir.iterdir()) if p.is_dir()} \
            if runs_dir.is_dir() else {}

    def label(self, run: str) -> str:
        info = (self.results.get("runs") or {}).get(run) or {}
        if info.get("label"):
            return str(info["label"])
        return "truth" if run == "truth" else run

    def ordered(self, names) -> list[str]:
        names = list(names)
        return [n for n in RUN_ORDER if n in names] + sorted(n for n in names if n not in RUN_ORDER)

    def time(self, key) -> datetime | None:
        return _parse_time(self.exp.get(key))

    def region_box(self):
        box = (self.exp.get("region") or {}).get("box")
        if box is not None and len(box) == 4 and all(v is not None for v in box):
            return [float(v) for v in box]
        return None

    def save(self, fig, name: str) -> Path:
        path = self.fig_dir / name
        fig.savefig(path, dpi=110)
        return path


def _new_figure(width, height):
    from matplotlib.figure import Figure
    return Figure(figsize=(width, height), layout="constrained")


def _shade_periods(ax, rep: _Report, legend: bool = True):
    start, discard, assim, end = (rep.time(k) for k in
                                  ("start", "discard_end", "assimilation_end", "end"))
    if start and discard and discard > start:
        ax.axvspan(start, discard, color="0.85", alpha=0.6, lw=0,
                   label="discarded (spin-up)" if legend else None)
    if assim:
        ax.axvline(assim, color="k", lw=1.0, ls=":",
                   label="end of assimilation" if legend else None)
        if end and end > assim:
            ax.axvspan(assim, end, color="khaki", alpha=0.25, lw=0,
                       label="free forecast" if legend else None)


def _format_time_axis(ax):
    import matplotlib.dates as mdates
    loc = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))


# ----------------------------------------------------------------------------- figure 1: maps

def _map_time(rep: _Report, da_runs: list[str], obs_folder: str) -> tuple[datetime | None, str]:
    """The latest truth-state time at or before the end of assimilation where the DA runs and
    the observation have a field; falls back to the latest common truth/DA time."""
    truth = _files_by_time(rep.run_dirs["truth"] / "states", "state")
    times = set(truth)
    if not times:
        return None, "the truth run has no states/state_*.nc files"
    for run in da_runs:
        d = rep.run_dirs[run]
        have = set(_files_by_time(d / "cycles", "analysis")) | set(
            _files_by_time(d / "states", "state"))
        if times & have:
            times &= have
    obs = set(_files_by_time(rep.out / obs_folder, "obs"))
    if times & obs:
        times &= obs
    assim = rep.time("assimilation_end")
    before = sorted(t for t in times if assim is None or t <= assim)
    chosen = before[-1] if before else max(times)
    return chosen, ""


def _run_surface(rep: _Report, run: str, t: datetime):
    """(lat, lon, surface, what) of a run at t: the analysis for DA runs, else the state."""
    d = rep.run_dirs.get(run)
    if d is None:
        return None
    ana = _files_by_time(d / "cycles", "analysis").get(t)
    if ana is not None:
        a = _read_analysis(ana)
        if "analysis" in a and "lat" in a:
            return a["lat"], a["lon"], _surface(a["analysis"]), "analysis"
    st = _files_by_time(d / "states", "state").get(t)
    if st is not None:
        lat, lon, s = _read_state_surface(st)
        return lat, lon, s, "state"
    return None


def _edges(c: np.ndarray) -> np.ndarray:
    c = np.asarray(c, dtype=float)
    if c.size == 1:
        return np.array([c[0] - 0.5, c[0] + 0.5])
    mid = 0.5 * (c[1:] + c[:-1])
    return np.r_[c[0] - (mid[0] - c[0]), mid, c[-1] + (c[-1] - mid[-1])]


def _map_panel(ax, lat, lon, values, title, cmap, vmin, vmax, box=None):
    import matplotlib.patches as mpatches
    ax.set_facecolor("0.88")
    m = ax.pcolormesh(_edges(lon), _edges(lat), np.ma.masked_invalid(values), cmap=cmap,
                      vmin=vmin, vmax=vmax, shading="flat")
    ax.set_title(title, fontsize=9)
    ax.set_aspect(1.0 / max(math.cos(math.radians(float(np.mean(lat)))), 0.2))
    ax.tick_params(labelsize=7)
    if box is not None:
        s, n, w, e = box
        ax.add_patch(mpatches.Rectangle((w, s), e - w, n - s, fill=False, ec="magenta", lw=1.5,
                                        ls="--"))
    return m


def _maps_figure(rep: _Report, da_runs: list[str], obs_folder: str, name: str, title: str,
                 box=None, extra: list[str] | None = None):
    """Top row: truth, observation, other runs, DA analyses (shared colour scale); bottom row:
    each minus the truth (shared symmetric scale). Returns (path, caption, note)."""
    if "truth" not in rep.run_dirs:
        return None, "", "no truth run (runs/truth) in the output folder"
    wanted = list(da_runs)
    da_runs = [r for r in da_runs if r in rep.run_dirs]
    if not da_runs:
        return None, "", ("none of the DA runs " + ", ".join(f"runs/{r}" for r in wanted)
                          + " is in the output folder")
    t, why = _map_time(rep, da_runs, obs_folder)
    if t is None:
        return None, "", why
    truth = _run_surface(rep, "truth", t)
    lat, lon, ts, _ = truth
    panels = [("truth", "truth", ts)]
    skipped = []
    obs_file = _files_by_time(rep.out / obs_folder, "obs").get(t)
    if obs_file is not None:
        _, _, os_ = _read_state_surface(obs_file)
        panels.append(("observation", f"observation ({obs_folder}/)", os_))
    else:
        skipped.append(f"observation ({obs_folder}/obs_{t:%Y%m%dT%H%M}.nc absent)")
    for run in (extra or []) + wanted:
        if run in [p[0] for p in panels]:
            continue
        r = _run_surface(rep, run, t) if run in rep.run_dirs else None
        if r is None or r[2].shape != ts.shape:
            why = "no field at this time" if run in rep.run_dirs else "run absent"
            skipped.append(f"{rep.label(run)} ({why})")
            continue
        panels.append((run, f"{rep.label(run)}\n({r[3]})", r[2]))
    ncol = len(panels)
    fig = _new_figure(2.6 * ncol + 1.2, 5.6)
    axes = fig.subplots(2, ncol, squeeze=False)
    stacked = np.array([p[2] for p in panels])
    finite = stacked[np.isfinite(stacked)]
    vmin, vmax = (np.percentile(finite, [1, 99]) if finite.size else (0.0, 0.5))
    if vmax <= vmin:
        vmax = vmin + 0.01
    m = None
    for j, (_, ttl, v) in enumerate(panels):
        m = _map_panel(axes[0, j], lat, lon, v, ttl, "YlGnBu", vmin, vmax, box)
    fig.colorbar(m, ax=axes[0, :].tolist(), shrink=0.85,
                 label=f"0-7 cm soil moisture ({SM_UNITS})")
    diffs = [(ttl.split("\n")[0] + " − truth", v - ts) for (key, ttl, v) in panels[1:]]
    dmax = max((np.nanpercentile(np.abs(d), 99) for _, d in diffs
                if np.isfinite(d).any()), default=0.05)
    dmax = float(dmax) if dmax > 0 else 0.05
    axes[1, 0].axis("off")
    axes[1, 0].text(0.5, 0.5, f"valid time\n{t:%Y-%m-%d %H:%M} UTC\n\ndifferences from\nthe truth "
                    "below", ha="center", va="center", fontsize=9, transform=axes[1, 0].transAxes)
    dm = None
    for j, (ttl, d) in enumerate(diffs, start=1):
        dm = _map_panel(axes[1, j], lat, lon, d, ttl, "RdBu", -dmax, dmax, box)
    if dm is not None:
        fig.colorbar(dm, ax=axes[1, :].tolist(), shrink=0.85,
                     label=f"difference from truth ({SM_UNITS})")
    for j in range(ncol):
        axes[1, j].set_xlabel("longitude (°E)", fontsize=7)
    axes[0, 0].set_ylabel("latitude (°N)", fontsize=7)
    if ncol > 1:
        axes[1, 1].set_ylabel("latitude (°N)", fontsize=7)
    fig.suptitle(f"{title} — {t:%Y-%m-%d %H:%M} UTC", fontsize=11)
    path = rep.save(fig, name)
    rmse = []
    for key, ttl, v in panels[1:]:
        d = v - ts
        ok = np.isfinite(d)
        if ok.any():
            rmse.append(f"{ttl.splitlines()[0]} {np.sqrt(np.mean(d[ok] ** 2)):.3f}")
    caption = (f"0-7 cm soil moisture (thickness-weighted mean of the top CoLM layers) at "
               f"{t:%Y-%m-%d %H:%M} UTC, the last common time before the end of the "
               f"assimilation period. DA panels show the analysis of that cycle. Grey: not "
               f"land; in the difference maps blue is wetter, red drier than the truth. "
               f"Spatial RMSE against the truth at this time (m3 m-3): "
               + "; ".join(rmse) + ".")
    if box is not None:
        caption += (" Dashed magenta box: the region where the observations carry a large "
                    "error that their stated error variance does not admit.")
    note = ("Not shown: " + ", ".join(skipped) + ".") if skipped else ""
    return path, caption, note


# ----------------------------------------------------------------------------- figure 2: series

def _series_figure(rep: _Report, runs: list[str], groups: list[tuple[str, str]], name: str,
                   title: str):
    series = rep.results.get("series") or {}
    runs = [r for r in runs if r in series]
    if not runs:
        return None, "", "results.json has no series for these runs"
    fig = _new_figure(12, 3.2 * len(groups) + 0.6)
    axes = fig.subplots(len(groups), 2, squeeze=False, sharex=True)
    plotted = 0
    for i, (group, glabel) in enumerate(groups):
        for j, (metric, mlabel) in enumerate((("scc", "SCC"), ("rmse", f"RMSE ({SM_UNITS})"))):
            ax = axes[i, j]
            _shade_periods(ax, rep, legend=(i == 0 and j == 0))
            for run in runs:
                s = series[run]
                times = [_parse_time(x) for x in s.get("times") or []]
                vals = (s.get(group) or {}).get(metric)
                if not vals or len(vals) != len(times):
                    continue
                y = np.array([np.nan if v is None else v for v in vals], dtype=float)
                ax.plot(times, y, lw=1.3, label=rep.label(run) if (i == 0 and j == 0) else None,
                        **RUN_STYLE.get(run, {}))
                plotted += 1
            ax.set_ylabel(f"{mlabel}", fontsize=9)
            ax.set_title(f"{glabel}: {'spatial correlation' if metric == 'scc' else 'RMSE'} "
                         "against the truth", fontsize=9)
            ax.grid(alpha=0.3)
            _format_time_axis(ax)
    if not plotted:
        return None, "", "the series in results.json are empty"
    for ax in axes[-1]:
        ax.set_xlabel("time (UTC)", fontsize=9)
    fig.legend(loc="outside lower center", ncol=6, fontsize=8, frameon=False)
    fig.suptitle(title, fontsize=11)
    return rep.save(fig, name), "", ""


# ----------------------------------------------------------------------------- figure 3: cost

def _cost_figure(rep: _Report, run: str = "image"):
    minim = rep.results.get("minimiser") or {}
    d = rep.run_dirs.get(run)
    files = sorted(_files_by_time(d / "cycles", "analysis").items()) if d else []
    if not files and not minim:
        return None, "", (f"no analysis files (runs/{run}/cycles/) and no minimiser numbers in "
                          "results.json")
    fig = _new_figure(15, 4.2)
    axes = fig.subplots(1, 3)
    notes = []
    # (a) J per iteration of the first, middle and last analysis
    ax = axes[0]
    picks = []
    if files:
        idx = sorted({0, len(files) // 2, len(files) - 1})
        picks = [files[i] for i in idx]
    for (t, p), color in zip(picks, ("tab:blue", "tab:purple", "tab:red")):
        try:
            a = _read_analysis(p)
        except Exception as exc:  # noqa: BLE001 - a bad file must not stop the report
            notes.append(f"{p.name}: {exc}")
            continue
        cost = a.get("cost")
        if cost is None or not np.isfinite(cost).any():
            continue
        ax.plot(np.arange(cost.size), cost, marker="o", ms=3, color=color,
                label=f"{t:%Y-%m-%d %H:%M} ({a['iterations']} it.)")
    if ax.lines:
        ax.set_yscale("log")
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, f"no analysis files in runs/{run}/cycles/", ha="center",
                transform=ax.transAxes)
    ax.set_xlabel("minimiser iteration")
    ax.set_ylabel("cost J (dimensionless)")
    ax.set_title(f"(a) {rep.label(run)}: J per iteration", fontsize=9)
    ax.grid(alpha=0.3, which="both")
    # (b) iterations per cycle, (c) J before/after per cycle
    for run_m in rep.ordered(minim):
        m = minim[run_m] or {}
        times = [_parse_time(x) for x in m.get("times") or []]
        style = RUN_STYLE.get(run_m, {})
        it = m.get("iterations") or []
        if it and len(it) == len(times):
            axes[1].plot(times, it, marker=".", ms=3, lw=0.8, color=style.get("color"),
                         ls=style.get("ls", "-"), label=rep.label(run_m))
        jb, ja = m.get("J_before") or [], m.get("J_after") or []
        if jb and len(jb) == len(times):
            axes[2].plot(times, jb, lw=0.8, color=style.get("color"), ls=":")
        if ja and len(ja) == len(times):
            axes[2].plot(times, ja, lw=1.2, color=style.get("color"), ls=style.get("ls", "-"),
                         label=rep.label(run_m))
    paper_it = (rep.results.get("paper") or {}).get("iterations")
    if paper_it:
        axes[1].axhline(paper_it, color="k", ls="--", lw=0.8, label=f"paper: {paper_it}")
    axes[1].set_ylabel("iterations per analysis")
    axes[1].set_title("(b) minimiser iterations per cycle", fontsize=9)
    axes[2].set_ylabel("cost J (dimensionless)")
    axes[2].set_title("(c) J before (dotted) and after (solid/dashed) each analysis",
                      fontsize=9)
    if axes[2].lines:
        axes[2].set_yscale("log")
    for ax in axes[1:]:
        ax.set_xlabel("analysis time (UTC)")
        ax.grid(alpha=0.3, which="both")
        _format_time_axis(ax)
        if ax.lines:
            ax.legend(fontsize=7)
        else:
            ax.text(0.5, 0.5, "no minimiser numbers in results.json", ha="center",
                    transform=ax.transAxes)
    fig.suptitle("Minimiser behaviour (cf. the paper's figure 8)", fontsize=11)
    caption = ("(a) The cost function J at each minimiser iteration (iteration 0 = background) "
               f"for the first, middle and last analysis of the {rep.label(run)} run, log scale. "
               "(b) Iterations of each analysis per run. (c) J at the start (dotted) and end "
               "(solid) of each analysis.")
    return rep.save(fig, "cost.png"), caption, "; ".join(notes)


# ----------------------------------------------------------------------------- figure 4: depth

def _propagation_figure(rep: _Report):
    p = rep.results.get("propagation") or {}
    depths = np.asarray(p.get("depths_m") or [], dtype=float)
    times = [_parse_time(x) for x in p.get("times") or []]
    mad = p.get("mean_abs_difference")
    if depths.size == 0 or not times or mad is None:
        return None, "", "results.json has no propagation numbers"
    z = np.array([[np.nan if v is None else v for v in row] for row in mad], dtype=float)
    if z.shape != (len(times), depths.size):
        return None, "", (f"propagation.mean_abs_difference has shape {z.shape}; expected "
                          f"({len(times)}, {depths.size}) (times, depths)")
    import matplotlib.dates as mdates
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
    fig = _new_figure(13, 4.8)
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
    fig.colorbar(m, ax=ax, label=f"mean |{rep.label(p.get('run', 'DA'))} − CTRL| ({SM_UNITS})")
    reach = p.get("reach_hours") or {}
    lines = []
    for key, color in (("0.1", "tab:cyan"), ("0.5", "tab:green")):
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
    _format_time_axis(ax)
    _shade_periods_lines(ax, rep)
    ax.set_title("depth-time section of the mean absolute difference DA − CTRL", fontsize=9)
    # right: profiles at a few times
    picks = sorted({0, len(times) // 4, len(times) // 2, len(times) - 1})
    for k in picks:
        prof = z[k]
        if np.isfinite(prof).any() and np.nanmax(prof) > 0:
            ax2.plot(prof, depths, marker="o", ms=3, label=f"{times[k]:%Y-%m-%d %H:%M}")
    ax2.set_yscale("log")
    ax2.set_ylim(yedges[-1], yedges[0])
    _depth_ticks(ax2, yedges)
    if ax2.lines:
        ax2.set_xscale("log")
        if norm is not None:
            ax2.set_xlim(norm.vmin, norm.vmax * 1.5)
        ax2.legend(fontsize=7)
    for d, color in ((0.1, "tab:cyan"), (0.5, "tab:green")):
        ax2.axhline(d, color=color, lw=1.0, ls="--")
    ax2.set_xlabel(f"mean |DA − CTRL| ({SM_UNITS})")
    ax2.set_ylabel("depth (log scale)")
    ax2.set_title("profiles at a few times", fontsize=9)
    ax2.grid(alpha=0.3, which="both")
    fig.suptitle("Vertical propagation of the analysis increments (cf. the paper's figure 12)",
                 fontsize=11)
    caption = (f"Mean over land of |{rep.label(p.get('run', 'DA'))} − CTRL| soil moisture at the "
               "CoLM node depths, from the first analysis on. Dashed lines: 10 cm and 50 cm; "
               + "; ".join(lines) + " (time after the first analysis at which the difference "
               "at that depth first exceeds the threshold used in results.json).")
    return rep.save(fig, "propagation.png"), caption, ""


def _depth_ticks(ax, yedges):
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator
    ticks = [d for d in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)
             if yedges[0] <= d <= yedges[-1]]
    ax.yaxis.set_major_locator(FixedLocator(ticks))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(FuncFormatter(
        lambda v, _: f"{v * 100:g} cm" if v < 1 else f"{v:g} m"))


def _shade_periods_lines(ax, rep: _Report):
    assim = rep.time("assimilation_end")
    if assim:
        ax.axvline(assim, color="k", lw=1.0, ls=":")
        ax.text(assim, 0.02, " forecast →", transform=ax.get_xaxis_transform(), fontsize=8,
                va="bottom", color="k", bbox=dict(fc="white", ec="none", alpha=0.7, pad=1))


# ----------------------------------------------------------------------------- tables

def _fmt(v, digits=3) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    try:
        return f"{float(v):.{digits}f}"
    except (TypeError, ValueError):
        return html.escape(str(v))


def _fmt_signed(v) -> str:
    return "–" if v is None or not math.isfinite(v) else f"{v:+.3f}"


def _results_table(rep: _Report) -> str:
    table = rep.results.get("table") or {}
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
    for run in rep.ordered(table):
        if run.endswith("_misspecified"):
            continue
        info = (rep.results.get("runs") or {}).get(run) or {}
        terms = "+".join({"background": "JB", "image": "JI", "point": "JO"}.get(t, t)
                         for t in info.get("terms") or []) or "–"
        cells = []
        for p, _ in periods:
            vals = (table[run] or {}).get(p) or {}
            for key, _ in cols:
                cells.append(f"<td>{_fmt(vals.get(key))}</td>")
        rows.append(f"<tr><td class=l>{html.escape(rep.label(run))}</td><td>{terms}</td>"
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
            rows.append(f"<tr class=gain><td class=l>&nbsp;&nbsp;− CTRL</td><td></td>"
                        + "".join(gains) + "</tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def _paper_table(rep: _Report) -> str:
    paper = rep.results.get("paper") or {}
    table = rep.results.get("table") or {}
    ctrl = (table.get("ctrl") or {})
    das = [r for r in rep.ordered(table) if r not in ("ctrl", "truth")
           and not r.endswith("_misspecified")]
    if not paper and not das:
        return ""
    minim = rep.results.get("minimiser") or {}

    def gain(run, period, key):
        a = ((table.get(run) or {}).get(period) or {}).get(key)
        b = (ctrl.get(period) or {}).get(key)
        return None if a is None or b is None else a - b

    def val(run, period, key):
        return ((table.get(run) or {}).get(period) or {}).get(key)

    def mean_it(run):
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
            + "".join(f"<th colspan=2>{html.escape(rep.label(r))}</th>" for r in das)
            + "</tr><tr>" + "".join("<th>assim.</th><th>forecast</th>" for _ in das) + "</tr>")
    body = []
    for text, pkey, ours, pfmt in rows:
        pv = paper.get(pkey)
        cells = "".join(f"<td>{ours(r, 'assimilation')}</td><td>{ours(r, 'forecast')}</td>"
                        for r in das)
        body.append(f"<tr><td class=l>{text}</td><td class=p>"
                    f"{pfmt(pv) if isinstance(pv, (int, float)) else '–'}</td>{cells}</tr>")
    return f"<table>{head}{''.join(body)}</table>"


def _region_table(rep: _Report) -> str:
    table = rep.results.get("table") or {}
    runs = [r for r in rep.ordered(table)
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
        cells = ""
        for p in ("assimilation", "forecast"):
            v = (table[r] or {}).get(p) or {}
            cells += (f"<td>{_fmt(v.get('region_surface_scc'))}</td>"
                      f"<td>{_fmt(v.get('region_surface_rmse'))}</td>")
        cls = " class=hl" if r.endswith("_misspecified") else ""
        body.append(f"<tr{cls}><td class=l>{html.escape(rep.label(r))}</td>{cells}</tr>")
    return f"<table>{head}{''.join(body)}</table>"


# ----------------------------------------------------------------------------- page

CSS = """
body{font-family:-apple-system,'DejaVu Sans',Helvetica,Arial,sans-serif;max-width:1300px;
margin:1.5em auto;padding:0 1em;color:#222;line-height:1.4}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;border-bottom:1px solid #ccc;
padding-bottom:.2em;margin-top:1.8em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
th,td{border:1px solid #bbb;padding:.25em .6em;text-align:right}
th{background:#eef2f6;text-align:center}td.l{text-align:left}
tr.gain td{color:#345;background:#f7f9fb;font-size:.92em}td.g{font-style:italic}
td.p{background:#fff6dd;font-weight:bold}tr.hl td{background:#eef7ee}
figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #ddd}
figcaption{font-size:.9em;color:#444;margin-top:.3em}
.note{color:#8a4b00;background:#fff4e5;border-left:4px solid #f0a030;padding:.4em .8em}
dl.meta{display:grid;grid-template-columns:max-content auto;gap:.15em 1em}
dl.meta dt{font-weight:bold}dl.meta dd{margin:0}
"""


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def _header(rep: _Report) -> str:
    e = rep.exp
    region = e.get("region") or {}
    items = [
        ("grid", e.get("grid")),
        ("period", f"{e.get('start', '?')} to {e.get('end', '?')}"),
        ("discarded (spin-up)", f"{e.get('start', '?')} to {e.get('discard_end', '?')}"),
        ("assimilation", f"{e.get('discard_end', '?')} to {e.get('assimilation_end', '?')}"),
        ("free forecast", f"{e.get('assimilation_end', '?')} to {e.get('end', '?')}"),
        ("MPI ranks", e.get("ranks")),
        ("wall time", f"{e['seconds'] / 60:.1f} min" if isinstance(e.get("seconds"), (int, float))
         else None),
        ("misspecified-error region", (f"{region.get('name', '')} "
                                       f"{region.get('box')} (S, N, W, E)")
         if region else None),
    ]
    meta = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(str(v))}</dd>"
                   for k, v in items if v is not None)
    runs = rep.results.get("runs") or {}
    rows = []
    for r in rep.ordered(set(runs) | set(rep.run_dirs)):
        info = runs.get(r) or {}
        terms = ", ".join(info.get("terms") or []) or "none"
        present = "yes" if r in rep.run_dirs else "<b>absent</b>"
        rows.append(f"<tr><td class=l>{r}</td><td class=l>{html.escape(rep.label(r))}</td>"
                    f"<td class=l>{terms}</td>"
                    f"<td class=l>{html.escape(str(info.get('observations') or '–'))}"
                    f"</td><td>{present}</td></tr>")
    runs_table = ("<table><tr><th>run</th><th>label</th><th>cost terms</th><th>observations"
                  "</th><th>output</th></tr>" + "".join(rows) + "</table>") if rows else ""
    notes = "".join(f'<p class="note">{html.escape(n)}</p>' for n in rep.notes)
    return (f"<p>An observing-system simulation over the paper's domain: a truth run, a control "
            f"run (CTRL) with different precipitation and soil parameters, and CTRL plus the "
            f"assimilation of the truth's noisy 0-7 cm soil moisture by image (JB+JI), point "
            f"(JB+JO) and hybrid (JB+JO+JI) 3D-Var, followed by a free forecast. All scores are "
            f"against the truth.</p><dl class=meta>{meta}</dl>{runs_table}{notes}")


def build_report(out_dir) -> Path:
    """Write ``OUT/figures/*.png`` and the self-contained ``OUT/report.html``; return the page.

    Parameters
    ----------
    out_dir : path-like
        The demo's output folder (``results.json``, ``runs/``, ``obs/``,
        ``obs_misspecified/``). Missing runs, files or numbers leave the corresponding
        figure out with a note on the page.
    """
    rep = _Report(Path(out_dir))

    def attempt(fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - one broken input must not lose the report
            log.warning("report: %s failed: %s", fn.__name__, exc, exc_info=True)
            return None, "", f"this figure could not be made: {type(exc).__name__}: {exc}"

    box = rep.region_box()
    maps = [attempt(_maps_figure, rep, ["image", "point", "hybrid"], "obs", "maps.png",
                    "0-7 cm soil moisture: truth, observation, CTRL and analyses "
                    "(cf. the paper's figures 7, 9, 10)", extra=["ctrl"])]
    maps.append(attempt(_maps_figure, rep, ["image_misspecified", "point_misspecified",
                                            "hybrid_misspecified"],
                        "obs_misspecified", "maps_misspecified.png",
                        "Idealised variant: misspecified observation error inside the region",
                        box=box, extra=["ctrl"]))
    series_runs = rep.ordered((rep.results.get("series") or {}).keys())
    main_runs = [r for r in series_runs if not r.endswith("_misspecified")]
    ts = attempt(_series_figure, rep, main_runs, METRICS[:2], "timeseries.png",
                 "SCC and RMSE against the truth (cf. the paper's figures 13 and 16)")
    ts = (ts[0], "Spatial correlation (SCC, left) and RMSE (right) of each run against the "
          "truth per cycle, for 0-7 cm (top) and 7-28 cm (bottom). Grey: spin-up discarded from "
          "the scores; dotted line: end of the assimilation; khaki: free forecast from the last "
          "analysis.", ts[2])
    region_runs = [r for r in series_runs
                   if ((rep.results["series"][r] or {}).get("region_surface") or {}).get("scc")]
    tsr = attempt(_series_figure, rep, region_runs, METRICS[2:], "timeseries_region.png",
                  "Inside the misspecified-error region: 0-7 cm SCC and RMSE") \
        if region_runs else (None, "", "no region series in results.json (idealised variant "
                             "not run)")
    tsr = (tsr[0], "0-7 cm SCC and RMSE against the truth inside the region of misspecified "
           "observation error; dashed lines are the runs assimilating the misspecified "
           "observations (the paper's section 3.4: image DA should degrade less than point DA "
           "there).", tsr[2])
    cost = attempt(_cost_figure, rep)
    prop = attempt(_propagation_figure, rep)
    sections = [
        ("Maps", maps),
        ("Scores through time", [ts, tsr]),
        ("Minimiser", [cost]),
        ("Vertical propagation of the increments", [prop]),
    ]

    exp_name = rep.exp.get("grid") or ""
    parts = [f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
             f"<title>landia demo report</title><style>{CSS}</style></head><body>",
             "<h1>landia demo: image data assimilation of soil moisture</h1>",
             _header(rep),
             "<h2>Results</h2>",
             "<p>Mean scores over the assimilation period (after the discard) and over the free "
             "forecast; the italic rows are the difference from CTRL (positive SCC and negative "
             "RMSE differences are improvements).</p>",
             _results_table(rep),
             "<h3>Next to the paper</h3>",
             "<p>The paper's numbers (section 6 of the science notes: ERA5-Land 0-7 cm observations "
             "over China, CoLM) against this experiment's.</p>",
             _paper_table(rep),
             "<h3>Inside the misspecified-error region (idealised variant)</h3>",
             _region_table(rep)]
    for title, figs in sections:
        parts.append(f"<h2>{html.escape(title)}</h2>")
        for path, caption, note in figs:
            if path is not None and Path(path).exists():
                parts.append(f"<figure>{_img(Path(path), caption or Path(path).stem)}"
                             f"<figcaption><b>{Path(path).name}</b>: {html.escape(caption)}"
                             f"</figcaption></figure>")
                if note:
                    parts.append(f'<p class="note">{html.escape(note)}</p>')
            else:
                parts.append(f'<p class="note">Figure skipped: {html.escape(note)}</p>')
    parts.append(f"<p style='color:#888;font-size:.8em'>Written by landia.experiment.report "
                 f"{html.escape(exp_name)}, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC.</p>"
                 "</body></html>")
    page = rep.out / "report.html"
    page.write_text("\n".join(parts), encoding="utf-8")
    return page


def main(argv=None) -> int:
    """``python -m landia.experiment.report OUT``: (re)build the report of a demo folder."""
    import argparse
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("out_dir")
    args = parser.parse_args(argv)
    print(build_report(args.out_dir))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
