"""``landia cycle``: the MPI assimilation cycle in a run directory (run under mpirun)."""

from __future__ import annotations

from pathlib import Path

from landia.config import Settings
from landia.errors import InputError, LandiaError
from landia.log import get_logger


def add_parser(subparsers):
    """Add ``cycle`` to ``landia``'s sub-parsers; returns its parser."""
    y = subparsers.add_parser("cycle", help="run the assimilation cycle (under mpirun)",
                              description="Run every window of the configured period not yet "
                                          "done in the run directory: columns on every rank, "
                                          "image 3D-Var on the root, a checkpoint per cycle. "
                                          "Resumes from the newest valid checkpoint. See "
                                          "docs/cycling.md.")
    y.add_argument("--config", required=True,
                   help="TOML configuration file or a shipped name (see 'landia configs')")
    y.add_argument("--run-dir", required=True, help="folder of the run's outputs, logs and "
                                                    "checkpoints (created)")
    y.add_argument("--end", default=None,
                   help="stop at this window end (ISO UTC) instead of cycle.end; it may lie "
                        "past cycle.end (the run goes on, e.g. under landia serve)")
    y.add_argument("--cold-start", action="store_true",
                   help="start again from cycle 0 in a run directory whose outputs have no "
                        "valid checkpoint: move them aside into RUN_DIR/previous-<time>/ "
                        "(refused while a valid checkpoint exists)")
    y.add_argument("--no-progress", action="store_true", help="no progress line on stderr")
    return y


def run(args, settings: Settings, comm) -> int:
    """Every rank runs the cycle; an unexpected error on one rank aborts the job.

    Exit status: 0 every window up to the end done; 75 stopped by SIGTERM after a complete
    cycle, or another run holds the run directory (both EX_TEMPFAIL: try again later); 2 an
    input or configuration error.
    """
    # The cycle loads mpi4py (its collectives): imported here, so that building the parser,
    # and with it `landia serve`, which launches mpirun jobs, never initialises MPI.
    from landia.cycling.ensemble_run import runner_class
    from landia.cycling.run import run_cycles
    from landia.cycling.run_dir import EXIT_LOCKED, RunDirectoryLocked

    try:
        Path(args.run_dir).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--run-dir {args.run_dir}: cannot create the run directory: "
                         f"{exc}") from None
    try:
        return run_cycles(comm, settings, args.run_dir, end=args.end,
                          progress=not args.no_progress, handle_sigterm=True,
                          cold_start=args.cold_start, runner_class=runner_class(settings))
    except RunDirectoryLocked as exc:  # every rank alike; the root says it once
        if comm.Get_rank() == 0:
            get_logger("landia").error("cycle_locked", error=str(exc), exit_status=EXIT_LOCKED)
        return EXIT_LOCKED
    except LandiaError:
        if comm.Get_size() > 1:  # raised on every rank alike (setup), or only here
            get_logger("landia").error("cycle_aborted", rank=comm.Get_rank())
        raise
    except BaseException as exc:
        if comm.Get_size() > 1:
            get_logger("landia").error("cycle_aborted", error=repr(exc))
            comm.Abort(3)
        raise
