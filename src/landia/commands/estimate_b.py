"""``landia estimate-b``: background-error variances per cell and layer from
background-minus-observation series (paper 3.3.1)."""

from __future__ import annotations

import math

import numpy as np

from landia.commands.exit_status import root_only
from landia.commands.outputs import check_output
from landia.diagnostics.background_error import (DEFAULT_MIN_TIMES, DEFAULT_MIN_VARIANCE,
                                                 estimate_background_error)
from landia.diagnostics.departures import pair_files, read_departures
from landia.io.naming import input_files
from landia.errors import InputError
from landia.io.fields import SoilMoistureField, write_field
from landia.log import get_logger

HELP = ("background-error variances per cell and layer from model-minus-observation "
        "series (paper 3.3.1)")


def add_parser(subparsers):
    """Add ``estimate-b`` to ``landia``'s sub-parsers; returns its parser."""
    p = subparsers.add_parser(
        "estimate-b", help=HELP,
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


def run(args, settings, comm) -> int:
    """The root reads, estimates and writes; the other ranks wait for its status."""
    return root_only(comm, lambda: estimate_b(args))


def estimate_b(args) -> int:
    """Read, pair, check grids, estimate, write atomically; returns 0."""
    log = get_logger("landia.diagnostics")
    if not (args.obs_error_variance >= 0 and math.isfinite(args.obs_error_variance)):
        raise InputError(f"--obs-error-variance {args.obs_error_variance}: expected a variance "
                         ">= 0 in (m3 m-3)^2")
    backgrounds = input_files(args.background, "--background")
    observations = input_files(args.obs, "--obs")
    check_output(args.output, {"--background": backgrounds, "--obs": observations})
    pairs = pair_files(backgrounds, observations)
    departures = read_departures(pairs)
    first, nl = departures.first, departures.n_layers
    est = estimate_background_error(departures.background, departures.observation,
                                    args.obs_error_variance, args.min_times, args.min_variance,
                                    args.smoothing)
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
