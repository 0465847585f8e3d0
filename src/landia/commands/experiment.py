"""``landia experiment NAME``: the documented real-data experiments (``conus-smap``:
docs/conus-smap.md). The root runs the experiment, which launches its own ``mpirun`` jobs."""

from __future__ import annotations

import json
import sys

from landia.commands.exit_status import root_only
from landia.config import Settings
from landia.experiment.conus_smap import DEFAULT_RUNS, RUNS, ConusSettings, run_experiment

EXPERIMENTS = ("conus-smap",)


def add_parser(subparsers):
    """Add ``experiment`` to ``landia``'s sub-parsers; returns its parser."""
    p = subparsers.add_parser(
        "experiment", help="run a documented real-data experiment (conus-smap)",
        description="conus-smap: two years of real SMAP L3 soil moisture with real NLDAS-2 "
                    "forcing over 412 cells of the contiguous US: spin-up, CTRL, point/image/"
                    "hybrid and ensemble DA on 80 %% of the observable cells, the other 20 %% "
                    "withheld to verify; a free year after; results.json and report.html. "
                    "Resumable: rerun to continue. See docs/conus-smap.md.")
    p.add_argument("name", choices=EXPERIMENTS)
    p.add_argument("--output-dir", default="landia-output/conus-smap",
                   help="folder of the inputs, runs, results and report (default %(default)s)")
    p.add_argument("--ranks", type=int, default=ConusSettings.ranks,
                   help="MPI ranks per run (default %(default)s: two runs at a time use two "
                        "cores)")
    p.add_argument("--parallel", type=int, default=ConusSettings.parallel,
                   help="runs at a time (default %(default)s)")
    p.add_argument("--runs", default=",".join(DEFAULT_RUNS),
                   help=f"comma-separated subset of {', '.join(RUNS)} (default: all)")
    p.add_argument("--members", type=int, default=ConusSettings.members,
                   help="ensemble members of the ensemble runs (default %(default)s)")
    p.add_argument("--spinup-passes", type=int, default=ConusSettings.spinup_passes,
                   help="passes of the first year in the spin-up (default %(default)s)")
    p.add_argument("--seed", type=int, default=ConusSettings.seed,
                   help="seed of the withheld cells' draw (default %(default)s)")
    p.add_argument("--data-dir", default=None,
                   help="folder holding conus_nldas_smap/ (default $LANDIA_DATA or "
                        "../shared/data beside the source tree)")
    return p


def run(args, settings: Settings, comm) -> int:
    return root_only(comm, lambda: experiment(args))


def experiment(args) -> int:
    runs = tuple(r.strip() for r in args.runs.split(",") if r.strip())
    unknown = [r for r in runs if r not in RUNS]
    if unknown:
        print(f"landia experiment: unknown run(s) {unknown}; known: {list(RUNS)}",
              file=sys.stderr)
        return 2
    if "ctrl" not in runs:
        runs = ("ctrl",) + runs  # every score is against CTRL
    cs = ConusSettings(ranks=args.ranks, parallel=args.parallel, runs=runs,
                       members=args.members, spinup_passes=args.spinup_passes,
                       seed=args.seed, data_dir=args.data_dir)
    results = run_experiment(args.output_dir, cs)
    print(json.dumps({k: results[k] for k in results if k not in ("experiment",)},
                     indent=1, default=float)[:4000])
    print(f"results: {args.output_dir}/results.json; report: {results.get('report')}")
    return 0
