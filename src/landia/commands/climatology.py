"""``landia climatology``: the climatologies of a model run and an observation product per cell
and layer, for rescaling the observations to the model (``[observations] rescaling``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from landia.commands.exit_status import root_only
from landia.commands.outputs import check_output
from landia.config import utc_time
from landia.errors import InputError
from landia.io.climatology_file import write_climatology
from landia.io.naming import input_files
from landia.log import get_logger
from landia.observations.climatology import build_climatology

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
    p.add_argument("--pool", choices=("cell", "domain"), default="cell",
                   help="'cell': each cell's own series (default; LIS's practice), 'domain': "
                        "one climatology per layer from every cell's pairs, for a product's "
                        "distortion of the values that the place does not explain, or a short "
                        "record")
    p.add_argument("--output", required=True, help="climatology file to write (netCDF)")
    return p


def run(args, settings, comm) -> int:
    """The root reads, pairs and writes; the other ranks wait for its status."""
    return root_only(comm, lambda: climatology(args))


def _time(text, option: str):
    if text is None:
        return None
    try:
        return utc_time(text)
    except ValueError:
        raise InputError(f"{option} {text!r}: expected an ISO date-time such as "
                         "2016-05-01T00:00 (UTC)") from None


def climatology(args) -> int:
    """Pair, read, compute and write the climatology; returns 0."""
    log = get_logger("landia.observations")
    if args.quantiles < 2:
        raise InputError(f"--quantiles {args.quantiles}: expected at least 2 (minimum and "
                         "maximum)")
    start, end = _time(args.start, "--start"), _time(args.end, "--end")
    if start is not None and end is not None and end < start:
        raise InputError(f"--end {args.end}: before --start {args.start}")
    obs_files = input_files(args.obs, "--obs", ("obs_*.nc",))
    check_output(args.output, {"--obs": obs_files})
    run_dir = Path(args.model_run)
    clim, n_pairs = build_climatology(run_dir, obs_files, args.quantiles,
                                      start, end, pool=args.pool)
    nl = clim.model_mean.shape[0]
    period = (clim.start, clim.end)
    write_climatology(args.output, clim, attributes={
        "model_run": str(run_dir), "pairs": n_pairs, "pool": args.pool,
        "observations": " ".join(str(a) for a in args.obs)})
    for k in range(nl):
        has = clim.count[k] > 0
        diff = (clim.observation_mean[k] - clim.model_mean[k])[has]
        log.info("climatology_layer", layer=k + 1, cells=int(has.sum()),
                 median_samples=float(np.median(clim.count[k][has])) if has.any() else 0.0,
                 mean_obs_minus_model=float(np.mean(diff)) if has.any() else float("nan"))
    log.info("written", output=str(args.output), pairs=n_pairs, layers=nl,
             quantiles=args.quantiles)
    print(f"{args.output}: climatology of {n_pairs} (model, observation) pairs, "
          f"{period[0]}Z..{period[1]}Z, layers {nl}, quantiles {args.quantiles}; most samples "
          f"per cell {int(clim.count.max())}")
    return 0
