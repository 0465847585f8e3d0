"""``python -m landia.experiment.report OUT``: (re)build the report of a demo folder."""

from __future__ import annotations

import argparse

from landia.experiment.report.build import build_report
from landia.log import configure_logging


def main(argv=None) -> int:
    """``python -m landia.experiment.report OUT``: (re)build the report of a demo folder."""
    parser = argparse.ArgumentParser(prog="python -m landia.experiment.report",
                                     description=main.__doc__)
    parser.add_argument("out_dir")
    args = parser.parse_args(argv)
    configure_logging()  # warnings (a figure that could not be made) to stderr
    print(build_report(args.out_dir))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
