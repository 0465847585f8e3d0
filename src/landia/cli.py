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
column           run one CoLM-style soil column at a site (hourly netCDF output)
threshold-diagnostics  curvelet threshold diagnostics of soil-moisture images
estimate-b       background-error variances from model-minus-observation series
verify           scores of model/analysis fields against a reference and ISMN stations
prepare-obs      soil-moisture products -> QC'd observation images on the model grid
cycle            the MPI assimilation cycle (columns, analysis, checkpoints) in a run directory
configs          list the shipped example configurations
make-obs         synthetic observation images from a truth run (OSSE)
serve            near-real-time scheduler: waits for observation files, launches cycles
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

    d = sub.add_parser("demo", help="run the embedded experiment (OSSE over the paper domain)",
                       description="The embedded experiment: truth, CTRL, image/point/hybrid "
                                   "DA and the misspecified-error variant over the paper's "
                                   "domain with the cycling service under MPI, scored against "
                                   "the truth; writes results.json and report.html. Resumable: "
                                   "rerun to continue. See docs/demo.md.")
    d.add_argument("--output-dir", default="landia-output/demo",
                   help="folder of the runs, results and report (default %(default)s)")
    d.add_argument("--ranks", type=int, default=2, help="MPI ranks per run (default 2)")
    d.add_argument("--discard-days", type=int, default=15)
    d.add_argument("--assimilation-days", type=int, default=45,
                   help="scored assimilation days after the discard (default 45)")
    d.add_argument("--forecast-days", type=int, default=30)
    d.add_argument("--quick", action="store_true",
                   help="a few days on a small box (minutes; what the tests run)")
    d.add_argument("--analysis-only", action="store_true",
                   help="the former demo: one image analysis on a built case, no cycling")
    d.add_argument("--config", default=None, help="optional TOML configuration "
                                                  "(--analysis-only)")
    d.add_argument("--seed", type=int, default=20160501, help="--analysis-only case seed")

    c = sub.add_parser("column", help="run one soil column at a site over a period",
                       description="Run one CoLM-style soil column with ALMA/PLUMBER2 site "
                                   "forcing (dt = 1800 s) and write hourly CF netCDF output. "
                                   "--start/--end are ISO dates or date-times in UTC "
                                   "(e.g. 2008-01-01 or 2008-01-01T00:00); the run covers "
                                   "[start, end).")
    c.add_argument("--forcing", required=True, help="ALMA/PLUMBER2 forcing file (netCDF)")
    c.add_argument("--site", required=True, help="CoLM/PLUMBER2 site file (netCDF)")
    c.add_argument("--initial-state", default=None,
                   help="initial soil_moisture(layer) [m3 m-3] and optional "
                        "soil_temperature(layer) [K] (default: half saturated, 283.15 K)")
    c.add_argument("--start", required=True, help="first instant, ISO date/time, UTC")
    c.add_argument("--end", required=True, help="end instant (exclusive), ISO date/time, UTC")
    c.add_argument("--output", required=True, help="hourly output file to write (netCDF)")
    c.add_argument("--utc-offset", type=float, default=None,
                   help="hours local minus UTC of the forcing clock when its time units carry "
                        "no zone (default: from the longitude, PLUMBER2 local standard time)")
    c.add_argument("--no-progress", action="store_true", help="no progress line on stderr")

    from landia.diagnostics.commands import (add_estimate_b_parser,
                                             add_threshold_diagnostics_parser)

    add_threshold_diagnostics_parser(sub)
    add_estimate_b_parser(sub)
    o = sub.add_parser("prepare-obs", help="map soil-moisture products to model-grid "
                                           "observation images",
                       description="Read product files (ERA5/ERA5-Land, GLDAS-2.1, C3S/ESA "
                                   "CCI, SMAP L3), regrid them conservatively to the model "
                                   "grid of [grid], map their layers to CoLM layers, QC them "
                                   "and write obs_YYYYMMDDTHHMM.nc per time ([observations]).")
    o.add_argument("--product", nargs="+", required=True, metavar="PATH",
                   help="product file(s) or folder(s)")
    o.add_argument("--config", default=None, help="TOML configuration ([grid], [observations])")
    o.add_argument("--output-dir", required=True, help="folder for the observation files")
    o.add_argument("--porosity", default=None,
                   help="field file with 'porosity' on the model grid (QC upper bound; default "
                        "observations.upper_bound)")
    y = sub.add_parser("cycle", help="run the assimilation cycle (under mpirun)",
                       description="Run every window of the configured period not yet done in "
                                   "the run directory: columns on every rank, image 3D-Var on "
                                   "the root, a checkpoint per cycle. Resumes from the newest "
                                   "valid checkpoint. See docs/cycling.md.")
    y.add_argument("--config", required=True,
                   help="TOML configuration file or a shipped name (see 'landia configs')")
    y.add_argument("--run-dir", required=True, help="folder of the run's outputs, logs and "
                                                    "checkpoints (created)")
    y.add_argument("--end", default=None,
                   help="stop at this window end (ISO UTC) instead of cycle.end")
    y.add_argument("--no-progress", action="store_true", help="no progress line on stderr")
    sub.add_parser("configs", help="list the shipped example configurations")
    m = sub.add_parser("make-obs", help="synthetic observations from a truth run (OSSE)",
                       description="Observation images obs_YYYYMMDDTHHMM.nc from the states of "
                                   "a truth run of 'landia cycle' (mode ctrl): its 0-7 cm soil "
                                   "moisture on the top model layers plus Gaussian noise.")
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
    from landia.service.commands import add_serve_parser

    add_serve_parser(sub)
    from landia.verification.commands import add_verify_parser

    add_verify_parser(sub)

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
    if args.command == "serve":
        # Before MPI is touched: a process with MPI initialised cannot launch mpirun jobs.
        from landia.service.commands import run_serve

        configure_logging(args.log_format or "console", args.log_level or "info", 0, 1)
        try:
            return run_serve(args)
        except LandiaError as exc:
            get_logger("landia").error("failed", error=str(exc), kind=type(exc).__name__)
            return 2
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
        if args.command == "configs":
            return _configs()
        if args.command == "cycle":
            return _cycle(args, settings, comm)
        if args.command == "bench":
            from landia.bench import run_benchmarks

            return run_benchmarks(quick=args.quick, json_path=args.json) if rank == 0 else 0
        return _root_only(comm, rank, lambda: _COMMANDS[args.command](args, settings))
    except LandiaError as exc:
        log.error("failed", error=str(exc), kind=type(exc).__name__)
        return 2


def _make_obs(args, settings: Settings) -> int:
    from landia.experiment.osse import make_observations

    files = make_observations(args.truth_run, args.output_dir, noise_std=args.noise_std,
                              seed=args.seed, layers=args.layers,
                              large_error_box=args.large_error_box,
                              large_error_std=args.large_error_std,
                              every_hours=args.every_hours,
                              stated_error_box=args.stated_error_box,
                              stated_error_std=args.stated_error_std)
    print(f"{len(files)} observation file(s) written to {args.output_dir}")
    return 0


def _configs() -> int:
    from landia.config import shipped_configs

    for name, path in shipped_configs().items():
        first = path.read_text().splitlines()[0].lstrip("# ").strip()
        print(f"{name:12s} {first}")
    return 0


def _cycle(args, settings: Settings, comm) -> int:
    """Every rank runs the cycle; an unexpected error on one rank aborts the job."""
    from landia.cycling.run import run_cycles

    if comm is None:
        raise InputError("landia cycle needs mpi4py (it runs under mpirun, or serially "
                         "with one rank)")
    try:
        Path(args.run_dir).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--run-dir {args.run_dir}: cannot create the run directory: "
                         f"{exc}") from None
    try:
        return run_cycles(comm, settings, args.run_dir, end=args.end,
                          progress=not args.no_progress, handle_sigterm=True)
    except LandiaError:
        if comm.Get_size() > 1:  # raised on every rank alike (setup), or only here
            get_logger("landia").error("cycle_aborted", rank=comm.Get_rank())
        raise
    except BaseException as exc:
        if comm.Get_size() > 1:
            get_logger("landia").error("cycle_aborted", error=repr(exc))
            comm.Abort(3)
        raise


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
    if args.analysis_only:
        return _demo_analysis(args, settings)
    from landia.experiment.demo_run import DemoSettings, results_table, run_experiment

    if args.quick:
        ds = DemoSettings(discard_days=1, assimilation_days=2, forecast_days=1,
                          grid=(40.0, 49.8, 110.0, 124.0, 1.4), ranks=args.ranks)
    else:
        ds = DemoSettings(discard_days=args.discard_days,
                          assimilation_days=args.assimilation_days,
                          forecast_days=args.forecast_days, ranks=args.ranks)
    out = Path(args.output_dir)
    print(f"landia demo: {len(ds.runs)} runs of {ds.discard_days}+{ds.assimilation_days} "
          f"assimilation days and {ds.forecast_days} forecast days, mpirun -n {ds.ranks}, "
          f"into {out}/", flush=True)
    results = run_experiment(out, ds)
    print(results_table(results))
    reach = results.get("propagation", {}).get("reach_hours", {})
    if reach:
        print(f"increments (image DA - CTRL > {results['propagation']['threshold']} m3 m-3) "
              f"reach 10 cm after {reach.get('0.1')} h and 50 cm after {reach.get('0.5')} h")
    print(f"results: {out / 'results.json'}")
    if results.get("report"):
        print(f"report: {results['report']}")
    print(f"done in {results['experiment']['seconds']:.0f} s: everything is in {out}/")
    return 0


def _demo_analysis(args, settings: Settings) -> int:
    from landia.analysis import run_analysis
    from landia.demo import build_demo_case
    from landia.io.analysis_file import write_analysis
    from landia.io.fields import write_field
    from landia.scores import rmse, spatial_correlation

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


def _parse_utc(option: str, text: str):
    """``text`` as a numpy datetime64[s] in UTC; InputError naming ``option`` otherwise."""
    import numpy as np

    t = text.strip()
    if t.endswith("Z"):
        t = t[:-1]
    try:
        value = np.datetime64(t.replace(" ", "T"), "s")
    except ValueError:
        raise InputError(f"{option} {text!r}: expected an ISO date or date-time in UTC, e.g. "
                         "2008-01-01 or 2008-01-01T00:00") from None
    if np.isnat(value):
        raise InputError(f"{option} {text!r}: expected an ISO date or date-time in UTC")
    return value


class _Progress:
    """A progress line on stderr, refreshed every 5 % (no dependency)."""

    def __init__(self, enabled: bool):
        import time

        self.enabled, self.last, self.t0, self.time = enabled, -1, time.perf_counter(), time

    def __call__(self, k: int, n: int) -> None:
        if not self.enabled:
            return
        pct = (100 * k) // n
        if pct // 5 == self.last // 5 and k != n:
            return
        self.last = pct
        bar = "#" * (pct // 5) + "." * (20 - pct // 5)
        elapsed = self.time.perf_counter() - self.t0
        eta = elapsed * (n - k) / k if k else 0.0
        end = "\n" if k == n else ""
        print(f"\rcolumn [{bar}] {pct:3d}% step {k}/{n} {elapsed:6.1f} s, eta {eta:6.1f} s",
              end=end, file=sys.stderr, flush=True)


def _column(args, settings: Settings) -> int:
    import numpy as np

    from landia.columns.run import initial_model_state, lai_series, run_steps
    from landia.forcing.alma import read_alma
    from landia.forcing.interpolate import interpolate_forcing
    from landia.io.column_output import ColumnOutput, hourly_means, write_column_output
    from landia.io.column_state import read_column_state
    from landia.io.site import column_parameters, read_site

    log = get_logger("landia")
    dt = 1800.0
    start = _parse_utc("--start", args.start)
    end = _parse_utc("--end", args.end)
    if end <= start:
        raise InputError(f"--end {args.end}: must be after --start {args.start}")
    if (end - start).astype(np.int64) % 3600:
        raise InputError(f"--start {args.start} / --end {args.end}: the period must be a whole "
                         "number of hours (the output is hourly)")
    out_path = Path(args.output)
    out_dir = out_path.resolve().parent
    if not out_dir.is_dir():  # fail before the work, not after it
        raise InputError(f"{args.output}: output directory {out_dir} does not exist")
    for option, path in (("--forcing", args.forcing), ("--site", args.site),
                         ("--initial-state", args.initial_state)):
        if path is not None and not Path(path).exists():
            raise InputError(f"{option} {path}: file not found")
    site = read_site(args.site)
    init = None
    if args.initial_state is not None:
        init = read_column_state(args.initial_state, porosity=site.soil.porosity[0])
    forcing = read_alma(args.forcing, utc_offset_hours=args.utc_offset)
    model = interpolate_forcing(forcing, start, end, dt)
    params = column_parameters(site)
    state = initial_model_state(site.soil, None if init is None else init.soil_moisture,
                                None if init is None else init.soil_temperature)
    z_ref = _reference_height(args.site)
    # LAI follows the site's monthly climatology on the forcing's local clock.
    offset = np.timedelta64(int(round(forcing.utc_offset_hours * 3600)), "s")
    lai = lai_series(lambda y: site.lai_for_year(y)[0],
                     np.asarray(model.times).astype("datetime64[s]") + offset)
    log.info("column_start", forcing=str(args.forcing), site=str(args.site),
             start=str(start), end=str(end), steps=len(model.times), land_cover=site.land_cover,
             hydraulics=site.hydraulics, initial_state=str(args.initial_state or "default"))
    run = run_steps(state, params, model, lai, dt, z_ref=z_ref, keep_layers=True,
                    progress=_Progress(not args.no_progress))
    step_end = np.asarray(model.times).astype("datetime64[s]") + np.timedelta64(int(dt), "s")
    hour_end, rec = hourly_means(
        step_end, dt,
        states={"soil_moisture": run.soil_moisture, "soil_temperature": run.soil_temperature},
        fluxes={"evapotranspiration": run.evapotranspiration, "runoff": run.runoff,
                "drainage": run.drainage},
        sums={"water_budget_residual": run.residual})
    out = ColumnOutput(time=hour_end, latitude=site.latitude, longitude=site.longitude,
                       attributes={"forcing_file": str(args.forcing), "site_file": str(args.site),
                                   "initial_state": str(args.initial_state or "default"),
                                   "land_cover": site.land_cover, "model_step_seconds": dt},
                       **rec)
    write_column_output(out_path, out)
    water_end = float(run.state.columns.total_water()[0])
    log.info("column_done", output=str(out_path), hours=len(hour_end),
             et_mm=round(float(run.evapotranspiration.sum() * dt), 2),
             precip_mm=round(float(run.precipitation.sum() * dt), 2),
             runoff_mm=round(float(run.runoff.sum() * dt), 2),
             drainage_mm=round(float(run.drainage.sum() * dt), 2),
             storage_change_mm=round(water_end - run.start_water, 2),
             max_abs_residual_mm=float(np.abs(run.residual).max()),
             runtime_s=round(run.runtime_s, 2))
    return 0


def _reference_height(path) -> float:
    """The site file's ``reference_height`` (m), 10 m when it has none."""
    import netCDF4
    import numpy as np

    with netCDF4.Dataset(path) as ds:
        if "reference_height" not in ds.variables:
            return 10.0
        z = np.ma.filled(np.ma.asarray(ds["reference_height"][...], float), np.nan)
        z = float(z.ravel()[0])
    if not np.isfinite(z) or z <= 0:
        raise InputError(f"{path}: variable 'reference_height' = {z}; expected a positive "
                         "height in m")
    return z


def _threshold_diagnostics(args, settings: Settings) -> int:
    from landia.diagnostics.commands import run_threshold_diagnostics

    return run_threshold_diagnostics(args)


def _estimate_b(args, settings: Settings) -> int:
    from landia.diagnostics.commands import run_estimate_b

    return run_estimate_b(args)


def _verify(args, settings: Settings) -> int:
    from landia.verification.commands import run_verify

    return run_verify(args)


def _prepare_obs(args, settings: Settings) -> int:
    from landia.observations.prepare import prepare_observations, summary_table

    images, failures = prepare_observations(args.product, settings, args.output_dir,
                                            porosity_file=args.porosity)
    print(summary_table(images))
    written = sum(1 for im in images if im.written)
    print(f"{written} observation file(s) written to {args.output_dir}, "
          f"{len(images) - written} image(s) refused, {len(failures)} file(s) unreadable")
    for message in failures:
        print(f"unreadable: {message}")
    return 2 if failures else 0


_COMMANDS = {"analyse": _analyse, "analyze": _analyse, "demo": _demo, "column": _column,
             "threshold-diagnostics": _threshold_diagnostics, "estimate-b": _estimate_b,
             "verify": _verify, "prepare-obs": _prepare_obs,
             "make-obs": _make_obs}


if __name__ == "__main__":
    raise SystemExit(main())
