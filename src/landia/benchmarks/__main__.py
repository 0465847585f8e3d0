"""``python -m landia.benchmarks --case NAME``: one case in this process, its figures as one
JSON line (the driver, :func:`landia.benchmarks.run_benchmarks`, runs each case so)."""

from __future__ import annotations

import argparse
import json

from landia.benchmarks.runner import CASES
from landia.log import configure_logging


def main(argv: list[str] | None = None) -> int:
    """Run the case named by ``--case``; print its figures as one JSON object."""
    parser = argparse.ArgumentParser(prog="python -m landia.benchmarks")
    parser.add_argument("--case", required=True, choices=sorted(CASES))
    args = parser.parse_args(argv)
    configure_logging("console", "warning")
    print(json.dumps(CASES[args.case]()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
