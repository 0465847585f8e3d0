"""``landia threshold-diagnostics``: curvelet threshold diagnostics of soil-moisture images
(paper 3.3.2): SCC/RMSE/error shape against sigma, correlation against distance."""

from __future__ import annotations

from pathlib import Path

from landia.commands.exit_status import root_only
from landia.config import CurveletSettings
from landia.diagnostics.images import cut_box, read_image
from landia.diagnostics.tables import write_csv, write_json
from landia.errors import InputError
from landia.log import get_logger

# landia.diagnostics.thresholds.DEFAULT_THRESHOLDS, repeated here so that building the
# command line does not import the curvelet machinery (a test keeps the two equal).
_DEFAULT_THRESHOLDS = (0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0)

HELP = ("curvelet threshold diagnostics of soil-moisture images (paper 3.3.2): "
        "SCC/RMSE/error shape vs sigma, correlation vs distance")


def add_parser(subparsers):
    """Add ``threshold-diagnostics`` to ``landia``'s sub-parsers; returns its parser."""
    cs = CurveletSettings()
    p = subparsers.add_parser(
        "threshold-diagnostics", help=HELP,
        description="Reconstruct each image from its top-sigma curvelet coefficients (the "
                    "analysis' embedding, transform and ranking) and write, per image, a score "
                    "table (SCC, RMSE, error skewness and excess kurtosis vs sigma), the "
                    "spatial-correlation-versus-distance curves of threshold bands and "
                    "cumulative thresholds (CSV, JSON) and PNG figures. See docs/diagnostics.md.")
    p.add_argument("--image", nargs="+", required=True, metavar="FILE",
                   help="landia field file(s), or ERA-Interim/ERA5 netCDF with 'lsm' and swvlN")
    p.add_argument("--layer", type=int, default=1,
                   help="1-based layer of a field file; for ERA files swvl<layer> "
                        "(default %(default)s)")
    p.add_argument("--variable", default=None,
                   help="variable of an ERA-layout file (default swvl<layer>)")
    p.add_argument("--box", nargs=4, type=float, default=None,
                   metavar=("SOUTH", "NORTH", "WEST", "EAST"),
                   help="cut this region (degrees) first, e.g. the paper's 23 68 73 117")
    p.add_argument("--thresholds", default=",".join(f"{t:g}" for t in _DEFAULT_THRESHOLDS),
                   help="fractions of coefficients kept, largest first; bands are formed "
                        "between consecutive values (default %(default)s)")
    p.add_argument("--output-dir", required=True, help="folder for CSV, JSON and PNG files "
                                                       "(created if absent)")
    p.add_argument("--selection", choices=("anomaly", "analysis"), default="anomaly",
                   help="rank the coefficients of the mean-removed image and add the mean "
                        "back (anomaly, default) or of the image with its mean, exactly as the "
                        "analysis chooses P (analysis)")
    p.add_argument("--max-distance", type=float, default=3000.0,
                   help="range of the correlation curves, km (default %(default)s)")
    p.add_argument("--bin-km", type=float, default=150.0,
                   help="distance bin width, km (default %(default)s)")
    p.add_argument("--max-pair-cells", type=int, default=4000,
                   help="land cells used for the correlation curves; a seeded random subset "
                        "beyond (default %(default)s)")
    p.add_argument("--scales", type=int, default=cs.scales,
                   help="curvelet scales, 0 = automatic (default %(default)s)")
    p.add_argument("--wedges", type=int, default=cs.wedges,
                   help="curvelet wedges (default %(default)s)")
    p.add_argument("--fill-decay", type=float, default=cs.fill_decay,
                   help="screening length of the sea fill, cells (default %(default)s)")
    p.add_argument("--map-sigma", type=float, default=0.5,
                   help="threshold of the maps and the error histogram (default %(default)s)")
    p.add_argument("--no-plots", action="store_true", help="write CSV and JSON only")
    return p


def run(args, settings, comm) -> int:
    """The root diagnoses and writes; the other ranks wait for its status."""
    return root_only(comm, lambda: diagnose_images(args))


def parse_thresholds(text: str) -> list[float]:
    """``--thresholds``: numbers in (0, 1] separated by commas or spaces."""
    try:
        values = [float(v) for v in text.replace(",", " ").split()]
    except ValueError:
        raise InputError(f"--thresholds {text!r}: expected numbers in (0, 1] separated by "
                         "commas or spaces") from None
    if not values or any(not 0 < v <= 1 for v in values):
        raise InputError(f"--thresholds {text!r}: every threshold must lie in (0, 1]")
    return values


def _unique_label(label: str, used: set[str]) -> str:
    out, k = label, 2
    while out in used:
        out, k = f"{label}_{k}", k + 1
    used.add(out)
    return out


def diagnose_images(args) -> int:
    """Diagnose every ``--image``; writes into ``args.output_dir``; returns 0."""
    # The analysis stack (pylops, curvelets: most of landia's import time) loads when the
    # command runs, not each time the parser is built (every command, --help, serve).
    from landia.diagnostics import plots
    from landia.diagnostics.thresholds import curves_table, scores_table, threshold_diagnostics

    log = get_logger("landia.diagnostics")
    thresholds = parse_thresholds(args.thresholds)
    map_sigma = float(args.map_sigma)
    if not 0 < map_sigma <= 1:
        raise InputError(f"--map-sigma {map_sigma}: expected a value in (0, 1]")
    if map_sigma not in thresholds:
        thresholds.append(map_sigma)
    out = Path(args.output_dir)
    images = []
    for path in args.image:  # read everything first: fail before writing anything
        img, lat, lon, label = read_image(path, args.layer, args.variable)
        if args.box is not None:
            img, lat, lon = cut_box(img, lat, lon, args.box)
            label += "_box"
        images.append((path, img, lat, lon, label))
    out.mkdir(parents=True, exist_ok=True)
    used: set[str] = set()
    all_rows, header = [], None
    for path, img, lat, lon, label in images:
        label = _unique_label(label, used)
        diag = threshold_diagnostics(img, lat, lon, thresholds, name=label,
                                     max_distance_km=args.max_distance, bin_km=args.bin_km,
                                     max_pair_cells=args.max_pair_cells, keep_images=(map_sigma,),
                                     scales=args.scales, wedges=args.wedges,
                                     fill_decay=args.fill_decay, selection=args.selection)
        header, rows = scores_table(diag)
        all_rows += rows
        write_csv(out / f"{label}_scores.csv", header, rows)
        write_csv(out / f"{label}_curves.csv", *curves_table(diag))
        summary = diag.to_dict()
        summary.update(source=str(path), box=args.box, layer=args.layer)
        write_json(out / f"{label}.json", summary)
        if not args.no_plots:
            plots.plot_scores(diag, out / f"{label}_scores.png")
            plots.plot_error_histogram(diag, out / f"{label}_error_hist.png", map_sigma)
            plots.plot_correlation_curves(diag, out / f"{label}_correlation.png")
            plots.plot_maps(diag, img, lat, lon, out / f"{label}_maps.png", map_sigma)
        print(scores_text(diag))
        log.info("threshold_diagnostics", image=label, land=diag.n_land,
                 scc_at_map_sigma=diag.score(map_sigma).scc, output_dir=str(out))
    write_csv(out / "threshold_scores.csv", header, all_rows)
    return 0


def scores_text(diag) -> str:
    """One image's printed summary: its size and the score of each threshold."""
    lines = [f"{diag.name}: {diag.shape[0]} x {diag.shape[1]} cells, {diag.n_land} land, "
             f"{diag.n_coefficients} coefficients",
             f"{'sigma':>6} {'SCC':>8} {'RMSE':>9} {'skew':>7} {'ex.kurt':>8} {'L_e km':>7}"]
    for s in diag.scores:
        lines.append(f"{s.sigma:6.2f} {s.scc:8.5f} {s.rmse:9.5f} {s.skewness:7.3f} "
                     f"{s.excess_kurtosis:8.3f} {s.correlation_length_km:7.0f}")
    return "\n".join(lines)
