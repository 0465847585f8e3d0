"""The ensemble-variational hybrid of an ensemble cycle (``ensemble.analysis = "hybrid"``).

The LETKF (:mod:`landia.cycling.ensemble_analysis`) gives the analysis perturbations; the
cycle's 3D-Var (``analysis.terms``: the image term, the point term or both, with JB) gives
their centre:

1. every rank sends the members' mean and variance of the analysed layers at its cells to
   the root (two (n_land, layers) arrays; the ensemble itself stays where it is);
2. the root runs the cycle's 3D-Var (:meth:`landia.cycling.run.CycleRunner._analyse`,
   with its outputs, alerts and run-log fields) on the ensemble mean, with B's variances

   .. math:: D = (1 - \\beta)\\, \\sigma^2_{static} + \\beta\\, \\max(\\sigma^2_{ens}, 10^{-6}),

   :math:`\\beta` = ``ensemble.hybrid_weight``, :math:`\\sigma^2_{static}` =
   ``analysis.background_error_variance``;
3. its increment is scattered, and every member is recentred on the 3D-Var analysis:

   .. math:: x_a^m = x_{3dvar} + \\big(x_{letkf}^m - \\overline{x_{letkf}}\\big)

A failed or refused 3D-Var (an alert, as in the deterministic cycle) leaves the centre at the
background mean: the members keep the LETKF's perturbations about it.

**Diagnosed covariances** (:func:`diagnosed_covariance`). With
``ensemble.diagnose_correlation_length`` the correlation length of B, and with
``ensemble.image_error_from_members`` JI's image-error variance per curvelet scale, come from
the members at each analysis (:mod:`landia.analysis.ensemble_covariance`). Both need every
member's top layer on the root: it is gathered one member at a time (n_land values each) and
folded into the statistics, so the root holds the top-layer perturbations (N n_land values)
and never the members' states.
"""

from __future__ import annotations

import contextlib

import numpy as np

from landia.analysis.ensemble_covariance import ImageSpread, correlation_length_km
from landia.diagnostics.ensemble import member_mean, member_variance
from landia.errors import InputError
from landia.exchange.collectives import gather_to_root, scatter_from_root
from landia.exchange.guards import on_root

#: Smallest background-error variance taken from the ensemble, (m3 m-3)^2.
VARIANCE_FLOOR = 1e-6


def hybrid_recentre(runner, xb: np.ndarray, xa_letkf: np.ndarray, window, record: dict,
                    obs=None):
    """Every rank: the recentred analysis members (N, n_local, layers). Collective.

    The 3D-Var analyses the top ``analysis.layers`` layers and recentres them; deeper
    layers the LETKF updated (``ensemble.update_layers``) keep the LETKF's members.

    Parameters
    ----------
    runner : EnsembleRunner
    xb, xa_letkf : ndarray (N, n_local, L)
        Background and LETKF analysis members at the rank's cells, m3 m-3, of the top
        L >= ``analysis.layers`` layers.
    window : Window
    record : dict
        The cycle's run-log record (the 3D-Var's fields go in it, on the root, and the
        hybrid's under ``"hybrid"``).
    obs : ObservationSet, optional
        The window's observations (the image-error variance from the members needs them).
    """
    comm, dec, nl = runner.comm, runner.decomposition, runner.layers
    e, a = runner.settings.ensemble, runner.settings.analysis
    xb_top = xb[..., :nl]
    mean_local = member_mean(xb_top)
    mean = gather_to_root(comm, dec, np.ascontiguousarray(mean_local))
    variance = gather_to_root(comm, dec, np.ascontiguousarray(member_variance(xb_top)))
    diagnosed = diagnosed_covariance(runner, xb, mean, obs)

    def analyse():
        beta = e.hybrid_weight
        blended = ((1.0 - beta) * a.background_error_variance
                   + beta * np.maximum(variance, VARIANCE_FLOOR))
        with _diagnosed_covariance(runner, diagnosed):
            inc = runner._analyse(mean, window, record, error_variance=blended)
        record["analysed"] = inc is not None
        record["hybrid"] = {"weight": beta, "ensemble_variance_mean": float(np.mean(variance)),
                            **{k: (v.tolist() if isinstance(v, np.ndarray) else v)
                               for k, v in (diagnosed or {}).items()}}
        return np.zeros((runner.grid.n_land, nl)) if inc is None else inc

    increment = scatter_from_root(comm, dec, on_root(comm, analyse), trailing_shape=(nl,))
    centre = mean_local + increment
    top = xa_letkf[..., :nl]
    recentred = centre[None] + (top - member_mean(top)[None])
    if xa_letkf.shape[-1] == nl:
        return recentred
    return np.concatenate([recentred, xa_letkf[..., nl:]], axis=-1)


def diagnosed_covariance(runner, xb: np.ndarray, mean, obs) -> dict | None:
    """Every rank (collective): on the root, the covariances diagnosed from the members for
    this analysis -- ``correlation_length_km`` (``ensemble.diagnose_correlation_length``)
    and ``image_error_variance`` per curvelet scale (``ensemble.image_error_from_members``,
    when the top layer is observed) -- or None when neither is asked for.

    ``xb`` are the rank's background members (N, n_local, layers), ``mean`` the gathered
    ensemble mean (root; None elsewhere), ``obs`` the window's observations.
    """
    e, a = runner.settings.ensemble, runner.settings.analysis
    want_length = e.diagnose_correlation_length and a.correlation_length_km > 0
    want_image = (e.image_error_from_members and "image" in a.terms and obs is not None
                  and bool(np.any(obs.layers == 0)))
    if not (want_length or want_image):
        return None
    grid, root = runner.grid, runner.rank == 0
    spread = perturbations = None
    if root:
        perturbations = np.empty((runner.members, grid.n_land))
        if want_image:
            top = obs.layers == 0
            image = np.full(grid.n_land, np.nan)
            image[obs.cells[top]] = obs.values[top]
            try:
                spread = ImageSpread(grid.to_field(image), grid.land, runner.settings,
                                     grid.lat, grid.lon)
            except InputError as exc:  # too few observed cells for the image operator
                runner.log.warning("hybrid_image_spread_skipped", reason=str(exc))
    for m in range(runner.members):  # one member's top layer at a time on the root
        top = gather_to_root(runner.comm, runner.decomposition,
                             np.ascontiguousarray(xb[m, :, 0]))
        if root:
            perturbations[m] = top - mean[:, 0]
            if spread is not None:
                spread.add(grid.to_field(top))
    if not root:
        return None
    out = {}
    if want_length:
        out["correlation_length_km"] = correlation_length_km(perturbations, grid,
                                                             a.correlation_steps)
    if spread is not None:
        out["image_error_variance"] = spread.variance()
    return out


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
