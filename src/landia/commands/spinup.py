"""``landia spinup``: cycle the configured period in CTRL mode until the state stops drifting."""

from __future__ import annotations

from pathlib import Path

from landia.config import Settings
from landia.errors import InputError, LandiaError
from landia.log import get_logger

#: Exit status of a spin-up that ran ``--max-cycles`` passes without converging.
EXIT_NOT_CONVERGED = 1


def add_parser(subparsers):
    """Add ``spinup`` to ``landia``'s sub-parsers; returns its parser."""
    # Defaults repeated from landia.cycling.spinup (imported lazily, see run()).
    y = subparsers.add_parser(
        "spinup", help="spin up the model state: the period cycled in CTRL mode (under mpirun)",
        description="Run the configured period [cycle.start, cycle.end) again and again in "
                    "CTRL mode (no assimilation), each pass in RUN_DIR/pass-<k>/ starting "
                    "from the previous pass's final state, until the largest absolute change "
                    "of soil moisture in the top 1 m between two passes' final states is at "
                    "most --tolerance, or after --max-cycles passes. Writes "
                    "RUN_DIR/spun_up_state.nc, RUN_DIR/spun_up_checkpoint.h5 and "
                    "RUN_DIR/spinup_log.jsonl. Exit status 1 when it did not converge. See "
                    "docs/spinup.md.")
    y.add_argument("--config", required=True,
                   help="TOML configuration file or a shipped name (see 'landia configs')")
    y.add_argument("--run-dir", required=True, help="folder of the passes and the spun-up "
                                                    "state (created)")
    y.add_argument("--max-cycles", type=int, default=10, metavar="N",
                   help="at most N passes of the period (default 10)")
    y.add_argument("--tolerance", type=float, default=1.0e-3, metavar="T",
                   help="converged when max |change| of soil moisture (m3 m-3) in every layer "
                        "of the top 1 m between two passes is <= T (default 1e-3)")
    y.add_argument("--no-progress", action="store_true", help="no progress line on stderr")
    return y


def run(args, settings: Settings, comm) -> int:
    """Every rank runs the passes; 0 converged, 1 not converged after ``--max-cycles``."""
    # mpi4py is loaded by the cycle's collectives: imported here (as in `landia cycle`).
    from landia.cycling.spinup import spin_up

    try:
        Path(args.run_dir).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--run-dir {args.run_dir}: cannot create the folder: {exc}") from None
    try:
        result = spin_up(comm, settings, args.run_dir, max_passes=args.max_cycles,
                         tolerance=args.tolerance, progress=not args.no_progress)
    except LandiaError:
        if comm.Get_size() > 1:
            get_logger("landia").error("spinup_aborted", rank=comm.Get_rank())
        raise
    except BaseException as exc:
        if comm.Get_size() > 1:
            get_logger("landia").error("spinup_aborted", error=repr(exc))
            comm.Abort(3)
        raise
    if comm.Get_rank() == 0:
        crit = result["criterion"]
        print(f"spin-up: {result['passes']} pass(es), criterion max |d theta| top 1 m = "
              f"{'n/a' if crit is None else f'{crit:.3e}'} m3 m-3 (tolerance "
              f"{args.tolerance:.1e}): {'converged' if result['converged'] else 'NOT converged'}"
              f"; state {result['state_file']}", flush=True)
    return 0 if result["converged"] else EXIT_NOT_CONVERGED
