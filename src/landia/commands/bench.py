"""``landia bench``: benchmarks of the curvelet operator, the analysis and the model."""

from __future__ import annotations

import argparse

from landia.benchmarks import run_benchmarks
from landia.benchmarks.letkf import print_figures
from landia.commands.outputs import check_output


def add_parser(subparsers):
    """Add ``bench`` to ``landia``'s sub-parsers; returns its parser."""
    b = subparsers.add_parser("bench", help="benchmarks (printed as 'name: value' lines)")
    b.add_argument("--quick", action="store_true", help="small sizes only")
    b.add_argument("--json", default=None, help="also write the figures to this JSON file (its folder is created "
                        "when missing)")
    # The LETKF benchmark's driver (landia.benchmarks.letkf), started on every rank by the
    # letkf cases under mpirun: the command line is where the communicator is taken.
    b.add_argument("--letkf-driver", type=float, default=None, metavar="KM",
                   help=argparse.SUPPRESS)
    b.add_argument("--letkf-resolution", type=float, default=0.25, help=argparse.SUPPRESS)
    return b


def run(args, settings, comm) -> int:
    """Rank 0 runs the benchmarks (each case in its own process); the other ranks return 0 at
    once instead of waiting, so that they take nothing from the timings. With
    ``--letkf-driver`` every rank runs the LETKF benchmark's driver instead."""
    if args.letkf_driver is not None:
        return print_figures(comm, args.letkf_driver, args.letkf_resolution)
    if comm.Get_rank() != 0:
        return 0
    if args.json is not None:
        check_output(args.json, {}, option="--json")
    return run_benchmarks(quick=args.quick, json_path=args.json)
