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
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import threading
import time
import tomllib
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

import numpy as np

from landia.cycling.clock import HOUR, windows
from landia.io.naming import stamp
from landia.errors import ConfigError, LandiaError
from landia.io.atomic import atomic_path
from landia.launch import launch_environment
from landia.log import get_logger

DEFAULT_LAUNCHER = ("mpirun -n {ranks} landia cycle --config {config} --run-dir {run_dir} "
                    "--end {end}")
LAUNCH_TOKENS = ("ranks", "config", "run_dir", "end", "stamp", "obs")
STATE_VERSION = 1
HISTORY_KEPT = 500
COUNT_KEYS = ("cycles_ok", "with_observations", "model_only", "launches", "launch_failures",
              "retries", "missing_feeds", "late_feeds", "duplicate_feeds", "corrupt_files",
              "unexpected_files")


class LockHeld(LandiaError):
    """Another ``landia serve`` holds the lock file of this run."""


# ----------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class ServeSettings:
    """The ``[serve]`` table, with paths resolved and defaults taken from the cycle config."""

    run_dir: Path
    cycle_config: Path
    incoming: Path
    observations: Path
    start: np.datetime64
    first_analysis: np.datetime64
    end: np.datetime64 | None
    window_hours: int
    analysis_hours: tuple
    pattern: str = "obs_{stamp}.nc"
    completion: str = "rename"
    stable_seconds: float = 30.0
    cutoff_minutes: float = 180.0
    launcher: str = DEFAULT_LAUNCHER
    ranks: int = 4
    poll_seconds: float = 60.0
    max_attempts: int = 3
    retry_seconds: float = 60.0
    on_failure: str = "stop"
    launch_timeout_minutes: float = 0.0
    state_dir: Path = Path("serve")
    status_file: Path = Path("serve/status.json")
    lock_file: Path = Path("serve/serve.lock")
    alerts_file: Path = Path("serve/alerts.jsonl")

    @property
    def state_file(self) -> Path:
        return self.state_dir / "state.json"

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"


# key: (type, default, documentation); documented in docs/serve.md
SERVE_KEYS: dict[str, tuple[type | tuple, Any, str]] = {
    "run_dir": (str, None, "run directory of the cycled run (required)"),
    "cycle_config": (str, None, "the landia configuration that `landia cycle` runs (required)"),
    "incoming": (str, None, "folder where observation files arrive (required)"),
    "observations": (str, "", "folder of the run's observation files, relative to run_dir; "
                              "empty: the cycle config's cycle.observations"),
    "pattern": (str, "obs_{stamp}.nc", "incoming file name; {stamp} is YYYYMMDDTHHMM"),
    "completion": (str, "rename", "'rename', 'marker' (<file>.done) or 'stable'"),
    "stable_seconds": ((int, float), 30.0, "completion='stable': size/mtime unchanged this long"),
    "first_analysis": (str, "", "first analysis time served; empty: first after cycle.start"),
    "end": (str, "", "last analysis time served (inclusive); empty: run forever"),
    "window_hours": (int, 0, "0: the cycle config's; otherwise must equal it"),
    "analysis_hours": (list, [], "empty: the cycle config's; otherwise must equal it"),
    "cutoff_minutes": ((int, float), 180.0, "wait this long after t before running model-only"),
    "launcher": ((str, list), DEFAULT_LAUNCHER, "command template, run without a shell"),
    "ranks": (int, 4, "the {ranks} token"),
    "poll_seconds": ((int, float), 60.0, "how often the incoming folder is looked at"),
    "max_attempts": (int, 3, "launches of one cycle before launch_failed"),
    "retry_seconds": ((int, float), 60.0, "back-off before the 2nd attempt, doubled each time"),
    "on_failure": (str, "stop", "'stop' (exit 1) or 'continue' (next launch covers it)"),
    "launch_timeout_minutes": ((int, float), 0.0, "kill a launch after this long; 0: never"),
    "state_dir": (str, "", "state, logs; empty: <run_dir>/serve"),
    "status_file": (str, "", "empty: <state_dir>/status.json"),
    "lock_file": (str, "", "empty: <state_dir>/serve.lock"),
    "alerts_file": (str, "", "empty: <state_dir>/alerts.jsonl"),
}


def _time(value: str, key: str, source: str) -> np.datetime64:
    try:
        return np.datetime64(str(value).rstrip("Zz"), "s")
    except ValueError:
        raise ConfigError(f"{source}: [serve] {key} = {value!r} is not an ISO date-time "
                          f"(e.g. 2016-05-01T06:00)") from None


def load_serve_settings(path: str | Path) -> ServeSettings:
    """Read and validate the ``[serve]`` table of ``path``.

    Relative paths are relative to the folder of ``path``; ``observations`` to ``run_dir``.
    The cycle clock (start, window length, analysis hours) comes from ``cycle_config``.
    """
    path = Path(path)
    source = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: serve configuration file not found") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read serve configuration: {exc}") from None
    table = raw.get("serve")
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: no [serve] table (keys: {', '.join(SERVE_KEYS)})")
    unknown = sorted(set(table) - set(SERVE_KEYS))
    if unknown:
        raise ConfigError(f"{path}: unknown [serve] key(s) {', '.join(unknown)}; known: "
                          f"{', '.join(SERVE_KEYS)}")
    values: dict[str, Any] = {}
    for key, (kind, default, _doc) in SERVE_KEYS.items():
        if key not in table:
            if default is None:
                raise ConfigError(f"{path}: [serve] {key} is required")
            values[key] = default
            continue
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, kind):
            raise ConfigError(f"{path}: [serve] {key} = {value!r} has the wrong type")
        values[key] = value
    base = path.resolve().parent

    def resolve(p: str, root: Path) -> Path:
        q = Path(p).expanduser()
        return q if q.is_absolute() else root / q

    run_dir = resolve(values["run_dir"], base)
    cycle_config = resolve(values["cycle_config"], base)
    from landia.config import load_settings

    cycle = load_settings(cycle_config).cycle
    wh = int(values["window_hours"] or cycle.window_hours)
    if wh != cycle.window_hours:
        raise ConfigError(f"{path}: [serve] window_hours = {wh} differs from "
                          f"cycle.window_hours = {cycle.window_hours} of {cycle_config}")
    hours = tuple(sorted({int(h) for h in (values["analysis_hours"] or cycle.analysis_hours)}))
    if hours != tuple(sorted({int(h) for h in cycle.analysis_hours})):
        raise ConfigError(f"{path}: [serve] analysis_hours = {list(hours)} differ from "
                          f"cycle.analysis_hours = {cycle.analysis_hours} of {cycle_config}")
    obs_name = values["observations"] or cycle.observations
    if not obs_name:
        raise ConfigError(f"{path}: neither [serve] observations nor cycle.observations of "
                          f"{cycle_config} names the run's observation folder")
    start = _time(cycle.start, "cycle.start", str(cycle_config))
    grid = _analysis_after(start, None, wh, hours)
    if grid is None:
        raise ConfigError(f"{path}: no window end of {wh} h falls on analysis hours "
                          f"{list(hours)}")
    first = grid
    if values["first_analysis"]:
        first = _time(values["first_analysis"], "first_analysis", source)
        if (first - start) % (wh * HOUR) or first <= start or \
                int((first - first.astype("datetime64[D]")) // HOUR) not in hours:
            raise ConfigError(f"{path}: [serve] first_analysis = {values['first_analysis']} "
                              f"is not an analysis time of the cycle clock (start {start}, "
                              f"{wh} h windows, analysis hours {list(hours)})")
    end = _time(values["end"], "end", source) if values["end"] else None
    for key in ("completion", "on_failure"):
        allowed = {"completion": ("rename", "marker", "stable"),
                   "on_failure": ("stop", "continue")}[key]
        if values[key] not in allowed:
            raise ConfigError(f"{path}: [serve] {key} = {values[key]!r}; expected one of "
                              f"{', '.join(allowed)}")
    if "{stamp}" not in values["pattern"]:
        raise ConfigError(f"{path}: [serve] pattern = {values['pattern']!r} must contain "
                          f"{{stamp}}")
    launcher = values["launcher"]
    launcher = launcher if isinstance(launcher, str) else shlex.join(str(a) for a in launcher)
    try:
        [a.format(**{k: "x" for k in LAUNCH_TOKENS}) for a in shlex.split(launcher)]
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(f"{path}: [serve] launcher {launcher!r}: bad template ({exc}); "
                          f"tokens: {', '.join('{' + t + '}' for t in LAUNCH_TOKENS)}") from None
    for key, lo in (("ranks", 1), ("max_attempts", 1), ("poll_seconds", 0.001),
                    ("cutoff_minutes", 0), ("retry_seconds", 0), ("stable_seconds", 0),
                    ("launch_timeout_minutes", 0)):
        if values[key] < lo:
            raise ConfigError(f"{path}: [serve] {key} = {values[key]} must be >= {lo}")
    state_dir = resolve(values["state_dir"], base) if values["state_dir"] else run_dir / "serve"
    return ServeSettings(
        run_dir=run_dir, cycle_config=cycle_config, incoming=resolve(values["incoming"], base),
        observations=resolve(obs_name, run_dir), start=start, first_analysis=first, end=end,
        window_hours=wh, analysis_hours=hours, pattern=values["pattern"],
        completion=values["completion"], stable_seconds=float(values["stable_seconds"]),
        cutoff_minutes=float(values["cutoff_minutes"]), launcher=launcher,
        ranks=values["ranks"], poll_seconds=float(values["poll_seconds"]),
        max_attempts=values["max_attempts"], retry_seconds=float(values["retry_seconds"]),
        on_failure=values["on_failure"],
        launch_timeout_minutes=float(values["launch_timeout_minutes"]), state_dir=state_dir,
        status_file=resolve(values["status_file"], base) if values["status_file"]
        else state_dir / "status.json",
        lock_file=resolve(values["lock_file"], base) if values["lock_file"]
        else state_dir / "serve.lock",
        alerts_file=resolve(values["alerts_file"], base) if values["alerts_file"]
        else state_dir / "alerts.jsonl")


def _analysis_after(start, after, window_hours: int, hours) -> np.datetime64 | None:
    """The first analysis time of the cycle clock strictly after ``after`` (None: the first)."""
    w = window_hours * HOUR
    t0 = np.datetime64(start, "s")
    k0 = 0 if after is None else max(0, int((np.datetime64(after, "s") - t0) // w))
    a = t0 + k0 * w
    # the pattern of window-end hours repeats within 24 windows
    for win in windows(a, a + 25 * w, window_hours, hours, mode="da"):
        if win.analyse and (after is None or win.end > np.datetime64(after, "s")):
            return win.end
    return None


def iso(t) -> str | None:
    """``YYYY-MM-DDTHH:MM`` of a UTC time (the ``{end}`` token), or None."""
    return None if t is None else str(np.datetime64(t, "m"))


# ----------------------------------------------------------------------------- clocks


class SystemClock:
    """The real UTC clock."""

    simulated = False

    def now(self) -> np.datetime64:
        return np.datetime64(int(time.time()), "s")

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))


class SimulatedClock:
    """A clock that starts at ``anchor`` and runs ``speed`` times faster than real time.

    For demonstrations and replays of past periods (``--clock-start``, ``--clock-speed``):
    with speed 60 one real minute is one hour of analysis times.
    """

    simulated = True

    def __init__(self, anchor, speed: float = 1.0):
        if speed <= 0:
            raise ConfigError(f"clock speed must be positive, got {speed}")
        self.anchor = np.datetime64(anchor, "s")
        self.speed = float(speed)
        self._t0 = time.monotonic()

    def now(self) -> np.datetime64:
        elapsed = (time.monotonic() - self._t0) * self.speed
        return self.anchor + np.timedelta64(int(elapsed), "s")

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds) / self.speed)


# ----------------------------------------------------------------------------- launcher


@dataclass(frozen=True)
class LaunchRequest:
    """One launch of the cycle job: its tokens and the attempt number (1-based)."""

    tokens: dict
    attempt: int
    log_file: Path
    keep_fds: tuple = ()  # descriptors the job inherits (the lock)

    @property
    def end(self) -> str:
        return self.tokens["end"]


class SubprocessLauncher:
    """Runs the launcher template as a process (no shell) and returns its exit status.

    Each token of the template (split like a shell would, ``shlex``) is formatted with
    ``{ranks} {config} {run_dir} {end} {stamp} {obs}``. Output goes to the request's log file.
    If the scheduler is interrupted (SIGTERM, Ctrl-C) while the job runs, the job's process
    group is terminated before the exception goes on, so no job outlives the lock.
    """

    def __init__(self, template: str, timeout_minutes: float = 0.0):
        self.template = template
        self.timeout = timeout_minutes * 60.0 if timeout_minutes > 0 else None

    def argv(self, tokens: dict) -> list[str]:
        return [a.format(**tokens) for a in shlex.split(self.template)]

    def __call__(self, request: LaunchRequest) -> int:
        argv = self.argv(request.tokens)
        request.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(request.log_file, "ab") as log:
            log.write(f"# attempt {request.attempt}: {shlex.join(argv)}\n".encode())
            log.flush()
            try:
                proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, env=launch_environment(),
                                        start_new_session=True, pass_fds=request.keep_fds)
            except OSError as exc:
                log.write(f"# cannot start: {exc}\n".encode())
                return 127
            try:
                return proc.wait(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                log.write(f"# killed after {self.timeout:.0f} s (launch_timeout_minutes)\n"
                          .encode())
                _terminate(proc)
                return 124
            except BaseException:
                _terminate(proc)
                raise


def _terminate(proc: subprocess.Popen, grace: float = 30.0) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def netcdf_validator(path: Path) -> str | None:
    """None if ``path`` opens as netCDF, else the reason."""
    import netCDF4

    try:
        with netCDF4.Dataset(path, "r") as ds:
            ds.variables  # noqa: B018  (touch the header)
    except Exception as exc:  # noqa: BLE001  any failure means unusable
        return f"cannot open as netCDF: {exc}"
    return None


# ----------------------------------------------------------------------------- lock


class ServeLock:
    """An exclusive ``fcntl.flock`` on ``path``, holding this process's PID in the file."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._fh = None

    def acquire(self) -> None:
        """Take the lock, or raise LockHeld naming the holder.

        Launched jobs inherit the locked descriptor, so a job orphaned by a serve that was
        killed (SIGKILL, OOM) keeps holding the lock: then the PID written in the file is
        dead, and a new serve waits for that job to end instead of starting a second one.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+")
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                fh.close()
                raise
            fh.seek(0)
            holder = fh.read().strip() or "unknown"
            if not _holder_dead(holder):
                fh.close()
                raise LockHeld(f"{self.path}: another landia serve is running for this run "
                               f"(holder: {holder}); refusing to start a second one") from None
            get_logger("landia.serve").warning(
                "waiting_for_orphaned_job", lock=str(self.path), holder=holder,
                note="the serve that held the lock is dead; a job it launched still runs")
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} on {socket.gethostname()} since "
                 f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\n")
        fh.flush()
        self._fh = fh

    def fileno(self) -> int | None:
        return None if self._fh is None else self._fh.fileno()

    def release(self) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None

    def __enter__(self) -> "ServeLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


# ----------------------------------------------------------------------------- state


@dataclass
class ServeState:
    """What survives a restart (``state.json``)."""

    version: int = STATE_VERSION
    position: str | None = None  # last analysis time finished (completed or given up)
    last_completed: str | None = None  # last analysis time whose launch succeeded
    pending: dict | None = None  # {"time", "obs": "delivered"|"model_only"} before launch
    last_error: str | None = None
    counts: dict = field(default_factory=lambda: {k: 0 for k in COUNT_KEYS})
    history: list = field(default_factory=list)  # recent outcomes, newest last

    @classmethod
    def load(cls, path: Path) -> "ServeState":
        if not path.exists():
            return cls()
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise LandiaError(f"{path}: serve state file unreadable ({exc}); it is written "
                              f"atomically, so this is not a crash of serve: inspect or "
                              f"remove it (serve then restarts from first_analysis and "
                              f"`landia cycle` skips what is done)") from None
        state = cls(**{k: raw[k] for k in asdict(cls()) if k in raw})
        state.counts = {**{k: 0 for k in COUNT_KEYS}, **state.counts}
        return state

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.history = self.history[-HISTORY_KEPT:]
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(asdict(self), indent=1) + "\n", encoding="utf-8")

    def outcome(self, t: str) -> dict | None:
        for h in reversed(self.history):
            if h["time"] == t:
                return h
        return None


# ----------------------------------------------------------------------------- scheduler


class Scheduler:
    """Feeds observation files to the cycle and launches it, one analysis time at a time.

    Parameters
    ----------
    settings : ServeSettings
    clock : object with ``now() -> datetime64[s]`` (UTC) and ``sleep(seconds)``
    launcher : callable(LaunchRequest) -> int (exit status; 0 is success); exceptions from
        it propagate (they are a crash of serve, not a failed launch)
    validator : callable(Path) -> str | None (None: usable)
    """

    def __init__(self, settings: ServeSettings, clock=None, launcher=None,
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
        stem = re.escape(settings.pattern).replace(re.escape("{stamp}"), r"(\d{8}T\d{4})")
        self._name_re = re.compile(f"^{stem}$")

    # -- paths
    def incoming_file(self, t) -> Path:
        return self.s.incoming / self.s.pattern.format(stamp=stamp(t))

    def run_obs_file(self, t) -> Path:
        return self.s.observations / f"obs_{stamp(t)}.nc"

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
        t = _analysis_after(self.s.start, self.state.position, self.s.window_hours,
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
        if self.s.completion == "rename":
            return path.is_file()
        if self.s.completion == "marker":
            return path.is_file() and _marker(path).exists()
        try:  # 'stable': unmodified for stable_seconds of real time (file-system clock)
            age = time.time() - path.stat().st_mtime
        except FileNotFoundError:
            return False
        return age >= self.s.stable_seconds

    def _deliver(self, src: Path, dst: Path) -> None:
        dst.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(src, dst)
            _fsync_dir(dst.parent)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            with atomic_path(dst) as tmp:  # another file system: copy, then remove
                shutil.copyfile(src, tmp)
            src.unlink()
        _marker(src).unlink(missing_ok=True)
        self.log.info("observations_delivered", file=str(dst))

    def _set_aside(self, src: Path, folder: str) -> Path:
        dest_dir = self.s.incoming / folder
        dest_dir.mkdir(parents=True, exist_ok=True)
        dest = dest_dir / f"{src.name}.{stamp(self.clock.now())}"
        n = 1
        while dest.exists():
            dest = dest_dir / f"{src.name}.{stamp(self.clock.now())}.{n}"
            n += 1
        os.replace(src, dest)
        _marker(src).unlink(missing_ok=True)
        return dest

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
            m = self._name_re.match(p.name)
            if not m:
                continue
            try:
                t = np.datetime64(f"{m[1][:4]}-{m[1][4:6]}-{m[1][6:8]}T{m[1][9:11]}:"
                                  f"{m[1][11:13]}", "s")
            except ValueError:
                continue
            on_grid = (t - self.s.start) % (self.s.window_hours * HOUR) == 0 and \
                int((t - t.astype("datetime64[D]")) // HOUR) in self.s.analysis_hours
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
        record = {"alert": kind, "analysis_time": analysis_time, "file": file,
                  "message": message, "at": iso(self.clock.now()),
                  "wall_clock": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        self.s.alerts_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.s.alerts_file, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
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
        self.s.status_file.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(self.s.status_file) as tmp:
            tmp.write_text(json.dumps(self.status, indent=1) + "\n", encoding="utf-8")


def _holder_dead(holder: str) -> bool:
    """True if the lock file names a process on this host that no longer exists."""
    m = re.match(r"pid (\d+) on (\S+)", holder)
    if not m or m[2] != socket.gethostname():
        return False
    try:
        os.kill(int(m[1]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _marker(path: Path) -> Path:
    return path.with_name(path.name + ".done")


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ----------------------------------------------------------------------------- HTTP


class StatusServer:
    """A tiny HTTP endpoint in a daemon thread: ``GET /`` or ``/status`` returns the status
    JSON of ``source()``; anything else is 404."""

    def __init__(self, source: Callable[[], dict], host: str = "127.0.0.1", port: int = 0):
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                if self.path.split("?")[0] not in ("/", "/status"):
                    self.send_error(404, "try /status")
                    return
                body = (json.dumps(source(), indent=1) + "\n").encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):  # quiet
                pass

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self.address = self.httpd.server_address
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True,
                                        name="landia-serve-status")

    def start(self) -> "StatusServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
