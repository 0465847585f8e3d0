"""The report's self-contained HTML page: inline CSS, every figure embedded as a base64
``data:`` URI, so that it opens from ``file://`` with no server and no network."""

from __future__ import annotations

import base64
import html
from datetime import datetime, timezone
from pathlib import Path

from landia.experiment.report.demo_output import DemoOutput
from landia.experiment.report.ensemble import ensemble_table
from landia.experiment.report.tables import gaps_table, paper_table, region_table, results_table

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
span.s{font-size:.8em;color:#777}
"""


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def header(output: DemoOutput) -> str:
    """The introduction, the experiment's metadata, the table of runs and the general notes."""
    e = output.exp
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
        ("seeds", ", ".join(map(str, e["seeds"])) if e.get("seeds") else None),
        ("observations", _observing(e)),
        ("observation gaps", "; ".join(f"seed {k}: {v}" for k, v in
                                       (e.get("gaps") or {}).items()) or None),
        ("truth", _truth(e)),
    ]
    meta = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(str(v))}</dd>"
                   for k, v in items if v is not None)
    runs = output.results.get("runs") or {}
    rows = []
    for r in output.ordered(set(runs) | set(output.run_dirs)):
        info = runs.get(r) or {}
        terms = ", ".join(info.get("terms") or []) or "none"
        present = "yes" if r in output.run_dirs else "<b>absent</b>"
        rows.append(f"<tr><td class=l>{r}</td><td class=l>{html.escape(output.label(r))}</td>"
                    f"<td class=l>{terms}</td>"
                    f"<td class=l>{html.escape(str(info.get('observations') or '–'))}"
                    f"</td><td>{present}</td></tr>")
    runs_table = ("<table><tr><th>run</th><th>label</th><th>cost terms</th><th>observations"
                  "</th><th>output</th></tr>" + "".join(rows) + "</table>") if rows else ""
    notes = "".join(f'<p class="note">{html.escape(n)}</p>' for n in output.notes)
    return (f"<p>An observing-system simulation over the paper's domain: a truth run from a "
            f"structurally different configuration (a fraternal twin: van Genuchten instead of "
            f"Clapp-Hornberger soil hydraulics, other precipitation and soil texture, every "
            f"forcing variable perturbed), a control run (CTRL), and CTRL "
            f"plus the assimilation of satellite-like observations of the truth's 0-7 cm soil "
            f"moisture (once a day, with a real product's gaps, biased and correlated errors) by "
            f"image (JB+JI), point (JB+JO) and hybrid (JB+JO+JI) 3D-Var, followed by a free "
            f"forecast. All scores are against the truth; with several seeds, tables give the "
            f"mean and the range over the seeds.</p><dl class=meta>{meta}</dl>{runs_table}"
            f"{notes}")


def _observing(e: dict) -> str | None:
    """The observing system in one line."""
    o = e.get("observing")
    if not o:
        return None
    return (f"once a day at {o['overpass_hour']:02d} UTC; y = {o['bias_offset']} + "
            f"{o['bias_slope']} x truth(0-7 cm) + correlated error ({o['correlated_std']} over "
            f"{o['correlated_km']:.0f} km) + random error ({o['random_std']}); stated error "
            f"variance {o['random_std'] ** 2 + o['correlated_std'] ** 2:.4g}; inside the region "
            f"the random error is x{o['region_factor']} in the misspecified set (stated as "
            f"elsewhere; the reference set states the variance it really has there); "
            f"{o['withhold_fraction']:.0%} of each day's observations withheld for scoring")


def _truth(e: dict) -> str | None:
    """How the truth differs from the model of the other runs."""
    t = e.get("truth")
    if not t:
        return None
    parts = [f"{k} {v}" for k, v in (t.get("cycle") or {}).items() if k != "mode"]
    p = t.get("perturbation") or {}
    if p.get("enabled"):
        parts.append(f"all forcing perturbed (length {p.get('length_km')} km, time scale "
                     f"{p.get('time_scale_hours')} h, seeded by the experiment's seed)")
    return ", ".join(parts)


def _figure(path, caption: str, note: str) -> list[str]:
    """A figure with its caption and note, or the note saying why it was skipped."""
    if path is not None and Path(path).exists():
        parts = [f"<figure>{_img(Path(path), caption or Path(path).stem)}"
                 f"<figcaption><b>{Path(path).name}</b>: {html.escape(caption)}"
                 f"</figcaption></figure>"]
        if note:
            parts.append(f'<p class="note">{html.escape(note)}</p>')
        return parts
    return [f'<p class="note">Figure skipped: {html.escape(note)}</p>']


def render_page(output: DemoOutput, sections) -> str:
    """The whole page: header, tables and the figure ``sections`` (title, [(path, caption,
    note), ...])."""
    exp_name = output.exp.get("grid") or ""
    parts = [f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
             '<meta name="viewport" content="width=device-width, initial-scale=1">'
             f"<title>landia demo report</title><style>{CSS}</style></head><body>",
             "<h1>landia demo: image data assimilation of soil moisture</h1>",
             header(output),
             "<h2>Results</h2>",
             "<p>Mean scores over the assimilation period (after the discard) and over the free "
             "forecast; the italic rows are the difference from CTRL (positive SCC and negative "
             "RMSE differences are improvements).</p>",
             results_table(output),
             "<h3>Next to the paper</h3>",
             "<p>The paper's numbers (section 6 of the science notes: ERA5-Land 0-7 cm observations "
             "over China, CoLM) against this experiment's.</p>",
             paper_table(output),
             "<h3>Where there is no observation</h3>",
             "<p>Assimilation period: on the land cells the satellite did not see that day "
             "(only a correlated B, the image term or the model can change them), on the "
             "withheld cells (seen, but held out of every analysis; against the truth and "
             "against the withheld observations themselves, as with real data), and the bias "
             "over all cells (the observations are biased).</p>",
             gaps_table(output),
             "<h3>Inside the misspecified-error region</h3>",
             region_table(output)]
    ensemble = ensemble_table(output)
    if ensemble:  # only a demo with ensemble runs
        parts += ["<h3>Ensemble spread against skill</h3>", ensemble]
    for title, figs in sections:
        parts.append(f"<h2>{html.escape(title)}</h2>")
        for path, caption, note in figs:
            parts.extend(_figure(path, caption, note))
    parts.append(f"<p style='color:#888;font-size:.8em'>Written by landia.experiment.report "
                 f"{html.escape(exp_name)}, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC.</p>"
                 "</body></html>")
    return "\n".join(parts)
