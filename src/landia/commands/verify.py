"""``landia verify``: scores of model fields against reference fields and in-situ stations.

Reads the files (:mod:`landia.verification.files`), scores them with the arithmetic of
:mod:`landia.verification.verify` and :mod:`landia.verification.points`, writes the CSV, JSON
and PNG outputs and prints the tables. See ``docs/verification.md``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from landia.commands.exit_status import root_only
from landia.errors import InputError
from landia.observations.ismn import accepted, parse_flag_option, read_ismn
from landia.verification import plots
from landia.verification import verify as field_scores
from landia.verification.files import (check_grid, json_safe, read_model_file, read_model_series,
                                       write_csv)
from landia.verification.points import station_cell, station_layer, validate_station

_HELP = """Compare model soil-moisture fields with reference fields on the same grid (per time
and layer: n, SCC, RMSE, ubRMSE, bias) and/or with ISMN in-situ stations (per station: the
model cell and layer containing the sensor, matched in time: n, r, bias, RMSE, ubRMSE,
anomaly r). Outputs go to --output-dir: scores.csv, summary.json and PNG figures for the
fields; points.csv, point_<station>.csv/.png for the stations."""


def add_parser(subparsers):
    """Add ``verify`` (with its options and help) to ``landia``'s sub-parsers; returns it."""
    p = subparsers.add_parser("verify", help="scores of model fields against references "
                                             "and in-situ stations",
                              description=_HELP)
    g = p.add_argument_group("gridded verification")
    g.add_argument("--model", nargs="+", default=None, metavar="FILE",
                   help="model field files (soil_moisture) or analysis output files")
    g.add_argument("--variable", choices=("analysis", "background"), default="analysis",
                   help="variable read from analysis output files (default %(default)s)")
    g.add_argument("--reference", nargs="+", default=None, metavar="FILE",
                   help="reference field files on the same grid; paired with --model by the "
                        "validity time (global attribute 'time' or variable 'time') when every "
                        "file has one, else by order")
    g.add_argument("--layers", nargs="+", type=int, default=None, metavar="K",
                   help="1-based layers to score (default: all layers both have)")
    s = p.add_argument_group("point verification (ISMN stations)")
    s.add_argument("--ismn", nargs="+", default=None, metavar="FILE",
                   help="ISMN header+values files (*.stm)")
    s.add_argument("--model-series", nargs="+", default=None, metavar="FILE",
                   help="model field (or analysis) files with a validity time each: the "
                        "model time series sampled at the stations")
    s.add_argument("--ismn-flags", default="G,U",
                   help="accepted ISMN flag codes, comma-separated; 'D*' accepts every D code "
                        "(default %(default)s: good and unchecked; C* and D* rejected)")
    s.add_argument("--time-tolerance", type=float, default=3.0, metavar="HOURS",
                   help="largest model/station time difference of a pair (default %(default)s h)")
    s.add_argument("--anomaly-window", type=float, default=35.0, metavar="DAYS",
                   help="moving-mean window of the anomaly correlation; 0 skips it "
                        "(default %(default)s days)")
    p.add_argument("--output-dir", default="landia-output/verify",
                   help="folder for the tables and figures (default %(default)s)")
    p.add_argument("--no-plots", action="store_true", help="write no PNG figures")
    return p


def run(args, settings, comm) -> int:
    """The root verifies; the other ranks wait for its status."""
    return root_only(comm, lambda: verify(args))


def verify(args) -> int:
    """Run ``landia verify`` with parsed arguments; 0 on success.

    Raises
    ------
    InputError
        Missing or inconsistent inputs (named in the message).
    """
    if not (args.model or args.reference or args.ismn):
        raise InputError("verify: nothing to do; give --model and --reference and/or --ismn "
                         "with --model-series")
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary: dict = {}
    if args.model or args.reference:
        _gridded(args, out, summary)
    if args.ismn:
        _points(args, out, summary)
    with open(out / "summary.json", "w") as fh:
        json.dump(json_safe(summary), fh, indent=2)
    print(f"\nverification outputs in {out}/")
    return 0


def _gridded(args, out: Path, summary: dict) -> None:
    if not args.model or not args.reference:
        raise InputError("verify: --model and --reference must be given together")
    models = [read_model_file(p, args.variable, "model") for p in args.model]
    refs = [read_model_file(p, "soil_moisture", "reference") for p in args.reference]
    for m in models:
        check_grid(m, models[0])
    for r in refs:
        check_grid(models[0], r)
    try:
        pairs = field_scores.pair_times([m.time for m in models], [r.time for r in refs])
        layers = field_scores.common_layers(min(m.values.shape[0] for m in models),
                                      min(r.values.shape[0] for r in refs), args.layers)
    except ValueError as exc:
        raise InputError(f"verify: {exc} (model: {', '.join(args.model)}; reference: "
                         f"{', '.join(args.reference)})") from None
    by_time = all(m.time is not None for m in models) and all(r.time is not None for r in refs)
    pairs.sort(key=lambda p: (models[p[0]].time if by_time else p[0]))
    mfields = [models[i].values for i, _ in pairs]
    rfields = [refs[j].values for _, j in pairs]
    labels = [str(models[i].time) if models[i].time is not None else str(k + 1)
              for k, (i, _) in enumerate(pairs)]
    rows = field_scores.score_table(mfields, rfields, layers, labels)
    write_csv(out / "scores.csv", [r.as_dict() for r in rows])
    summary["gridded"] = {
        "model": [models[i].source for i, _ in pairs],
        "reference": [refs[j].source for _, j in pairs],
        "variable": args.variable, "pairing": "time" if by_time else "order",
        "layers": layers, "means": field_scores.summarise(rows)}
    if len(pairs) >= 3:
        maps = field_scores.correlation_maps(mfields, rfields, layers)
        summary["gridded"]["temporal_correlation_mean"] = {
            str(k): float(np.nanmean(v)) if np.isfinite(v).any() else None
            for k, v in maps.items()}
    print(field_scores.format_table(rows))
    if not args.no_plots:
        plots.plot_score_series(rows, out / "scores_timeseries.png")
        mvals, rvals = {}, {}
        for k in layers:
            ms, rs = [], []
            for m, r in zip(mfields, rfields):
                ok = field_scores.land_mask(m) & np.isfinite(m[k - 1]) & np.isfinite(r[k - 1])
                ms.append(m[k - 1][ok])
                rs.append(r[k - 1][ok])
            mvals[k], rvals[k] = np.concatenate(ms), np.concatenate(rs)
        plots.plot_scatter(mvals, rvals, out / "scatter.png")
        g = models[0]
        for name, idx in (("first", 0), ("last", len(pairs) - 1)):
            diff = {k: mfields[idx][k - 1] - rfields[idx][k - 1] for k in layers}
            plots.plot_difference_maps(g.lat, g.lon, diff,
                                       f"model minus reference, {labels[idx]}",
                                       out / f"difference_{name}.png")


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "station"


def _points(args, out: Path, summary: dict) -> None:
    if not args.model_series:
        raise InputError("verify: --ismn needs --model-series (model fields with a validity "
                         "time each)")
    if args.time_tolerance < 0:
        raise InputError(f"verify: --time-tolerance {args.time_tolerance}: must be >= 0 hours")
    flags = parse_flag_option(args.ismn_flags)
    stations = [read_ismn(p) for p in args.ismn]
    first = read_model_file(args.model_series[0], args.variable, "model series")
    # Which (row, col, layer) each station needs, so that the series keeps only those.
    wanted = {}
    for s in stations:
        cell = station_cell(s.lat, s.lon, first.lat, first.lon)
        k = station_layer(s.depth_from, s.depth_to, first.depth)
        if cell is not None and k is not None:
            wanted[(cell[0], cell[1], k)] = None
    mtimes, series = read_model_series(args.model_series, args.variable, first, wanted)
    tol = np.timedelta64(int(round(args.time_tolerance * 3600)), "s")
    results = []
    for s in stations:
        if not (np.isfinite(s.lat) and np.isfinite(s.lon)):
            raise InputError(f"{s.source}: station position unknown (no header line)")
        ok = accepted(s.ismn_flag, flags)
        res = validate_station(s.station, s.network, s.lat, s.lon, s.depth_from, s.depth_to,
                               s.times, s.values, ok, first.lat, first.lon, first.depth,
                               mtimes, lambda i, j, k: series[(i, j, k)], tol,
                               args.anomaly_window or None)
        results.append((s, int(ok.sum()), res))
    rows = []
    for s, n_ok, res in results:
        row = res.row_dict()
        row.update({"file": s.source, "n_values": int(s.values.size), "n_accepted": n_ok})
        rows.append(row)
        name = _safe_name(f"{s.network}_{s.station}_{s.depth:g}")
        if res.n:
            write_csv(out / f"point_{name}.csv",
                      [{"time": str(t), "station": a, "model": b} for t, a, b in
                       zip(res.times, res.station_values, res.model_values)])
            if not args.no_plots:
                plots.plot_station_series(res, out / f"point_{name}.png")
    write_csv(out / "points.csv", rows)
    summary["points"] = {"ismn_flags_accepted": list(flags),
                         "time_tolerance_hours": args.time_tolerance,
                         "model_series": list(args.model_series), "stations": rows}
    print(f"\n{'station':<16s} {'layer':>5s} {'n':>6s} {'r':>6s} {'bias':>8s} {'rmse':>8s} "
          f"{'ubrmse':>8s} {'anom_r':>7s}")
    for r in rows:
        layer = "-" if r["layer"] is None else str(r["layer"])
        print(f"{r['station']:<16s} {layer:>5s} {r['n']:6d} {r['r']:6.3f} {r['bias']:8.4f} "
              f"{r['rmse']:8.4f} {r['ubrmse']:8.4f} {r['anomaly_r']:7.3f} {r['note']}")
