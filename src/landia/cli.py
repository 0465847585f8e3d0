"""Command-line interface: ``landia <command> ...``.

The entry point only: the global options, the split of PETSc's single-dash options
(``-tao_*``, ``-ksp_*``, handed to PETSc's options database), the run configuration, the one
place where ``MPI.COMM_WORLD`` is taken, and the dispatch. Each command is a module of
:mod:`landia.commands` (see there for the list and their contract); :data:`COMMANDS` gives
the order ``landia --help`` lists them in.
"""

from __future__ import annotations

import argparse
import sys

import landia
from landia.commands import (analyse, bench, climatology, column, config_keys, configs, cycle,
                             demo, estimate_b, make_obs, prepare_obs, serve,
                             threshold_diagnostics, validate, verify)
from landia.commands.exit_status import exit_status
from landia.config import Settings, load_settings
from landia.log import configure_logging, get_logger

#: Every command module, in the order of ``landia --help``.
COMMANDS = (analyse, validate, config_keys, demo, column, threshold_diagnostics, estimate_b,
            prepare_obs, climatology, cycle, configs, make_obs, serve, verify, bench)

#: Commands that check or describe configuration files: they run before (instead of) loading
#: one, on every rank.
_WITHOUT_SETTINGS = ("validate", "config-keys")


def build_parser() -> argparse.ArgumentParser:
    """``landia``'s parser: the global options and every command's sub-parser."""
    p = argparse.ArgumentParser(prog="landia", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="PETSc options (e.g. -tao_monitor -tao_type lmvm) may "
                                       "follow any command.")
    p.add_argument("--version", action="version", version=f"landia {landia.__version__}")
    p.add_argument("--log-format", choices=("console", "json"), default=None,
                   help="log renderer (default: the config's logging.format, else console)")
    p.add_argument("--log-level", choices=("debug", "info", "warning", "error"), default=None)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub).set_defaults(run=command.run)
    return p


def _split_petsc_args(argv: list[str]) -> tuple[list[str], list[str]]:
    """Separate single-dash PETSc options (and their values) from landia's arguments."""
    ours, petsc = [], []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg.startswith("-") and not arg.startswith("--") and len(arg) > 2:
            petsc.append(arg)
            if i + 1 < len(argv) and not argv[i + 1].startswith("-"):
                petsc.append(argv[i + 1])
                i += 1
        else:
            ours.append(arg)
        i += 1
    return ours, petsc


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``landia`` console script; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    ours, petsc_args = _split_petsc_args(argv)
    parser = build_parser()
    args = parser.parse_args(ours)
    if args.command is None:
        parser.print_help()
        return 0
    if args.command == "serve":
        # Before MPI is touched: a process with MPI initialised cannot launch mpirun jobs.
        configure_logging(args.log_format or "console", args.log_level or "info", 0, 1)
        return exit_status(lambda: args.run(args, None, None))
    # Importing mpi4py.MPI initialises MPI: here, after serve has gone its way, and only here.
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    configure_logging(args.log_format or "console", args.log_level or "info",
                      comm.Get_rank(), comm.Get_size())
    return exit_status(lambda: _run(args, petsc_args, comm))


def _run(args, petsc_args: list[str], comm) -> int:
    """Load the run configuration (for the commands that use one), start PETSc, run."""
    if args.command in _WITHOUT_SETTINGS:
        return args.run(args, None, comm)
    settings = load_settings(args.config) if getattr(args, "config", None) else Settings()
    configure_logging(args.log_format or settings.logging.format,
                      args.log_level or settings.logging.level, comm.Get_rank(), comm.Get_size())
    _start_petsc(petsc_args, settings)
    return args.run(args, settings, comm)


def _start_petsc(petsc_args: list[str], settings: Settings) -> None:
    """Hand the PETSc options to PETSc when the TAO backend will use them; warn otherwise."""
    if petsc_args and settings.minimiser.backend == "tao":
        # petsc4py: loaded only when PETSc options are given (and then before any analysis).
        from landia.analysis.minimisers.tao import init_petsc

        init_petsc(petsc_args)
    elif petsc_args:
        get_logger("landia").warning("petsc_options_ignored", options=" ".join(petsc_args),
                                     note="minimiser.backend is 'scipy'")


if __name__ == "__main__":
    raise SystemExit(main())
