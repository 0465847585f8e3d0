"""``landia configs``: the shipped example configurations, one line each."""

from __future__ import annotations

from landia.config import shipped_configs


def add_parser(subparsers):
    """Add ``configs`` to ``landia``'s sub-parsers; returns its parser."""
    return subparsers.add_parser("configs", help="list the shipped example configurations")


def run(args, settings, comm) -> int:
    """Print each shipped configuration's name and first comment line (on every rank)."""
    for name, path in shipped_configs().items():
        first = path.read_text().splitlines()[0].lstrip("# ").strip()
        print(f"{name:12s} {first}")
    return 0
