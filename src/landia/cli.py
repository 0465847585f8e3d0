"""Command-line interface: ``landia <command> ...``.

This is the only module that takes ``MPI.COMM_WORLD``; everything below it gets
the communicator passed in. Arguments of the form ``-tao_*``/``-ksp_*`` (single
dash PETSc options) are handed to PETSc's options database.

Commands
--------
analyse          one image 3D-Var analysis from field files
validate         check a configuration file, run nothing
config-keys      print the documentation of every configuration key
demo             the embedded demonstration (builds its own case)
bench            benchmarks of the curvelet operator and the analysis
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import landia
from landia.config import Settings, describe_keys, load_settings
from landia.errors import InputError, LandiaError
from landia.log import configure_logging, get_logger


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="landia", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="PETSc options (e.g. -tao_monitor -tao_type lmvm) may "
                                       "follow any command.")
    p.add_argument("--version", action="version", version=f"landia {landia.__version__}")
    p.add_argument("--log-format", choices=("console", "json"), default=None,
                   help="log renderer (default: the config's logging.format, else console)")
    p.add_argument("--log-level", choices=("debug", "info", "warning", "error"), default=None)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    a = sub.add_parser("analyse", aliases=["analyze"], help="run one image 3D-Var analysis")
    a.add_argument("--config", required=True, help="TOML configuration file")
    a.add_argument("--background", required=True, help="background field file (netCDF)")
    a.add_argument("--obs", required=True, help="observation image file (netCDF)")
    a.add_argument("--output", required=True, help="analysis file to write (netCDF)")
    a.add_argument("--check", action="store_true",
                   help="run the online adjoint and gradient checks before minimising")

    v = sub.add_parser("validate", help="check a configuration file without running anything")
    v.add_argument("config")

    sub.add_parser("config-keys", help="print every configuration key (Markdown)")

    d = sub.add_parser("demo", help="run the embedded demonstration case")
    d.add_argument("--output-dir", default="landia-output/demo",
                   help="folder for the case files and the analysis (default %(default)s)")
    d.add_argument("--config", default=None, help="optional TOML configuration")
    d.add_argument("--seed", type=int, default=20160501)

    b = sub.add_parser("bench", help="benchmarks (printed as 'name: value' lines)")
    b.add_argument("--quick", action="store_true", help="small sizes only")
    b.add_argument("--json", default=None, help="also write the figures to this JSON file")
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
    args = _parser().parse_args(ours)
    if args.command is None:
        _parser().print_help()
        return 0
    comm = _world()
    rank, size = (comm.Get_rank(), comm.Get_size()) if comm is not None else (0, 1)
    configure_logging(args.log_format or "console", args.log_level or "info", rank, size)
    log = get_logger("landia")
    try:
        if args.command == "validate":
            return _validate(args.config)
        if args.command == "config-keys":
            print(describe_keys())
            return 0
        settings = load_settings(args.config) if getattr(args, "config", None) else Settings()
        configure_logging(args.log_format or settings.logging.format,
                          args.log_level or settings.logging.level, rank, size)
        log = get_logger("landia")
        if petsc_args and settings.minimiser.backend == "tao":
            from landia.analysis.minimisers.tao import init_petsc

            init_petsc(petsc_args)
        elif petsc_args:
            log.warning("petsc_options_ignored", options=" ".join(petsc_args),
                        note="minimiser.backend is 'scipy'")
        if args.command == "bench":
            from landia.bench import run_benchmarks

            return run_benchmarks(quick=args.quick, json_path=args.json) if rank == 0 else 0
        return _root_only(comm, rank, lambda: _COMMANDS[args.command](args, settings))
    except LandiaError as exc:
        log.error("failed", error=str(exc), kind=type(exc).__name__)
        return 2


def _world():
    """MPI.COMM_WORLD, or None when mpi4py is not importable (serial use)."""
    try:
        from mpi4py import MPI
    except ImportError:
        return None
    return MPI.COMM_WORLD


def _root_only(comm, rank: int, work) -> int:
    """Run ``work`` on rank 0; share its exit status with every rank.

    The analysis is global (the curvelet transform couples all cells), so it runs
    on the root; until the cycling service distributes the model, other ranks wait.
    A landia error on the root is logged there and gives status 2 on every rank.
    """
    if rank != 0:
        return comm.bcast(None, root=0)
    status, error = 1, None
    try:
        status = work()
    except LandiaError as exc:
        get_logger("landia").error("failed", error=str(exc), kind=type(exc).__name__)
        status = 2
    except BaseException as exc:  # still tell the other ranks before dying
        error = exc
    if comm is not None and comm.Get_size() > 1:
        comm.bcast(status, root=0)
    if error is not None:
        raise error
    return status


def _validate(path: str) -> int:
    settings = load_settings(path)
    print(f"{path}: valid landia configuration")
    print(json.dumps(dataclasses.asdict(settings), indent=2))
    return 0


def _analyse(args, settings: Settings) -> int:
    from landia.analysis import run_analysis
    from landia.io.analysis_file import write_analysis
    from landia.io.fields import read_field

    log = get_logger("landia")
    out_dir = Path(args.output).resolve().parent
    if not out_dir.is_dir():  # fail before the work, not after it
        raise InputError(f"{args.output}: output directory {out_dir} does not exist")
    background = read_field(args.background, "background")
    observation = read_field(args.obs, "observation")
    if args.check:
        from landia.analysis.analyse import build_problem
        from landia.analysis.checks import online_checks

        online_checks(build_problem(background, observation, settings), log)
    result = run_analysis(background, observation, settings)
    write_analysis(args.output, result, settings)
    log.info("written", output=str(args.output))
    return 0


def _demo(args, settings: Settings) -> int:
    from landia.analysis import run_analysis
    from landia.demo import build_demo_case
    from landia.io.analysis_file import write_analysis
    from landia.io.fields import write_field
    from landia.verification import rmse, spatial_correlation

    log = get_logger("landia")
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    background, observation, truth = build_demo_case(args.seed, settings.analysis.layers)
    write_field(out / "background.nc", background, "background")
    write_field(out / "observation.nc", observation, "observation")
    write_field(out / "truth.nc", truth)
    result = run_analysis(background, observation, settings)
    write_analysis(out / "analysis.nc", result, settings)
    t = truth.values[0]
    rows = [("background", result.background_field[0]), ("analysis", result.analysis_field[0])]
    print(f"\nlandia demo: image 3D-Var ({' + '.join(settings.analysis.terms)}) on the "
          f"{result.problem.grid.shape[0]} x {result.problem.grid.shape[1]} paper grid, "
          f"{result.problem.grid.n_land} land cells, sigma = {settings.curvelet.sigma}")
    print(f"{'':12s} {'SCC vs truth':>13s} {'SCC vs obs':>11s} {'RMSE vs truth':>14s}")
    for name, f in rows:
        print(f"{name:12s} {spatial_correlation(f, t):13.3f} "
              f"{spatial_correlation(f, observation.values[0]):11.3f} {rmse(f, t):14.4f}")
    m = result.minimiser
    print(f"minimiser {m.solver}: {m.iterations} iterations, J {m.cost[0]:.2f} -> "
          f"{m.cost[-1]:.2f} ({m.reason})")
    print(f"outputs in {out}/ (analysis.nc, background.nc, observation.nc, truth.nc)")
    log.info("demo_done", output_dir=str(out))
    return 0


_COMMANDS = {"analyse": _analyse, "analyze": _analyse, "demo": _demo}


if __name__ == "__main__":
    raise SystemExit(main())
