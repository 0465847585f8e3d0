"""``landia config-keys``: the documentation of every configuration key (Markdown)."""

from __future__ import annotations

from landia.config import describe_keys


def add_parser(subparsers):
    """Add ``config-keys`` to ``landia``'s sub-parsers; returns its parser."""
    return subparsers.add_parser("config-keys", help="print every configuration key (Markdown)")


def run(args, settings, comm) -> int:
    """Print the keys (on every rank, like ``validate``); ``settings`` is None."""
    print(describe_keys())
    return 0
