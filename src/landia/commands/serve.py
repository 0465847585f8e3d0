"""``landia serve``: the near-real-time scheduler's command line (see ``docs/serve.md``).

It runs without MPI: ``landia`` sends it here before MPI is initialised, because a process
with MPI initialised cannot launch the ``mpirun`` jobs of the cycles. Nothing imported here
loads mpi4py.
"""

from __future__ import annotations

import json
import signal

from landia.log import get_logger
from landia.service import (LockHeld, Scheduler, SimulatedClock, StatusServer,
                            load_serve_settings)

EXIT_LOCKED = 75  # EX_TEMPFAIL: another serve holds the lock (cron: try again later)


def add_parser(subparsers):
    """Add ``serve`` to ``landia``'s sub-parsers; returns its parser.

    Its ``--config`` is stored as ``args.serve_config`` (not ``args.config``): the serve file
    has a ``[serve]`` table, not a landia run configuration.
    """
    p = subparsers.add_parser(
        "serve", help="near-real-time scheduler: wait for observation files, launch cycles",
        description="Wait for each analysis time's observation file (or its cut-off), move it "
                    "into the run, launch the cycle job, record the outcome; catches up when "
                    "behind, one job at a time, restartable. See docs/serve.md.")
    p.add_argument("--config", dest="serve_config", required=True, metavar="SERVE_TOML",
                   help="TOML file with a [serve] table")
    p.add_argument("--once", action="store_true",
                   help="process every analysis time that is due now (catch up), then exit "
                        "instead of waiting (for cron and systemd timers)")
    p.add_argument("--status-port", type=int, default=None, metavar="PORT",
                   help="serve the status JSON over HTTP on this port (0: any free port)")
    p.add_argument("--status-host", default="127.0.0.1",
                   help="address of the status endpoint (default %(default)s)")
    p.add_argument("--clock-start", default=None, metavar="ISO",
                   help="demonstrations/replays: a simulated UTC clock starting at this time")
    p.add_argument("--clock-speed", type=float, default=1.0, metavar="F",
                   help="with --clock-start: simulated seconds per real second "
                        "(60: an hour a minute)")
    p.add_argument("--print-status", action="store_true",
                   help="print the status file of this configuration and exit")
    return p


def run(args, settings, comm) -> int:
    """``settings`` and ``comm`` are None: serve reads its own ``[serve]`` file and has no
    communicator (its cycles are separate mpirun jobs)."""
    return serve(args)


def serve(args) -> int:
    """Run ``landia serve``; returns the exit status (0 done/idle, 1 launch failed and
    on_failure='stop', 75 another serve holds the lock, 130 Ctrl-C; SIGTERM exits 143).
    Configuration errors raise ConfigError (the CLI's status 2)."""
    log = get_logger("landia.serve")
    settings = load_serve_settings(args.serve_config)
    if args.print_status:
        if not settings.status_file.exists():
            print(json.dumps({"status_file": str(settings.status_file), "exists": False}))
            return 1
        print(settings.status_file.read_text(encoding="utf-8"), end="")
        return 0
    clock = SimulatedClock(args.clock_start, args.clock_speed) if args.clock_start else None
    scheduler = Scheduler(settings, clock=clock)
    server = None
    if args.status_port is not None:
        server = StatusServer(lambda: scheduler.status or scheduler.make_status(),
                              args.status_host, args.status_port).start()
        log.info("status_endpoint", url=f"http://{server.address[0]}:{server.address[1]}/status")

    def _stop(signum, _frame):
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        return scheduler.run(once=args.once)
    except LockHeld as exc:
        log.error("serve_locked", error=str(exc))
        return EXIT_LOCKED
    except KeyboardInterrupt:
        log.warning("serve_interrupted")
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
        if server is not None:
            server.stop()
