"""``landia demo``: the embedded experiment, or (``--analysis-only``) one analysis of a built
case with its score table."""

from __future__ import annotations

from pathlib import Path

from landia.commands.exit_status import root_only
from landia.config import Settings
from landia.experiment.cases import build_demo_case
from landia.experiment.demo_run import DemoSettings, results_table, run_experiment
from landia.io.analysis_file import write_analysis
from landia.io.fields import write_field
from landia.log import get_logger
from landia.scores import rmse, spatial_correlation


def add_parser(subparsers):
    """Add ``demo`` to ``landia``'s sub-parsers; returns its parser."""
    d = subparsers.add_parser("demo", help="run the embedded experiment (OSSE over the paper "
                                           "domain)",
                              description="The embedded experiment: a fraternal-twin truth, "
                                          "CTRL, image/point/hybrid DA and the misspecified-"
                                          "error variant over the paper's domain, with daily "
                                          "satellite-like observations (SMAP's gaps, biased "
                                          "and correlated errors, 10 % withheld), over "
                                          "several seeds, with the cycling service under MPI, "
                                          "scored against the truth; writes results.json and "
                                          "report.html. Resumable: rerun to continue. See "
                                          "docs/demo.md.")
    d.add_argument("--output-dir", default="landia-output/demo",
                   help="folder of the runs, results and report (default %(default)s)")
    d.add_argument("--ranks", type=int, default=DemoSettings.ranks,
                   help=f"MPI ranks per run (default {DemoSettings.ranks}: two runs at a time "
                        "use the two cores; any number gives the same results)")
    d.add_argument("--discard-days", type=int, default=DemoSettings.discard_days)
    d.add_argument("--assimilation-days", type=int, default=DemoSettings.assimilation_days,
                   help="scored assimilation days after the discard (default %(default)s)")
    d.add_argument("--forecast-days", type=int, default=DemoSettings.forecast_days)
    d.add_argument("--seeds", type=int, default=len(DemoSettings.seeds),
                   help="seeds 1..N of the errors, gaps, withheld cells and the truth's "
                        "forcing perturbation (default %(default)s)")
    d.add_argument("--data-dir", default=None,
                   help="folder holding conus_nldas_smap/ (SMAP's daily gaps); default "
                        "$LANDIA_DATA or ../shared/data beside the source tree; without it "
                        "synthetic swaths")
    d.add_argument("--quick", action="store_true",
                   help="4 days on a small box, 2 seeds (a minute; what the tests run)")
    d.add_argument("--analysis-only", action="store_true",
                   help="the former demo: one image analysis on a built case, no cycling")
    d.add_argument("--config", default=None, help="optional TOML configuration "
                                                  "(--analysis-only)")
    d.add_argument("--seed", type=int, default=20160501, help="--analysis-only case seed")
    return d


def run(args, settings: Settings, comm) -> int:
    """The root runs the demo (the experiment launches its own mpirun jobs); the other ranks
    wait for its status."""
    return root_only(comm, lambda: demo(args, settings))


def demo(args, settings: Settings) -> int:
    """The experiment (or the single analysis); prints where everything is; returns 0."""
    if args.analysis_only:
        return demo_analysis(args, settings)
    if args.quick:
        ds = DemoSettings(discard_days=1, assimilation_days=2, forecast_days=1,
                          grid=(40.0, 49.8, 110.0, 124.0, 1.4), ranks=args.ranks, seeds=(1, 2),
                          data_dir=args.data_dir)
    else:
        ds = DemoSettings(discard_days=args.discard_days,
                          assimilation_days=args.assimilation_days,
                          forecast_days=args.forecast_days, ranks=args.ranks,
                          seeds=tuple(range(1, args.seeds + 1)), data_dir=args.data_dir)
    out = Path(args.output_dir)
    print(f"landia demo: {len(ds.runs)} runs x {len(ds.seeds)} seeds (CTRL once) of "
          f"{ds.discard_days}+{ds.assimilation_days} assimilation days and "
          f"{ds.forecast_days} forecast days, daily analyses, mpirun -n {ds.ranks}, "
          f"into {out}/", flush=True)
    results = run_experiment(out, ds)
    print(results_table(results))
    reach = results.get("propagation", {}).get("reach_hours", {})
    if reach:
        def depth(key: str) -> str:
            hours = reach.get(key)
            cm = f"{float(key) * 100:.0f} cm"
            return f"{cm} not within the run" if hours is None else f"{cm} after {hours:g} h"
        print(f"increments (image DA - CTRL > {results['propagation']['threshold']} m3 m-3, "
              f"first seed) reach {depth('0.1')} and {depth('0.5')}")
    gaps = results["experiment"].get("gaps", {})
    if gaps:
        print("observation gaps: " + "; ".join(f"seed {k}: {v}" for k, v in gaps.items()))
    print(f"results: {out / 'results.json'}")
    if results.get("report"):
        print(f"report: {results['report']}")
    print(f"done in {results['experiment']['seconds']:.0f} s: everything is in {out}/")
    return 0


def demo_analysis(args, settings: Settings) -> int:
    """One analysis of the built case (``--analysis-only``): its files and its score table."""
    # The analysis stack (pylops, curvelets: most of landia's import time) loads when the
    # command runs, not each time the parser is built (every command, --help, serve).
    from landia.analysis import run_analysis

    log = get_logger("landia")
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    background, observation, truth = build_demo_case(args.seed, settings.analysis.layers)
    write_field(out / "background.nc", background, "background")
    write_field(out / "observation.nc", observation, "observation")
    write_field(out / "truth.nc", truth)
    result = run_analysis(background, observation, settings)
    write_analysis(out / "analysis.nc", result, settings)
    print(analysis_table(result, observation, truth, settings))
    print(f"outputs in {out}/ (analysis.nc, background.nc, observation.nc, truth.nc)")
    log.info("demo_done", output_dir=str(out))
    return 0


def analysis_table(result, observation, truth, settings: Settings) -> str:
    """The single analysis' score table: a blank line, what was analysed, SCC (against the
    truth and the observation) and RMSE (against the truth) of the top layer before and after,
    and the minimiser's summary."""
    t = truth.values[0]
    grid = result.problem.grid
    lines = ["",
             f"landia demo: image 3D-Var ({' + '.join(settings.analysis.terms)}) on the "
             f"{grid.shape[0]} x {grid.shape[1]} paper grid, {grid.n_land} land cells, "
             f"sigma = {settings.curvelet.sigma}",
             f"{'':12s} {'SCC vs truth':>13s} {'SCC vs obs':>11s} {'RMSE vs truth':>14s}"]
    for name, f in (("background", result.background_field[0]),
                    ("analysis", result.analysis_field[0])):
        lines.append(f"{name:12s} {spatial_correlation(f, t):13.3f} "
                     f"{spatial_correlation(f, observation.values[0]):11.3f} {rmse(f, t):14.4f}")
    m = result.minimiser
    lines.append(f"minimiser {m.solver}: {m.iterations} iterations, J {m.cost[0]:.2f} -> "
                 f"{m.cost[-1]:.2f} ({m.reason})")
    return "\n".join(lines)
