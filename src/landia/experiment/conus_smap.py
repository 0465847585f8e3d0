"""``landia experiment conus-smap``: real SMAP with real NLDAS-2 forcing over the contiguous US,
verified by withheld observations (``docs/conus-smap.md``).

The set (``../shared/data/conus_nldas_smap``): 412 land cells of an EASE-Grid 2.0 36 km lattice
subsampled by 4 (an 18 x 38 image), NLDAS-2 daily forcing 2015-04-01 to 2018-03-31, SMAP L3
AM soil moisture 2015-04-01 to 2017-03-31.

The steps, each resumable (a rerun with the same output folder continues where it stopped):

1. **Inputs** (``OUT/``): the static file on the lattice (``static_landia.nc``,
   :func:`landia.io.cell_static.convert_cell_static`), a fixed random draw of 20 % of the
   cells QC lets SMAP observe (``withheld_cells.nc``, seed ``seed``), and the daily SMAP images
   at 12 UTC (:mod:`landia.observations.cell_product`): ``smap/`` every value that passed QC,
   ``obs/`` those of the assimilated cells, ``obs_withheld/`` those of the withheld ones.
2. **Spin-up** (``OUT/spinup``): ``landia spinup`` over the first year, 2015-04-01 to
   2016-04-01, from the cold start, ``spinup_passes`` passes.
3. **Climatology** (``OUT/climatology.nc``): per cell and layer, the CDF of the last spin-up
   pass (an open loop of the first year from a spun-up state) against SMAP's first year
   (``landia.observations.climatology.build_climatology``); every DA run matches SMAP to it.
4. **Runs** (``OUT/runs/<name>``, ``parallel`` at a time, ``mpirun -n ranks landia cycle``),
   from the spun-up state, one 24 h window a day ending at 12 UTC: CTRL (open loop), point,
   image and hybrid 3D-Var assimilating ``obs/`` until 2017-04-01 12 UTC and then running
   free to 2018-03-31 (how long the DA state's benefit lasts), and the ensemble runs (LETKF
   and the ensemble hybrid, ``members`` members) over the assimilation period.
5. **Scores** (:mod:`landia.experiment.conus_scores`): at the withheld cells, anomaly R and
   ubRMSE after rescaling; O-F of the 1-day forecasts at every observed cell per season; the
   free year's decay of the DA - CTRL difference; ``OUT/results.json`` and ``OUT/report.html``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from landia.errors import InputError
from landia.experiment.conus_output import ConusOutput
from landia.experiment.conus_scores import score_experiment
from landia.experiment.demo_run import default_data_dir, merge_sections
from landia.experiment.report.conus import build_conus_report
from landia.io.atomic import atomic_path
from landia.io.cell_static import convert_cell_static, grid_of_static_file, read_qc_flags
from landia.diagnostics.innovation_covariance import binned_covariance, fit_error_statistics
from landia.io.climatology_file import read_climatology, write_climatology
from landia.io.fields import read_field
from landia.io.naming import state_name
from landia.launch import cycle_command, landia_command, launch_environment, toml_text
from landia.log import get_logger
from landia.observations.cell_product import (CellProductSettings, flagged_cells,
                                              read_withheld_cells, withheld_cells_draw,
                                              write_daily_observations, write_withheld_cells)
from landia.observations.climatology import build_climatology
from landia.observations.rescaling import rescale

SET = "conus_nldas_smap"
FORCING = "nldas2_daily_2015-2018.nc"
SMAP = "smap_l3_am_2015-2017.nc"
STATIC = "static.nc"
#: The observation folders: all QC'd values, the assimilated cells', the withheld cells'.
OBS_FOLDERS = ("smap", "obs", "obs_withheld")
CLIMATOLOGY_QUANTILES = 21
#: Diffusion steps of B's correlation (``analysis.correlation_steps``, landia's default).
CORRELATION_STEPS = 4

#: The observation files: SMAP at 12 UTC, QC'd; no stated error (the tuning step sets it).
PRODUCT_SETTINGS = CellProductSettings(error_std=None)
#: What every DA run shares: SMAP's 0-5 cm observes CoLM layers 1-2; the observations are
#: CDF-matched to the model's first-year climatology per cell. B's variance, its correlation
#: length and the observation-error variance (JO's and JI's) come from the tuning step
#: (:func:`tune`, ``OUT/tuning.json``).
DA_SETTINGS = {
    "analysis": {"layers": 2, "upper_bound": "porosity"},
    "minimiser": {"backend": "tao", "tao_type": "blmvm"},
    "observations": {"rescaling": "cdf"},
}
#: The ensemble runs' members and perturbations (docs/ensemble.md's forcing-error model).
#: Chosen from innovation statistics only (docs/conus-smap.md): over 2015-05..07 the members'
#: top-layer spread matches the tuning step's sigma_b (0.026) with a precipitation log std of
#: 0.5 and no prior inflation (spread 0.024; innovation std 0.0330) where a log std of 1.0 with
#: prior inflation 1.3 gave 0.039 (0.0335).
ENSEMBLE_SETTINGS = {
    "perturbation": {"enabled": True, "length_km": 300.0, "time_scale_hours": 24.0,
                     "precipitation_std": 0.5, "seed": 1016},
    "ensemble": {"enabled": True, "localisation_km": 400.0, "prior_inflation": 1.0,
                 "inflation": "rtps", "inflation_factor": 0.9},
}
RUNS = {
    "ctrl": {"label": "CTRL (open loop)", "terms": [], "free_year": True},
    "point": {"label": "point DA (JB+JO)", "terms": ["background", "point"],
              "free_year": True},
    "image": {"label": "image DA (JB+JI)", "terms": ["background", "image"], "free_year": True},
    "hybrid": {"label": "hybrid DA (JB+JO+JI)", "terms": ["background", "point", "image"],
               "free_year": True},
    "letkf": {"label": "LETKF", "terms": [], "ensemble": "letkf", "free_year": False},
    "enhybrid": {"label": "ensemble hybrid (LETKF + image 3D-Var)",
                 "terms": ["background", "image"], "ensemble": "hybrid", "free_year": False},
    # The control of the one above: the same members and LETKF, centred on point 3D-Var;
    # what the image term adds to the ensemble hybrid is the difference of the two.
    "enhybrid_point": {"label": "ensemble hybrid (LETKF + point 3D-Var)",
                       "terms": ["background", "point"], "ensemble": "hybrid",
                       "free_year": False},
}
DEFAULT_RUNS = tuple(RUNS)


@dataclass(frozen=True)
class ConusSettings:
    """What the experiment covers (the defaults are the documented experiment)."""

    start: str = "2015-04-01T12:00"
    first_year_end: str = "2016-04-01T12:00"
    assimilation_end: str = "2017-04-01T12:00"
    end: str = "2018-03-31T12:00"
    withheld_fraction: float = 0.2
    seed: int = 16
    spinup_passes: int = 3
    members: int = 10
    #: fewest first-year pairs for a cell's CDF matching (the runs' and the scores')
    min_climatology_samples: int = 30
    #: days after the first analysis that are not scored
    discard_days: int = 30
    ranks: int = 1
    parallel: int = 2
    runs: tuple = DEFAULT_RUNS
    data_dir: str | None = None

    def set_dir(self) -> Path:
        base = Path(self.data_dir) if self.data_dir else default_data_dir()
        folder = base / SET if (base / SET).is_dir() else base
        for name in (FORCING, SMAP, STATIC):
            if not (folder / name).is_file():
                raise InputError(f"{folder / name}: missing; the experiment needs the "
                                 f"conus_nldas_smap set (../shared/data/{SET}, or --data-dir)")
        return folder


# -- inputs ---------------------------------------------------------------------------------
def prepare_inputs(out: Path, cs: ConusSettings) -> dict:
    """Static file, withheld draw and daily observation folders (skipped when done)."""
    data = cs.set_dir()
    done = out / "inputs.json"
    if done.exists():
        return json.loads(done.read_text())
    static = out / "static_landia.nc"
    convert_cell_static(data / STATIC, static)
    grid = grid_of_static_file(static)
    flags = read_qc_flags(static, grid)
    settings = PRODUCT_SETTINGS
    never = np.zeros(grid.n_land, dtype=bool)
    for mask in flagged_cells(flags, settings).values():
        never |= mask
    observable = grid.to_field((~never).astype(float)) == 1.0
    withheld = withheld_cells_draw(observable, cs.withheld_fraction, cs.seed)
    write_withheld_cells(out / "withheld_cells.nc", grid, withheld, cs.withheld_fraction,
                         cs.seed)
    obs_end = np.datetime64(cs.assimilation_end, "D") + 1  # its day's analysis included
    summary = write_daily_observations(
        data / SMAP, grid, {out / "smap": None, out / "obs": observable & ~withheld,
                            out / "obs_withheld": withheld},
        np.datetime64(cs.start, "D") + 1, obs_end, flags, settings)  # the first analysis
    summary.update(observable_cells=int(observable.sum()), withheld_cells=int(withheld.sum()),
                   land_cells=int(grid.n_land), settings=asdict(settings))
    _write_json(done, summary)
    return summary


# -- configurations -------------------------------------------------------------------------
def common_settings(cs: ConusSettings, out: Path, start: str, end: str) -> dict:
    """Grid (the lattice of the static file), forcing, window; paths absolute (the spin-up's
    passes are run directories one level deeper than the runs)."""
    return {"grid": {"from_landscape": True},
            "landscape": {"file": str(Path(out).resolve() / "static_landia.nc")},
            "cycle": {"start": start, "end": end, "window_hours": 24, "analysis_hours": [12],
                      "forcing": str((cs.set_dir() / FORCING).resolve()),
                      "forcing_format": "cells", "mode": "ctrl"}}


def run_settings(name: str, cs: ConusSettings, out: Path, tuning: dict | None = None) -> dict:
    """The configuration of one run as ``{section: {key: value}}``; ``tuning`` the error
    statistics of :func:`tune` (``OUT/tuning.json``)."""
    spec = RUNS[name]
    ensemble = spec.get("ensemble")
    end = cs.end if spec["free_year"] else cs.assimilation_end
    root = Path(out).resolve()
    values = common_settings(cs, out, cs.start, end)
    values["cycle"]["initial_state"] = str(root / "spinup" / "spun_up_state.nc")
    if name == "ctrl":
        return values
    values["cycle"].update(mode="da", observations=str(root / "obs"),
                           assimilation_end=cs.assimilation_end)
    values = merge_sections(values, DA_SETTINGS)
    values["observations"]["climatology"] = str(root / "climatology.nc")
    values["observations"]["min_climatology_samples"] = cs.min_climatology_samples
    if tuning is None:
        tuning = json.loads((root / "tuning.json").read_text())
    values["analysis"].update(
        background_error_variance=tuning["background_error_variance"],
        observation_error_variance=tuning["observation_error_variance"],
        image_error_variance=tuning["observation_error_variance"],
        correlation_length_km=tuning["correlation_length_km"])
    if spec["terms"]:
        values["analysis"]["terms"] = spec["terms"]
    if ensemble:
        values = merge_sections(values, ENSEMBLE_SETTINGS)
        values["ensemble"].update(analysis=ensemble, members=cs.members)
    return merge_sections(values, spec.get("settings", {}))


# -- running ---------------------------------------------------------------------------------
def _write_json(path: Path, value) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(value, indent=1, default=float))


def _spinup(out: Path, cs: ConusSettings, log) -> dict:
    folder = out / "spinup"
    state = folder / "spun_up_state.nc"
    log_path = folder / "spinup_log.jsonl"
    folder.mkdir(parents=True, exist_ok=True)
    if not state.exists():
        cfg = out / "configs" / "spinup.toml"
        cfg.write_text("# landia experiment conus-smap: spin-up over the first year\n" +
                       toml_text(common_settings(cs, out, cs.start, cs.first_year_end)))
        cmd = landia_command(["spinup", "--config", str(cfg), "--run-dir", str(folder),
                              "--max-cycles", str(cs.spinup_passes)], cs.ranks)
        t0 = time.perf_counter()
        with open(out / "spinup.log", "a") as stream:
            rc = subprocess.call(cmd, stdout=stream, stderr=subprocess.STDOUT,
                                 env=launch_environment(openmpi_defaults=True))
        if rc not in (0, 1):  # 1: not converged within the passes (reported, not an error)
            raise InputError(f"spin-up failed (exit {rc}); see {out / 'spinup.log'}")
        log.info("conus_spinup_done", seconds=round(time.perf_counter() - t0, 1))
    passes = [json.loads(x) for x in log_path.read_text().splitlines() if x.strip()]
    return {"passes": len(passes), "last": passes[-1] if passes else None}


def _climatology(out: Path, cs: ConusSettings, spinup: dict) -> None:
    target = out / "climatology.nc"
    if target.exists():
        return
    last = out / "spinup" / f"pass-{spinup['passes']}"  # an open loop of the first year
    files = sorted((out / "smap").glob("obs_*.nc"))
    clim, pairs = build_climatology(last, files, CLIMATOLOGY_QUANTILES,
                                    np.datetime64(cs.start, "s"),
                                    np.datetime64(cs.first_year_end, "s"), pool="cell")
    write_climatology(target, clim, attributes={"model_run": str(last), "pairs": pairs,
                                                "pool": "cell"})


def tune(out: Path, cs: ConusSettings, spinup: dict) -> dict:
    """``OUT/tuning.json``: B's variance and correlation length and the observation-error
    variance from the innovations of the open loop of the first year (the last spin-up pass)
    against the rescaled observations of the assimilated cells, by the Hollingsworth-Lonnberg
    method (:mod:`landia.diagnostics.innovation_covariance`); no withheld cell enters."""
    target = out / "tuning.json"
    if target.exists():
        return json.loads(target.read_text())
    last = out / "spinup" / f"pass-{spinup['passes']}"
    clim = read_climatology(out / "climatology.nc")
    t0, t1 = np.datetime64(cs.start, "s"), np.datetime64(cs.first_year_end, "s")
    departures, field = [], None
    for path in sorted((out / "obs").glob("obs_*.nc")):
        field = read_field(path, "observation")
        t = np.datetime64(field.valid_time, "s")
        state = last / "states" / state_name(t)
        if not (t0 < t <= t1) or not state.exists():
            continue
        y = rescale(field.values, 0.0, clim, "cdf", cs.min_climatology_samples).values[0]
        departures.append(y - read_field(state).values[0])
    if not departures:
        raise InputError(f"{out / 'obs'}: no observation of the first year pairs with a state "
                         f"of {last}")
    cov = binned_covariance(np.array(departures), field.lat, field.lon)
    stats = fit_error_statistics(cov, steps=CORRELATION_STEPS)
    result = {**stats.as_dict(), "images": len(departures), "model_run": str(last),
              "method": "Hollingsworth-Lonnberg: innovations of the open loop against the "
                        "rescaled observations of the assimilated cells, top layer, first "
                        "year; landia's Matern correlation (diffusion, 4 steps) fitted",
              "distance_km": cov.distance_km.tolist(), "covariance": cov.covariance.tolist(),
              "pairs": cov.pairs.tolist()}
    _write_json(target, result)
    return result


def _cycles_done(run_dir: Path) -> int:
    p = run_dir / "run_log.jsonl"
    return sum(1 for _ in open(p)) if p.exists() else 0


def _days(cs: ConusSettings, name: str) -> int:
    end = cs.end if RUNS[name]["free_year"] else cs.assimilation_end
    return int((np.datetime64(end, "s") - np.datetime64(cs.start, "s"))
               // np.timedelta64(86400, "s"))


def _run_all(out: Path, cs: ConusSettings, log, tuning: dict) -> dict:
    """Launch the runs ``parallel`` at a time (ensemble runs first: they take longest)."""
    pending = sorted(cs.runs, key=lambda n: (not RUNS[n].get("ensemble"), n))
    pending = [n for n in pending if _cycles_done(out / "runs" / n) < _days(cs, n)]
    active, seconds, shown = {}, {}, {}
    while pending or active:
        while pending and len(active) < cs.parallel:
            name = pending.pop(0)
            cfg = out / "configs" / f"{name}.toml"
            cfg.write_text(f"# landia experiment conus-smap: {RUNS[name]['label']}\n"
                           + toml_text(run_settings(name, cs, out, tuning)))
            run_dir = out / "runs" / name
            run_dir.mkdir(parents=True, exist_ok=True)
            stream = open(out / "runs" / f"{name}.log", "a")
            proc = subprocess.Popen(cycle_command(cfg, run_dir, cs.ranks), stdout=stream,
                                    stderr=subprocess.STDOUT,
                                    env=launch_environment(openmpi_defaults=True))
            active[name] = (proc, stream, time.perf_counter())
        time.sleep(1.0)
        for name, (proc, stream, t0) in list(active.items()):
            done = _cycles_done(out / "runs" / name)
            total = _days(cs, name)
            quarter = done * 4 // total
            if proc.poll() is None:
                if quarter > shown.get(name, 0):
                    shown[name] = quarter
                    print(f"[conus-smap] {RUNS[name]['label']:40s} {done:5d}/{total} days, "
                          f"{time.perf_counter() - t0:6.1f} s", file=sys.stderr, flush=True)
                continue
            stream.close()
            del active[name]
            if proc.returncode != 0:
                for other, *_ in active.values():
                    other.terminate()
                raise InputError(f"run {name} failed (exit {proc.returncode}); see "
                                 f"{out / 'runs' / (name + '.log')}")
            seconds[name] = round(time.perf_counter() - t0, 1)
            print(f"[conus-smap] {RUNS[name]['label']:40s} {done:5d}/{total} days in "
                  f"{seconds[name]:6.1f} s", file=sys.stderr, flush=True)
            log.info("conus_run_done", run=name, seconds=seconds[name])
    return seconds


def run_experiment(out_dir, cs: ConusSettings = ConusSettings(), report: bool = True) -> dict:
    """Run (or resume) the experiment; returns the results (also ``OUT/results.json``)."""
    log = get_logger("landia.conus")
    out = Path(out_dir)
    for sub in ("configs", "runs"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    t_all = time.perf_counter()
    timings = {}
    t0 = time.perf_counter()
    inputs = prepare_inputs(out, cs)
    timings["inputs"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    spinup = _spinup(out, cs, log)
    timings["spinup"] = round(time.perf_counter() - t0, 1)
    _climatology(out, cs, spinup)
    tuning = tune(out, cs, spinup)
    timings["runs"] = _run_all(out, cs, log, tuning)
    t0 = time.perf_counter()
    output = ConusOutput(out)
    scores = score_experiment(output, cs.runs, min_climatology_samples=cs.min_climatology_samples,
                              min_training=cs.min_climatology_samples,
                              discard_days=cs.discard_days,
                              free_start=cs.assimilation_end)
    timings["scores"] = round(time.perf_counter() - t0, 1)
    timings["total"] = round(time.perf_counter() - t_all, 1)
    results = {"experiment": {**{k: v for k, v in asdict(cs).items() if k != "data_dir"},
                              "set": str(cs.set_dir()), "inputs": inputs, "spinup": spinup,
                              "tuning": {k: v for k, v in tuning.items()
                                         if k not in ("distance_km", "covariance", "pairs")},
                              "seconds": timings,
                              "withheld_cells": int(read_withheld_cells(
                                  out / "withheld_cells.nc").sum())},
               "runs": {n: {k: RUNS[n].get(k) for k in ("label", "terms", "ensemble")}
                        for n in cs.runs},
               **scores}
    _write_json(out / "results.json", results)
    if report:
        results["report"] = str(build_conus_report(output, results))
        _write_json(out / "results.json", results)
    return results
