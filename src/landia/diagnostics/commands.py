"""Command-line glue of the diagnostics: ``threshold-diagnostics`` and ``estimate-b``.

For each command, ``add_<name>_parser(subparsers)`` adds the subcommand and its
options to an ``argparse`` subparsers object and ``run_<name>(args) -> int`` runs
it (0 on success; :class:`~landia.errors.LandiaError` on bad input). The image
readers and the CSV/JSON writers live here too: the arithmetic modules do no I/O.
"""

from __future__ import annotations

import csv
import glob
import json
import math
from pathlib import Path

import numpy as np

from landia.errors import InputError
from landia.log import get_logger

# landia.diagnostics.thresholds.DEFAULT_THRESHOLDS, repeated here so that building the
# command line does not import the curvelet machinery (a test keeps the two equal).
_DEFAULT_THRESHOLDS = (0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0)

THRESHOLD_HELP = ("curvelet threshold diagnostics of soil-moisture images (paper 3.3.2): "
                  "SCC/RMSE/error shape vs sigma, correlation vs distance")
ESTIMATE_B_HELP = ("background-error variances per cell and layer from model-minus-observation "
                   "series (paper 3.3.1)")


# -- reading images --------------------------------------------------------------------------

def _normalise_lon(lon: np.ndarray, west: float) -> np.ndarray:
    return (np.asarray(lon, float) - west) % 360.0


def cut_box(image: np.ndarray, lat: np.ndarray, lon: np.ndarray, box) -> tuple:
    """Cut ``image`` to ``box = (south, north, west, east)`` degrees (inclusive).

    Longitudes are compared modulo 360, so a box given in -180..180 works on a 0..360
    grid and a box may cross the grid's longitude seam (its columns are reordered
    eastwards from ``west``). Rows keep their order.
    """
    south, north, west, east = (float(v) for v in box)
    if not south < north:
        raise InputError(f"--box: south ({south}) must be smaller than north ({north})")
    lat = np.asarray(lat, float)
    eps = 1e-6
    iy = np.flatnonzero((lat >= south - eps) & (lat <= north + eps))
    width = (east - west) % 360.0 or 360.0
    rel = _normalise_lon(lon, west)
    ix = np.flatnonzero(rel <= width + eps)
    ix = ix[np.argsort(rel[ix], kind="stable")]
    if iy.size < 2 or ix.size < 2:
        raise InputError(f"--box {south} {north} {west} {east}: selects {iy.size} x {ix.size} "
                         f"cells of a grid spanning lat {lat.min():g}..{lat.max():g}, lon "
                         f"{np.min(lon):g}..{np.max(lon):g}; expected at least 2 x 2")
    return image[np.ix_(iy, ix)], lat[iy], np.asarray(lon, float)[ix]


def read_image(path, layer: int = 1, variable: str | None = None):
    """One soil-moisture image: ``(values (ny, nx) with NaN off land, lat, lon, label)``.

    Accepted files:

    * landia field files (``soil_moisture(layer, lat, lon)``, docs/field-files.md):
      layer ``layer`` (1-based);
    * ERA-Interim / ERA5 netCDF as ECMWF's grib_to_netcdf and the CDS write it
      (``latitude``, ``longitude``, ``lsm`` and ``swvl1`` ... ``swvl4``): variable
      ``variable`` (default ``swvl<layer>``), land where ``lsm >= 0.5``, tiny negative
      values clipped to 0, a leading time dimension of length 1 dropped.
    """
    import netCDF4

    from landia.io.netcdf import open_netcdf

    path = Path(path)
    with open_netcdf(path, "image") as ds:
        names = set(ds.variables)
        era = "lsm" in names and "latitude" in names and "longitude" in names
    if "soil_moisture" in names and not era:
        from landia.io.fields import read_field

        f = read_field(path, "field")
        if not 1 <= layer <= f.n_layers:
            raise InputError(f"{path}: variable 'soil_moisture' has {f.n_layers} layer(s); "
                             f"layer {layer} was asked for")
        return (np.array(f.values[layer - 1], float), np.asarray(f.lat, float),
                np.asarray(f.lon, float), f"{path.stem}_L{layer}")
    if not era:
        raise InputError(f"{path}: neither a landia field file (variable 'soil_moisture') nor an "
                         f"ERA-layout file ('latitude', 'longitude', 'lsm', 'swvl1'); found "
                         f"{sorted(names)}")
    name = variable or f"swvl{layer}"
    with netCDF4.Dataset(path) as ds:
        if name not in ds.variables:
            raise InputError(f"{path}: variable {name!r} not found; ERA-layout soil moisture "
                             f"variables here: {sorted(n for n in ds.variables if n.startswith('swvl'))}")
        def grab(v):
            a = np.ma.filled(ds[v][:].astype(float), np.nan)
            while a.ndim > 2 and a.shape[0] == 1:
                a = a[0]
            return a
        sm, lsm = grab(name), grab("lsm")
        lat = np.asarray(ds["latitude"][:], float)
        lon = np.asarray(ds["longitude"][:], float)
    if sm.shape != (lat.size, lon.size) or lsm.shape != sm.shape:
        raise InputError(f"{path}: variable {name!r} has shape {sm.shape} and 'lsm' "
                         f"{lsm.shape}; expected one (latitude, longitude) = "
                         f"{(lat.size, lon.size)} field each")
    land = (lsm >= 0.5) & np.isfinite(sm)
    return np.where(land, np.clip(sm, 0.0, None), np.nan), lat, lon, f"{path.stem}_{name}"


# -- writers ---------------------------------------------------------------------------------

def _fmt(v):
    if isinstance(v, float):
        return "nan" if not math.isfinite(v) else repr(v)
    return v


def write_csv(path, header: list[str], rows: list[list]) -> None:
    """CSV with a header line, written atomically."""
    from landia.io.atomic import atomic_path

    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            for r in rows:
                w.writerow([_fmt(v) for v in r])


def write_json(path, obj) -> None:
    """JSON (NaN written as null), atomically."""
    from landia.io.atomic import atomic_path

    def clean(o):
        if isinstance(o, float):
            return o if math.isfinite(o) else None
        if isinstance(o, dict):
            return {k: clean(v) for k, v in o.items()}
        if isinstance(o, (list, tuple)):
            return [clean(v) for v in o]
        if isinstance(o, np.generic):
            return clean(o.item())
        return o

    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps(clean(obj), indent=1, allow_nan=False) + "\n")


# -- threshold-diagnostics --------------------------------------------------------------------

def _thresholds(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.replace(",", " ").split()]
    except ValueError:
        raise InputError(f"--thresholds {text!r}: expected numbers in (0, 1] separated by "
                         "commas or spaces") from None
    if not values or any(not 0 < v <= 1 for v in values):
        raise InputError(f"--thresholds {text!r}: every threshold must lie in (0, 1]")
    return values


def add_threshold_diagnostics_parser(subparsers):
    """Add ``threshold-diagnostics`` to an argparse subparsers object; returns the parser."""
    from landia.config import CurveletSettings

    cs = CurveletSettings()
    p = subparsers.add_parser(
        "threshold-diagnostics", help=THRESHOLD_HELP,
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


def _unique_label(label: str, used: set[str]) -> str:
    out, k = label, 2
    while out in used:
        out, k = f"{label}_{k}", k + 1
    used.add(out)
    return out


def run_threshold_diagnostics(args) -> int:
    """Run ``threshold-diagnostics``; writes into ``args.output_dir``; returns 0."""
    from landia.diagnostics import plots
    from landia.diagnostics.thresholds import curves_table, scores_table, threshold_diagnostics

    log = get_logger("landia.diagnostics")
    thresholds = _thresholds(args.thresholds)
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
        print(f"{label}: {diag.shape[0]} x {diag.shape[1]} cells, {diag.n_land} land, "
              f"{diag.n_coefficients} coefficients")
        print(f"{'sigma':>6} {'SCC':>8} {'RMSE':>9} {'skew':>7} {'ex.kurt':>8} {'L_e km':>7}")
        for s in diag.scores:
            print(f"{s.sigma:6.2f} {s.scc:8.5f} {s.rmse:9.5f} {s.skewness:7.3f} "
                  f"{s.excess_kurtosis:8.3f} {s.correlation_length_km:7.0f}")
        log.info("threshold_diagnostics", image=label, land=diag.n_land,
                 scc_at_map_sigma=diag.score(map_sigma).scc, output_dir=str(out))
    write_csv(out / "threshold_scores.csv", header, all_rows)
    return 0


# -- estimate-b -------------------------------------------------------------------------------

def expand_inputs(items, option: str) -> list[Path]:
    """Files from a list of files, glob patterns and folders (``*.nc`` inside, sorted)."""
    files: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            found = sorted(p.glob("*.nc")) + sorted(p.glob("*.nc4"))
            if not found:
                raise InputError(f"{option} {item}: folder holds no *.nc file")
            files += found
        elif any(c in item for c in "*?["):
            found = sorted(Path(f) for f in glob.glob(item))
            if not found:
                raise InputError(f"{option} {item!r}: pattern matches no file")
            files += found
        else:
            files.append(p)
    return files


_TIME_ATTRS = ("time", "valid_time", "analysis_time", "date")


def file_time(path) -> str | None:
    """Time of a field file as an ISO string, or None when it carries none.

    Looked up as a global attribute (``time``, ``valid_time``, ``analysis_time``, ``date``)
    or a scalar / single-valued ``time`` variable with CF units.
    """
    import netCDF4

    with netCDF4.Dataset(path) as ds:
        for a in _TIME_ATTRS:
            if a in ds.ncattrs():
                return str(ds.getncattr(a)).strip()
        if "time" in ds.variables:
            v = ds.variables["time"]
            if v.size == 1 and hasattr(v, "units"):
                t = netCDF4.num2date(np.ravel(v[:])[0], v.units,
                                     getattr(v, "calendar", "standard"))
                return t.isoformat()
    return None


def pair_files(backgrounds: list[Path], observations: list[Path]) -> list[tuple[Path, Path, str]]:
    """Pair background and observation files by time when all carry one, else by order."""
    log = get_logger("landia.diagnostics")
    tb = [file_time(p) for p in backgrounds]
    to = [file_time(p) for p in observations]
    if all(t is not None for t in tb + to):
        for name, times, files in (("--background", tb, backgrounds), ("--obs", to, observations)):
            if len(set(times)) != len(times):
                dup = sorted({t for t in times if times.count(t) > 1})
                raise InputError(f"{name}: several files carry the same time {dup[:3]}")
        obs_at = dict(zip(to, observations))
        pairs = [(b, obs_at[t], t) for b, t in zip(backgrounds, tb) if t in obs_at]
        unmatched_b = len(backgrounds) - len(pairs)
        unmatched_o = len(observations) - len(pairs)
        if unmatched_b or unmatched_o:
            log.warning("unpaired_files", backgrounds=unmatched_b, observations=unmatched_o,
                        note="files without a partner at the same time are not used")
        if not pairs:
            raise InputError(f"no background time matches an observation time (backgrounds "
                             f"{tb[:3]}..., observations {to[:3]}...)")
        return pairs
    if len(backgrounds) != len(observations):
        raise InputError(f"{len(backgrounds)} background file(s) and {len(observations)} "
                         "observation file(s) without a time attribute on every file: pairing by "
                         "order needs as many of each (or give each file a 'time' attribute)")
    return [(b, o, str(k)) for k, (b, o) in enumerate(zip(backgrounds, observations))]


def _same_grid(a, b) -> bool:
    return (a.shape == b.shape and np.allclose(a.lat, b.lat, atol=1e-6)
            and np.allclose(a.lon, b.lon, atol=1e-6))


def _grid_text(f) -> str:
    return (f"{f.shape[0]} x {f.shape[1]} cells, lat {f.lat[0]:g}..{f.lat[-1]:g}, "
            f"lon {f.lon[0]:g}..{f.lon[-1]:g}")


def add_estimate_b_parser(subparsers):
    """Add ``estimate-b`` to an argparse subparsers object; returns the parser."""
    from landia.diagnostics.background_error import DEFAULT_MIN_TIMES, DEFAULT_MIN_VARIANCE

    p = subparsers.add_parser(
        "estimate-b", help=ESTIMATE_B_HELP,
        description="Estimate the diagonal background-error variance per cell and layer as "
                    "the sample variance (ddof 1, about the time mean) of background minus "
                    "observation, minus an observation-error variance, floored; write a "
                    "background field file (time-mean background + background_error_variance). "
                    "See docs/diagnostics.md.")
    p.add_argument("--background", nargs="+", required=True, metavar="FILE",
                   help="background field files (files, glob patterns or folders)")
    p.add_argument("--obs", nargs="+", required=True, metavar="FILE",
                   help="observation field files on the same grid (files, globs or folders); "
                        "paired by a 'time' attribute when every file has one, else by order")
    p.add_argument("--obs-error-variance", type=float, default=0.0,
                   help="observation-error variance subtracted, (m3 m-3)^2 (default 0)")
    p.add_argument("--min-times", type=int, default=DEFAULT_MIN_TIMES,
                   help="fewest valid times for a cell's own estimate; cells with fewer get "
                        "the layer median (default %(default)s)")
    p.add_argument("--min-variance", type=float, default=DEFAULT_MIN_VARIANCE,
                   help="floor of the variance, (m3 m-3)^2 (default 0.005^2 = %(default)g)")
    p.add_argument("--smoothing", type=float, default=0.0,
                   help="Gaussian smoothing of the variance over land, standard deviation in "
                        "cells (default 0: none)")
    p.add_argument("--output", required=True, help="background field file to write (netCDF)")
    return p


def run_estimate_b(args) -> int:
    """Run ``estimate-b``: read, pair, check grids, estimate, write atomically; returns 0."""
    from landia.diagnostics.background_error import estimate_background_error
    from landia.io.fields import SoilMoistureField, read_field, write_field

    log = get_logger("landia.diagnostics")
    out_dir = Path(args.output).resolve().parent
    if not out_dir.is_dir():
        raise InputError(f"{args.output}: output directory {out_dir} does not exist")
    if not (args.obs_error_variance >= 0 and math.isfinite(args.obs_error_variance)):
        raise InputError(f"--obs-error-variance {args.obs_error_variance}: expected a variance "
                         ">= 0 in (m3 m-3)^2")
    pairs = pair_files(expand_inputs(args.background, "--background"),
                       expand_inputs(args.obs, "--obs"))
    first = None
    xb, yo = [], []
    for b_path, o_path, _t in pairs:
        b = read_field(b_path, "background")
        o = read_field(o_path, "observation")
        if first is None:
            first = b
            nl = min(b.n_layers, o.n_layers)
            if b.n_layers != o.n_layers:
                log.warning("layers_differ", background=b.n_layers, observation=o.n_layers,
                            used=nl)
        for f in (b, o):
            if not _same_grid(f, first):
                raise InputError(f"{f.source}: grid {_grid_text(f)} differs from the first "
                                 f"background {first.source} ({_grid_text(first)}); regrid the "
                                 "observations to the model grid first")
            if f.n_layers < nl:
                raise InputError(f"{f.source}: {f.n_layers} layer(s); expected at least {nl} "
                                 "like the first pair")
        xb.append(b.values[:nl])
        yo.append(o.values[:nl])
    xb, yo = np.stack(xb), np.stack(yo)
    seen = [bool(np.any(np.isfinite(xb[:, k]) & np.isfinite(yo[:, k]))) for k in range(nl)]
    if seen[0] and not all(seen):
        keep = seen.index(False)
        log.warning("layers_not_observed", layers=[k + 1 for k in range(keep, nl)],
                    note="no observation in these layers (e.g. a 0-5 cm satellite product does "
                         "not reach CoLM layer 3); the estimate covers the layers above")
        nl = keep
        xb, yo = xb[:, :nl], yo[:, :nl]
    est = estimate_background_error(xb, yo, args.obs_error_variance,
                                    args.min_times, args.min_variance, args.smoothing)
    for k in range(nl):
        log.info("background_error_variance", layer=k + 1, land=int(est.land[k].sum()),
                 fallback_cells=est.n_fallback[k], fallback_value=est.fallback_value[k],
                 floored_cells=est.n_floored[k],
                 median=float(np.nanmedian(est.variance[k])))
        if est.n_fallback[k]:
            log.warning("too_few_times", layer=k + 1, cells=est.n_fallback[k],
                        min_times=args.min_times, value=est.fallback_value[k],
                        note="these cells got the layer's median variance")
    porosity = first.porosity[:nl] if first.porosity is not None else None
    field = SoilMoistureField(lat=first.lat, lon=first.lon, depth=np.asarray(first.depth[:nl]),
                              values=est.mean_background, error_variance=est.variance,
                              porosity=porosity, source=str(args.output))
    write_field(args.output, field, role="background",
                title=f"landia background-error variance from {len(pairs)} background/"
                      f"observation pairs")
    log.info("written", output=str(args.output), pairs=len(pairs))
    print(f"{args.output}: background_error_variance from {len(pairs)} pairs; layers {nl}; "
          f"fallback cells {est.n_fallback}; floored cells {est.n_floored}")
    return 0
