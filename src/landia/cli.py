"""Command-line interface: ``landia <command> ...``.

The entry point only: the global options, the split of PETSc's single-dash options
(``-tao_*``, ``-ksp_*``, handed to PETSc's options database), the run configuration, the one
place where ``MPI.COMM_WORLD`` is taken, and the dispatch. Each command is a module of
:mod:`landia.commands` (see there for the list and their contract); :data:`COMMANDS` gives
the order ``landia --help`` lists them in.

The entry point also limits the BLAS/OpenMP libraries to one thread per process
(:func:`one_thread_per_process`); importing :mod:`landia` as a library does not.
"""

from __future__ import annotations

import argparse
import os
import re
import sys

#: The thread-count variables of OpenBLAS, OpenMP and MKL that :func:`one_thread_per_process`
#: sets to 1 (unless the user set them).
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def one_thread_per_process() -> None:
    """Set OpenBLAS, OpenMP and MKL to one thread, unless the environment already chose.

    Reproducibility: landia is parallel over MPI ranks, not BLAS threads. Threaded OpenBLAS
    reductions made two identical analyses differ by 6e-14 (measured), which would break
    bit-for-bit restarts. Effective for the libraries loaded after it: called when the entry
    point's module loads, before the commands' imports load numpy. Importing :mod:`landia` as
    a library does not do it; a library user who wants the same bit-for-bit results sets
    these variables before importing numpy (``docs/api.md``).
    """
    for var in THREAD_VARIABLES:
        os.environ.setdefault(var, "1")


one_thread_per_process()  # before the imports below load numpy (and with it OpenBLAS)

import landia  # noqa: E402
from landia.commands import (analyse, bench, climatology, column, config_keys, configs, cycle,
                             demo, estimate_b, estimate_vertical, experiment, landscape,
                             make_obs, prepare_obs, serve, spinup, split_daily,
                             threshold_diagnostics, validate, verify)  # noqa: E402
from landia.commands.exit_status import EXIT_FAILED, exit_status  # noqa: E402
from landia.config import Settings, load_settings  # noqa: E402
from landia.log import configure_logging, get_logger  # noqa: E402

#: Every command module, in the order of ``landia --help``.
COMMANDS = (analyse, validate, config_keys, demo, experiment, column, threshold_diagnostics,
            estimate_b, estimate_vertical, prepare_obs, climatology, landscape, split_daily,
            cycle, spinup, configs, make_obs, serve, verify, bench)

#: Commands that check or describe configuration files: they run before (instead of) loading
#: one, on every rank.
_WITHOUT_SETTINGS = ("validate", "config-keys")

#: A PETSc option: a single dash, then a name of letters, digits and underscores that starts
#: with a letter (``-tao_type``, ``-ksp_rtol``, ``-log_view``, ``-help``, ``-my_prefix_tao_x``).
_PETSC_OPTION = re.compile(r"-[A-Za-z][A-Za-z0-9_]+")
#: A number, negative ones included (``-5.5``, ``-40``): an argument, or a PETSc option's value.
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")

_GLOBAL_HELP = {"--log-format": "log renderer (default: the config's logging.format, else "
                                "console)",
                "--log-level": "log threshold (default: the config's logging.level, else info)"}
_GLOBAL_CHOICES = {"--log-format": ("console", "json"),
                   "--log-level": ("debug", "info", "warning", "error")}


def build_parser() -> argparse.ArgumentParser:
    """``landia``'s parser: the global options and every command's sub-parser.

    The global options are also accepted after the command (``landia analyse ...
    --log-format json``).
    """
    p = argparse.ArgumentParser(prog="landia", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="PETSc options (e.g. -tao_monitor -tao_type lmvm) may "
                                       "follow any command, or come after a '--' separator. "
                                       "Negative numbers are arguments (--box -40 -10 -75 "
                                       "-35). Documentation: docs/cli.md, docs/api.md.")
    p.add_argument("--version", action="version", version=f"landia {landia.__version__}")
    for name, help_text in _GLOBAL_HELP.items():
        p.add_argument(name, choices=_GLOBAL_CHOICES[name], default=None, help=help_text)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub).set_defaults(run=command.run)
    seen = set()
    for parser in sub.choices.values():  # an alias shares its command's parser
        if id(parser) in seen:
            continue
        seen.add(id(parser))
        group = parser.add_argument_group("global options (also before the command)")
        for name, help_text in _GLOBAL_HELP.items():
            # SUPPRESS: absent after the command, the value given before it stands
            group.add_argument(name, choices=_GLOBAL_CHOICES[name], default=argparse.SUPPRESS,
                               help=help_text)
    return p


def _split_petsc_args(argv: list[str]) -> tuple[list[str], list[str]]:
    """Separate PETSc options (and their values) from landia's arguments.

    A PETSc option is a single-dash option name (:data:`_PETSC_OPTION`: ``-tao_type lmvm``,
    ``-tao_monitor``); its value is the next argument when that is not an option (a number,
    negative ones included, is a value: ``-tao_fmin -1e30``). Everything after a ``--``
    separator goes to PETSc too. A negative number anywhere else (``--box -40 -10 -75 -35``,
    ``--utc-offset -5.5``) is landia's argument.
    """
    ours, petsc = [], []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            petsc.extend(argv[i + 1:])
            break
        if _PETSC_OPTION.fullmatch(arg):
            petsc.append(arg)
            if i + 1 < len(argv) and (not argv[i + 1].startswith("-")
                                      or _NUMBER.fullmatch(argv[i + 1])):
                petsc.append(argv[i + 1])
                i += 1
        else:
            ours.append(arg)
        i += 1
    return ours, petsc


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``landia`` console script; returns the exit status.

    ``landia`` without a command prints the usage on stderr and returns 2.
    """
    one_thread_per_process()  # again: the environment may have been reset since the import
    argv = list(sys.argv[1:] if argv is None else argv)
    ours, petsc_args = _split_petsc_args(argv)
    parser = build_parser()
    args = parser.parse_args(ours)
    if args.command is None:
        parser.print_usage(sys.stderr)
        print(f"{parser.prog}: error: a command is required (landia --help lists them)",
              file=sys.stderr)
        return EXIT_FAILED
    if args.command == "serve":
        # Before MPI is touched: a process with MPI initialised cannot launch mpirun jobs.
        configure_logging(args.log_format or "console", args.log_level or "info", 0, 1)
        return exit_status(lambda: args.run(args, None, None))
    comm = _world(args.command)
    configure_logging(args.log_format or "console", args.log_level or "info",
                      comm.Get_rank(), comm.Get_size())
    return exit_status(lambda: _run(args, petsc_args, comm))


def _world(command: str):
    """``MPI.COMM_WORLD``; without mpi4py (``pip install landia`` without the ``mpi`` extra),
    a one-process communicator, except for ``cycle``, which needs MPI's collectives."""
    try:
        # Importing mpi4py.MPI initialises MPI: here, after serve has gone its way, and only here.
        from mpi4py import MPI
    except ImportError:
        if command in ("cycle", "spinup"):
            configure_logging("console", "info", 0, 1)
            get_logger("landia").error(
                "failed", error=f"landia {command} needs mpi4py: pip install 'landia[mpi]'")
            raise SystemExit(EXIT_FAILED) from None
        from landia.exchange.serial import SerialComm

        return SerialComm()
    return MPI.COMM_WORLD


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
        from landia.analysis.minimisers.tao import init_petsc, petsc_available

        if petsc_available():
            init_petsc(petsc_args)
        else:
            get_logger("landia").warning("petsc_options_ignored", options=" ".join(petsc_args),
                                         note="petsc4py is not installed (pip install "
                                              "'landia[petsc]'); the scipy minimiser runs")
    elif petsc_args:
        get_logger("landia").warning("petsc_options_ignored", options=" ".join(petsc_args),
                                     note="minimiser.backend is 'scipy'")


if __name__ == "__main__":
    raise SystemExit(main())
