"""The report of ``landia experiment conus-smap``: ``OUT/report.html``, self-contained.

Maps of one day (SMAP raw and rescaled, CTRL, image DA and its increment), the map of SMAP's
error beyond its stated one that the image analyses found, time series at a few withheld
cells, the score tables of ``results.json`` (:mod:`landia.experiment.conus_scores`) and a
paragraph that reads them. Figures are written to ``OUT/figures/`` and
embedded as ``data:`` URIs, like the demo's report (:mod:`landia.experiment.report.page`).
"""

from __future__ import annotations

import html
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from landia.experiment.conus_output import ConusOutput, smap_equivalent
from landia.experiment.conus_scores import SEASONS, rescaled_smap
from landia.experiment.report.excess import excess_canvas, mean_of_files
from landia.experiment.report.maps import MAP_DPI, MAP_WIDTH_IN, _map_panel, _panel_grid
from landia.experiment.report.page import CSS, _figure
from landia.experiment.report.style import SM_UNITS, format_time_axis, new_figure
from landia.figures import save
from landia.log import get_logger

log = get_logger("landia.report")

LABELS = {"ctrl": "CTRL (open loop)", "point": "point DA (JB+JO)", "image": "image DA (JB+JI)",
          "hybrid": "hybrid DA (JB+JO+JI)", "letkf": "LETKF", "enhybrid": "ensemble hybrid",
          "enhybrid_point": "ensemble hybrid, point 3D-Var centre"}
COLOURS = {"ctrl": "0.45", "point": "tab:orange", "image": "tab:blue", "hybrid": "tab:green",
           "letkf": "tab:purple", "enhybrid": "tab:red", "enhybrid_point": "tab:brown"}
SERIES_RUNS = ("ctrl", "image", "point")
SERIES_CELLS = 4


def _label(run: str) -> str:
    return LABELS.get(run, run)


def _runs(results: dict) -> list[str]:
    """The scored runs of ``results``, in the experiment's order."""
    names = [k for k, v in results.items() if isinstance(v, dict) and "withheld" in v]
    order = list(LABELS)
    return sorted(names, key=lambda r: (order.index(r) if r in order else len(order), r))


def _fmt(v, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "–"
    return f"{v:.{digits}f}" if isinstance(v, float) else str(v)


def _signed(v, digits: int = 3) -> str:
    return "–" if v is None else f"{v:+.{digits}f}"


# ------------------------------------------------------------------------------ tables
def withheld_table(results: dict) -> str:
    """Anomaly R, ubRMSE, raw R, pairs and cells per run and period; gains over CTRL."""
    runs = _runs(results)
    ctrl = results.get("ctrl", {})
    periods = ["all"] + sorted((ctrl.get("withheld_by_year") or {}))
    head = ("<tr><th>run</th><th>period</th><th>anomaly R</th><th>Δ CTRL</th>"
            f"<th>ubRMSE ({html.escape('m3 m-3')})</th><th>Δ CTRL %</th><th>raw R</th>"
            "<th>pairs</th><th>cells</th></tr>")
    rows = []
    for period in periods:
        for run in runs:
            w = _period(results[run], period)
            c = _period(ctrl, period)
            if not w:
                continue
            dr = (w["anomaly_r"] - c["anomaly_r"]) if run != "ctrl" and c and \
                None not in (w["anomaly_r"], c.get("anomaly_r")) else None
            du = (100 * (w["ubrmse"] - c["ubrmse"]) / c["ubrmse"]) if run != "ctrl" and c and \
                w["ubrmse"] is not None and c.get("ubrmse") else None
            span = f"{w.get('start', '')[:10]} to {w.get('end', '')[:10]}"
            rows.append(f"<tr><td class=l>{html.escape(_label(run))}</td><td class=l>{period}"
                        f" <span class=s>{span}</span></td><td>{_fmt(w['anomaly_r'])}</td>"
                        f"<td>{_signed(dr)}</td><td>{_fmt(w['ubrmse'], 4)}</td>"
                        f"<td>{_signed(du, 1)}</td><td>{_fmt(w.get('raw_r'))}</td>"
                        f"<td>{w['n']}</td><td>{w['cells']}</td></tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def _period(entry: dict, period: str) -> dict:
    if not entry:
        return {}
    return entry.get("withheld") if period == "all" else \
        (entry.get("withheld_by_year") or {}).get(period, {})


def innovation_table(results: dict, key: str = "innovation") -> str:
    """O-F mean, standard deviation and count per run, overall and per season; the relative
    change of the standard deviation against CTRL over the same samples."""
    head = "<tr><th>run</th><th>season</th><th>mean</th><th>std</th><th>std Δ CTRL %</th>" \
           "<th>n</th></tr>"
    rows = []
    for run in _runs(results):
        i = results[run].get(key) or {}
        if not i:
            continue
        blocks = [("all", i)] + [(s, (i.get("seasons") or {}).get(s)) for s in SEASONS]
        for name, b in blocks:
            if not b:
                continue
            change = b.get("std_change")
            rows.append(f"<tr{' class=hl' if name == 'all' else ''}><td class=l>"
                        f"{html.escape(_label(run))}</td><td class=l>{name}</td>"
                        f"<td>{_signed(b['mean'], 4)}</td><td>{_fmt(b['std'], 4)}</td>"
                        f"<td>{_signed(None if change is None else 100 * change, 1)}</td>"
                        f"<td>{b['n']}</td></tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def persistence_table(results: dict) -> str:
    """First-day distance from CTRL's free run and the day it halves, per free run."""
    p = results.get("persistence") or {}
    if not p:
        return '<p class="note">No free-year runs (runs/&lt;run&gt;_free and ctrl_free).</p>'
    rows = []
    for run, v in p.items():
        first = v["surface"][0] if v["surface"] else None
        layers = ", ".join("–" if d is None else str(d) for d in v["half_day_layers"])
        rows.append(f"<tr><td class=l>{html.escape(_label(run))}</td><td>{_fmt(first, 4)}</td>"
                    f"<td>{_fmt(v['half_day_surface'])}</td><td class=l>{layers}</td>"
                    f"<td>{v['days']}</td></tr>")
    return ("<table><tr><th>free run from</th><th>day-0 |run − CTRL| 0-5 cm</th>"
            "<th>day it halves (0-5 cm)</th><th>day it halves, layers 1..10</th><th>days</th>"
            f"</tr>{''.join(rows)}</table>")


def reading(results: dict) -> str:
    """What the scores say, in a few sentences, with the issue's aims."""
    ctrl = (results.get("ctrl") or {}).get("withheld") or {}
    parts = []
    for run in [r for r in _runs(results) if r != "ctrl"]:
        w = results[run]["withheld"]
        i = results[run].get("innovation") or {}
        if None in (w.get("anomaly_r"), ctrl.get("anomaly_r"), w.get("ubrmse")) \
                or not ctrl.get("ubrmse"):
            continue
        dr = w["anomaly_r"] - ctrl["anomaly_r"]
        du = (w["ubrmse"] - ctrl["ubrmse"]) / ctrl["ubrmse"]
        ch = i.get("std_change")
        parts.append(f"{_label(run)}: anomaly R {w['anomaly_r']:.3f} against CTRL's "
                     f"{ctrl['anomaly_r']:.3f} ({dr:+.3f}; aim +0.05 "
                     f"{'met' if dr >= 0.05 else 'not met'}),"
                     f" ubRMSE {100 * du:+.1f} % (aim −10 % "
                     f"{'met' if du <= -0.10 else 'not met'})"
                     + (f", O-F standard deviation {100 * ch:+.1f} % (aim −15 % "
                        f"{'met' if ch <= -0.15 else 'not met'})" if ch is not None else "")
                     + ".")
    intro = ("The withheld cells were never assimilated, so their scores measure what the "
             "analyses carry to places without observations: the anomaly correlation says "
             "whether a run follows SMAP's day-to-day wetting and drying once each series' own "
             "seasonal cycle is removed; ubRMSE, the spread of the differences once the mean "
             "bias is removed, both after SMAP is mapped onto the model's climatology (so the "
             "product's and the model's different mean and range do not count). The O-F "
             "innovations are against all observations (assimilated cells included) and test "
             "the 1-day forecast: a smaller standard deviation than CTRL's means the analysis "
             "state is still closer to SMAP a day later. SMAP Level-4 reports anomaly-R gains of "
             "a few hundredths over its open loop, so +0.05 is an ambitious aim. Persistence: "
             "in the free year without SMAP, how fast each DA run's state returns to CTRL's.")
    return f"<p>{intro}</p>" + "".join(f"<p>{html.escape(p)}</p>" for p in parts)


# ----------------------------------------------------------------------------- figures
def _map_day(out: ConusOutput, times: np.ndarray, smap: np.ndarray):
    """The day with the most SMAP cells among those where image DA has an analysis (else any
    day of CTRL's states), in the last year of the SMAP record."""
    late = times >= times[-1] - np.timedelta64(365, "D")
    seen = np.isfinite(smap).sum(axis=(1, 2)) * late
    analysed = {np.datetime64(t, "s") for t in out.backgrounds("image")} \
        if out.has_run("image") else set()
    if analysed:
        seen = seen * np.array([t in analysed for t in times])
    return int(np.argmax(seen))


def maps_figure(out: ConusOutput, figures: Path):
    """SMAP raw and rescaled, CTRL, image DA and its increment on one day (0-5 cm)."""
    times, smap, lat, lon = out.smap()
    _, rescaled, _ = rescaled_smap(out)
    k = _map_day(out, times, smap)
    t = times[k].astype(datetime)
    raw = smap[k]
    panels = [("SMAP rescaled to CTRL", rescaled[k])]
    skipped = []
    for run in ("ctrl", "image"):
        if out.has_run(run):
            panels.append((_label(run), out.surface(run, times[k:k + 1])[1][0]))
        else:
            skipped.append(_label(run))
    increment = out.increment("image", t) if out.has_run("image") else None
    land = np.isfinite(panels[1][1]) if len(panels) > 1 else np.isfinite(smap).any(axis=0)
    yy, xx = np.nonzero(out.withheld())
    ncol = 3
    fig = new_figure(MAP_WIDTH_IN, 6.4)
    top, bottom = fig.subfigures(2, 1, height_ratios=[1, 1])
    axes = _panel_grid(top, len(panels), ncol)
    vals = np.concatenate([v[np.isfinite(v)] for _, v in panels])
    vmin, vmax = np.percentile(vals, [1, 99]) if vals.size else (0.0, 0.5)
    m = None
    for ax, (title, v) in zip(axes, panels):
        m = _map_panel(ax, lat, lon, v, title, "YlGnBu", vmin, max(vmax, vmin + 0.01), land)
        ax.plot(lon[xx], lat[yy], "x", color="crimson", ms=3, mew=0.8)
    top.colorbar(m, ax=axes, shrink=0.9, label=f"0-5 cm soil moisture ({SM_UNITS})")
    low = bottom.subfigures(1, 2)
    ax = _panel_grid(low[0], 1, 1)[0]
    finite = raw[np.isfinite(raw)]
    lo, hi = np.percentile(finite, [1, 99]) if finite.size else (0.0, 0.5)
    rm = _map_panel(ax, lat, lon, raw, "SMAP as retrieved (own scale)", "YlGnBu", lo,
                    max(hi, lo + 0.01), land)
    ax.plot(lon[xx], lat[yy], "x", color="crimson", ms=3, mew=0.8)
    low[0].colorbar(rm, ax=ax, shrink=0.9, label=f"SMAP ({SM_UNITS})")
    if increment is not None:
        inc = smap_equivalent(increment)
        dmax = float(np.nanpercentile(np.abs(inc), 99)) if np.isfinite(inc).any() else 0.01
        ax = _panel_grid(low[1], 1, 1)[0]
        dm = _map_panel(ax, lat, lon, inc, "image DA increment (0-5 cm)", "RdBu",
                        -max(dmax, 1e-4), max(dmax, 1e-4), land)
        ax.plot(lon[xx], lat[yy], "x", color="k", ms=3, mew=0.8)
        low[1].colorbar(dm, ax=ax, shrink=0.9, label=f"increment ({SM_UNITS})")
    else:
        skipped.append("the image DA increment (no analysis file that day)")
    fig.suptitle(f"Soil moisture on {t:%Y-%m-%d %H:%M} UTC (x: withheld cells)", fontsize=11)
    path = save(fig, figures / "conus_maps.png", dpi=MAP_DPI)
    caption = ("SMAP as retrieved and rescaled to CTRL's 0-5 cm climatology (CDF matching per "
               "cell, CTRL's first year), CTRL and image DA (state after the analysis, "
               "thickness-weighted 0-5 cm mean of the CoLM layers), and image DA's increment; "
               "crosses mark the withheld cells. Grey: not land or not observed.")
    return path, caption, ("Not shown: " + ", ".join(skipped) + ".") if skipped else ""


#: The runs whose local error estimate is mapped (on by default with the image term).
EXCESS_RUNS = ("image", "hybrid")


def excess_figure(out: ConusOutput, figures: Path):
    """Where SMAP's error exceeds its stated one (R from the open loop's innovations), as the
    image analyses' local error estimate found it: the mean carried excess over every
    analysis of each run of :data:`EXCESS_RUNS`, as a standard deviation."""
    found, skipped = [], []
    for run in EXCESS_RUNS:
        got = (mean_of_files(sorted((out.run_dir(run) / "cycles").glob("analysis_*.nc")))
               if out.has_run(run) else None)
        if got is None:
            skipped.append(_label(run))
        else:
            found.append((run, got))
    if not found:
        return None, "", "no image run's analysis file holds the local error estimate"
    lat, lon = found[0][1][0], found[0][1][1]
    panels = [(f"{_label(run)}\n(mean of {n} analyses)", np.sqrt(np.clip(e, 0.0, None)))
              for run, (_, _, e, n) in found]
    path = save(excess_canvas(panels, lat, lon), figures / "conus_observation_error_excess.png",
                dpi=MAP_DPI)
    caption = ("SMAP's error beyond the stated one (each cell's R from the open loop's "
               "innovations, rescaled with the CDF matching), as the local error estimate of the "
               "image analyses found it from the images' fine-scale curvelet innovations "
               "(analysis.local_image_error, the default with the image term): the mean "
               "carried excess e over the assimilation year, as a standard deviation sqrt(max(e, "
               "0)), in SMAP's rescaled units. There is no truth to compare with: these are the "
               "cells whose innovations say the stated R is too small.")
    return path, caption, ("Not shown: " + ", ".join(skipped) + ".") if skipped else ""


def series_figure(out: ConusOutput, figures: Path):
    """0-5 cm soil moisture at the withheld cells with the most SMAP days."""
    times, rescaled, _ = rescaled_smap(out)
    withheld = out.withheld()
    counts = np.where(withheld, np.isfinite(rescaled).sum(axis=0), -1).ravel()
    cells = [int(c) for c in np.argsort(-counts, kind="stable")[:SERIES_CELLS] if counts[c] > 0]
    if not cells:
        return None, "", "no withheld cell has a rescaled SMAP value"
    runs = [r for r in SERIES_RUNS if out.has_run(r)]
    series = {r: out.surface(r, times)[1].reshape(len(times), -1) for r in runs}
    _, _, lat, lon = out.smap()
    nx = lon.size
    fig = new_figure(MAP_WIDTH_IN, 2.1 * len(cells) + 0.5)
    axes = fig.subplots(len(cells), 1, sharex=True, squeeze=False)[:, 0]
    x = times.astype(datetime)
    for ax, c in zip(axes, cells):
        o = rescaled.reshape(len(times), -1)[:, c]
        ax.plot(x, o, ".", color="k", ms=2.5, label="SMAP rescaled")
        for r in runs:
            ax.plot(x, series[r][:, c], color=COLOURS.get(r), lw=0.9, label=_label(r))
        ax.set_title(f"withheld cell {lat[c // nx]:.2f}°N {lon[c % nx]:.2f}°E "
                     f"({counts[c]} SMAP days)", fontsize=9)
        ax.set_ylabel(SM_UNITS, fontsize=8)
        format_time_axis(ax)
    axes[0].legend(fontsize=8, ncol=len(runs) + 1, loc="upper right")
    path = save(fig, figures / "conus_series.png", dpi=MAP_DPI)
    caption = ("0-5 cm soil moisture at the withheld cells with the most SMAP retrievals: "
               "SMAP rescaled to CTRL's climatology (dots) and the runs' states at 12 UTC.")
    missing = [_label(r) for r in SERIES_RUNS if r not in runs]
    return path, caption, ("Not shown: " + ", ".join(missing) + ".") if missing else ""


def persistence_figure(results: dict, figures: Path):
    """The free year: land mean |run - CTRL| per day, 0-5 cm and three layers, per run."""
    p = results.get("persistence") or {}
    if not p:
        return None, "", "no free-year runs (runs/<run>_free and runs/ctrl_free)"
    shown = [("0-5 cm", None), ("layer 3", 2), ("layer 6", 5), ("layer 8", 7)]
    fig = new_figure(MAP_WIDTH_IN, 3.0)
    axes = fig.subplots(1, len(shown), sharey=False, squeeze=False)[0]
    for ax, (title, layer) in zip(axes, shown):
        for run, v in p.items():
            y = v["surface"] if layer is None else (v["layers"][layer]
                                                    if layer < len(v["layers"]) else [])
            ax.plot(np.arange(len(y)), y, color=COLOURS.get(run), lw=1.0, label=_label(run))
        ax.set_yscale("log")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("days into the free year", fontsize=8)
        ax.tick_params(labelsize=8)
    axes[0].set_ylabel(f"mean |run − CTRL| ({SM_UNITS})", fontsize=8)
    axes[0].legend(fontsize=7)
    path = save(fig, figures / "conus_persistence.png", dpi=MAP_DPI)
    return path, ("How long the DA state's difference lasts without SMAP: the land mean of "
                  "|run − CTRL| each day of the free year (log scale), 0-5 cm and three "
                  "deeper layers."), ""


def _attempt(fn, *args):
    try:
        return fn(*args)
    except Exception as exc:  # a figure that fails leaves a note, not a missing report
        log.warning("report_figure_failed", figure=fn.__name__, error=str(exc))
        return None, "", f"{fn.__name__} failed: {exc}"


def build_conus_report(out_dir, results: dict) -> Path:
    """Write ``OUT/report.html`` (module notes) from the folder (a path, or the
    :class:`~landia.experiment.conus_output.ConusOutput` the scores read, to reuse what they
    read) and its ``results`` (:func:`~landia.experiment.conus_scores.score_experiment`);
    returns its path."""
    out = ConusOutput.of(out_dir)
    figures = out.root / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    scoring = results.get("scoring") or {}
    periods = scoring.get("periods") or {}
    meta = [("scored period", " to ".join(periods.get("all", [])) or None),
            ("rescaling trained on", " to ".join(scoring.get("training", [])) or None),
            ("withheld cells", scoring.get("withheld_cells")),
            ("runs", ", ".join(_label(r) for r in scoring.get("runs", [])) or None),
            ("runs absent", ", ".join(scoring.get("skipped", [])) or None)]
    parts = ["<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
             '<meta name="viewport" content="width=device-width, initial-scale=1">'
             f"<title>landia conus-smap report</title><style>{CSS}</style></head><body>",
             "<h1>landia conus-smap: SMAP assimilation over the contiguous US</h1>",
             "<p>Two years of NLDAS-2-driven CoLM soil moisture on 412 EASE-Grid 2.0 cells, "
             "with and without the assimilation of SMAP L3 (80 % of the cells); the other 20 % "
             "are never assimilated and verify. Definitions: docs/conus-scores.md.</p>",
             "<dl class=meta>" + "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(str(v))}"
                                         f"</dd>" for k, v in meta if v is not None) + "</dl>",
             "<h2>What the scores say</h2>", reading(results),
             "<h2>Withheld cells</h2>", withheld_table(results),
             "<h2>O-F of the 1-day forecasts (top layer, every observed cell)</h2>",
             innovation_table(results),
             "<h3>At the withheld cells only</h3>",
             innovation_table(results, "innovation_withheld"),
             "<h2>Free year: persistence of the DA state</h2>", persistence_table(results)]
    for title, fn, source in (("Maps", maps_figure, out),
                              ("Where SMAP's error exceeds its stated one", excess_figure, out),
                              ("Time series at withheld cells", series_figure, out),
                              ("Free year", persistence_figure, results)):
        parts.append(f"<h2>{title}</h2>")
        parts.extend(_figure(*_attempt(fn, source, figures)))
    parts.append(f"<p style='color:#888;font-size:.8em'>Written by landia.experiment.report."
                 f"conus, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC.</p></body></html>")
    path = out.root / "report.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
