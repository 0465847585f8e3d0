"""The ensemble-variational hybrid of an ensemble cycle (``ensemble.analysis = "hybrid"``).

The LETKF (:mod:`landia.cycling.ensemble_analysis`) gives the analysis perturbations; the
image 3D-Var gives their centre:

1. every rank sends the members' mean and variance of the analysed layers at its cells to
   the root (two (n_land, layers) arrays; the ensemble itself stays where it is);
2. the root runs the cycle's image 3D-Var (:meth:`landia.cycling.run.CycleRunner._analyse`,
   with its outputs, alerts and run-log fields) on the ensemble mean, with B's variances the
   ensemble's, floored at :data:`VARIANCE_FLOOR`;
3. its increment is scattered, and every member is recentred on the 3D-Var analysis:

   .. math:: x_a^m = x_{3dvar} + \\big(x_{letkf}^m - \\overline{x_{letkf}}\\big)

A failed or refused 3D-Var (an alert, as in the deterministic cycle) leaves the centre at the
background mean: the members keep the LETKF's perturbations about it.

**Diagnosed covariances.** ``runner.hybrid_covariance`` (None by default) is where
covariances diagnosed from the ensemble plug in: called on every rank (it may communicate) as
``hybrid_covariance(comm, xb_local, mean, variance)`` with the rank's background members
(N, n_local, layers) and, on the root, the gathered mean and variance (None elsewhere); on the
root it returns None or a dict with ``correlation_length_km`` (float, replaces
``analysis.correlation_length_km``) and/or ``image_error_variance`` (one variance per curvelet
scale, replaces the carried ones) for this analysis.
"""

from __future__ import annotations

import contextlib

import numpy as np

from landia.diagnostics.ensemble import member_mean, member_variance
from landia.exchange.collectives import gather_to_root, scatter_from_root
from landia.exchange.guards import on_root

#: Smallest background-error variance taken from the ensemble, (m3 m-3)^2.
VARIANCE_FLOOR = 1e-6


def hybrid_recentre(runner, xb: np.ndarray, xa_letkf: np.ndarray, window, record: dict):
    """Every rank: the recentred analysis members (N, n_local, layers). Collective.

    Parameters
    ----------
    runner : EnsembleRunner
    xb, xa_letkf : ndarray (N, n_local, layers)
        Background and LETKF analysis members at the rank's cells, m3 m-3.
    window : Window
    record : dict
        The cycle's run-log record (the 3D-Var's fields go in it, on the root).
    """
    comm, dec, nl = runner.comm, runner.decomposition, runner.layers
    mean_local = member_mean(xb)
    mean = gather_to_root(comm, dec, np.ascontiguousarray(mean_local))
    variance = gather_to_root(comm, dec, np.ascontiguousarray(member_variance(xb)))
    diagnosed = (runner.hybrid_covariance(comm, xb, mean, variance)
                 if runner.hybrid_covariance is not None else None)

    def analyse():
        with _diagnosed_covariance(runner, diagnosed):
            inc = runner._analyse(mean, window, record,
                                  error_variance=np.maximum(variance, VARIANCE_FLOOR))
        record["analysed"] = inc is not None
        return np.zeros((runner.grid.n_land, nl)) if inc is None else inc

    increment = scatter_from_root(comm, dec, on_root(comm, analyse), trailing_shape=(nl,))
    centre = mean_local + increment
    return centre[None] + (xa_letkf - member_mean(xa_letkf)[None])


@contextlib.contextmanager
def _diagnosed_covariance(runner, diagnosed: dict | None):
    """The runner's settings and carried image-error variances replaced by the diagnosed
    ones for one analysis (root), restored afterwards."""
    if not diagnosed:
        yield
        return
    settings, carried = runner.settings, runner.image_error.values
    try:
        if "correlation_length_km" in diagnosed:
            runner.settings = settings.replace(
                "analysis", correlation_length_km=float(diagnosed["correlation_length_km"]))
        if "image_error_variance" in diagnosed:
            runner.image_error.values = np.asarray(diagnosed["image_error_variance"], float)
        yield
    finally:
        runner.settings, runner.image_error.values = settings, carried
