"""``landia make-obs``: synthetic observation images from a truth run (OSSE)."""

from __future__ import annotations

from landia.commands.exit_status import root_only
from landia.experiment.osse import make_observations


def add_parser(subparsers):
    """Add ``make-obs`` to ``landia``'s sub-parsers; returns its parser."""
    m = subparsers.add_parser("make-obs", help="synthetic observations from a truth run (OSSE)",
                              description="Observation images obs_YYYYMMDDTHHMM.nc from the "
                                          "states of a truth run of 'landia cycle' (mode ctrl): "
                                          "its 0-7 cm soil moisture on the top model layers "
                                          "plus Gaussian noise.")
    m.add_argument("--truth-run", required=True, help="run directory of the truth run")
    m.add_argument("--output-dir", required=True, help="folder for the observation files")
    m.add_argument("--noise-std", type=float, default=0.02, help="m3 m-3 (default 0.02)")
    m.add_argument("--seed", type=int, default=1)
    m.add_argument("--layers", type=int, default=3)
    m.add_argument("--every-hours", type=int, default=6)
    m.add_argument("--large-error-box", type=float, nargs=4, default=None,
                   metavar=("SOUTH", "NORTH", "WEST", "EAST"),
                   help="region whose noise is --large-error-std (stated error unchanged)")
    m.add_argument("--large-error-std", type=float, default=0.0)
    m.add_argument("--stated-error-box", type=float, nargs=4, default=None,
                   metavar=("SOUTH", "NORTH", "WEST", "EAST"),
                   help="region whose stated observation error is --stated-error-std (actual "
                        "noise unchanged): the paper's idealised variant")
    m.add_argument("--stated-error-std", type=float, default=0.0)
    return m


def run(args, settings, comm) -> int:
    """The root writes the files; the other ranks wait for its status."""
    return root_only(comm, lambda: make_obs(args))


def make_obs(args) -> int:
    """Write the observation files; returns 0."""
    files = make_observations(args.truth_run, args.output_dir, noise_std=args.noise_std,
                              seed=args.seed, layers=args.layers,
                              large_error_box=args.large_error_box,
                              large_error_std=args.large_error_std,
                              every_hours=args.every_hours,
                              stated_error_box=args.stated_error_box,
                              stated_error_std=args.stated_error_std)
    print(f"{len(files)} observation file(s) written to {args.output_dir}")
    return 0
