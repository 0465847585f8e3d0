"""Withheld observations: verification of an analysis without a truth (science notes 8).

Every analysis of a cycle can hold a random fraction of its observed cells out of the analysis
(``observations.withhold_fraction``) and score the background and the analysis against them.
The cells are drawn from the observed land cells by a generator seeded with
(``observations.withhold_seed``, cycle number): the same cells on any number of ranks, in a
restarted run and in a rerun, and other cells in every cycle. A withheld cell is withheld in
every layer.

Departures at the withheld cells, per layer: the count, the mean and the RMS of
observation minus background (O-B) and observation minus analysis (O-A), m3 m-3. Withheld
values pass the same QC as the analysed ones (:func:`landia.observations.qc.quality_control`,
on land, within the analysis bounds) before they are scored.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from landia.errors import InputError
from landia.io.fields import SoilMoistureField
from landia.observations.qc import quality_control

#: The per-layer departure statistics, in the order of the analysis file's variables.
STATISTICS = ("count", "omb_mean", "omb_rmse", "oma_mean", "oma_rmse")


def withheld_cells(observed: np.ndarray, fraction: float, seed: int, cycle: int) -> np.ndarray:
    """The cells to withhold: ``round(fraction x n)`` of the ``n`` observed cells, drawn
    without replacement by ``numpy.random.default_rng([seed, cycle])``.

    Parameters
    ----------
    observed : ndarray of bool (ny, nx)
        The cells with an observation.
    fraction : float in [0, 1)
    seed, cycle : int
        The run's withholding seed and the cycle number (both >= 0).

    Returns
    -------
    ndarray of bool (ny, nx)
    """
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"withhold fraction: expected a value in [0, 1), got {fraction}")
    observed = np.asarray(observed, dtype=bool)
    cells = np.flatnonzero(observed)
    mask = np.zeros(observed.shape, dtype=bool)
    k = int(round(fraction * cells.size))
    if k:
        rng = np.random.default_rng([int(seed), int(cycle)])
        mask.flat[np.sort(rng.choice(cells, size=k, replace=False))] = True
    return mask


def withhold(observation: SoilMoistureField, land: np.ndarray, fraction: float, seed: int,
             cycle: int) -> tuple[SoilMoistureField, np.ndarray]:
    """Split an observation image into what the analysis sees and what is withheld.

    Returns
    -------
    used : SoilMoistureField
        ``observation`` with NaN at the withheld cells (values and error variances); the
        very same object when ``fraction`` is 0.
    withheld : ndarray (nlayer, ny, nx) or None
        The withheld values, NaN elsewhere, m3 m-3; None when ``fraction`` is 0.

    Raises
    ------
    InputError
        The observation image is not on the grid of ``land``.
    """
    if fraction <= 0.0:
        return observation, None
    values = observation.values
    if observation.shape != np.shape(land):
        raise InputError(f"{observation.source}: observation grid {observation.shape} differs "
                         f"from the model grid {np.shape(land)}; regrid it first")
    observed = np.asarray(land, dtype=bool) & np.isfinite(values).any(axis=0)
    mask = withheld_cells(observed, fraction, seed, cycle)
    held = np.where(mask[None], values, np.nan)
    used_values = np.where(mask[None], np.nan, values)
    variance = observation.error_variance
    if variance is not None:
        variance = np.where(mask[None], np.nan, variance)
    used = dataclasses.replace(observation, values=used_values, error_variance=variance,
                               source=f"{observation.source} (withheld {int(mask.sum())} cells)")
    return used, held


def departures(withheld: np.ndarray, background: np.ndarray, analysis: np.ndarray,
               land: np.ndarray, lower, upper) -> dict:
    """O-B and O-A statistics at the withheld observations that pass the QC.

    Parameters
    ----------
    withheld : ndarray (nlayer, ny, nx)
        Withheld values (NaN elsewhere), m3 m-3; only the first ``background.shape[0]``
        layers are scored.
    background, analysis : ndarray (nlayer, ny, nx)
        m3 m-3.
    land : ndarray of bool (ny, nx)
    lower, upper : float or ndarray
        The analysis bounds (as for :func:`~landia.observations.qc.quality_control`).

    Returns
    -------
    dict
        ``observation``: the withheld values kept by the QC, (nlayer, ny, nx); and per layer
        (arrays of nlayer): ``count``, ``omb_mean``, ``omb_rmse``, ``oma_mean``, ``oma_rmse``
        (NaN where a layer has none).
    """
    nl = background.shape[0]
    qc = quality_control(withheld[:nl], land, lower=lower, upper=upper, min_valid_cells=1)
    y = qc.values
    out = {"observation": y, **{k: np.full(nl, np.nan) for k in STATISTICS[1:]},
           "count": np.zeros(nl, dtype=np.int64)}
    for k in range(nl):
        ok = np.isfinite(y[k])
        n = int(ok.sum())
        out["count"][k] = n
        if not n:
            continue
        for name, field in (("omb", background[k]), ("oma", analysis[k])):
            d = y[k][ok] - field[ok]
            out[f"{name}_mean"][k] = float(np.mean(d))
            out[f"{name}_rmse"][k] = float(np.sqrt(np.mean(d * d)))
    return out


def top_layer_summary(stats: dict) -> dict:
    """The top layer's departure statistics as JSON-ready numbers (None where undefined)."""
    out = {}
    for key in STATISTICS:
        v = stats[key][0]
        out[key] = int(v) if key == "count" else (None if math.isnan(v) else float(v))
    return out
