"""Scores of the demo's runs against the truth: per day, period means per seed, and the mean
and spread over the seeds.

Every day at the overpass (the states of the one-window-a-day runs), for 0-7 cm (``surface``)
and 7-28 cm (``layer_7_28``, thickness-weighted CoLM layers), the spatial correlation (SCC),
RMSE and bias (run - truth) over

* every land cell (groups ``surface``, ``layer_7_28``);
* the land cells the satellite did not see that day (``unobserved_*``): where only spreading
  (a correlated B, the image term over the whole image, or the model) can help;
* the withheld cells (``withheld_*``): seen, but held out of every analysis;
* the misspecified-error region (``region_*``);

and, as one would with real data, against the withheld *observations* themselves
(``withheld_obs_surface``: the run's 0-7 cm minus the withheld value, which includes the
observation's error and bias). A run without observations (CTRL) is scored on the cells of
the ``obs`` set. The unobserved and withheld groups exist only where a day has observations
(not in the free forecast).

A period mean (``assimilation``: after the discarded spin-up, up to the end of assimilation;
``forecast``: after it) averages the daily values. Over the seeds: the mean, the minimum, the
maximum and the standard deviation of each period mean.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from landia.errors import InputError
from landia.experiment.observing import SETS
from landia.experiment.runs import RUNS
from landia.grid import depth_weights
from landia.io.fields import read_field
from landia.io.naming import observation_name, parse_stamp, stamp_of
from landia.scores import bias, rmse, spatial_correlation

LAYERS = {"surface": (0.0, 0.07), "layer_7_28": (0.07, 0.28)}
MASKS = ("all", "unobserved", "withheld", "region")
METRICS = ("scc", "rmse", "bias")
WITHHELD_OBS = "withheld_obs_surface"


def group(mask: str, layer: str) -> str:
    """The name of a (cells, layer) group: ``surface``, ``region_surface``, ..."""
    return layer if mask == "all" else f"{mask}_{layer}"


GROUPS = [group(m, layer) for m in MASKS for layer in LAYERS] + [WITHHELD_OBS]


def states(run_dir: Path) -> dict:
    """A run's state files by stamp."""
    return {stamp_of(p): p for p in sorted((Path(run_dir) / "states").glob("state_*.nc"))}


def _layers(path: Path) -> dict:
    values = read_field(path).values
    out = {}
    for name, (top, bottom) in LAYERS.items():
        w = depth_weights(top, bottom)[: values.shape[0]]
        out[name] = np.tensordot(w, values, axes=(0, 0))
    return out


def _valid_top(path: Path) -> np.ndarray | None:
    """Top-layer values of an observation file (NaN where none), or None without a file."""
    return read_field(path).values[0] if path.exists() else None


def observed_cells(seed_dir: Path, obs_set: str, stamp: str, land: np.ndarray) -> dict:
    """Cells of one day: ``unobserved`` and ``withheld`` masks (None on a day without an
    observation file), and the withheld observations."""
    t = parse_stamp(stamp)
    used = _valid_top(seed_dir / obs_set / observation_name(t))
    held = _valid_top(seed_dir / SETS[obs_set] / observation_name(t))
    if used is None:
        return {"unobserved": None, "withheld": None, "withheld_values": None}
    withheld = np.isfinite(held) if held is not None else np.zeros_like(land)
    return {"unobserved": land & ~np.isfinite(used) & ~withheld, "withheld": withheld,
            "withheld_values": held}


def score_run(seed_dir: Path, run: str, truth: dict, region: np.ndarray, cache: dict) -> dict:
    """The daily scores of one run of a seed's folder (see the module notes)."""
    obs_set = RUNS[run]["observations"] or "obs"
    rec = {"times": []} | {g: {m: [] for m in METRICS} for g in GROUPS}
    for stamp, path in states(seed_dir / "runs" / run).items():
        if stamp not in truth:
            continue
        if truth[stamp] not in cache:
            cache[truth[stamp]] = _layers(truth[stamp])
        ref = cache[truth[stamp]]
        model = _layers(path)
        land = np.isfinite(ref["surface"])
        cells = observed_cells(seed_dir, obs_set, stamp, land)
        rec["times"].append(str(parse_stamp(stamp)))
        masks = {"all": land, "region": land & region, "unobserved": cells["unobserved"],
                 "withheld": cells["withheld"]}
        for mask, where in masks.items():
            for layer in LAYERS:
                g = rec[group(mask, layer)]
                ok = where is not None and where.sum() >= 2
                g["scc"].append(spatial_correlation(model[layer], ref[layer], where)
                                if ok else None)
                g["rmse"].append(rmse(model[layer], ref[layer], where) if ok else None)
                g["bias"].append(bias(model[layer], ref[layer], where) if ok else None)
        held = cells["withheld_values"]
        ok = held is not None and np.isfinite(held).sum() >= 2
        g = rec[WITHHELD_OBS]
        g["scc"].append(spatial_correlation(model["surface"], held) if ok else None)
        g["rmse"].append(rmse(model["surface"], held) if ok else None)
        g["bias"].append(bias(model["surface"], held) if ok else None)
    return rec


def period_means(rec: dict, times: dict) -> dict:
    """{period: {group_metric: mean of the daily values}} (absent values skipped)."""
    t = np.array(rec["times"], dtype="datetime64[s]")
    periods = {"assimilation": (t > times["discard_end"]) & (t <= times["assimilation_end"]),
               "forecast": t > times["assimilation_end"]}
    table = {}
    for period, sel in periods.items():
        if not sel.any():
            continue
        row = {}
        for g in GROUPS:
            for m in METRICS:
                vals = np.array([np.nan if v is None else v for v in rec[g][m]], dtype=float)
                vals = vals[sel]
                row[f"{g}_{m}"] = float(np.nanmean(vals)) if np.isfinite(vals).any() else None
        table[period] = row
    return table


def score_seed(seed_dir: Path, runs, times: dict, region: np.ndarray) -> dict:
    """``series`` and ``table`` (period means) of every run present in a seed's folder."""
    truth = states(seed_dir / "runs" / "truth")
    if not truth:
        raise InputError(f"{seed_dir / 'runs' / 'truth'}: no states; run the truth first")
    cache: dict = {}
    series, table = {}, {}
    for run in runs:
        if run == "truth" or not (seed_dir / "runs" / run / "states").is_dir():
            continue
        series[run] = score_run(seed_dir, run, truth, region, cache)
        table[run] = period_means(series[run], times)
    return {"series": series, "table": table}


def over_seeds(tables: dict) -> tuple[dict, dict]:
    """Mean and spread over the seeds of the period means.

    Parameters
    ----------
    tables : dict
        {seed: {run: {period: {key: value}}}}.

    Returns
    -------
    (mean, spread)
        {run: {period: {key: mean}}} and {run: {period: {key: {"min", "max", "sd", "n"}}}}.
    """
    mean: dict = {}
    spread: dict = {}
    for per_seed in tables.values():
        for run, periods in per_seed.items():
            for period, row in periods.items():
                for k, v in row.items():
                    spread.setdefault(run, {}).setdefault(period, {}).setdefault(k, []).append(v)
    for run, periods in spread.items():
        for period, row in periods.items():
            for k, values in list(row.items()):
                v = np.array([np.nan if x is None else x for x in values], dtype=float)
                v = v[np.isfinite(v)]
                mean.setdefault(run, {}).setdefault(period, {})[k] = \
                    float(v.mean()) if v.size else None
                row[k] = ({"min": float(v.min()), "max": float(v.max()),
                           "sd": float(v.std(ddof=1)) if v.size > 1 else 0.0, "n": int(v.size)}
                          if v.size else None)
    return mean, spread


def mean_series(series_by_seed: dict) -> dict:
    """The daily scores averaged over the seeds, with their minimum and maximum:
    {run: {"times": [...], group: {metric: [...], metric_min: [...], metric_max: [...]}}}
    (times common to every seed that has the run; None where no seed has a value)."""
    out = {}
    runs = {r for s in series_by_seed.values() for r in s}
    for run in sorted(runs):
        recs = [s[run] for s in series_by_seed.values() if run in s]
        common = sorted(set.intersection(*(set(r["times"]) for r in recs)))
        rows = [[r["times"].index(t) for t in common] for r in recs]
        rec = {"times": common}
        for g in GROUPS:
            rec[g] = {}
            for m in METRICS:
                stack = np.array([[np.nan if r[g][m][k] is None else r[g][m][k] for k in idx]
                                  for r, idx in zip(recs, rows)], dtype=float)
                stack = stack.reshape(len(recs), len(common))
                n = np.isfinite(stack).sum(axis=0)
                filled = np.where(np.isfinite(stack), stack, 0.0)
                mean = np.where(n > 0, filled.sum(axis=0) / np.maximum(n, 1), np.nan)
                lo = np.where(n > 0, np.where(np.isfinite(stack), stack, np.inf).min(axis=0),
                              np.nan)
                hi = np.where(n > 0, np.where(np.isfinite(stack), stack, -np.inf).max(axis=0),
                              np.nan)
                for key, values in ((m, mean), (f"{m}_min", lo), (f"{m}_max", hi)):
                    rec[g][key] = [float(v) if np.isfinite(v) else None for v in values]
        out[run] = rec
    return out
