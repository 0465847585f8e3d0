"""``landia validate``: check a configuration file without running anything."""

from __future__ import annotations

import dataclasses
import json

from landia.config import load_settings
from landia.service import load_serve_settings


def add_parser(subparsers):
    """Add ``validate`` to ``landia``'s sub-parsers; returns its parser."""
    v = subparsers.add_parser("validate", help="check a configuration file without running "
                                               "anything")
    v.add_argument("config")
    return v


def run(args, settings, comm) -> int:
    """Every rank checks the file (no collective: nothing to wait for). ``settings`` is None:
    the file is loaded here, where its errors are the answer."""
    return validate(args.config)


def validate(path: str) -> int:
    """Print that ``path`` is valid and its settings as JSON; ConfigError otherwise.

    A file with a ``[serve]`` table is also checked as ``landia serve`` reads it: the cycle
    configuration it names must be valid and agree with it (window length, analysis hours,
    observation folder).
    """
    settings = load_settings(path)
    if settings.serve is not None:
        load_serve_settings(path)
    print(f"{path}: valid landia configuration")
    print(json.dumps(dataclasses.asdict(settings), indent=2))
    return 0
