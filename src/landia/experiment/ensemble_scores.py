"""The demo's ensemble scores: is the spread of an ensemble run as large as its error?

For every run with an ensemble (its run-log lines carry ``record["ensemble"]``, the fields of
docs/ensemble.md), after the spin-up (``times["discard_end"]``) up to the end of assimilation:

``spread_skill_obs``
    The mean over the analyses of the run log's ``spread_skill``, in observation space:
    :math:`\\sqrt{\\overline{\\mathrm{var}_m HX_b} + \\bar r} /
    \\sqrt{\\overline{(O - \\overline{HX_b})^2}}`, against the observations.
``spread``, ``rmse``, ``spread_skill_truth``
    Against the truth, which the demo knows (the acceptance's spread-skill ratio): at each
    time with both an ensemble file (``ensemble/ens_<stamp>.nc``, the members' standard
    deviation s of the top layer) and the ensemble mean's state (``states/state_<stamp>.nc``),
    the land RMS spread :math:`\\sqrt{\\overline{s^2}}` and the RMSE of the mean's top layer
    against the truth's; ``spread`` and ``rmse`` are their means over the period and
    ``spread_skill_truth`` = ``spread / rmse`` (1: the spread is the error it should
    describe; the RMS spread, not the mean standard deviation, is what an RMSE compares with).
``rank_histogram``
    The run log's rank histograms (N + 1 counts) summed over the period: flat when the
    observations are statistically indistinguishable from the members.
``analyses``
    The run-log lines counted.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from landia.errors import InputError
from landia.experiment.scoring import states
from landia.io.fields import read_field
from landia.io.naming import parse_stamp, stamp_of
from landia.io.netcdf import open_netcdf, read_record

#: The cell_methods of the ensemble file's spread variable.
SPREAD_METHOD = "realization: standard_deviation"
#: The period of the scores (after the spin-up, up to the end of assimilation).
PERIOD = "assimilation"


def ensemble_lines(run_dir: Path) -> list[dict]:
    """The run-log lines of a run that carry ``ensemble`` (none for other runs)."""
    p = Path(run_dir) / "run_log.jsonl"
    if not p.exists():
        return []
    lines = [json.loads(x) for x in p.read_text().splitlines() if x.strip()]
    return [r for r in lines if isinstance(r.get("ensemble"), dict)]


def _in_period(time, times: dict) -> bool:
    """Whether a time (run-log text ``...Z`` or datetime64) lies after the spin-up, up to the
    end of assimilation."""
    t = np.datetime64(str(time).replace("Z", ""), "s")
    return bool(times["discard_end"] < t <= times["assimilation_end"])


def read_spread(path: Path) -> np.ndarray:
    """The members' standard deviation (layer, lat, lon) of an ensemble file: the variable
    whose ``cell_methods`` is :data:`SPREAD_METHOD`."""
    with open_netcdf(path, "ensemble") as ds:
        names = [n for n, v in ds.variables.items()
                 if SPREAD_METHOD in str(getattr(v, "cell_methods", ""))]
        if not names:
            raise InputError(f"{path}: no variable with cell_methods '{SPREAD_METHOD}'; "
                             f"the file has {', '.join(sorted(ds.variables))}")
        return read_record(ds, path, names[0], dims=ds.variables[names[0]].dimensions[-3:])


def truth_scores(run_dir: Path, truth: dict, times: dict) -> dict:
    """``spread``, ``rmse`` and ``spread_skill_truth`` of a run (module notes), None where no
    time has both files."""
    run_dir = Path(run_dir)
    means = states(run_dir)
    spreads, errors = [], []
    for path in sorted((run_dir / "ensemble").glob("ens_*.nc")):
        stamp = stamp_of(path)
        if stamp not in means or stamp not in truth or not _in_period(parse_stamp(stamp),
                                                                      times):
            continue
        s = read_spread(path)[0]
        mean = read_field(means[stamp]).values[0]
        true = read_field(truth[stamp]).values[0]
        land = np.isfinite(mean) & np.isfinite(true) & np.isfinite(s)
        if not land.any():
            continue
        spreads.append(float(np.sqrt(np.mean(s[land] ** 2))))
        errors.append(float(np.sqrt(np.mean((mean[land] - true[land]) ** 2))))
    if not spreads:
        return {"spread": None, "rmse": None, "spread_skill_truth": None}
    spread, error = float(np.mean(spreads)), float(np.mean(errors))
    return {"spread": spread, "rmse": error,
            "spread_skill_truth": spread / error if error > 0 else None}


def ensemble_scores(seed_dir: Path, runs, times: dict) -> dict:
    """{"table": {run: {PERIOD: scores}}, "rank_histogram": {run: counts}} of every ensemble
    run in a seed's folder (module notes); empty without one."""
    truth = states(Path(seed_dir) / "runs" / "truth")
    table, histograms = {}, {}
    for run in runs:
        run_dir = Path(seed_dir) / "runs" / run
        every = ensemble_lines(run_dir)
        if not every:
            continue
        lines = [r for r in every if _in_period(r.get("time"), times)]
        ratios = [r["ensemble"].get("spread_skill") for r in lines]
        ratios = [v for v in ratios if v is not None and np.isfinite(v)]
        counts = [r["ensemble"]["rank_histogram"] for r in lines
                  if r["ensemble"].get("rank_histogram")]
        row = {"spread_skill_obs": float(np.mean(ratios)) if ratios else None,
               **truth_scores(run_dir, truth, times), "analyses": len(lines)}
        table[run] = {PERIOD: row}
        histograms[run] = np.sum(counts, axis=0).astype(int).tolist() if counts else []
    return {"table": table, "rank_histogram": histograms}


def summed_histograms(per_seed: dict) -> dict:
    """{run: counts} summed over the seeds ({seed: {run: counts}}) of equal length."""
    out: dict = {}
    for hist in per_seed.values():
        for run, counts in hist.items():
            if not counts:
                continue
            prev = out.get(run)
            out[run] = list(counts) if prev is None else \
                (np.asarray(prev) + np.asarray(counts)).astype(int).tolist()
    return out
