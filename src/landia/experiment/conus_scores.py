r"""The scores of ``landia experiment conus-smap`` (docs/conus-scores.md).

Three kinds, each against what the real world offers (no truth):

**Withheld scores** (:func:`pair_scores`) -- at the cells never assimilated, pairs of a run's
state at 12 UTC (after the analysis in DA runs), as its 0-5 cm equivalent
(:func:`~landia.experiment.conus_output.smap_equivalent`), and SMAP of that day, rescaled to
the model's climatology cell by cell by CDF matching
(:func:`~landia.observations.rescaling.cdf_map`) trained on CTRL's first year of 0-5 cm
equivalents against SMAP (:func:`training_climatology`). Per cell with at least
``min_pairs`` pairs:

* the anomaly correlation: both series minus their own seasonal cycle
  (:func:`seasonal_cycle`: mean + annual + semi-annual harmonics fitted by least squares to
  the cell's paired values of that series over the scored period), then Pearson's R;
* ubRMSE :math:`\sqrt{\overline{((m - \bar m) - (o - \bar o))^2}}` (bias removed, so a constant
  offset does not count);
* the raw R (Pearson's R of the values).

Reported: the mean over the cells, the number of cells and of pairs.

**O-F innovations** (:func:`innovation_statistics`) -- of the 1-day forecasts at every
observed cell (assimilated and withheld), top model layer: SMAP of the day rescaled by the
experiment's ``climatology.nc`` exactly as the cycle does
(:func:`~landia.observations.rescaling.rescale`, method ``cdf``) minus the forecast: the
``background`` of a deterministic DA run's analysis file, the ensemble mean before the
analysis of an ensemble run, CTRL's state at that time. Mean, standard deviation and count,
overall and per season (DJF, MAM, JJA, SON); a DA run's standard deviation is also compared
with CTRL's over the same samples.

**Persistence** (:func:`persistence`) -- in the free year without assimilation, the land mean
of :math:`|x_\mathrm{run} - x_\mathrm{CTRL}|` each day (0-5 cm and every layer), and the first
day it is below half its first-day value.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from landia.errors import InputError
from landia.experiment.conus_output import ConusOutput, smap_equivalent
from landia.io.climatology_file import Climatology, read_climatology
from landia.observations.rescaling import climatology_statistics, rescale

#: Angular frequency of the annual harmonic, rad per day.
OMEGA = 2.0 * np.pi / 365.25
SEASONS = {"DJF": (12, 1, 2), "MAM": (3, 4, 5), "JJA": (6, 7, 8), "SON": (9, 10, 11)}
#: Fewest pairs for a cell to be scored.
MIN_PAIRS = 30
#: Fewest training pairs for a cell's CDF matching (as ``observations.min_climatology_samples``).
MIN_TRAINING = 30
DISCARD_DAYS = 30
_DAY = np.timedelta64(86400, "s")


# ------------------------------------------------------------------ arithmetic (no files)
def harmonic_design(times) -> np.ndarray:
    r"""Regressors of the seasonal cycle, (nt, 5): :math:`1, \cos\omega d, \sin\omega d,
    \cos 2\omega d, \sin 2\omega d` with :math:`d` the day number (since 2000-01-01) and
    :math:`\omega = 2\pi / 365.25` d-1."""
    d = (np.asarray(times, dtype="datetime64[s]") - np.datetime64("2000-01-01", "s")) / _DAY
    d = d.astype(float)
    return np.stack([np.ones_like(d), np.cos(OMEGA * d), np.sin(OMEGA * d),
                     np.cos(2 * OMEGA * d), np.sin(2 * OMEGA * d)], axis=1)


def seasonal_cycle(times, series: np.ndarray) -> np.ndarray:
    r"""The least-squares seasonal cycle of each column of ``series``.

    Parameters
    ----------
    times : array of datetime64 (nt,)
    series : ndarray (nt, ncell)
        NaN where absent.

    Returns
    -------
    ndarray (nt, ncell)
        :math:`A\hat c` with :math:`\hat c = (A^T M A)^+ A^T M y` per column (:math:`A` of
        :func:`harmonic_design`, :math:`M` the diagonal of its finite samples); NaN where
        ``series`` is NaN.
    """
    y = np.asarray(series, dtype=float)
    a = harmonic_design(times)
    m = np.isfinite(y).astype(float)
    y0 = np.where(m > 0, y, 0.0)
    gram = np.einsum("tc,ti,tj->cij", m, a, a)
    rhs = np.einsum("tc,ti->ci", y0, a)
    coef = np.einsum("cij,cj->ci", np.linalg.pinv(gram, hermitian=True), rhs)
    return np.where(m > 0, a @ coef.T, np.nan)


def _correlation(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson R of each column of x and y (all finite), NaN for a constant column."""
    xd, yd = x - x.mean(axis=0), y - y.mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (xd * yd).sum(axis=0) / np.sqrt((xd * xd).sum(axis=0) * (yd * yd).sum(axis=0))


def pair_scores(times, model: np.ndarray, obs: np.ndarray, min_pairs: int = MIN_PAIRS) -> dict:
    """Anomaly R, ubRMSE and raw R of model against observations, per cell then averaged.

    Parameters
    ----------
    times : array of datetime64 (nt,)
    model, obs : ndarray (nt, ncell)
        m3 m-3; a pair counts where both are finite.
    min_pairs : int
        Fewest pairs for a cell to be scored.

    Returns
    -------
    dict
        ``anomaly_r``, ``ubrmse`` (m3 m-3), ``raw_r``, ``bias`` (mean model minus
        observation, m3 m-3): means over the scored cells (None without one); ``n`` pairs and
        ``cells`` of the scored cells.
    """
    m = np.asarray(model, dtype=float)
    o = np.asarray(obs, dtype=float)
    ok = np.isfinite(m) & np.isfinite(o)
    cells = np.flatnonzero(ok.sum(axis=0) >= min_pairs)
    rs, ubs, raws, biases, n = [], [], [], [], 0
    for c in cells:
        k = ok[:, c]
        t, mc, oc = np.asarray(times)[k], m[k, c], o[k, c]
        am = mc - seasonal_cycle(t, mc[:, None])[:, 0]
        ao = oc - seasonal_cycle(t, oc[:, None])[:, 0]
        rs.append(_correlation(am[:, None], ao[:, None])[0])
        raws.append(_correlation(mc[:, None], oc[:, None])[0])
        ubs.append(np.sqrt(np.mean(((mc - mc.mean()) - (oc - oc.mean())) ** 2)))
        biases.append(np.mean(mc - oc))
        n += int(k.sum())

    def mean(v):
        v = np.asarray(v, dtype=float)
        v = v[np.isfinite(v)]
        return float(v.mean()) if v.size else None

    return {"anomaly_r": mean(rs), "ubrmse": mean(ubs), "raw_r": mean(raws),
            "bias": mean(biases), "n": n, "cells": int(cells.size)}


def season_of(times) -> np.ndarray:
    """The meteorological season (DJF, MAM, JJA, SON) of each time."""
    months = (np.asarray(times, dtype="datetime64[M]").astype(int) % 12) + 1
    out = np.empty(months.shape, dtype="<U3")
    for name, ms in SEASONS.items():
        out[np.isin(months, ms)] = name
    return out


def _moments(values: np.ndarray) -> dict:
    v = values[np.isfinite(values)]
    return {"mean": float(v.mean()) if v.size else None,
            "std": float(v.std(ddof=1)) if v.size > 1 else None, "n": int(v.size)}


def innovation_statistics(times, innovations: np.ndarray, reference: np.ndarray | None = None
                          ) -> dict:
    """Mean, standard deviation (ddof 1) and count of O-F, overall and per season.

    Parameters
    ----------
    times : array of datetime64 (nt,)
    innovations : ndarray (nt, ...)
        O-F, m3 m-3, NaN where none.
    reference : ndarray like ``innovations``, optional
        CTRL's O-F: then each block also has ``std_change``, the relative change of the
        standard deviation against CTRL's over the samples both have,
        (std - std_ctrl) / std_ctrl, and ``ctrl_std`` over them.

    Returns
    -------
    dict
        ``mean``, ``std``, ``n`` [, ``std_change``, ``ctrl_std``] and ``seasons``: the same per
        season (those with samples).
    """
    d = np.asarray(innovations, dtype=float)
    seasons = season_of(times)

    def block(sel):
        out = _moments(d[sel])
        if reference is not None:
            both = np.isfinite(d[sel]) & np.isfinite(reference[sel])
            mine, ctrl = _moments(d[sel][both]), _moments(reference[sel][both])
            out["ctrl_std"] = ctrl["std"]
            out["std_change"] = (mine["std"] - ctrl["std"]) / ctrl["std"] \
                if mine["std"] is not None and ctrl["std"] else None
        return out

    result = block(np.ones(len(seasons), dtype=bool))
    result["seasons"] = {s: block(seasons == s) for s in SEASONS
                         if np.isfinite(d[seasons == s]).any()}
    return result


def training_climatology(model: np.ndarray, obs: np.ndarray, start, end) -> Climatology:
    """Per-cell CDF climatology of paired 0-5 cm equivalents ``model`` and SMAP ``obs``,
    (nt, ny, nx) each, as one layer (:func:`~landia.observations.rescaling.
    climatology_statistics`, 101 quantile levels)."""
    ny, nx = model.shape[1:]
    return climatology_statistics(model[:, None], obs[:, None], 101, lat=np.arange(ny, dtype=float),
                                  lon=np.arange(nx, dtype=float), depth=np.array([0.025]),
                                  start=start, end=end)


def cdf_rescale(obs: np.ndarray, clim: Climatology, min_samples: int = MIN_TRAINING
                ) -> np.ndarray:
    """``obs`` (nt, ny, nx) mapped by the one-layer ``clim`` (CDF matching); NaN where
    refused (fewer than ``min_samples`` training pairs, or a flat map)."""
    return np.array([rescale(o[None], 0.0, clim, "cdf", min_samples).values[0] for o in obs])


def persistence(times, run: np.ndarray, ctrl: np.ndarray) -> dict:
    """How long a free run stays apart from CTRL's free run.

    Parameters
    ----------
    times : array of datetime64 (nt,)
    run, ctrl : ndarray (nt, nlayer, ny, nx)
        States of the free runs, m3 m-3, NaN off land.

    Returns
    -------
    dict
        ``start``; ``surface``: the land mean of :math:`|run - ctrl|` of the 0-5 cm equivalent
        each day (m3 m-3); ``layers``: the same per layer (layer-major lists);
        ``half_day_surface`` and ``half_day_layers``: the first day index at which the value
        is below half its first-day value (None if never, or when the first day's is 0).
    """
    diff = np.abs(np.asarray(run, float) - np.asarray(ctrl, float))
    surf = np.abs(smap_equivalent(run) - smap_equivalent(ctrl))
    with np.errstate(invalid="ignore"):
        s = np.nanmean(surf.reshape(len(surf), -1), axis=1)
        lay = np.nanmean(diff.reshape(diff.shape[0], diff.shape[1], -1), axis=2).T
    return {"start": str(np.datetime64(times[0], "s")) + "Z" if len(times) else None,
            "days": int(len(times)),
            "surface": [round(float(v), 7) for v in s],
            "layers": [[round(float(v), 7) for v in row] for row in lay],
            "half_day_surface": half_day(s),
            "half_day_layers": [half_day(row) for row in lay]}


def half_day(series) -> int | None:
    """First index where ``series`` is below half its first value (None if never)."""
    s = np.asarray(series, dtype=float)
    if not s.size or not np.isfinite(s[0]) or s[0] <= 0:
        return None
    below = np.flatnonzero(s < 0.5 * s[0])
    return int(below[0]) if below.size else None


# ---------------------------------------------------------------------- the experiment
def periods(first: datetime, last: datetime, discard_days: int = DISCARD_DAYS) -> dict:
    """Scored periods (both ends included): ``all`` from ``first + discard_days`` to ``last``,
    and ``year1``, ``year2``, ... the years from ``first`` (the first after the discard)."""
    start = first + timedelta(days=discard_days)
    out = {"all": (start, last)}
    k = 0
    while True:
        a = first.replace(year=first.year + k)
        b = first.replace(year=first.year + k + 1) - timedelta(seconds=1)
        if a > last:
            break
        out[f"year{k + 1}"] = (max(a, start), min(b, last))
        k += 1
    return out


def _within(times, span) -> np.ndarray:
    t = np.asarray(times, dtype="datetime64[s]")
    return (t >= np.datetime64(span[0], "s")) & (t <= np.datetime64(span[1], "s"))


def _iso(t: datetime) -> str:
    return f"{t:%Y-%m-%dT%H:%M:%S}Z"


def _span(times, span) -> dict:
    """``start`` and ``end``: the first and last SMAP time of a period (its bounds if none)."""
    if len(times):
        return {"start": str(times[0]) + "Z", "end": str(times[-1]) + "Z"}
    return {"start": _iso(span[0]), "end": _iso(span[1])}


def score_experiment(out_dir, runs, *, discard_days: int = DISCARD_DAYS,
                     min_pairs: int = MIN_PAIRS, min_training: int = MIN_TRAINING,
                     min_climatology_samples: int = 30, free_start=None) -> dict:
    """Every score of the experiment's output folder (module notes, docs/conus-scores.md).

    Parameters
    ----------
    out_dir : path-like or ConusOutput
        The experiment's folder (:mod:`landia.experiment.conus_output`); pass the same
        :class:`~landia.experiment.conus_output.ConusOutput` to the report to read the files
        once.
    runs : list of str
        The assimilation-period runs, CTRL first (``ctrl``, ``point``, ...); runs absent from
        ``runs/`` are skipped; ``<run>_free`` and ``ctrl_free`` give the persistence.
    discard_days : int
        Days after the first SMAP day that are not scored.
    min_pairs, min_training : int
        Fewest pairs for a scored cell; fewest training pairs for a cell's CDF matching.
    min_climatology_samples : int
        ``observations.min_climatology_samples`` of the DA runs (the O-F rescaling).
    free_start : datetime64 or str, optional
        Where the runs themselves go on without assimilation (``cycle.assimilation_end``):
        the persistence pairs each run's states from then on with CTRL's (the runs of
        ``landia experiment conus-smap``); None: the ``<run>_free`` and ``ctrl_free`` runs.

    Returns
    -------
    dict
        ``{run: {"withheld", "withheld_by_year", "innovation", "innovation_withheld"},
        "persistence": {run: ...}, "scoring": {...}}`` (see docs/conus-scores.md).

    Raises
    ------
    InputError
        ``ctrl`` absent, or a needed file missing (naming it).
    """
    out = ConusOutput.of(out_dir)
    present = [r for r in runs if out.has_run(r)]
    if "ctrl" not in present:
        raise InputError(f"{out.run_dir('ctrl') / 'states'}: CTRL's states are needed (the "
                         "rescaling is trained on them)")
    withheld = out.withheld()
    times, smap, _, _ = out.smap()
    if smap.shape[1:] != withheld.shape:
        raise InputError(f"{out.root / 'withheld_cells.nc'}: grid {withheld.shape} differs "
                         f"from the SMAP images' {smap.shape[1:]}")
    first, last = (t.astype(datetime) for t in (times[0], times[-1]))
    spans = periods(first, last, discard_days)
    _, rescaled, train = rescaled_smap(out, min_training)
    cells = np.flatnonzero(withheld.ravel())

    results: dict = {}
    scored = _within(times, spans["all"])
    for run in present:
        _, surf = out.surface(run, times[scored])
        m = surf.reshape(len(surf), -1)[:, cells]
        o = rescaled[scored].reshape(int(scored.sum()), -1)[:, cells]
        ts = times[scored]
        entry = {"withheld": {**pair_scores(ts, m, o, min_pairs), **_span(ts, spans["all"])}}
        entry["withheld_by_year"] = {}
        for name, span in spans.items():
            if name == "all":
                continue
            k = _within(ts, span)
            entry["withheld_by_year"][name] = {**pair_scores(ts[k], m[k], o[k], min_pairs),
                                               **_span(ts[k], span)}
        results[run] = entry
    _innovations(out, present, times[scored], scored, withheld, results,
                 min_climatology_samples)
    hour = first.hour
    if free_start is not None:
        results["persistence"] = {}
        for r in present:
            pair = None if r == "ctrl" else _continued_pair(out, r, hour, free_start)
            if pair is not None:
                results["persistence"][r] = persistence(*pair)
    else:
        results["persistence"] = {r: persistence(*_free_pair(out, r, hour)) for r in present
                                  if r != "ctrl" and out.has_run(f"{r}_free")
                                  and out.has_run("ctrl_free")}
    results["scoring"] = {
        "runs": present, "skipped": [r for r in runs if r not in present],
        "periods": {k: list(_span(times[_within(times, v)], v).values())
                    for k, v in spans.items()},
        "training": [str(times[train][0]) + "Z", str(times[train][-1]) + "Z"],
        "withheld_cells": int(withheld.sum()),
        "min_pairs": min_pairs, "min_training": min_training,
        "model_equivalent": "thickness-weighted 0-5 cm mean of the CoLM layers",
        "innovation_layer": 1}
    return results


def rescaled_smap(out: ConusOutput, min_training: int = MIN_TRAINING):
    """SMAP of every day rescaled to CTRL's 0-5 cm climatology of the first year.

    Returns
    -------
    times : ndarray datetime64[s] (nt,)
    rescaled : ndarray (nt, ny, nx)
        m3 m-3, NaN where none or refused (:func:`cdf_rescale`).
    training : ndarray of bool (nt,)
        The training days: the first SMAP day and the year after it.
    """
    times, smap, _, _ = out.smap()
    first = times[0].astype(datetime)
    train = _within(times, (first, first.replace(year=first.year + 1) - timedelta(seconds=1)))
    _, ctrl_train = out.surface("ctrl", times[train])
    clim = training_climatology(ctrl_train, smap[train], times[train][0], times[train][-1])
    return times, cdf_rescale(smap, clim, min_training), train


def _innovations(out: ConusOutput, runs, times, scored, withheld, results, min_samples):
    """O-F of the top layer at every observed cell (module notes) into ``results``."""
    clim = read_climatology(out.root / "climatology.nc")
    _, images, _, _ = out.smap_images()
    y = np.array([rescale(v, 0.0, clim, "cdf", min_samples).values[0]
                  for v in images[scored]])
    labels = [t.astype(datetime) for t in times]
    innov = {}
    for run in runs:
        if run == "ctrl":
            _, x = out.states("ctrl", times)
            fc = x[:, 0]
        else:
            bg = out.backgrounds(run)
            fc = np.array([bg[t][0] if t in bg else np.full(withheld.shape, np.nan)
                           for t in labels])
        innov[run] = y - fc
    ref = innov.get("ctrl")
    for run, d in innov.items():
        r = None if run == "ctrl" else ref
        results[run]["innovation"] = innovation_statistics(times, d, r)
        results[run]["innovation_withheld"] = innovation_statistics(
            times, np.where(withheld[None], d, np.nan), r)


def _continued_pair(out: ConusOutput, run: str, hour: int, free_start):
    """The states of ``run`` and of CTRL from ``free_start`` on at the day's ``hour`` (UTC),
    or None when the run stops at ``free_start`` (no free year)."""
    t0 = np.datetime64(free_start, "s")
    common = np.intersect1d(out.state_times(run), out.state_times("ctrl"))
    common = common[(common >= t0)
                    & ((common.astype("datetime64[h]").astype(np.int64) % 24) == hour)]
    if common.size < 2:
        return None
    _, a = out.states(run, common)
    _, b = out.states("ctrl", common)
    return common, a, b


def _free_pair(out: ConusOutput, run: str, hour: int):
    """The states of ``<run>_free`` and ``ctrl_free`` at their common times of the day's
    ``hour`` (UTC; SMAP's): one per day, as the scores of the assimilation period."""
    t_run = out.state_times(f"{run}_free")
    t_ctrl = out.state_times("ctrl_free")
    common = np.intersect1d(t_run, t_ctrl)
    common = common[(common.astype("datetime64[h]").astype(np.int64) % 24) == hour]
    if not common.size:
        raise InputError(f"{out.run_dir(run + '_free')}: no state time in common with "
                         f"{out.run_dir('ctrl_free')}")
    _, a = out.states(f"{run}_free", common)
    _, b = out.states("ctrl_free", common)
    return common, a, b
