"""``landia split-daily``: cut a CF time series per cell (e.g. the NLDAS-2 daily means of
``conus_nldas_smap``) into one file per UTC day, ``<prefix>_YYYYMMDD.nc``, the form in which a
served run receives its forcing (``cycle.forcing`` = that folder, ``forcing_format = "cells"``;
:mod:`landia.io.cell_days`, docs/serve-real-data.md)."""

from __future__ import annotations

from landia.commands.exit_status import root_only
from landia.io.cell_days import split_daily as split
from landia.log import get_logger

HELP = "cut a per-cell CF time series into one file per day (served forcing)"


def add_parser(subparsers):
    """Add ``split-daily`` to ``landia``'s sub-parsers; returns its parser."""
    p = subparsers.add_parser(
        "split-daily", help=HELP,
        description="Write one file per UTC day START <= day < END of a CF timeSeries file "
                    "on a cell dimension, same variables, attributes and storage types, "
                    "each written atomically (docs/serve-real-data.md).")
    p.add_argument("input", help="the per-cell file (cell dimension, lat(cell), lon(cell))")
    p.add_argument("--output-dir", required=True, help="folder of the daily files")
    p.add_argument("--start", required=True, help="first day, YYYY-MM-DD")
    p.add_argument("--end", required=True, help="day after the last, YYYY-MM-DD")
    p.add_argument("--prefix", default="nldas2", help="file name prefix (default %(default)s)")
    return p


def run(args, settings, comm) -> int:
    """Write the files on the root (the other ranks wait)."""
    return root_only(comm, lambda: split_daily(args))


def split_daily(args) -> int:
    """Split ``args.input`` into ``args.output_dir``."""
    files = split(args.input, args.output_dir, args.start, args.end, args.prefix)
    get_logger("landia.split_daily").info("written", files=len(files), first=files[0].name,
                                          last=files[-1].name, folder=str(args.output_dir))
    return 0
