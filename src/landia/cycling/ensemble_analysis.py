"""The LETKF of an ensemble cycle on every rank: observations, halo, local analysis, statistics.

1. **observations** -- the root reads the window's observation file as the deterministic
   cycle does (:func:`~landia.observations.timing.read_observation`, the bias correction, the
   withheld cells, the one QC :func:`~landia.observations.qc.quality_control`) and broadcasts
   the valid observations of the top ``analysis.layers`` layers as four arrays in ascending
   (global land index, layer) order (:class:`ObservationSet`);
2. **halo** -- each rank sends the members' volumetric soil moisture of those layers at its
   cells through the halo exchange (:func:`landia.exchange.halo.exchange_halo`, radius 2c,
   the support of the Gaspari-Cohn weights) and takes each member's model equivalent
   :math:`H x^b_m` of every observation in its halo;
3. **gross-error check** -- an observation with
   :math:`|y^o - \\overline{H x^b}| > 5 \\sqrt{\\sigma^2_{HX} + r}` is rejected (every rank
   that sees it decides alike: the test depends on that observation's numbers only);
4. **LETKF** -- :func:`landia.analysis.letkf.letkf_analysis` for the rank's own cells, the
   state being the volumetric soil moisture of the top ``analysis.layers`` layers, or of the
   top ``ensemble.update_layers`` (the observed layers' weights move the deeper ones through
   the members' covariances). The
   observation arrays stay in ascending global order, so a cell's analysis does not depend
   on the number of ranks. With ``ensemble.adaptive_inflation`` each of the rank's cells
   carries its own prior inflation, estimated by every analysis from its innovations
   (:func:`landia.analysis.letkf.adaptive_inflation`);
5. **statistics** -- each rank's observations at its own cells are a contiguous piece of the
   global order: gathered in rank order to the root, they give the innovation statistics
   (:mod:`landia.diagnostics.ensemble`) of the whole set, with the same bits on any number of
   ranks.

The ensemble is never gathered whole for the analysis.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from landia.analysis.letkf import letkf_analysis, localise
from landia.diagnostics.ensemble import (gross_error_mask, innovation_statistics, member_mean,
                                         member_variance)
from landia.exchange.halo import HaloPlan, exchange_halo
from landia.observations.qc import quality_control

#: Stream of the rank histogram's observation-error noise: ``default_rng([cycle, 11])``.
RANK_HISTOGRAM_STREAM = 11


@dataclass(frozen=True)
class ObservationSet:
    """Valid observations of one analysis, ascending by (global land index, layer).

    Attributes
    ----------
    cells : ndarray of int (p,)
        Global land index of each observation's cell.
    layers : ndarray of int (p,)
        0-based model layer.
    values : ndarray (p,)
        Observed volumetric soil moisture, m3 m-3.
    error_variance : ndarray (p,)
        Observation-error variance r, (m3 m-3)^2.
    """

    cells: np.ndarray
    layers: np.ndarray
    values: np.ndarray
    error_variance: np.ndarray

    @property
    def size(self) -> int:
        return int(self.cells.size)

    @classmethod
    def from_image(cls, observation, grid, porosity: np.ndarray, settings) -> ObservationSet:
        """The valid observations of an observation image on the model grid.

        QC as the 3D-Var's (:func:`~landia.observations.qc.quality_control`): bounds
        ``analysis.lower_bound`` and the porosity (or ``analysis.upper_bound``), a layer with
        fewer than ``analysis.min_valid_cells`` valid cells refused; the error variance is the
        file's, else ``analysis.observation_error_variance``.

        Parameters
        ----------
        observation : SoilMoistureField
        grid : LatLonGrid
        porosity : ndarray (n_land, nlayer)
            Upper bound of every land cell's layers, m3 m-3.
        settings : Settings
        """
        a = settings.analysis
        nl = min(a.layers, observation.n_layers)
        upper = (porosity[:, :nl].T if a.upper_bound == "porosity"
                 else np.full((nl, grid.n_land), float(a.upper_bound)))
        ovar = observation.error_variance
        qc = quality_control(observation.values[:nl], grid.land, lower=a.lower_bound,
                             upper=grid.to_field(upper),
                             error_variance=None if ovar is None else ovar[:nl],
                             min_valid_cells=a.min_valid_cells)
        values = grid.to_land(qc.values)  # (nl, n_land)
        r = (grid.to_land(qc.error_variance) if qc.error_variance is not None
             else np.full_like(values, a.observation_error_variance))
        cells, layers = np.nonzero(np.isfinite(values).T)  # row-major: by cell, then layer
        return cls(cells=cells.astype(np.int64), layers=layers.astype(np.int64),
                   values=values[layers, cells], error_variance=r[layers, cells])

    @classmethod
    def empty(cls) -> ObservationSet:
        none = np.zeros(0)
        return cls(none.astype(np.int64), none.astype(np.int64), none, none)

    def as_tuple(self):
        return self.cells, self.layers, self.values, self.error_variance


@dataclass
class LetkfOutcome:
    """One rank's LETKF: analysis members and what the root needs for the statistics.

    Attributes
    ----------
    xa : ndarray (N, n_local, layers)
        Analysis members at the rank's cells, m3 m-3.
    yo, r_var, kept : ndarray (p_own,)
        Observations at the rank's own cells, their error variances, whether they passed the
        gross-error check.
    hx : ndarray (N, p_own)
        The members' background equivalents of those observations.
    seconds : float
        Time of the rank's halo exchange and LETKF.
    """

    xa: np.ndarray
    yo: np.ndarray
    r_var: np.ndarray
    kept: np.ndarray
    hx: np.ndarray
    seconds: float


class EnsembleAnalysis:
    """The LETKF of one rank's cells (see the module notes).

    Parameters
    ----------
    grid : LatLonGrid
    decomposition : Decomposition
    rank : int
    ensemble : EnsembleSettings
        ``localisation_km`` (0: none), ``inflation``, ``inflation_factor``,
        ``prior_inflation``, ``adaptive_inflation``, ``adaptive_inflation_std``.

    Attributes
    ----------
    prior_inflation : float or ndarray (n_local,)
        The prior inflation of the next analysis: ``ensemble.prior_inflation``, or with
        ``adaptive_inflation`` each of the rank's cells' carried estimate (updated by every
        analysis; the cycle gathers it for the checkpoint and scatters it back on restart).
    """

    def __init__(self, grid, decomposition, rank: int, ensemble):
        self.length_km = ensemble.localisation_km or math.inf
        self.inflation, self.factor = ensemble.inflation, ensemble.inflation_factor
        self.adaptive_std = (ensemble.adaptive_inflation_std if ensemble.adaptive_inflation
                             else None)
        self.prior_inflation = (np.full(decomposition.count(rank), ensemble.prior_inflation)
                                if self.adaptive_std is not None else ensemble.prior_inflation)
        lat2, lon2 = np.meshgrid(grid.lat, grid.lon, indexing="ij")
        self.lat, self.lon = lat2[grid.land], lon2[grid.land]
        self.block = decomposition.block(rank)
        # Gaspari-Cohn weights vanish beyond 2c: the halo holds every cell that can matter.
        self.plan = HaloPlan.build(grid, decomposition, 2.0 * self.length_km)

    def analyse(self, comm, xb: np.ndarray, obs: ObservationSet) -> LetkfOutcome:
        """The LETKF of the rank's cells (collective: the halo exchange).

        Parameters
        ----------
        xb : ndarray (N, n_local, layers)
            Background members at the rank's cells, m3 m-3: the observed layers and any
            deeper ones to be updated with them.
        obs : ObservationSet
            Every valid observation (the same on every rank); layers < ``layers``.
        """
        t0 = time.perf_counter()
        n, n_local, nl = xb.shape
        local = np.ascontiguousarray(xb.transpose(1, 0, 2).reshape(n_local, n * nl))
        cells, values = exchange_halo(comm, self.plan, local)
        seen = np.isin(obs.cells, cells)
        where = np.searchsorted(cells, obs.cells[seen])
        # hx[m, j] = member m's value of the observed layer at the observation's cell
        columns = np.arange(n)[:, None] * nl + obs.layers[seen][None, :]
        hx = values[where[None, :], columns]
        yo, r_var = obs.values[seen], obs.error_variance[seen]
        kept = gross_error_mask(yo, member_mean(hx), member_variance(hx), r_var)
        xa = xb.copy()
        if n_local and kept.any():
            index = np.flatnonzero(seen)[kept]
            loc = localise(self.lat[self.block], self.lon[self.block], self.lat[obs.cells[index]],
                           self.lon[obs.cells[index]], self.length_km)
            result = letkf_analysis(xb, hx[:, kept], yo[kept], r_var[kept], loc,
                                    inflation=self.inflation, inflation_factor=self.factor,
                                    prior_inflation=self.prior_inflation,
                                    adaptive_std=self.adaptive_std)
            xa = result.xa
            if result.inflation is not None:
                self.prior_inflation = result.inflation
        own = (obs.cells[seen] >= self.block.start) & (obs.cells[seen] < self.block.stop)
        return LetkfOutcome(xa=np.asarray(xa), yo=yo[own], r_var=r_var[own], kept=kept[own],
                            hx=hx[:, own], seconds=time.perf_counter() - t0)


def gathered_statistics(comm, outcome: LetkfOutcome, members: int, cycle: int) -> dict | None:
    """Root: the innovation statistics of every used observation (global order), the counts
    of used and rejected ones and the slowest rank's LETKF seconds; None elsewhere.
    Collective."""
    parts = comm.gather((outcome.yo, outcome.r_var, outcome.kept, outcome.hx,
                         outcome.seconds), root=0)
    if comm.Get_rank() != 0:
        return None
    yo = np.concatenate([p[0] for p in parts])
    r_var = np.concatenate([p[1] for p in parts])
    kept = np.concatenate([p[2] for p in parts]).astype(bool)
    hx = np.concatenate([p[3].reshape(members, -1) for p in parts], axis=1)
    rng = np.random.default_rng([int(cycle), RANK_HISTOGRAM_STREAM])
    stats = innovation_statistics(yo[kept], hx[:, kept], r_var[kept], rng)
    stats.update(obs_used=int(kept.sum()), obs_rejected=int((~kept).sum()),
                 letkf_seconds=round(max(p[4] for p in parts), 4))
    return stats
