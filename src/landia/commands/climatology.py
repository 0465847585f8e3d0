"""``landia climatology``: the climatologies of a model run and an observation product per cell
and layer, for rescaling the observations to the model (``[observations] rescaling``)."""

from __future__ import annotations

import glob
from pathlib import Path

import numpy as np

from landia.commands.exit_status import root_only
from landia.config import utc_time
from landia.errors import InputError
from landia.io.climatology_file import write_climatology
from landia.io.fields import read_field
from landia.io.naming import parse_stamp, stamp_of
from landia.log import get_logger
from landia.observations.rescaling import climatology_statistics

HELP = "model and observation climatologies per cell, for observation rescaling"


def add_parser(subparsers):
    """Add ``climatology`` to ``landia``'s sub-parsers; returns its parser."""
    p = subparsers.add_parser(
        "climatology", help=HELP,
        description="Pair each observation image with the model state of a 'landia cycle' run "
                    "at the same valid time, and write per cell and layer the quantiles, "
                    "means, standard deviations and sample counts of both series over the "
                    "training period: the climatology file of observations.climatology "
                    "(docs/observation-bias.md).")
    p.add_argument("--model-run", required=True, metavar="RUN_DIR",
                   help="run directory of 'landia cycle' (its states/state_*.nc), e.g. an "
                        "open-loop (ctrl) run")
    p.add_argument("--obs", nargs="+", required=True, metavar="OBS",
                   help="observation images: folders (their obs_*.nc), files or glob patterns")
    p.add_argument("--start", default=None,
                   help="first valid time of the training period, UTC (default: the first "
                        "pair)")
    p.add_argument("--end", default=None,
                   help="last valid time of the training period, included, UTC (default: the "
                        "last pair)")
    p.add_argument("--quantiles", type=int, default=21,
                   help="number of quantile levels, minimum to maximum (default %(default)s: "
                        "every 5 %%); no more than the samples per cell")
    p.add_argument("--output", required=True, help="climatology file to write (netCDF)")
    return p


def run(args, settings, comm) -> int:
    """The root reads, pairs and writes; the other ranks wait for its status."""
    return root_only(comm, lambda: climatology(args))


def observation_files(items) -> list[Path]:
    """Observation images from folders (``obs_*.nc`` inside), files and glob patterns."""
    files: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            found = sorted(p.glob("obs_*.nc"))
            if not found:
                raise InputError(f"--obs {item}: folder holds no obs_*.nc file")
            files += found
        elif any(c in item for c in "*?["):
            found = sorted(Path(f) for f in glob.glob(item))
            if not found:
                raise InputError(f"--obs {item!r}: pattern matches no file")
            files += found
        else:
            if not p.is_file():
                raise InputError(f"--obs {item}: no such file or folder")
            files.append(p)
    return files


def _time(text, option: str):
    if text is None:
        return None
    try:
        return utc_time(text)
    except ValueError:
        raise InputError(f"{option} {text!r}: expected an ISO date-time such as "
                         "2016-05-01T00:00 (UTC)") from None


def _stamped(path: Path) -> np.datetime64 | None:
    try:
        return np.datetime64(parse_stamp(stamp_of(path)), "s")
    except (ValueError, IndexError):
        return None


def climatology(args) -> int:
    """Pair, read, compute and write the climatology; returns 0."""
    log = get_logger("landia.observations")
    out_dir = Path(args.output).resolve().parent
    if not out_dir.is_dir():
        raise InputError(f"{args.output}: output directory {out_dir} does not exist")
    if args.quantiles < 2:
        raise InputError(f"--quantiles {args.quantiles}: expected at least 2 (minimum and "
                         "maximum)")
    start, end = _time(args.start, "--start"), _time(args.end, "--end")
    if start is not None and end is not None and end < start:
        raise InputError(f"--end {args.end}: before --start {args.start}")
    run_dir = Path(args.model_run)
    states = {}
    for path in sorted((run_dir / "states").glob("state_*.nc")):
        t = _stamped(path)
        if t is not None:
            states[t] = path
    if not states:
        raise InputError(f"--model-run {run_dir}: no states/state_YYYYMMDDTHHMM.nc files; "
                         "expected the run directory of 'landia cycle'")

    pairs, unpaired, seen = [], [], set()
    for path in observation_files(args.obs):
        obs = read_field(path, "observation")
        t = obs.valid_time if obs.valid_time is not None else _stamped(path)
        if t is None:
            raise InputError(f"{path}: no valid time (neither a 'valid_time' attribute nor an "
                             "obs_YYYYMMDDTHHMM.nc name)")
        t = np.datetime64(t, "s")
        if (start is not None and t < start) or (end is not None and t > end):
            continue
        if t in seen:
            raise InputError(f"{path}: a second observation image valid at {t}Z")
        seen.add(t)
        if t in states:
            pairs.append((t, states[t], obs))
        else:
            unpaired.append(str(t))
    if unpaired:
        log.warning("observations_without_model_state", count=len(unpaired),
                    first=unpaired[:3], run=str(run_dir),
                    note="these images have no model state at their valid time; not used")
    if not pairs:
        raise InputError(f"no observation image in the training period has a model state of "
                         f"{run_dir} at its valid time (states {min(states)}Z..{max(states)}Z)")
    pairs.sort(key=lambda p: p[0])

    first_model = read_field(pairs[0][1])
    nl = min(first_model.n_layers, min(o.n_layers for _, _, o in pairs))
    model, observed = [], []
    for t, state_path, obs in pairs:
        m = first_model if state_path == pairs[0][1] else read_field(state_path)
        if m.valid_time is not None and np.datetime64(m.valid_time, "s") != t:
            raise InputError(f"{state_path}: valid_time {m.valid_time} differs from its "
                             f"name's time {t}")
        for f, other in ((obs, m), (m, first_model)):
            if f.shape != other.shape or not (np.allclose(f.lat, other.lat, atol=1e-6)
                                               and np.allclose(f.lon, other.lon, atol=1e-6)):
                raise InputError(f"{f.source}: grid {f.shape} differs from {other.source} "
                                 f"{other.shape}; observations must be on the model grid")
        model.append(m.values[:nl])
        observed.append(obs.values[:nl])
    model, observed = np.stack(model), np.stack(observed)
    period = (pairs[0][0] if start is None else start, pairs[-1][0] if end is None else end)
    clim = climatology_statistics(model, observed, args.quantiles, lat=first_model.lat,
                                  lon=first_model.lon, depth=first_model.depth[:nl],
                                  start=period[0], end=period[1])
    write_climatology(args.output, clim, attributes={
        "model_run": str(run_dir), "pairs": len(pairs),
        "observations": " ".join(str(a) for a in args.obs)})
    for k in range(nl):
        has = clim.count[k] > 0
        diff = (clim.observation_mean[k] - clim.model_mean[k])[has]
        log.info("climatology_layer", layer=k + 1, cells=int(has.sum()),
                 median_samples=float(np.median(clim.count[k][has])) if has.any() else 0.0,
                 mean_obs_minus_model=float(np.mean(diff)) if has.any() else float("nan"))
    log.info("written", output=str(args.output), pairs=len(pairs), layers=nl,
             quantiles=args.quantiles)
    print(f"{args.output}: climatology of {len(pairs)} (model, observation) pairs, "
          f"{period[0]}Z..{period[1]}Z, layers {nl}, quantiles {args.quantiles}; most samples "
          f"per cell {int(clim.count.max())}")
    return 0
