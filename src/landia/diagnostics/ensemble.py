"""Ensemble diagnostics of a cycle: spread, innovations, spread-skill ratio, rank histogram.

Pure functions of arrays in the global order (of the land cells, or of the observations),
so that a cycle that computes them on the root from gathered values writes the same numbers
on any number of MPI ranks. Ensemble variances use N - 1 (the unbiased estimate):

.. math:: \\sigma^2 = \\frac{1}{N-1} \\sum_m (x^m - \\bar x)^2

Observation-space statistics over the p used observations, with
:math:`d = y^o - \\overline{H x^b}` and :math:`\\sigma_{HX}^2` the members' variance of
:math:`H x^b`:

* innovation mean :math:`\\bar d` and standard deviation (population, 1/p);
* obs-space spread :math:`\\sqrt{\\langle \\sigma_{HX}^2 \\rangle}`;
* spread-skill ratio :math:`\\sqrt{\\langle \\sigma_{HX}^2 \\rangle + \\langle r \\rangle}
  / \\sqrt{\\langle d^2 \\rangle}` (1 for a well-dispersed ensemble, Fortin et al. 2014);
* rank histogram: the rank of each :math:`y^o` among the N members' :math:`H x^b`, each
  plus observation-error noise :math:`\\sqrt{r}\\,\\epsilon` (Hamill 2001), N + 1 counts.
"""

from __future__ import annotations

import numpy as np

#: Gross-error check: an observation is rejected when |O - mean HX| exceeds this many
#: sqrt(var HX + r).
GROSS_ERROR_SIGMAS = 5.0


def member_mean(values: np.ndarray) -> np.ndarray:
    """Mean over the members (axis 0), summed in member order."""
    values = np.asarray(values, dtype=float)
    total = np.zeros(values.shape[1:])
    for v in values:
        total = total + v
    return total / values.shape[0]


def member_variance(values: np.ndarray) -> np.ndarray:
    """Unbiased variance over the members (axis 0), (N - 1) in the denominator."""
    values = np.asarray(values, dtype=float)
    mean = member_mean(values)
    total = np.zeros(values.shape[1:])
    for v in values:
        total = total + (v - mean) ** 2
    return total / (values.shape[0] - 1)


def spread(variance: np.ndarray) -> float:
    """sqrt of the mean of per-cell variances (global order), m3 m-3; 0.0 for no cell."""
    variance = np.asarray(variance, dtype=float)
    return float(np.sqrt(variance.mean())) if variance.size else 0.0


def gross_error_mask(yo: np.ndarray, hx_mean: np.ndarray, hx_var: np.ndarray,
                     r_var: np.ndarray, sigmas: float = GROSS_ERROR_SIGMAS) -> np.ndarray:
    """True where an observation passes the check |O - mean HX| <= sigmas sqrt(var HX + r)."""
    return np.abs(np.asarray(yo) - hx_mean) <= sigmas * np.sqrt(np.asarray(hx_var) + r_var)


def rank_histogram(yo: np.ndarray, hx: np.ndarray, r_var: np.ndarray,
                   rng: np.random.Generator) -> list[int]:
    """Counts (N + 1) of the rank of each observation among its perturbed members.

    Parameters
    ----------
    yo : ndarray (p,)
        Observations (global order).
    hx : ndarray (N, p)
        Members' model equivalents.
    r_var : ndarray (p,)
        Observation-error variances: member values get :math:`\\sqrt{r}\\,\\epsilon`,
        :math:`\\epsilon` standard normal drawn from ``rng`` as one (p, N) array.
    rng : numpy.random.Generator

    Returns
    -------
    list of int
        ``counts[k]``: observations with exactly k perturbed members below them.
    """
    hx = np.asarray(hx, dtype=float)
    n, p = hx.shape
    noise = rng.standard_normal((p, n)).T * np.sqrt(np.asarray(r_var, dtype=float))
    ranks = np.sum(hx + noise < np.asarray(yo)[None, :], axis=0)
    return [int(c) for c in np.bincount(ranks, minlength=n + 1)]


def innovation_statistics(yo: np.ndarray, hx: np.ndarray, r_var: np.ndarray,
                          rng: np.random.Generator) -> dict:
    """Observation-space statistics of the used observations (see the module notes).

    Parameters
    ----------
    yo : ndarray (p,)
    hx : ndarray (N, p)
        Members' background equivalents :math:`H x^b_m`.
    r_var : ndarray (p,)
    rng : numpy.random.Generator
        For the rank histogram's observation-error noise.

    Returns
    -------
    dict
        ``innovation_mean``, ``innovation_std``, ``obs_space_spread``, ``spread_skill`` (None
        without observations or with zero innovations) and ``rank_histogram``.
    """
    yo = np.asarray(yo, dtype=float)
    hx = np.asarray(hx, dtype=float)
    r_var = np.asarray(r_var, dtype=float)
    n = hx.shape[0]
    if yo.size == 0:
        return {"innovation_mean": None, "innovation_std": None, "obs_space_spread": None,
                "spread_skill": None, "rank_histogram": [0] * (n + 1)}
    d = yo - member_mean(hx)
    var = member_variance(hx)
    mse = float(np.mean(d**2))
    return {"innovation_mean": float(d.mean()), "innovation_std": float(d.std()),
            "obs_space_spread": float(np.sqrt(var.mean())),
            "spread_skill": (float(np.sqrt(var.mean() + r_var.mean()) / np.sqrt(mse))
                             if mse > 0 else None),
            "rank_histogram": rank_histogram(yo, hx, r_var, rng)}
