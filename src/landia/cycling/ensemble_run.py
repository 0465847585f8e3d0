"""The ensemble run of ``landia cycle`` (``[ensemble] enabled = true``; docs/ensemble.md).

:class:`EnsembleRunner` is the deterministic :class:`~landia.cycling.run.CycleRunner` with
its members: every rank steps its own cells for all N members, stacked member-major in one
state of N n_local columns (:mod:`landia.columns.ensemble`), with

* **forcing** -- the rank's record read or generated once per window, perturbed for member m
  by :class:`~landia.forcing.perturbation.ForcingPerturbation` of member
  ``perturbation.member + m`` (whole-grid draws: the same numbers on any number of ranks),
  then put on the model step;
* **soil** -- the landscape's, or with ``ensemble.texture_std`` each member's own texture
  (:func:`~landia.columns.ensemble.member_texture`);
* **analysis** -- ``letkf``: the LETKF on every rank for its own cells
  (:mod:`landia.cycling.ensemble_analysis`); ``hybrid``: the LETKF for the perturbations and
  the image 3D-Var of the ensemble mean on the root, with B's variances the ensemble's
  (:mod:`landia.cycling.ensemble_hybrid`); ``none``: an open loop. Increments go to each
  member's liquid water within bounds (:func:`~landia.columns.increment.apply_increment`);
* **outputs** -- ``states/state_*.nc`` holds the ensemble MEAN, ``ensemble/ens_*.nc`` its
  mean and spread (:mod:`landia.io.ensemble_file`) and, after an analysis, the mean before
  it (``soil_moisture_background``), the run-log line an ``ensemble`` record;
* **checkpoint** -- the whole ensemble, member by member (:mod:`.ensemble_checkpoint`), and
  with ``ensemble.adaptive_inflation`` every land cell's carried prior inflation (gathered to
  the root, the extra array :data:`INFLATION_CHECKPOINT_KEY`; scattered back on a restart).

The water budget of the run log is the budget of the member mean: the members' fluxes and
assimilation sources averaged cell by cell (in member order), then summed over the domain as
the deterministic run does (:mod:`landia.cycling.budget`); its largest step residual is the
largest of any member.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from landia.analysis.vertical import extend_increment
from landia.checkpoint import keep_last, write_checkpoint
from landia.columns.ensemble import block_parameters, block_state, join_blocks, \
    member_blocks, member_texture, member_values, stack_members, stack_parameters
from landia.columns.increment import apply_increment
from landia.columns.model import ModelState, step
from landia.columns.run import monthly_lai
from landia.columns.soil import SoilParameters
from landia.columns.state import ColumnParameters
from landia.cycling.budget import WindowBudget, domain_totals
from landia.cycling.clock import Window
from landia.cycling.ensemble_analysis import EnsembleAnalysis, gathered_statistics
from landia.cycling.ensemble_checkpoint import MEMBERS_KEY, gather_members, scatter_members
from landia.cycling.ensemble_hybrid import hybrid_recentre
from landia.cycling.ensemble_observations import window_observations
from landia.cycling.run import DT, CycleRunner
from landia.cycling.run_log import CHECKPOINT_KEY, record_line
from landia.cycling.static_inputs import cold_start_state, load_landscape
from landia.diagnostics.ensemble import member_mean, member_variance, spread
from landia.exchange.collectives import gather_to_root, scatter_from_root
from landia.exchange.guards import on_every_rank, on_root
from landia.forcing.interpolate import interpolate_forcing
from landia.forcing.perturbation import ForcingPerturbation
from landia.grid import colm_node_depths
from landia.io.ensemble_file import EnsembleFile, write_ensemble_file
from landia.io.fields import SoilMoistureField, write_field
from landia.io.naming import stamp, state_name
from landia.log import show_progress

#: Forcing variables stacked for the members (``rain``/``snow`` too when the record has them).
FORCING_VARIABLES = ("tair", "qair", "psurf", "wind", "swdown", "lwdown", "precip")
#: The checkpoint's extra array of the carried adaptive prior inflation, one per land cell.
INFLATION_CHECKPOINT_KEY = "prior_inflation"


def runner_class(settings):
    """The runner of a configuration: :class:`EnsembleRunner` or the deterministic one."""
    return EnsembleRunner if settings.ensemble.enabled else CycleRunner


class EnsembleRunner(CycleRunner):
    """One rank's share of an ensemble run (see the module notes)."""

    def __init__(self, comm, settings, run_dir, **kwargs):
        self.members = settings.ensemble.members
        super().__init__(comm, settings, run_dir, **kwargs)
        e, p = settings.ensemble, settings.perturbation
        self.member_ids = [p.member + m for m in range(self.members)]
        landscape = on_every_rank(comm, lambda: load_landscape(settings, self.grid, run_dir))
        textures = [member_texture(landscape.sand, landscape.clay, e.texture_std, p.seed, mid)
                    for mid in self.member_ids]
        self.member_porosity_all = [SoilParameters.from_sand_clay(*t).porosity
                                    for t in textures]
        self.ens_params = None
        if self.n_local:
            cover = landscape.land_cover[self.block]
            self.ens_params = stack_parameters([ColumnParameters.from_land_cover(
                SoilParameters.from_sand_clay(s[self.block], c[self.block],
                                              hydraulics=settings.cycle.hydraulics), cover)
                for s, c in textures])
        self.blocks = member_blocks(self.members, self.n_local)
        self.block_params = [block_parameters(self.ens_params, self.n_local, *b)
                             for b in self.blocks] if self.n_local else []
        self.perturbations = [ForcingPerturbation(self.grid, dataclasses.replace(p, member=mid),
                                                  cells=self.cells)
                              for mid in self.member_ids]
        self.letkf = EnsembleAnalysis(self.grid, self.decomposition, self.rank, e)

    def _prepare_run_dir(self) -> None:
        super()._prepare_run_dir()
        (self.run_dir / "ensemble").mkdir(parents=True, exist_ok=True)

    # -- start and restart -----------------------------------------------------------------
    def _cold_state(self, theta):
        n, soil = self.n_local, self.ens_params.soil
        states = []
        for m in range(self.members):
            part = soil.take(slice(m * n, (m + 1) * n))
            states.append(cold_start_state(self.settings, part, None if theta is None
                                           else np.minimum(theta, part.porosity)))
        return stack_members(states)

    def _restore_cells(self, extra):
        """With ``adaptive_inflation``: every rank takes its cells' carried inflation back
        from the checkpoint (the starting value where it has none, with a warning)."""
        if self.letkf.adaptive_std is None:
            return
        saved = None if extra is None else extra.get(INFLATION_CHECKPOINT_KEY)
        if not self.comm.bcast(saved is not None, root=0):
            if self.rank == 0:
                self.log.warning("prior_inflation_not_in_checkpoint",
                                 note="every cell starts again from ensemble.prior_inflation")
            return
        self.letkf.prior_inflation = scatter_from_root(
            self.comm, self.decomposition,
            None if saved is None else np.asarray(saved, dtype=np.float64))

    def _scatter(self, full):
        if self.rank == 0 and full.columns.n_columns == self.grid.n_land:
            full = stack_members([full] * self.members)  # a deterministic state (spin-up)
        return scatter_members(self.comm, self.decomposition, full, self.members)

    # -- model -----------------------------------------------------------------------------
    def _model(self, state, window: Window):
        """Step every member of the local cells through the window; (state, WindowBudget of
        the member mean, see the module notes)."""
        n, big = self.n_local, self.n_local * self.members
        budget = WindowBudget.for_window(big, window.start, window.end, DT)
        if not n:
            return state, WindowBudget.for_window(0, window.start, window.end, DT)
        raw = self.forcing.record(window.start, window.end)  # unperturbed (run.py)
        records = [interpolate_forcing(p.apply(raw, self.cells), window.start, window.end, DT)
                   for p in self.perturbations]
        names = FORCING_VARIABLES + (("rain", "snow") if records[0].rain is not None
                                     and records[0].snow is not None else ())
        lai = [monthly_lai(self.lai_monthly, t + np.timedelta64(int(DT // 2), "s"))
               for t in records[0].times]
        blocks = []
        # Whole members at a time, at most BLOCK_COLUMNS columns per step call (the members
        # are independent: the same bits as one call over all of them).
        for (first, stop), params in zip(self.blocks, self.block_params):
            part = block_state(state, n, first, stop)
            forcing = {k: np.concatenate([getattr(r, k) for r in records[first:stop]], axis=1)
                       for k in names}
            rows = slice(first * n, stop * n)
            for k in range(len(records[0].times)):
                part, fx = step(part, params, {v: a[k] for v, a in forcing.items()},
                                np.tile(lai[k], stop - first), DT)
                budget.add_step(k, fx, rows)
            blocks.append(part)
        state = join_blocks(blocks)
        mean = WindowBudget(n, budget.fluxes.shape[1])
        mean.fluxes = member_mean(member_values(budget.fluxes, self.members))
        mean.max_abs_residual = budget.max_abs_residual
        return state, mean

    # -- analysis, outputs, checkpoint -----------------------------------------------------
    def _theta(self, state, layers=None) -> np.ndarray:
        """Members' volumetric soil moisture at the rank's cells, (N, n_local, layers)."""
        nl = layers or self.layers
        if not self.n_local:
            return np.zeros((self.members, 0, nl))
        return member_values(state.columns.volumetric(nl), self.members)

    def _top_spread(self, state) -> float | None:
        """Root: sqrt of the land mean of the members' variance of the top layer."""
        var = gather_to_root(self.comm, self.decomposition,
                             np.ascontiguousarray(member_variance(self._theta(state, 1))[:, 0]))
        return spread(var) if self.rank == 0 else None

    def _end_window(self, state, budget, window: Window, record, phases, progress: tuple):
        e = self.settings.ensemble
        source = np.zeros(self.n_local * self.members)
        summary = {"members": self.members, "analysis": e.analysis,
                   "spread_background": self._top_spread(state)}
        background = None
        if window.analyse and e.analysis != "none":
            # the members' mean before the analysis, for the ensemble file (O-F of the mean)
            background = gather_to_root(self.comm, self.decomposition, member_mean(
                self._theta(state, colm_node_depths().size)))
            t0 = time.perf_counter()
            state, source = self._assimilate(state, window, record, summary, background)
            phases["analysis"] = time.perf_counter() - t0
        summary["spread_analysis"] = self._top_spread(state)
        t0 = time.perf_counter()
        full = gather_members(self.comm, self.decomposition, state, self.members)
        phases["gather_state"] = time.perf_counter() - t0
        theta = self._theta(state, colm_node_depths().size)
        mean = gather_to_root(self.comm, self.decomposition, member_mean(theta))
        sd = gather_to_root(self.comm, self.decomposition, np.sqrt(member_variance(theta)))
        totals, worst = domain_totals(self.comm, self.decomposition, budget,
                                      member_mean(member_values(source, self.members)), DT)
        inflation = None
        if self.letkf.adaptive_std is not None:  # the next analysis' prior inflation
            inflation = gather_to_root(self.comm, self.decomposition,
                                       np.asarray(self.letkf.prior_inflation, dtype=np.float64))
            if self.rank == 0 and inflation.size:
                summary["prior_inflation_next"] = {
                    "mean": float(np.mean(inflation)), "median": float(np.median(inflation)),
                    "max": float(np.max(inflation))}
        record["ensemble"] = summary
        on_root(self.comm, lambda: self._finish_ensemble(full, mean, sd, window, record, phases,
                                                         totals, worst, *progress,
                                                         background=background,
                                                         inflation=inflation))
        return state

    def _assimilate(self, state, window: Window, record: dict, summary: dict, background=None):
        """LETKF (and the hybrid's 3D-Var of the mean): (state, per-column water added).
        ``background``: the members' mean on the root (the observation offset's departures)."""
        obs = window_observations(self, window, background)
        if obs is None:  # no usable observation file (alerted): background kept
            return state, np.zeros(self.n_local * self.members)
        updated = self.settings.ensemble_update_layers  # >= self.layers, the analysed ones
        xb = self._theta(state, updated)
        outcome = self.letkf.analyse(self.comm, xb, obs)
        stats = gathered_statistics(self.comm, outcome, self.members, window.index)
        xa = outcome.xa
        if self.settings.ensemble.analysis == "hybrid":
            xa = hybrid_recentre(self, xb, xa, window, record, obs)
        if self.rank == 0:
            summary.update(stats)
            record.update(self.image_error.offset_fields)  # this window's, if any
            record["analysed"] = bool(stats["obs_used"]) or record.get("analysed", False)
        increment = xa - xb  # (N, n_local, updated)
        # analysis.vertical_carry = "anomaly": the land mean of the members' mean increment
        offset = self._vertical_offset(member_mean(increment[:, :, -1]), record)
        if not self.n_local:
            return state, np.zeros(0)
        increment = extend_increment(increment.reshape(self.members * self.n_local, updated),
                                     colm_node_depths(), self.settings.analysis.vertical_length_m,
                                     offset)
        applied = apply_increment(state.columns, self.ens_params.soil.porosity, increment)
        return dataclasses.replace(state, columns=applied.columns), applied.source

    def _finish_ensemble(self, full: ModelState, mean, sd, window: Window, record: dict,
                         phases: dict, totals, worst, n_done: int, n_todo: int,
                         t_run: float, background=None, inflation=None) -> None:
        """Root only: mean state file, ensemble file (with the mean ``background`` before the
        analysis when there was one), checkpoint (with the carried adaptive ``inflation``
        when there is one), run-log line, progress."""
        t0 = time.perf_counter()
        depth = colm_node_depths()
        attributes = {"cycle": window.index, "mode": self.cfg.mode, "period": window.period,
                      "config_hash": self.hash, "ensemble_members": self.members}
        self._write_mean_state(mean, window, attributes)
        write_ensemble_file(self.run_dir / "ensemble" / f"ens_{stamp(window.end)}.nc",
                            EnsembleFile(lat=self.grid.lat, lon=self.grid.lon, depth=depth,
                                         mean=self.grid.to_field(mean.T),
                                         spread=self.grid.to_field(sd.T),
                                         members=self.members, valid_time=window.end,
                                         background=(None if background is None else
                                                     self.grid.to_field(background.T)),
                                         inflation=(None if inflation is None else
                                                    self.grid.to_field(inflation))),
                            attributes={k: v for k, v in attributes.items()
                                        if k != "ensemble_members"})
        phases["output"] = time.perf_counter() - t0
        self._record_budget(record, phases, totals, worst)
        t0 = time.perf_counter()
        path = write_checkpoint(self.run_dir / "checkpoints", full, window.end, window.index + 1,
                                self.hash, metadata={"mode": self.cfg.mode, "ranks": self.size,
                                                     "label": window.label,
                                                     MEMBERS_KEY: self.members,
                                                     CHECKPOINT_KEY: record_line(record)},
                                extra={**self.image_error.checkpoint_extra(),
                                       **({} if inflation is None
                                          else {INFLATION_CHECKPOINT_KEY: inflation})})
        written = time.perf_counter() - t0
        keep_last(self.run_dir / "checkpoints", self.cfg.keep_checkpoints, self.hash)
        phases["checkpoint"] = time.perf_counter() - t0
        record["seconds"]["checkpoint"] = round(phases["checkpoint"], 4)
        record["ensemble"].update(
            checkpoint_bytes_per_member=path.stat().st_size // self.members,
            checkpoint_seconds_per_member=round(
                (written + phases["gather_state"]) / self.members, 5))
        self.run_log.append(record)
        elapsed = time.perf_counter() - t_run
        eta = elapsed / n_done * (n_todo - n_done)
        self.log.info("cycle_done", cycle=window.index, time=str(window.end),
                      progress=f"{n_done}/{n_todo}", eta_s=round(eta, 1),
                      analysed=record["analysed"], members=self.members,
                      spread=record["ensemble"]["spread_analysis"])
        if self.progress:
            show_progress(f"cycle {n_done}/{n_todo} {window.label} eta {eta:6.1f} s")

    def _write_mean_state(self, mean: np.ndarray, window: Window, attributes: dict) -> None:
        write_field(self.run_dir / "states" / state_name(window.end), SoilMoistureField(
            lat=self.grid.lat, lon=self.grid.lon, depth=colm_node_depths(),
            values=self.grid.to_field(mean.T), porosity=self.grid.to_field(self.porosity_all.T),
            source="landia cycle (ensemble mean)", valid_time=window.end),
            title="landia model state: ensemble mean of the volumetric soil moisture of "
                  "every layer", attributes=attributes)
