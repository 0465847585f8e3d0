"""The assimilation cycle: columns -> gather -> analysis -> scatter -> checkpoint.

``run_cycles(comm, settings, run_dir)`` is what ``mpirun -n N landia cycle --config CFG
--run-dir DIR`` runs on every rank. The communicator is passed in (only the CLI touches
``COMM_WORLD``). One window (default 6 h) at a time:

1. **model** -- every rank generates the forcing of its own land cells (weather generator,
   :mod:`landia.forcing.weather`; the same numbers whatever the decomposition), puts it on the
   1800 s step and steps its columns through the window;
2. **gather** -- at an analysis time, the volumetric soil moisture (liquid + ice) of the top
   ``analysis.layers`` layers goes to the root (``Gatherv``, global land order);
3. **analysis** -- the root reads ``obs_<YYYYMMDDTHHMM>.nc`` from the observation folder and
   runs the image 3D-Var (:func:`landia.analysis.run_analysis`). A missing, unreadable or
   QC-refused observation file, or a failed/diverged minimisation, keeps the background and
   writes an alert record; the run goes on;
4. **scatter** -- the increments (zero without an analysis) go back (``Scatterv``) and are
   added to the liquid water within the physical bounds
   (:func:`landia.columns.increment.apply_increment`), their water counted as the
   assimilation source term of the budget;
5. **output** -- the root writes the cycle's analysis file (background, analysis, increment,
   observation used, costs and iterations) and the state file (all layers);
6. **checkpoint** -- the whole state is gathered and written atomically with a checksum and
   the cycle's ``run_log.jsonl`` line; the last ``cycle.keep_checkpoints`` are kept; then the
   line is appended to the log.

The root holds the run directory's lock for the whole run (:mod:`landia.cycling.run_dir`). A
run resumes from the newest valid checkpoint of its run directory; the log and alert lines of
cycles after that checkpoint are dropped first, and a log line lost to a kill is restored
from the checkpoint (:mod:`landia.cycling.run_log`), so every cycle is logged exactly once.
See ``docs/cycling.md``.
"""

from __future__ import annotations

import dataclasses
import signal
import time
from pathlib import Path

import numpy as np
import structlog

from landia.analysis import run_analysis
from landia.analysis.layered import combine_layers, separable
from landia.analysis.vertical import extend_increment, land_mean
from landia.checkpoint import keep_last, latest_valid, remove_temporaries, write_checkpoint
from landia.columns.increment import apply_increment
from landia.columns.model import ModelState, forcing_at, step
from landia.columns.run import monthly_lai
from landia.columns.soil import SoilParameters
from landia.columns.state import ColumnParameters
from landia.config import Settings
from landia.cycling.carried import CarriedImageError
from landia.cycling.budget import WindowBudget, domain_totals
from landia.cycling.clock import Window, windows
from landia.cycling.config_hash import config_hash
from landia.cycling.distributed import analysis_on_ranks, distribution
from landia.cycling.ensemble_checkpoint import member_count_refusal
from landia.cycling.forcing import ForcingSource
from landia.cycling.run_dir import check_start, locked
from landia.cycling.run_log import CHECKPOINT_KEY, JsonLines, record_line
from landia.cycling.static_inputs import (cold_start_state, initial_moisture, load_landscape,
                                          model_grid)
from landia.errors import ConfigError, InputError, LandiaError
from landia.exchange.collectives import (gather_state, gather_to_root, scatter_from_root,
                                         scatter_state)
from landia.exchange.decomposition import Decomposition
from landia.exchange.guards import on_every_rank, on_root
from landia.forcing.weather import WeatherGenerator
from landia.grid import LatLonGrid, colm_node_depths
from landia.io.analysis_file import write_analysis
from landia.io.fields import SoilMoistureField, write_field
from landia.io.naming import analysis_name, observation_name, state_name
from landia.log import end_progress, get_logger, log_to_file, show_progress
from landia.observations.bias import BiasCorrection
from landia.observations.timing import read_observation
from landia.observations.withhold import departures, top_layer_summary, withhold

DT = 1800.0
#: Exit status of a run stopped by SIGTERM after a complete cycle (EX_TEMPFAIL): rerun it.
EXIT_INTERRUPTED = 75
class CycleRunner:
    """One rank's share of a cycling run (see the module notes)."""
    members = None  # a deterministic run (the ensemble runner: its number of members)

    def __init__(self, comm, settings: Settings, run_dir, end=None, progress: bool = True,
                 cold_start: bool = False, initial_state: ModelState | None = None):
        if settings.ensemble.enabled and type(self) is CycleRunner:  # ensemble_run.py runs it
            raise ConfigError("ensemble.enabled = true: run the ensemble with `landia cycle`")
        self.comm = comm
        self.rank, self.size = comm.Get_rank(), comm.Get_size()
        self.settings = settings
        self.cfg = settings.cycle
        self.run_dir = Path(run_dir)
        self.progress, self.cold_start = progress, cold_start
        self.initial_state = initial_state  # root: a full state for cycle 0 (landia spinup)
        self.log = get_logger("landia.cycle")
        self.hash = config_hash(settings)
        self.end = np.datetime64(end or self.cfg.end, "s")
        # cycle.end is the default end; --end may go past it (a service runs open-ended).
        last = max(self.end, np.datetime64(self.cfg.end, "s"))
        try:
            self.all_windows = windows(self.cfg.start, last, self.cfg.window_hours,
                                       self.cfg.analysis_hours, self.cfg.mode,
                                       self.cfg.assimilation_end or None)
        except ValueError:  # --end off the window grid
            self.all_windows = []
        if not any(w.end == self.end for w in self.all_windows):
            raise InputError(f"--end {end}: expected the end of a window of the run (from "
                             f"{self.cfg.start}, {self.cfg.window_hours} h windows)")
        self.windows = [w for w in self.all_windows if w.end <= self.end]

        # Grid: the root computes the land mask (global-land-mask, cached) and shares it.
        def root_grid():
            self._prepare_run_dir()
            grid = model_grid(settings, run_dir)
            return grid.lat, grid.lon, grid.land

        lat, lon, land = comm.bcast(on_root(comm, root_grid), root=0)
        self.grid = LatLonGrid(lat, lon, land)
        self.decomposition = Decomposition.for_grid(self.grid, self.size)
        self.block = self.decomposition.block(self.rank)
        self.n_local = self.block.stop - self.block.start
        self.cells = np.arange(self.block.start, self.block.stop)

        landscape = on_every_rank(comm, lambda: load_landscape(settings, self.grid, run_dir))
        self.soil_all = SoilParameters.from_sand_clay(landscape.sand, landscape.clay,
                                                      hydraulics=settings.cycle.hydraulics)
        self.porosity_all = self.soil_all.porosity
        self.lai_monthly = landscape.lai_monthly[:, self.block]
        self.params = None
        if self.n_local:
            soil = self.soil_all.take(self.block)
            self.params = ColumnParameters.from_land_cover(
                soil, landscape.land_cover[self.block])
        seed_p = None if self.cfg.precipitation_seed < 0 else self.cfg.precipitation_seed
        self.weather = WeatherGenerator(self.grid, self.cfg.weather_seed, seed_p)
        # The ensemble's members perturb an unperturbed record each (ensemble_run.py).
        perturbation = None if self.members else settings.perturbation
        self.forcing = on_every_rank(comm, lambda: ForcingSource(
            self.cfg, self.run_dir, self.weather, self.weather.lat[self.block],
            self.weather.lon[self.block], self.cells, perturbation,
            elevation=landscape.elevation[self.block]) if self.n_local else None)
        self.stop_requested = False
        self.layers = settings.analysis.layers
        self.image_error = CarriedImageError.for_settings(settings)  # used on the root
        # "layers" (on different ranks), "wedges" (JI's wedges on every rank) or None: the root
        # alone minimises the joint J (docs/distributed-analysis.md).
        self.distribute, self.image_exchange = distribution(settings, comm.Get_size()), None
        if settings.analysis.distribute is True and self.distribute is None and self.rank == 0:
            self.log.warning("analysis_distribute_ignored", reason=separable(settings),
                             note="the joint analysis on the root; distribute = 'wedges' "
                                  "spreads it over the ranks")
        # The root rescales the observations (observations.rescaling); a bad climatology
        # stops the run here rather than at every analysis.
        self.bias = on_root(comm, lambda: BiasCorrection.from_settings(
            settings, self.run_dir, self.grid.lat, self.grid.lon))

    # -- run directory ---------------------------------------------------------------------
    def _prepare_run_dir(self) -> None:
        for sub in ("checkpoints", "cycles", "states"):
            (self.run_dir / sub).mkdir(parents=True, exist_ok=True)
        self.run_log = JsonLines(self.run_dir / "run_log.jsonl")
        self.alerts = JsonLines(self.run_dir / "alerts.jsonl")

    def _observation_dir(self) -> Path | None:
        if not self.cfg.observations:
            return None
        p = Path(self.cfg.observations)
        return p if p.is_absolute() else self.run_dir / p

    def _observation_file(self, window: Window) -> Path | None:
        """Root: the window's observation file, or None after an ``observation_missing``
        alert."""
        obs_dir = self._observation_dir()
        path = None if obs_dir is None else obs_dir / observation_name(window.end)
        if path is None or not path.exists():
            self._alert(window, "observation_missing", f"no observation file {path}" if path
                        else "no observation folder configured (cycle.observations)")
            return None
        return path

    def _read_observation(self, path: Path, window: Window):
        """Root: the observation image read (valid-time check), bias-corrected, with the
        withheld cells taken out; (image, withheld). Raises InputError."""
        o = self.settings.observations
        obs = self.bias.apply(read_observation(path, window.end, o, self.grid.shape))
        return withhold(obs, self.grid.land, o.withhold_fraction, o.withhold_seed, window.index)

    # -- restart ---------------------------------------------------------------------------
    def _initial_state(self):
        """(local ModelState or None, index of the next window)."""
        def root_start():  # (newest valid checkpoint, why the run may not start)
            remove_temporaries(self.run_dir / "checkpoints")
            folder = self.run_dir / "checkpoints"
            # The newest verified checkpoint, read once: its ensemble size, then its hash.
            newest = None if self.cold_start else latest_valid(folder, None)
            size = member_count_refusal(newest, self.members)
            found = (None if size else newest if newest is not None
                     and newest.config_hash == self.hash else latest_valid(folder, self.hash))
            return found, size or check_start(self.run_dir, found, self.hash,
                                              self.all_windows[0].end, self.cold_start)

        found, refusal = on_root(self.comm, root_start) or (None, None)
        refusal = self.comm.bcast(refusal, root=0)
        if refusal:
            raise InputError(refusal)
        next_cycle = self.comm.bcast(None if found is None else found.next_cycle, root=0)
        if next_cycle is None:
            theta = initial_moisture(self.comm, self.decomposition, self.settings, self.grid,
                                     self.porosity_all, self.run_dir)
            if self.rank == 0:
                self.run_log.truncate_to_cycles_before(0)
                self.alerts.truncate_to_cycles_before(0)
                given = "the caller's full state (landia spinup: the previous pass's)"
                self.log.info("cold_start", saturation=self.cfg.initial_saturation,
                              initial_state=given if self.initial_state is not None
                              else self.cfg.initial_state or None,
                              land_cells=self.grid.n_land, ranks=self.size)
            if self.comm.bcast(self.initial_state is not None, root=0):
                return self._scatter(self.initial_state), 0
            return (self._cold_state(theta) if self.n_local else None), 0
        if self.rank == 0:
            if self.run_log.resume(next_cycle, found.metadata.get(CHECKPOINT_KEY)):
                self.log.warning("run_log_line_restored", cycle=next_cycle - 1,
                                 note="from the checkpoint (the run was killed before it)")
            self.alerts.truncate_to_cycles_before(next_cycle)
            self.image_error.restore(found.extra)
            self.log.info("restart", checkpoint=str(found.path), valid_time=str(found.valid_time),
                          next_cycle=next_cycle, ranks=self.size)
        self._restore_cells(found.extra if self.rank == 0 else None)
        return self._scatter(found.state if self.rank == 0 else None), next_cycle

    def _restore_cells(self, extra: dict | None) -> None:
        """Every rank, on a restart: take back the per-cell values the checkpoint carries in
        its extra arrays (``extra`` on the root, None elsewhere). The deterministic cycle's
        carried values live on the root (:class:`CarriedImageError`): nothing to do."""

    def _scatter(self, full: ModelState | None) -> ModelState | None:  # ensemble: per member
        return scatter_state(self.comm, self.decomposition, full)

    def _cold_state(self, theta: np.ndarray | None) -> ModelState:
        return cold_start_state(self.settings, self.params.soil, theta)

    def _record_budget(self, record: dict, phases: dict, totals, worst) -> None:
        """The run-log line's ranks, cells, water budget per land cell (mm) and timings."""
        n = max(self.grid.n_land, 1)
        record.update(
            ranks=self.size, land_cells=self.grid.n_land,
            budget_mm={"precipitation": totals[0] / n, "evapotranspiration": totals[1] / n,
                       "runoff": totals[2] / n, "assimilation": totals[3] / n,
                       "max_abs_step_residual": worst},
            seconds={k: round(v, 4) for k, v in phases.items()})

    def _finish_cycle(self, full, window: Window, record: dict, phases: dict, totals, worst,
                      n_done: int, n_todo: int, t_run: float) -> None:
        """Root only: state file, checkpoint, run-log line, progress."""
        t0 = time.perf_counter()
        self._write_state(full, window)
        phases["output"] = time.perf_counter() - t0
        self._record_budget(record, phases, totals, worst)
        t0 = time.perf_counter()
        # The log line travels in the checkpoint: a kill before the append below loses nothing.
        write_checkpoint(self.run_dir / "checkpoints", full, window.end,
                         window.index + 1, self.hash,
                         metadata={"mode": self.cfg.mode, "ranks": self.size,
                                   "label": window.label, CHECKPOINT_KEY: record_line(record)},
                         extra=self.image_error.checkpoint_extra())
        keep_last(self.run_dir / "checkpoints", self.cfg.keep_checkpoints, self.hash)
        phases["checkpoint"] = time.perf_counter() - t0
        record["seconds"]["checkpoint"] = round(phases["checkpoint"], 4)
        self.run_log.append(record)
        elapsed = time.perf_counter() - t_run
        eta = elapsed / n_done * (n_todo - n_done)
        self.log.info("cycle_done", cycle=window.index, time=str(window.end),
                      progress=f"{n_done}/{n_todo}", eta_s=round(eta, 1),
                      analysed=record["analysed"],
                      **{k: record[k] for k in ("iterations", "scc_before", "scc_after")
                         if k in record})
        if self.progress:  # a terminal only; the next log line starts on a new line
            show_progress(f"cycle {n_done}/{n_todo} {window.label} eta {eta:6.1f} s")

    # -- one window ------------------------------------------------------------------------
    def _model(self, state, window: Window):
        """Step the local columns through the window; (state, its WindowBudget)."""
        budget = WindowBudget.for_window(self.n_local, window.start, window.end, DT)
        if not self.n_local:
            return state, budget
        forcing = self.forcing.window(window.start, window.end, DT)
        for k in range(len(forcing.times)):
            t = forcing.times[k]
            lai = monthly_lai(self.lai_monthly, t + np.timedelta64(int(DT // 2), "s"))
            state, fx = step(state, self.params, forcing_at(forcing, k), lai, DT)
            budget.add_step(k, fx)
        return state, budget

    def _analyse(self, background: np.ndarray, window: Window, record: dict,
                 error_variance: np.ndarray | None = None):
        """Root only: increments (n_land, layers) or None; fills ``record``; writes outputs.
        ``error_variance`` (n_land, layers): B's variances (an ensemble's spread)."""
        prepared = self._prepare_analysis(background, window, error_variance)
        return None if prepared is None else self._solve(prepared, background, window, record)

    def _prepare_analysis(self, background: np.ndarray, window: Window,
                          error_variance: np.ndarray | None = None):
        """Root only: (background field, observation path, observation, withheld) of an
        analysis time, or None (no observation file, or one rejected: alerted)."""
        nl = self.layers
        bg_field = SoilMoistureField(
            lat=self.grid.lat, lon=self.grid.lon, depth=colm_node_depths()[:nl],
            values=self.grid.to_field(background.T), error_variance=None if error_variance
            is None else self.grid.to_field(error_variance.T),
            porosity=self.grid.to_field(self.porosity_all[:, :nl].T),
            source=f"background {window.label}", valid_time=window.end)
        obs_path = self._observation_file(window)
        if obs_path is None:
            return None
        try:
            obs, withheld = self._read_observation(obs_path, window)
        except InputError as exc:
            self._alert(window, "observation_rejected", str(exc), file=str(obs_path))
            return None
        obs = self.image_error.correct_offset(obs, bg_field, self.settings, cycle=window.index)
        return bg_field, obs_path, obs, withheld

    def _solve(self, prepared, background: np.ndarray, window: Window, record: dict,
               parts=None):
        """Root only: the analysis of ``prepared`` (:meth:`_prepare_analysis`), combined from
        the layers' analyses ``parts`` when given (:mod:`landia.cycling.distributed`), else
        the joint one; its increments (n_land, layers) or None (alerted); writes outputs."""
        bg_field, obs_path, obs, withheld = prepared
        try:
            result = (combine_layers(parts, bg_field, obs, self.settings) if parts is not None
                      else run_analysis(bg_field, obs, self.settings,
                                        image_error_variance=self.image_error.values,
                                        local_error_excess=self.image_error.excess,
                                        image_exchange=self.image_exchange,
                                        normalisation_cache=self.run_dir / "cache"))
        except InputError as exc:
            self._alert(window, "observation_rejected", str(exc), file=str(obs_path))
            return None
        except ConfigError:  # wrong for every cycle (a bad PETSc option): stop the run
            raise
        except LandiaError as exc:
            self._alert(window, "analysis_failed", str(exc), file=str(obs_path))
            return None
        before = sum(result.terms_before.values())
        after = sum(result.terms_after.values())
        if not (np.all(np.isfinite(result.minimiser.x)) and after <= before):
            self._alert(window, "analysis_diverged",
                        f"J {before:.6g} -> {after:.6g}, reason {result.minimiser.reason}; "
                        f"background kept", file=str(obs_path))
            return None
        scored = self._withheld_departures(withheld, result, bg_field)
        write_analysis(self.run_dir / "cycles" / analysis_name(window.end), result,
                       self.settings, valid_time=window.end, withheld=scored)
        record.update(iterations=result.minimiser.iterations, J_before=before, J_after=after,
                      reason=result.minimiser.reason,
                      scc_before=result.scores["background"]["layer1"]["scc"],
                      scc_after=result.scores["analysis"]["layer1"]["scc"],
                      observation=str(obs_path), **self.image_error.after_analysis(result))
        if scored is not None:
            record["withheld"] = top_layer_summary(scored)
        analysis = self.grid.to_land(result.analysis_field)  # (layers, n_land)
        return (analysis - background.T).T

    def _withheld_departures(self, withheld, result, bg_field: SoilMoistureField):
        """O-B and O-A at the withheld observations of an analysis (None without them)."""
        a = self.settings.analysis
        upper = bg_field.porosity if a.upper_bound == "porosity" else float(a.upper_bound)
        return None if withheld is None else departures(
            withheld, result.background_field, result.analysis_field, self.grid.land,
            a.lower_bound, upper)

    def _alert(self, window: Window, kind: str, message: str, **extra) -> None:
        self.log.warning("cycle_alert", cycle=window.index, time=str(window.end), alert=kind,
                         message=message)
        self.alerts.append({"cycle": window.index, "time": str(window.end) + "Z", "alert": kind,
                            "message": message, **extra})

    def _write_state(self, full_state, window: Window) -> None:
        theta = full_state.columns.volumetric()
        write_field(self.run_dir / "states" / state_name(window.end), SoilMoistureField(
            lat=self.grid.lat, lon=self.grid.lon, depth=colm_node_depths(),
            values=self.grid.to_field(theta.T), porosity=self.grid.to_field(self.porosity_all.T),
            source="landia cycle", valid_time=window.end),
            title="landia model state (volumetric soil moisture of every layer)",
            attributes={"cycle": window.index, "mode": self.cfg.mode, "period": window.period,
                        "config_hash": self.hash})

    def _end_window(self, state, budget, window: Window, record, phases, progress: tuple):
        """Analysis (at an analysis time), outputs and checkpoint of a window; the state."""
        source = np.zeros(self.n_local)
        if window.analyse:
            t0 = time.perf_counter()
            local = (state.columns.volumetric(self.layers) if self.n_local
                     else np.zeros((0, self.layers)))
            background = gather_to_root(self.comm, self.decomposition,
                                        np.ascontiguousarray(local))
            phases["gather"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            if self.distribute:
                increment = analysis_on_ranks(self, background, window, record)
            else:
                def analyse():
                    inc = self._analyse(background, window, record)
                    record["analysed"] = inc is not None
                    return np.zeros((self.grid.n_land, self.layers)) if inc is None else inc
                increment = on_root(self.comm, analyse)
            phases["analysis"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            local_inc = scatter_from_root(self.comm, self.decomposition, increment,
                                          trailing_shape=(self.layers,))
            # the layers below the analysed ones (analysis.vertical_length_m; 0: none)
            offset = self._vertical_offset(local_inc[:, -1], record)
            local_inc = extend_increment(local_inc, colm_node_depths(),
                                         self.settings.analysis.vertical_length_m, offset)
            if self.n_local and np.any(local_inc != 0.0):
                applied = apply_increment(state.columns, self.params.soil.porosity, local_inc)
                state = dataclasses.replace(state, columns=applied.columns)
                source = applied.source
            phases["scatter"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        full = gather_state(self.comm, self.decomposition, state)
        totals, worst = domain_totals(self.comm, self.decomposition, budget, source, DT)
        phases["gather_state"] = time.perf_counter() - t0
        on_root(self.comm, lambda: self._finish_cycle(full, window, record, phases, totals,
                                                 worst, *progress))
        return state

    def _vertical_offset(self, local_deepest: np.ndarray, record: dict) -> float:
        """What the layers below the analysed ones do not take of the deepest analysed
        layer's increment: with ``analysis.vertical_carry = "anomaly"`` (and
        ``vertical_length_m`` > 0) its land mean over every rank's cells, gathered in the
        global order (the same bits on any number of ranks; run-log ``vertical_offset``), else
        0. Collective: every rank calls it with its own cells' values, ``local_deepest``
        (n_local,)."""
        a = self.settings.analysis
        if not a.vertical_length_m or a.vertical_carry != "anomaly":
            return 0.0
        full = gather_to_root(self.comm, self.decomposition,
                              np.ascontiguousarray(local_deepest, dtype=np.float64))
        offset = self.comm.bcast(land_mean(full) if self.rank == 0 else None, root=0)
        if self.rank == 0:
            record["vertical_offset"] = offset
        return offset

    # -- the loop --------------------------------------------------------------------------
    def run(self) -> int:
        """Run every remaining window up to ``end``; 0, or EXIT_INTERRUPTED after SIGTERM."""
        try:
            return self._run()
        finally:
            structlog.contextvars.unbind_contextvars("cycle", "cycle_time")

    def _run(self) -> int:
        state, next_cycle = self._initial_state()
        todo = [w for w in self.windows if w.index >= next_cycle]
        t_run = time.perf_counter()
        for n_done, window in enumerate(todo, start=1):
            # Every log event of this window, on every rank (the analysis' included), carries
            # the cycle it belongs to.
            structlog.contextvars.bind_contextvars(cycle=window.index,
                                                  cycle_time=str(window.end) + "Z")
            phases = {}
            t0 = time.perf_counter()
            try:
                state, budget = on_every_rank(self.comm, lambda: self._model(state, window))
            except InputError as exc:
                if self.rank == 0:
                    self.log.error("cycle_stopped", cycle=window.index, time=str(window.start),
                                   reason=str(exc),
                                   note="the state of the last complete cycle is in its "
                                        "checkpoint; fix the input and rerun to resume")
                raise
            phases["model"] = time.perf_counter() - t0
            record = {"cycle": window.index, "time": str(window.end) + "Z",
                      "period": window.period, "analysed": False}
            state = self._end_window(state, budget, window, record, phases,
                                     (n_done, len(todo), t_run))
            if any(self.comm.allgather(self.stop_requested)):
                if self.rank == 0:
                    self.log.warning("cycle_interrupted", after_cycle=window.index,
                                     note="SIGTERM: stopped after a complete, checkpointed "
                                          "cycle; rerun to resume", exit_status=EXIT_INTERRUPTED)
                return EXIT_INTERRUPTED
        structlog.contextvars.unbind_contextvars("cycle", "cycle_time")
        if self.rank == 0:
            end_progress()
            self.log.info("run_done", cycles=len(todo), run_dir=str(self.run_dir),
                          seconds=round(time.perf_counter() - t_run, 2))
        return 0


def run_cycles(comm, settings: Settings, run_dir, end=None, progress: bool = True,
               handle_sigterm: bool = False, cold_start: bool = False,
               initial_state: ModelState | None = None, runner_class=None) -> int:
    """Entry point of ``landia cycle`` on every rank (see the module notes); ``runner_class``:
    :class:`CycleRunner` (None) or the ensemble's (:mod:`landia.cycling.ensemble_run`).

    Returns 0 when every window up to ``end`` is done, :data:`EXIT_INTERRUPTED` (75) when
    SIGTERM (with ``handle_sigterm``) stopped the run after a complete, checkpointed cycle.
    Raises :class:`~landia.cycling.run_dir.RunDirectoryLocked` when another run holds
    ``run_dir`` (its lock is taken before anything in it is touched). ``initial_state`` (the
    full state of every land cell, on the root) replaces the cold start's default state at
    cycle 0 (:mod:`landia.cycling.spinup`); a run that resumes from a checkpoint ignores it.
    """
    with locked(comm, run_dir):
        return _locked_run(comm, settings, run_dir, end, progress, handle_sigterm, cold_start,
                           initial_state, runner_class or CycleRunner)


def _locked_run(comm, settings, run_dir, end, progress, handle_sigterm, cold_start,
                initial_state=None, runner_class=CycleRunner) -> int:
    # Every rank keeps its log events in the run directory too (rank > 0: warnings only).
    log_to_file(Path(run_dir) / "logs" / f"events.rank{comm.Get_rank()}.jsonl")
    try:
        runner = runner_class(comm, settings, run_dir, end=end, progress=progress,
                              cold_start=cold_start, initial_state=initial_state)
        if not handle_sigterm:
            return runner.run()

        def request_stop(signum, frame):  # finish the current cycle, then stop
            runner.stop_requested = True

        previous = signal.signal(signal.SIGTERM, request_stop)
        try:
            return runner.run()
        finally:
            signal.signal(signal.SIGTERM, previous)
    finally:
        log_to_file(None)
