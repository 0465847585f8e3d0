"""The embedded experiment (``./run demo``): an observing-system simulation over the paper's
domain with the cycling service, scored against its truth, written up as a report.

Runs (each a ``landia cycle`` run directory under ``OUT/runs``, launched with
``mpirun -n RANKS``, two runs at a time (the truth first: the observations come from it),
resumable):

============ ===================== ======================= ===========================
run          terms                 observations            model
============ ===================== ======================= ===========================
truth        (none, mode ctrl)     --                      precipitation seed 2, texture 12
ctrl         (none, mode ctrl)     --                      precipitation seed 1, texture 11
image        JB + JI               ``obs``                 as ctrl
point        JB + JO               ``obs``                 as ctrl
hybrid       JB + JO + JI          ``obs``                 as ctrl
image_misspecified  JB + JI        ``obs_misspecified``    as ctrl
point_misspecified  JB + JO        ``obs_misspecified``    as ctrl
============ ===================== ======================= ===========================

Observations (``landia make-obs``): the truth's 0-7 cm soil moisture on CoLM layers 1-3 every
6 h, plus N(0, 0.02^2) noise, stated error 0.02^2. The misspecified set (the paper's idealised
variant, section 3.4: "a large error inside China and none outside; point 3D-Var then ignores
China, image 3D-Var still fixes its structure") has the same values but states an error of
1.0 m3 m-3 (variance 1) inside a region -- a box over eastern China, 25-45 N, 100-120 E,
stands for China -- and 0.02^2 outside.

Periods (UTC): a discard period (default 15 days) and the rest of the assimilation period
(default 45 days), then a free forecast (default 30 days). Scores against the truth, over land,
every 6 h: SCC and RMSE of the surface (0-7 cm, thickness-weighted layers) and of 7-28 cm,
and the surface inside the region; period means go to ``results.json``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from landia.errors import InputError
from landia.experiment.osse import make_observations
from landia.experiment.report import build_report
from landia.experiment.runs import RUNS
from landia.grid import colm_node_depths, depth_weights
from landia.io.atomic import atomic_path
from landia.io.fields import read_field
from landia.io.naming import parse_stamp, stamp_of
from landia.launch import cycle_command, launch_environment, toml_text
from landia.log import get_logger
from landia.scores import rmse, spatial_correlation

REGION = {"name": "eastern China (stand-in for the paper's China mask)",
          "box": [25.0, 45.0, 100.0, 120.0]}
PAPER = {"surface_scc_gain": 0.28, "layer_7_28_scc_gain": 0.22, "surface_rmse_ctrl": 0.16,
         "surface_rmse_da": 0.12, "iterations": 22}
REACH_THRESHOLD = 0.002  # m3 m-3: |DA - CTRL| that counts as "reached"


@dataclass(frozen=True)
class DemoSettings:
    """What the experiment covers; the defaults are the embedded experiment."""

    start: str = "2016-05-01T00:00"
    discard_days: int = 15
    assimilation_days: int = 45
    forecast_days: int = 30
    grid: tuple = (23.0, 68.0, 73.0, 117.0, 1.4)
    ranks: int = 2
    parallel: int = 2
    noise_std: float = 0.02
    misspecified_std: float = 1.0
    runs: tuple = tuple(RUNS)

    @property
    def times(self) -> dict:
        t0 = np.datetime64(self.start, "s")
        day = np.timedelta64(86400, "s")
        discard = t0 + self.discard_days * day
        assim = discard + self.assimilation_days * day
        return {"start": t0, "discard_end": discard, "assimilation_end": assim,
                "end": assim + self.forecast_days * day}


def run_config(name: str, ds: DemoSettings) -> str:
    """The TOML configuration of one run."""
    t = ds.times
    south, north, west, east, res = ds.grid
    spec = RUNS[name]
    cycle = {"start": str(t["start"]), "end": str(t["end"]), "weather_seed": 1,
             "texture_seed": 11, "window_hours": 6, "analysis_hours": [0, 6, 12, 18],
             "mode": "da", "assimilation_end": str(t["assimilation_end"])}
    cycle.update(spec.get("cycle", {}))
    if spec["observations"]:
        cycle["observations"] = str(Path("..", "..", spec["observations"]))
    values = {"grid": {"south": south, "north": north, "west": west, "east": east,
                       "resolution": res},
              "cycle": cycle}
    if spec["terms"]:
        values["analysis"] = {"layers": 3, "terms": spec["terms"], "upper_bound": "porosity",
                              "observation_error_variance": ds.noise_std ** 2}
        values["curvelet"] = {"sigma": 0.5}
        values["minimiser"] = {"backend": "tao", "tao_type": "blmvm"}
    return toml_text(values)


def _cycles_done(run_dir: Path) -> int:
    p = run_dir / "run_log.jsonl"
    return sum(1 for _ in open(p)) if p.exists() else 0


def _print_progress(label, done, total, seconds, final=False):
    stream = sys.stderr
    key = (label, done // max(total // 10, 1))
    if final:
        print(f"[demo] {label:34s} {done:4d}/{total} cycles in {seconds:6.1f} s", file=stream,
              flush=True)
    elif done and key not in _SHOWN:  # every 10 %, for each active run
        _SHOWN.add(key)
        eta = seconds / done * (total - done) if done else float("nan")
        print(f"[demo] {label:34s} {done:4d}/{total} cycles, {seconds:6.1f} s, eta {eta:5.0f} s",
              file=stream, flush=True)


_SHOWN: set = set()


# -- scoring -------------------------------------------------------------------------------
def _states(run_dir: Path) -> dict:
    return {stamp_of(p): p for p in sorted((run_dir / "states").glob("state_*.nc"))}


def score_runs(out: Path, ds: DemoSettings) -> dict:
    """Scores of every run against the truth (see the module notes) -> results dict parts."""
    runs = out / "runs"
    truth = _states(runs / "truth")
    if not truth:
        raise InputError(f"{runs / 'truth'}: no states; run the truth first")
    w_top, w_root = depth_weights(0.0, 0.07), depth_weights(0.07, 0.28)
    cache = {}

    def layers(path):
        if path not in cache:
            f = read_field(path)
            cache[path] = (np.tensordot(w_top, f.values, axes=(0, 0)),
                           np.tensordot(w_root, f.values, axes=(0, 0)), f)
            if len(cache) > 64:
                cache.pop(next(iter(cache)))
        return cache[path]

    first = read_field(next(iter(truth.values())))
    lat2, lon2 = np.meshgrid(first.lat, first.lon, indexing="ij")
    s, n, w, e = REGION["box"]
    region = (lat2 >= s) & (lat2 <= n) & (lon2 >= w) & (lon2 <= e)
    t = ds.times
    series, table = {}, {}
    for name in ds.runs:
        if name == "truth" or not (runs / name / "states").is_dir():
            continue
        states = _states(runs / name)
        rec = {"times": [], "surface": {"scc": [], "rmse": []},
               "layer_7_28": {"scc": [], "rmse": []}, "region_surface": {"scc": [], "rmse": []}}
        for label, path in states.items():
            if label not in truth:
                continue
            ts, tr, _ = layers(truth[label])
            ms, mr, _ = layers(path)
            rec["times"].append(str(parse_stamp(label)))
            rec["surface"]["scc"].append(spatial_correlation(ms, ts))
            rec["surface"]["rmse"].append(rmse(ms, ts))
            rec["layer_7_28"]["scc"].append(spatial_correlation(mr, tr))
            rec["layer_7_28"]["rmse"].append(rmse(mr, tr))
            rec["region_surface"]["scc"].append(spatial_correlation(ms, ts, region))
            rec["region_surface"]["rmse"].append(rmse(ms, ts, region))
        series[name] = rec
        times = np.array(rec["times"], dtype="datetime64[s]")
        periods = {"assimilation": (times > t["discard_end"]) & (times <= t["assimilation_end"]),
                   "forecast": times > t["assimilation_end"]}
        table[name] = {}
        for period, sel in periods.items():
            if not sel.any():
                continue
            row = {}
            for key in ("surface", "layer_7_28", "region_surface"):
                for score in ("scc", "rmse"):
                    row[f"{key}_{score}"] = float(np.nanmean(np.array(rec[key][score])[sel]))
            table[name][period] = row
    return {"series": series, "table": table}


def minimiser_history(out: Path, ds: DemoSettings) -> dict:
    hist = {}
    for name in ds.runs:
        p = out / "runs" / name / "run_log.jsonl"
        if not p.exists() or not RUNS[name]["terms"]:
            continue
        lines = [json.loads(x) for x in p.read_text().splitlines() if x.strip()]
        lines = [r for r in lines if r.get("analysed")]
        hist[name] = {k: [r[key] for r in lines] for k, key in
                      (("times", "time"), ("iterations", "iterations"),
                       ("J_before", "J_before"), ("J_after", "J_after"))}
    return hist


def propagation(out: Path, run: str = "image") -> dict:
    """Mean |DA - CTRL| per layer and time, and when it first exceeds REACH_THRESHOLD at
    10 cm and 50 cm (linear in depth between CoLM nodes)."""
    da, ctrl = _states(out / "runs" / run), _states(out / "runs" / "ctrl")
    times, rows = [], []
    for label, path in da.items():
        if label not in ctrl:
            continue
        a, b = read_field(path).values, read_field(ctrl[label]).values
        rows.append([float(np.nanmean(np.abs(a[k] - b[k]))) for k in range(a.shape[0])])
        times.append(label)
    nodes = colm_node_depths()
    reach = {}
    if rows:
        m = np.array(rows)
        t0 = np.datetime64(f"{times[0][:4]}-{times[0][4:6]}-{times[0][6:8]}T00:00") \
            if times else None
        for depth in (0.1, 0.5):
            at = np.array([np.interp(depth, nodes, r) for r in m])
            hit = np.flatnonzero(at >= REACH_THRESHOLD)
            if hit.size and t0 is not None:
                lab = times[hit[0]]
                t = np.datetime64(f"{lab[:4]}-{lab[4:6]}-{lab[6:8]}T{lab[9:11]}:{lab[11:13]}")
                reach[str(depth)] = float((t - t0) / np.timedelta64(1, "h"))
            else:
                reach[str(depth)] = None
    return {"run": run, "depths_m": nodes.tolist(), "times": times,
            "mean_abs_difference": rows, "reach_hours": reach,
            "threshold": REACH_THRESHOLD}


# -- the experiment --------------------------------------------------------------------------
def run_experiment(out_dir, ds: DemoSettings = DemoSettings(), progress=_print_progress,
                   report: bool = True) -> dict:
    """Run (or resume) every run of the experiment, score it and write the report."""
    log = get_logger("landia.demo")
    out = Path(out_dir)
    for sub in ("runs", "configs"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    t = ds.times
    n_cycles = int((t["end"] - t["start"]) / np.timedelta64(6 * 3600, "s"))
    seconds: dict = {}
    t_all = time.perf_counter()
    pending = list(ds.runs)
    active: dict = {}   # name -> (process, log file, start time)
    while pending or active:
        # Start what may start: at most ds.parallel runs at once; runs that assimilate wait
        # for the truth (their observations are made from it).
        for name in list(pending):
            if len(active) >= ds.parallel:
                break
            spec = RUNS[name]
            obs = spec["observations"]
            if obs and ("truth" in active or "truth" in pending):
                continue
            if obs and not (out / obs).is_dir():
                box = REGION["box"] if obs == "obs_misspecified" else None
                make_observations(out / "runs" / "truth", out / obs, noise_std=ds.noise_std,
                                  seed=3, stated_error_box=box,
                                  stated_error_std=ds.misspecified_std if box else 0.0,
                                  end=t["assimilation_end"])
            cfg = out / "configs" / f"{name}.toml"
            cfg.write_text(f"# landia demo: {spec['label']}\n" + run_config(name, ds))
            run_dir = out / "runs" / name
            run_dir.mkdir(exist_ok=True)
            cmd = cycle_command(cfg, run_dir, ds.ranks)
            logf = open(out / "runs" / f"{name}.log", "a")
            active[name] = (subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT,
                                             env=launch_environment(openmpi_defaults=True)),
                            logf, time.perf_counter())
            pending.remove(name)
        time.sleep(0.5)
        for name, (proc, logf, t0) in list(active.items()):
            elapsed = time.perf_counter() - t0
            done = proc.poll() is not None
            progress(RUNS[name]["label"], _cycles_done(out / "runs" / name), n_cycles, elapsed,
                     final=done)
            if done:
                logf.close()
                del active[name]
                if proc.returncode != 0:
                    for other, (p, f, _) in active.items():
                        p.terminate()
                    raise InputError(f"run {name} failed (exit {proc.returncode}); see "
                                     f"{out / 'runs' / (name + '.log')}")
                seconds[name] = elapsed
                log.info("demo_run_done", run=name, seconds=round(elapsed, 1))
    results = {
        "experiment": {"grid": "{} x {} cells at {} deg, {}-{} N, {}-{} E".format(
                           *_grid_shape(ds.grid), ds.grid[4], ds.grid[0], ds.grid[1],
                           ds.grid[2], ds.grid[3]),
                       **{k: str(v) for k, v in t.items()}, "ranks": ds.ranks,
                       "seconds": time.perf_counter() - t_all, "run_seconds": seconds,
                       "region": REGION, "noise_std": ds.noise_std,
                       "misspecified_std": ds.misspecified_std},
        "runs": {n: {k: RUNS[n][k] for k in ("label", "terms", "observations")}
                 for n in ds.runs},
        **score_runs(out, ds),
        "minimiser": minimiser_history(out, ds),
        "propagation": propagation(out) if "image" in ds.runs else {},
        "paper": PAPER,
    }
    with atomic_path(out / "results.json") as tmp:
        tmp.write_text(json.dumps(results, indent=1, default=float))
    if report:
        results["report"] = str(build_report(out))
    return results


def _grid_shape(grid) -> tuple:
    south, north, west, east, res = grid
    return int(round((north - south) / res)), int(round((east - west) / res))


def results_table(results: dict) -> str:
    """The table of period means, as printed by ``./run demo``."""
    rows = [f"{'run':34s} {'period':12s} {'SCC 0-7':>8s} {'RMSE 0-7':>9s} {'SCC 7-28':>9s} "
            f"{'RMSE 7-28':>10s} {'SCC reg.':>9s} {'RMSE reg.':>10s}"]
    for name, periods in results["table"].items():
        for period, r in periods.items():
            rows.append(f"{results['runs'][name]['label']:34s} {period:12s} "
                        f"{r['surface_scc']:8.3f} {r['surface_rmse']:9.4f} "
                        f"{r['layer_7_28_scc']:9.3f} {r['layer_7_28_rmse']:10.4f} "
                        f"{r['region_surface_scc']:9.3f} {r['region_surface_rmse']:10.4f}")
    p = results["paper"]
    rows.append(f"paper (Shen et al. 2024): surface SCC gain +{p['surface_scc_gain']}, 7-28 cm "
                f"SCC gain +{p['layer_7_28_scc_gain']}, surface RMSE {p['surface_rmse_ctrl']} "
                f"-> {p['surface_rmse_da']}, {p['iterations']} iterations")
    return "\n".join(rows)
