"""``landia estimate-vertical``: the vertical correlation length of the background error
below the analysed layers (``analysis.vertical_length_m``) from a model run's own changes over
one analysis interval (:mod:`landia.diagnostics.vertical_length`)."""

from __future__ import annotations

import json
import math
from collections import deque

import numpy as np

from landia.commands.exit_status import root_only
from landia.diagnostics.vertical_length import ChangeRegression
from landia.errors import InputError
from landia.io.fields import read_field
from landia.io.naming import input_files
from landia.log import get_logger

HELP = ("vertical correlation length of B below the analysed layers from a model run's "
        "changes (analysis.vertical_length_m)")


def add_parser(subparsers):
    """Add ``estimate-vertical`` to ``landia``'s sub-parsers; returns its parser."""
    p = subparsers.add_parser(
        "estimate-vertical", help=HELP,
        description="Regress the changes of the layers below the analysed ones on those of "
                    "the deepest analysed layer, between states one analysis interval apart "
                    "of an open-loop run (CTRL, a spin-up: its states/state_*.nc), and fit "
                    "exp(-(z_k - z_L)/L_z) to the regressions; print the length L_z (m) for "
                    "analysis.vertical_length_m, as JSON. See docs/analysis.md.")
    p.add_argument("--states", nargs="+", required=True, metavar="FILE",
                   help="state files of every layer, one per analysis time, in time order "
                        "(files, glob patterns or folders)")
    p.add_argument("--config", help="run configuration: its analysis.layers are the analysed "
                                    "layers (default: the default configuration's)")
    p.add_argument("--layers-below", type=int, default=2,
                   help="layers below the analysed ones in the fit (default %(default)s)")
    p.add_argument("--lag", type=int, default=1,
                   help="states apart in a pair (default %(default)s: one interval)")
    return p


def run(args, settings, comm) -> int:
    """The root reads and estimates; the other ranks wait for its status."""
    return root_only(comm, lambda: estimate_vertical(args, settings))


def estimate_vertical(args, settings) -> int:
    """Read the states one at a time (one grid, every layer), estimate, print JSON;
    returns 0."""
    files = input_files(args.states, "--states")
    analysed = settings.analysis.layers
    if len(files) < args.lag + 1:
        raise InputError(f"--states: {len(files)} file(s); expected at least {args.lag + 1} "
                         f"states for --lag {args.lag}")
    need = analysed + args.layers_below
    first = read_field(files[0])
    shape = first.values.shape
    if shape[0] < need:
        raise InputError(f"{files[0]}: {shape[0]} layers; expected at least {need} "
                         f"(analysis.layers {analysed} + --layers-below {args.layers_below})")
    regression = ChangeRegression(np.asarray(first.depth, float), analysed, args.layers_below)
    recent = deque(maxlen=args.lag)  # the rows of the last `lag` states
    for i, f in enumerate(files):
        field = first if i == 0 else read_field(f)
        if field.values.shape != shape:
            raise InputError(f"{f}: soil_moisture of shape {field.values.shape}; expected "
                             f"{shape} like {files[0]}")
        rows = field.values[regression.rows].reshape(1 + args.layers_below, -1)
        if len(recent) == args.lag:
            regression.add(rows - recent[0])
        recent.append(rows)
    est = regression.result()
    out = {"vertical_length_m": None if math.isnan(est.length_m) else round(est.length_m, 4),
           "analysis_layers": analysed, "regression": [round(float(b), 4)
                                                      for b in est.regression],
           "layer_lengths_m": [None if math.isnan(v) else round(float(v), 4)
                               for v in est.layer_lengths_m],
           "pairs": est.pairs, "states": len(files), "lag": args.lag}
    get_logger("landia.diagnostics").info("vertical_length", **out)
    if out["vertical_length_m"] is None:
        raise InputError(f"--states: no regression of the layers below on layer {analysed} "
                         f"lies in (0, 1) ({out['regression']}): no exponential fits")
    print(json.dumps(out))
    return 0
