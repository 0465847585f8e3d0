"""The near-real-time scheduler behind ``landia serve``.

For each analysis time ``t`` of the cycle clock (window ends whose UTC hour is one of the
analysis hours), in order, the scheduler

1. waits until ``t`` has come and the observation file for ``t`` is complete in the incoming
   folder, or until the cut-off ``t + cutoff_minutes`` has passed (then the cycle runs
   model-only and a ``missing_feed`` alert is written);
2. checks that the file opens as netCDF (a corrupt file goes to ``incoming/rejected/`` with a
   ``corrupt_file`` alert, and the wait goes on: a corrected file may still come);
3. moves the file atomically into the run's observation folder as ``obs_YYYYMMDDTHHMM.nc``;
4. launches the cycle job up to ``t`` (the launcher template's ``{end}``), waits for it, and
   retries a failed launch with a doubling back-off before alerting ``launch_failed``;
5. records ``t`` as completed in its state file (JSON, written atomically).

It never runs two jobs at once (an ``fcntl.flock`` lock held for the whole process) and it
survives its own restart at any point: the decision taken for ``t`` (with or without
observations) is saved before the launch, a launch interrupted by a crash is simply made
again, and ``landia cycle`` is itself exactly-once per cycle, so no cycle is skipped or run
twice. The clock, the launcher and the file validator are injectable, so tests drive the
scheduler with a fake clock. See ``docs/serve.md`` for the contract.

Its parts: :mod:`~landia.service.settings` (the resolved ``[serve]`` table),
:mod:`~landia.service.clock` (clocks, analysis times), :mod:`~landia.service.incoming`
(completion, validation, moving files), :mod:`~landia.service.launcher` (the cycle job),
:mod:`~landia.service.lock`, :mod:`~landia.service.state` (``state.json``),
:mod:`~landia.service.alerts` and :mod:`~landia.service.status` (``status.json``, HTTP).
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from typing import Callable

import numpy as np

from landia.io.naming import observation_name, stamp
from landia.log import get_logger
from landia.service.alerts import alert_record, append_alert
from landia.service.clock import SystemClock, analysis_after, is_analysis_time, iso
from landia.service.incoming import (arrival_pattern, arrival_time, deliver, is_complete,
                                     netcdf_validator, set_aside)
from landia.service.launcher import LaunchRequest, SubprocessLauncher
from landia.service.lock import ServeLock
from landia.service.settings import ResolvedServeSettings
from landia.service.state import ServeState
from landia.service.status import write_status


class Scheduler:
    """Feeds observation files to the cycle and launches it, one analysis time at a time.

    Parameters
    ----------
    settings : ResolvedServeSettings
    clock : object with ``now() -> datetime64[s]`` (UTC) and ``sleep(seconds)``
    launcher : callable(LaunchRequest) -> int (exit status; 0 is success); exceptions from
        it propagate (they are a crash of serve, not a failed launch)
    validator : callable(Path) -> str | None (None: usable)
    """

    def __init__(self, settings: ResolvedServeSettings, clock=None, launcher=None,
                 validator: Callable[[Path], str | None] | None = None):
        self.s = settings
        self.clock = clock or SystemClock()
        self.launcher = launcher or SubprocessLauncher(settings.launcher,
                                                      settings.launch_timeout_minutes)
        self.validator = validator or netcdf_validator
        self.log = get_logger("landia.serve")
        self.lock = ServeLock(settings.lock_file)
        self.state = ServeState.load(settings.state_file)
        self.status: dict = {}
        self._phase = "starting"
        self._waiting: dict | None = None
        self._names = arrival_pattern(settings.pattern)

    # -- paths
    def incoming_file(self, t) -> Path:
        return self.s.incoming / self.s.pattern.format(stamp=stamp(t))

    def run_obs_file(self, t) -> Path:
        return self.s.observations / observation_name(t)

    # -- main loop
    def run(self, once: bool = False) -> int:
        """Serve until ``end`` (0), a launch failure with on_failure='stop' (1), or, with
        ``once``, until the next analysis time must be waited for (0)."""
        for d in (self.s.state_dir, self.s.incoming, self.s.observations):
            d.mkdir(parents=True, exist_ok=True)
        with self.lock:
            try:
                return self._loop(once)
            except BaseException as exc:
                self._phase = "stopped"
                if not isinstance(exc, (KeyboardInterrupt, SystemExit)):
                    self.state.last_error = f"{type(exc).__name__}: {exc}"
                    self._phase = "crashed"
                self._write_status()
                raise

    def next_time(self) -> np.datetime64:
        if self.state.position is None:
            return self.s.first_analysis
        t = analysis_after(self.s.start, self.state.position, self.s.window_hours,
                           self.s.analysis_hours)
        return max(t, self.s.first_analysis)

    def _loop(self, once: bool) -> int:
        self.log.info("serve_start", first_analysis=iso(self.s.first_analysis),
                      position=self.state.position, end=iso(self.s.end),
                      clock="simulated" if getattr(self.clock, "simulated", False) else "real")
        while True:
            t = self.next_time()
            self._sweep()
            if self.s.end is not None and t > self.s.end:
                self._phase = "finished"
                self._waiting = None
                self._write_status()
                self.log.info("serve_finished", last_completed=self.state.last_completed)
                return 0
            obs = self._decide(t)
            if obs is None:
                if once:
                    self._phase = "idle"
                    self._write_status()
                    return 0
                self._phase = "waiting"
                self._write_status()
                self.clock.sleep(self._sleep_for(t))
                continue
            self._waiting = None
            ok = self._launch(t, obs)
            if not ok and self.s.on_failure == "stop":
                self._phase = "failed"
                self._write_status()
                return 1

    def _sleep_for(self, t) -> float:
        now = self.clock.now()
        cutoff = t + self._cutoff()
        target = t if now < t else cutoff
        left = float((target - now) / np.timedelta64(1, "s"))
        return max(1.0, min(self.s.poll_seconds, left)) if left > 0 else self.s.poll_seconds

    def _cutoff(self) -> np.timedelta64:
        return np.timedelta64(int(round(self.s.cutoff_minutes * 60)), "s")

    # -- deciding what to run for t
    def _decide(self, t) -> str | None:
        """'delivered', 'model_only', or None (wait)."""
        key = iso(t)
        pending = self.state.pending
        if pending and pending.get("time") == key:
            return pending["obs"]  # decided before a restart: keep the decision
        now = self.clock.now()
        cutoff = t + self._cutoff()
        self._waiting = {"time": key, "file": str(self.incoming_file(t)), "cutoff": iso(cutoff)}
        if now < t:
            return None
        src = self.incoming_file(t)
        if self._complete(src):
            reason = self.validator(src)
            if reason is None:
                self._deliver(src, self.run_obs_file(t))
                return self._decided(key, "delivered")
            self._reject(src, t, reason)
        if self.run_obs_file(t).exists():
            return self._decided(key, "delivered")  # moved before a crash
        if now >= cutoff:
            self.state.pending = {"time": key, "obs": "model_only"}  # saved with the alert
            self._count("missing_feeds")
            self.alert("missing_feed", key, file=str(src),
                       message=f"no usable observation file by the cut-off {iso(cutoff)}; "
                               f"the cycle runs model-only")
            return "model_only"
        return None

    def _decided(self, key: str, obs: str) -> str:
        self.state.pending = {"time": key, "obs": obs}
        self.state.save(self.s.state_file)
        return obs

    def _complete(self, path: Path) -> bool:
        return is_complete(path, self.s.completion, self.s.stable_seconds)

    def _deliver(self, src: Path, dst: Path) -> None:
        deliver(src, dst)
        self.log.info("observations_delivered", file=str(dst))

    def _set_aside(self, src: Path, folder: str) -> Path:
        return set_aside(src, self.s.incoming / folder, self.clock.now())

    def _reject(self, src: Path, t, reason: str) -> None:
        dest = self._set_aside(src, "rejected")
        self._count("corrupt_files")
        self.alert("corrupt_file", iso(t), file=str(dest), message=reason)

    def _sweep(self) -> None:
        """Set aside incoming files for times already served (duplicate or late arrivals)
        and files that are no analysis time of this run."""
        try:
            names = sorted(p for p in self.s.incoming.iterdir() if p.is_file())
        except FileNotFoundError:
            return
        position = None if self.state.position is None else np.datetime64(self.state.position)
        for p in names:
            t = arrival_time(p.name, self._names)
            if t is None:
                continue
            on_grid = is_analysis_time(t, self.s.start, self.s.window_hours,
                                       self.s.analysis_hours)
            served = position is not None and t <= position
            if on_grid and t >= self.s.first_analysis and not served:
                continue
            if not self._complete(p):
                continue
            key = iso(t)
            done = self.state.outcome(key)
            if not on_grid or t < self.s.first_analysis:
                kind, folder, msg = "unexpected_file", "unexpected", \
                    "not an analysis time served by this run"
                self._count("unexpected_files")
            elif done is not None and done.get("obs") == "delivered":
                kind, folder, msg = "duplicate_feed", "duplicates", \
                    "observations for this time were already used; ignored"
                self._count("duplicate_feeds")
            else:
                kind, folder, msg = "late_feed", "late", \
                    "arrived after its cycle ran without it; ignored"
                self._count("late_feeds")
            dest = self._set_aside(p, folder)
            self.alert(kind, key, file=str(dest), message=msg)

    # -- launching
    def _launch(self, t, obs: str) -> bool:
        key = iso(t)
        tokens = {"ranks": str(self.s.ranks), "config": str(self.s.cycle_config),
                  "run_dir": str(self.s.run_dir), "end": key, "stamp": stamp(t),
                  "obs": str(self.run_obs_file(t)) if obs == "delivered" else ""}
        log_file = self.s.log_dir / f"cycle_{stamp(t)}.log"
        status = None
        for attempt in range(1, self.s.max_attempts + 1):
            self._phase = "running"
            self._waiting = {"time": key, "attempt": attempt}
            self._write_status()
            self._count("launches")
            self.log.info("launch", end=key, attempt=attempt, obs=obs)
            t0 = time.monotonic()
            fd = self.lock.fileno()
            status = self.launcher(LaunchRequest(tokens=tokens, attempt=attempt,
                                                 log_file=log_file,
                                                 keep_fds=() if fd is None else (fd,)))
            seconds = round(time.monotonic() - t0, 3)
            if status == 0:
                self.state.counts["cycles_ok"] += 1
                self._count("with_observations" if obs == "delivered" else "model_only")
                self._finish(key, obs, "completed", attempt, seconds)
                self.state.last_completed = key
                self.state.save(self.s.state_file)
                self.log.info("cycle_completed", end=key, obs=obs, attempts=attempt,
                              seconds=seconds)
                self._write_status()
                return True
            self._count("launch_failures")
            self.state.last_error = (f"launch for {key} exited with status {status} "
                                     f"(attempt {attempt}/{self.s.max_attempts}; log "
                                     f"{log_file})")
            self.state.save(self.s.state_file)
            self.log.warning("launch_failed", end=key, attempt=attempt, status=status,
                             log=str(log_file))
            if attempt < self.s.max_attempts:
                self._count("retries")
                self._phase = "backoff"
                self._write_status()
                self.clock.sleep(self.s.retry_seconds * 2 ** (attempt - 1))
        action = ("serve stops" if self.s.on_failure == "stop"
                  else "serve continues; the next launch runs this cycle too")
        self.alert("launch_failed", key, file=str(log_file),
                   message=f"{self.s.max_attempts} attempt(s) failed, last status {status}; "
                           f"{action}")
        if self.s.on_failure == "continue":
            self._finish(key, obs, "failed", self.s.max_attempts, None)
            self.state.save(self.s.state_file)
        self._write_status()
        return False

    def _finish(self, key: str, obs: str, outcome: str, attempts: int, seconds) -> None:
        self.state.position = key
        self.state.pending = None
        self.state.history.append({"time": key, "obs": obs, "outcome": outcome,
                                   "attempts": attempts, "seconds": seconds,
                                   "finished": iso(self.clock.now())})

    # -- reporting
    def _count(self, key: str) -> None:
        self.state.counts[key] = self.state.counts.get(key, 0) + 1

    def alert(self, kind: str, analysis_time: str | None, file: str = "",
              message: str = "") -> dict:
        """Append one alert record (a JSON line) and log it as a warning."""
        record = alert_record(kind, analysis_time, file, message, iso(self.clock.now()))
        append_alert(self.s.alerts_file, record)
        self.state.save(self.s.state_file)
        self.log.warning("alert", **record)
        return record

    def make_status(self) -> dict:
        now = self.clock.now()
        last = self.state.last_completed
        lag = None if last is None else int((now - np.datetime64(last, "s")) //
                                            np.timedelta64(1, "s"))
        nxt = self.next_time()
        done = self.s.end is not None and nxt > self.s.end
        return {
            "service": "landia serve", "pid": os.getpid(), "host": socket.gethostname(),
            "phase": self._phase, "now": iso(now),
            "clock": "simulated" if getattr(self.clock, "simulated", False) else "real",
            "run_dir": str(self.s.run_dir), "last_completed": last,
            "position": self.state.position, "lag_seconds": lag,
            "next_due": None if done else iso(nxt),
            "next_cutoff": None if done else iso(nxt + self._cutoff()),
            "waiting_for": self._waiting, "last_error": self.state.last_error,
            "counts": dict(self.state.counts),
            "recent": self.state.history[-5:],
            "updated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }

    def _write_status(self) -> None:
        self.status = self.make_status()
        write_status(self.s.status_file, self.status)
