"""The embedded experiment (``./run demo``): an observing-system simulation over the paper's
domain under realistic observing, with the cycling service, over several seeds, scored
against its truth and written up as a report (``docs/demo.md``).

* **A fraternal twin.** The truth comes from another configuration than the runs it is
  compared with: van Genuchten-Mualem soil hydraulics instead of Clapp-Hornberger, another
  precipitation and soil-texture realisation, and every forcing variable perturbed
  (:data:`landia.experiment.runs.TRUTH_SETTINGS`).
* **A satellite product.** Once a day at the overpass (00 UTC), with SMAP's real daily gaps,
  a random, a spatially correlated and a systematic (linear) error; a region where the actual
  error is about three times the stated one; 10 % of each day's observations withheld for
  scoring (:mod:`landia.experiment.observing`, :mod:`landia.experiment.satellite_gaps`).
* **The runs** (:data:`landia.experiment.runs.RUNS`): truth, CTRL, image, point and hybrid DA,
  and image and point DA of the misspecified observations; one 24 h window per day with the
  analysis at the overpass (identical model trajectories to 6 h windows: the forcing is a
  function of time only).
* **Seeds.** Each seed draws the truth's forcing perturbation, the observation errors, the
  gaps' offsets and the withheld cells: ``OUT/seed<k>/`` holds that seed's truth, DA runs,
  observations and its own ``results.json``; CTRL does not depend on the seed and runs once
  (the other seeds' ``runs/ctrl`` link to it).

Each run is ``mpirun -n RANKS landia cycle`` (two at a time, resumable: rerunning continues);
then :mod:`landia.experiment.scoring` scores every run, ``OUT/results.json`` gets the mean and
spread over the seeds and ``OUT/report.html`` is written (maps from the first seed).
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import landia
from landia.config import GridSettings
from landia.errors import InputError
from landia.experiment.observing import ObservingSystem, make_daily_observations
from landia.experiment.ensemble_scores import ensemble_scores, summed_histograms
from landia.experiment.report import build_report
from landia.experiment.runs import DA_SETTINGS, DEFAULT_RUNS, ENSEMBLE_SEED_OFFSET, RUNS
from landia.experiment.satellite_gaps import satellite_gaps
from landia.experiment.scoring import mean_series, over_seeds, score_seed
from landia.grid import LatLonGrid, colm_node_depths
from landia.io.atomic import atomic_path
from landia.io.climatology_file import write_climatology
from landia.io.fields import read_field
from landia.landmask import grid_from_settings
from landia.launch import cycle_command, launch_environment, toml_text
from landia.log import get_logger
from landia.observations.climatology import build_climatology

PAPER = {"surface_scc_gain": 0.28, "layer_7_28_scc_gain": 0.22, "surface_rmse_ctrl": 0.16,
         "surface_rmse_da": 0.12, "iterations": 22}
REACH_THRESHOLD = 0.002  # m3 m-3: |DA - CTRL| that counts as "reached"
#: The paper's grid: 23-68 N, 73-117 E at 1.4 deg (32 x 31 cells, 991 land cells).
PAPER_GRID = (23.0, 68.0, 73.0, 117.0, 1.4)
#: Each seed's climatology for the CDF-matching runs (pooled over the domain) and its quantiles.
CLIMATOLOGY_FILE = "climatology.nc"
CLIMATOLOGY_QUANTILES = 21


def default_data_dir() -> Path:
    """``$LANDIA_DATA``, else ``../shared/data`` beside the source tree."""
    env = os.environ.get("LANDIA_DATA")
    return Path(env) if env else Path(landia.__file__).resolve().parents[2].parent / "shared" \
        / "data"


@dataclass(frozen=True)
class DemoSettings:
    """What the experiment covers; the defaults are the embedded experiment."""

    start: str = "2016-05-01T00:00"
    discard_days: int = 10
    assimilation_days: int = 30
    forecast_days: int = 15
    grid: tuple = PAPER_GRID
    ranks: int = 1
    parallel: int = 2
    seeds: tuple = (1, 2, 3)
    observing: ObservingSystem = field(default_factory=ObservingSystem)
    runs: tuple = DEFAULT_RUNS
    data_dir: str | None = None

    @property
    def times(self) -> dict:
        t0 = np.datetime64(self.start, "s")
        day = np.timedelta64(86400, "s")
        discard = t0 + self.discard_days * day
        assim = discard + self.assimilation_days * day
        return {"start": t0, "discard_end": discard, "assimilation_end": assim,
                "end": assim + self.forecast_days * day}

    @property
    def days(self) -> int:
        return self.discard_days + self.assimilation_days + self.forecast_days


def seed_dir(out: Path, seed: int) -> Path:
    """The folder of one seed's runs, observations and results."""
    return Path(out) / f"seed{seed}"


def merge_sections(base: dict, extra: dict) -> dict:
    """Section by section: ``extra``'s keys replace ``base``'s."""
    out = {k: dict(v) for k, v in base.items()}
    for section, keys in extra.items():
        out.setdefault(section, {}).update(keys)
    return out


def run_settings(name: str, ds: DemoSettings, seed: int) -> dict:
    """The configuration of one run as ``{section: {key: value}}`` (see
    :mod:`landia.experiment.runs`)."""
    t = ds.times
    south, north, west, east, res = ds.grid
    spec = RUNS[name]
    system = ds.observing
    values = {"grid": {"south": south, "north": north, "west": west, "east": east,
                       "resolution": res},
              "cycle": {"start": str(t["start"]), "end": str(t["end"]), "weather_seed": 1,
                        "texture_seed": 11, "window_hours": 24,
                        "analysis_hours": [system.overpass_hour], "mode": "da",
                        "assimilation_end": str(t["assimilation_end"])}}
    if spec["observations"]:
        values["cycle"]["observations"] = str(Path("..", "..", spec["observations"]))
    if spec["terms"] or spec.get("ensemble"):  # LETKF: no 3D-Var terms, the same errors
        values = merge_sections(values, DA_SETTINGS)
        terms = {"terms": spec["terms"]} if spec["terms"] else {}
        values = merge_sections(values, {"analysis": {
            **terms, "observation_error_variance": system.stated_variance,
            "image_error_variance": system.stated_variance}})
    values = merge_sections(values, spec.get("settings", {}))
    if values.get("perturbation", {}).get("enabled"):
        # The truth's perturbation draws the experiment's seed; the members must not.
        values["perturbation"]["seed"] = int(seed) + (ENSEMBLE_SEED_OFFSET
                                                      if spec.get("ensemble") else 0)
    return values


def run_config(name: str, ds: DemoSettings, seed: int = 1) -> str:
    """The TOML configuration of one run of one seed."""
    return toml_text(run_settings(name, ds, seed))


def _cycles_done(run_dir: Path) -> int:
    p = run_dir / "run_log.jsonl"
    return sum(1 for _ in open(p)) if p.exists() else 0


_SHOWN: set = set()


def _print_progress(label, done, total, seconds, final=False):
    stream = sys.stderr
    key = (label, done // max(total // 4, 1))
    if final:
        print(f"[demo] {label:44s} {done:4d}/{total} days in {seconds:6.1f} s", file=stream,
              flush=True)
    elif done and key not in _SHOWN:  # every 25 %, for each active run
        _SHOWN.add(key)
        eta = seconds / done * (total - done)
        print(f"[demo] {label:44s} {done:4d}/{total} days, {seconds:6.1f} s, eta {eta:5.0f} s",
              file=stream, flush=True)


# -- what comes out of the runs -------------------------------------------------------------
def minimiser_history(folder: Path, runs) -> dict:
    """Iterations and J before/after of every analysis of the DA runs of a seed's folder."""
    hist = {}
    for name in runs:
        p = folder / "runs" / name / "run_log.jsonl"
        if not p.exists() or not RUNS[name]["terms"]:
            continue
        lines = [json.loads(x) for x in p.read_text().splitlines() if x.strip()]
        lines = [r for r in lines if r.get("analysed")]
        hist[name] = {k: [r.get(key) for r in lines] for k, key in
                      (("times", "time"), ("iterations", "iterations"),
                       ("J_before", "J_before"), ("J_after", "J_after"))}
    return hist


def propagation(folder: Path, run: str = "image") -> dict:
    """Mean |DA - CTRL| per layer and time, and when it first exceeds REACH_THRESHOLD at
    10 cm and 50 cm (linear in depth between CoLM nodes)."""
    def files(r):
        return {p.stem.split("_", 1)[1]: p
                for p in sorted((folder / "runs" / r / "states").glob("state_*.nc"))}
    da, ctrl = files(run), files("ctrl")
    times, rows = [], []
    for label, path in da.items():
        if label in ctrl:
            a, b = read_field(path).values, read_field(ctrl[label]).values
            rows.append([float(np.nanmean(np.abs(a[k] - b[k]))) for k in range(a.shape[0])])
            times.append(label)
    nodes = colm_node_depths()
    reach = {}
    if rows:
        m = np.array(rows)
        t0 = np.datetime64(f"{times[0][:4]}-{times[0][4:6]}-{times[0][6:8]}T00:00")
        for depth in (0.1, 0.5):
            at = np.array([np.interp(depth, nodes, r) for r in m])
            hit = np.flatnonzero(at >= REACH_THRESHOLD)
            reach[str(depth)] = None
            if hit.size:
                lab = times[hit[0]]
                t = np.datetime64(f"{lab[:4]}-{lab[4:6]}-{lab[6:8]}T{lab[9:11]}:{lab[11:13]}")
                # the first state is a day after the start: count from the start
                reach[str(depth)] = float((t - t0) / np.timedelta64(1, "h")) + 24.0
    return {"run": run, "depths_m": nodes.tolist(), "times": times,
            "mean_abs_difference": rows, "reach_hours": reach, "threshold": REACH_THRESHOLD}


# -- the experiment --------------------------------------------------------------------------
@dataclass
class _Job:
    seed: int
    name: str
    folder: Path

    @property
    def label(self) -> str:
        return f"{RUNS[self.name]['label']}" + (f" (seed {self.seed})"
                                                  if RUNS[self.name]["per_seed"] else "")


def _jobs(out: Path, ds: DemoSettings) -> list[_Job]:
    """Truths first, then CTRL (once), then the DA runs seed by seed."""
    first = ds.seeds[0]
    order = sorted(ds.runs, key=lambda n: (n != "truth", n != "ctrl"))
    jobs = [_Job(s, n, seed_dir(out, s)) for n in order if n == "truth" for s in ds.seeds]
    jobs += [_Job(first, n, seed_dir(out, first)) for n in order
             if n != "truth" and not RUNS[n]["per_seed"]]
    jobs += [_Job(s, n, seed_dir(out, s)) for s in ds.seeds for n in order
             if n != "truth" and RUNS[n]["per_seed"]]
    return jobs


def _link_shared_runs(out: Path, ds: DemoSettings) -> None:
    """runs/<name> of the other seeds -> the first seed's, for runs that ignore the seed."""
    first = seed_dir(out, ds.seeds[0])
    for s in ds.seeds[1:]:
        for name in ds.runs:
            link = seed_dir(out, s) / "runs" / name
            if not RUNS[name]["per_seed"] and not link.exists():
                link.symlink_to(Path("..", "..", first.name, "runs", name),
                                target_is_directory=True)


def _grid(ds: DemoSettings) -> LatLonGrid:
    south, north, west, east, res = ds.grid
    grid, _ = grid_from_settings(GridSettings(south=south, north=north, west=west, east=east,
                                              resolution=res))
    return grid


def run_experiment(out_dir, ds: DemoSettings = DemoSettings(), progress=_print_progress,
                   report: bool = True) -> dict:
    """Run (or resume) every run of every seed, score them and write the report."""
    log = get_logger("landia.demo")
    out = Path(out_dir)
    t, n_days = ds.times, ds.days
    grid = _grid(ds)
    data_dir = Path(ds.data_dir) if ds.data_dir else default_data_dir()
    gaps_used, obs_summary, seconds = {}, {}, {}
    for s in ds.seeds:
        for sub in ("runs", "configs"):
            (seed_dir(out, s) / sub).mkdir(parents=True, exist_ok=True)
    t_all = time.perf_counter()
    pending, active = _jobs(out, ds), {}
    while pending or active:
        for job in list(pending):
            if len(active) >= ds.parallel:
                break
            truth_job = [j for j in list(active.values()) + pending
                         if isinstance(j, _Job) and j.name == "truth" and j.seed == job.seed]
            obs = RUNS[job.name]["observations"]
            if obs and truth_job:
                continue  # its observations are made from its seed's truth
            ctrl_job = [j for j in list(active.values()) + pending
                        if isinstance(j, _Job) and j.name == "ctrl"]
            if RUNS[job.name].get("climatology") and ctrl_job:
                continue  # its climatology is made from CTRL's states
            if obs and job.seed not in obs_summary:
                gaps, gaps_used[job.seed] = satellite_gaps(
                    data_dir, grid, t["start"], t["assimilation_end"], job.seed)
                obs_summary[job.seed] = make_daily_observations(
                    job.folder / "runs" / "truth", job.folder, ds.observing, gaps, job.seed,
                    start=t["start"], end=t["assimilation_end"])
            if RUNS[job.name].get("climatology"):
                _climatology(out, ds, job)
            active[(job.seed, job.name)] = job
            pending.remove(job)
            _launch(job, ds)
        time.sleep(0.5)
        for key, job in list(active.items()):
            elapsed = time.perf_counter() - job.t0
            done = job.proc.poll() is not None
            progress(job.label, _cycles_done(job.folder / "runs" / job.name), n_days, elapsed,
                     final=done)
            if done:
                job.log.close()
                del active[key]
                if job.proc.returncode != 0:
                    for other in active.values():
                        other.proc.terminate()
                    raise InputError(f"run {job.name} of seed {job.seed} failed (exit "
                                     f"{job.proc.returncode}); see "
                                     f"{job.folder / 'runs' / (job.name + '.log')}")
                seconds[f"{job.name}/seed{job.seed}"] = elapsed
                log.info("demo_run_done", run=job.name, seed=job.seed,
                         seconds=round(elapsed, 1))
    _link_shared_runs(out, ds)
    results = _results(out, ds, grid, time.perf_counter() - t_all, seconds, gaps_used,
                       obs_summary)
    if report:
        results["report"] = str(build_report(out))
    return results


def _climatology(out: Path, ds: DemoSettings, job: _Job) -> None:
    """``OUT/seed<k>/climatology.nc`` (once): CTRL's states and the seed's observations of
    ``RUNS[job.name]["observations"]`` over the assimilation period, for CDF matching.

    The training period is the experiment's record itself (CTRL is the open loop, and the
    observations are all there are), as LIS builds its CDFs from the whole record; the
    climatology never sees the truth or the withheld observations. Pooled over the domain:
    the product's bias is a distortion of its values (``a + b truth``), and a cell has only
    about 20 observed days (per-cell matching would also map away the truth's own spatial
    pattern where it differs from CTRL's: measured surface SCC 0.56 against 0.83 without
    rescaling).
    """
    target = job.folder / CLIMATOLOGY_FILE
    if target.exists():
        return
    t = ds.times
    ctrl = seed_dir(out, ds.seeds[0]) / "runs" / "ctrl"
    obs = sorted((job.folder / RUNS[job.name]["observations"]).glob("obs_*.nc"))
    clim, pairs = build_climatology(ctrl, obs, CLIMATOLOGY_QUANTILES, t["discard_end"],
                                    t["assimilation_end"], pool="domain")
    write_climatology(target, clim, attributes={"model_run": str(ctrl), "pairs": pairs,
                                                "pool": "domain"})


def _launch(job: _Job, ds: DemoSettings) -> None:
    spec = RUNS[job.name]
    cfg = job.folder / "configs" / f"{job.name}.toml"
    cfg.write_text(f"# landia demo: {spec['label']}, seed {job.seed}\n"
                   + run_config(job.name, ds, job.seed))
    run_dir = job.folder / "runs" / job.name
    run_dir.mkdir(parents=True, exist_ok=True)
    job.log = open(job.folder / "runs" / f"{job.name}.log", "a")
    job.proc = subprocess.Popen(cycle_command(cfg, run_dir, ds.ranks), stdout=job.log,
                                stderr=subprocess.STDOUT,
                                env=launch_environment(openmpi_defaults=True))
    job.t0 = time.perf_counter()


def _results(out: Path, ds: DemoSettings, grid: LatLonGrid, seconds_all: float,
             seconds: dict, gaps_used: dict, obs_summary: dict) -> dict:
    """Score every seed, write each seed's results.json and the aggregate one."""
    t = ds.times
    region = ds.observing.region_mask(grid.lat, grid.lon)
    experiment = {
        "grid": "{} x {} cells at {} deg, {}-{} N, {}-{} E, {} land cells".format(
            *grid.shape, ds.grid[4], *ds.grid[:4], grid.n_land),
        **{k: str(v) for k, v in t.items()}, "ranks": ds.ranks, "seconds": seconds_all,
        "run_seconds": seconds, "seeds": list(ds.seeds),
        "region": {"name": "eastern China (stand-in for the paper's China mask)",
                   "box": list(ds.observing.region)},
        "observing": dataclasses.asdict(ds.observing),
        "stated_error_variance": ds.observing.stated_variance,
        "gaps": {str(k): v for k, v in gaps_used.items()},
        "observations": {str(k): v for k, v in obs_summary.items()},
        "truth": RUNS["truth"]["settings"], "map_folder": seed_dir(out, ds.seeds[0]).name}
    runs = {n: {k: RUNS[n][k] for k in ("label", "terms", "observations")} for n in ds.runs}
    tables, series, iterations, ens_tables, ens_hist = {}, {}, {}, {}, {}
    for s in ds.seeds:
        folder = seed_dir(out, s)
        scored = score_seed(folder, ds.runs, t, region)
        tables[s], series[s] = scored["table"], scored["series"]
        ensemble = ensemble_scores(folder, ds.runs, t)
        ens_tables[s], ens_hist[s] = ensemble["table"], ensemble["rank_histogram"]
        history = minimiser_history(folder, ds.runs)
        for run, h in history.items():
            iterations.setdefault(run, []).extend(i for i in h["iterations"] if i is not None)
        per_seed = {"experiment": {**experiment, "seeds": [s], "map_folder": "."},
                    "runs": runs, **scored, "minimiser": history,
                    "propagation": propagation(folder) if "image" in ds.runs else {},
                    "paper": PAPER, **({"ensemble": ensemble} if ensemble["table"] else {})}
        _write_json(folder / "results.json", per_seed)
    mean, spread = over_seeds(tables)
    ens_mean, ens_spread = over_seeds(ens_tables)
    first = seed_dir(out, ds.seeds[0])
    results = {"experiment": experiment, "runs": runs, "table": mean, "spread": spread,
               "seed_tables": {str(k): v for k, v in tables.items()},
               "series": mean_series(series), "minimiser": minimiser_history(first, ds.runs),
               "iterations": {r: {"mean": float(np.mean(v)), "max": int(np.max(v)),
                                  "analyses": len(v)} for r, v in iterations.items() if v},
               "propagation": propagation(first) if "image" in ds.runs else {},
               "paper": PAPER}
    if ens_mean:  # the ensemble runs' spread-skill ratios and rank histograms
        results["ensemble"] = {"table": ens_mean, "spread": ens_spread,
                               "rank_histogram": summed_histograms(ens_hist)}
    _write_json(out / "results.json", results)
    return results


def _write_json(path: Path, value: dict) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(value, indent=1, default=float))


#: The columns of the printed table: (key in the table, heading, digits).
COLUMNS = [("surface_scc", "SCC 0-7", 3), ("surface_rmse", "RMSE 0-7", 4),
           ("layer_7_28_scc", "SCC 7-28", 3), ("layer_7_28_rmse", "RMSE 7-28", 4),
           ("unobserved_surface_scc", "SCC unobs.", 3),
           ("withheld_surface_rmse", "RMSE withh.", 4), ("region_surface_scc", "SCC region", 3),
           ("surface_bias", "bias 0-7", 4)]


def results_table(results: dict) -> str:
    """The period means over the seeds, each with its standard deviation over the seeds, as
    printed by ``./run demo``."""
    seeds = len(results["experiment"].get("seeds", [])) or 1
    rows = [f"mean (± sd) over {seeds} seed(s); 0-7 and 7-28 cm against the truth on all land "
            f"cells, 'unobs.' on the cells without an observation that day, 'withh.' on the "
            f"withheld cells, 'region' inside the misspecified-error region",
            f"{'run':34s} {'period':12s} " + " ".join(f"{h:>14s}" for _, h, _ in COLUMNS)]
    spread = results.get("spread", {})
    for name, periods in results["table"].items():
        for period, r in periods.items():
            cells = []
            for key, _, digits in COLUMNS:
                v = r.get(key)
                sd = ((spread.get(name, {}).get(period, {}) or {}).get(key) or {}).get("sd")
                text = "–" if v is None else f"{v:.{digits}f}" + (
                    f"±{sd:.{digits}f}".replace("0.", ".") if sd is not None else "")
                cells.append(f"{text:>14s}")
            rows.append(f"{results['runs'][name]['label']:34s} {period:12s} " + " ".join(cells))
    p = results["paper"]
    rows.append(f"paper (Shen et al. 2024): surface SCC gain +{p['surface_scc_gain']}, 7-28 cm "
                f"SCC gain +{p['layer_7_28_scc_gain']}, surface RMSE {p['surface_rmse_ctrl']} "
                f"-> {p['surface_rmse_da']}, {p['iterations']} iterations")
    return "\n".join(rows)
