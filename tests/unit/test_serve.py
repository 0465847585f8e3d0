"""``landia serve``: the near-real-time scheduler, driven by a fake clock and fake launchers."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.request
from pathlib import Path

import netCDF4
import numpy as np
import pytest

from landia.errors import ConfigError
from landia.commands.serve import EXIT_LOCKED, add_parser as add_serve_parser, serve as run_serve
from landia.service.scheduler import (LockHeld, Scheduler, ServeLock, StatusServer,
                                      LaunchRequest, SubprocessLauncher,
                                      load_serve_settings)

CYCLE = """\
[cycle]
start = "2016-05-01T00:00"
end = "2016-05-03T00:00"
window_hours = 6
analysis_hours = [0, 6, 12, 18]
observations = "obs"
"""

SERVE = """\
[serve]
run_dir = "run"
cycle_config = "cycle.toml"
incoming = "incoming"
end = "2016-05-02T00:00"
cutoff_minutes = 60
poll_seconds = 300
retry_seconds = 10
"""

TIMES = ["2016-05-01T06:00", "2016-05-01T12:00", "2016-05-01T18:00", "2016-05-02T00:00"]
STAMPS = [t.replace("-", "").replace(":", "") for t in TIMES]


class Crash(Exception):
    """Stands for serve dying (kill -9, power cut) at some point."""


class FakeClock:
    """UTC time that only moves when the scheduler sleeps; ``events`` fire as time passes."""

    simulated = False

    def __init__(self, start, events=(), crash_at=None):
        self.t = np.datetime64(start, "s")
        self.events = sorted(((np.datetime64(t, "s"), f) for t, f in events),
                             key=lambda e: e[0])
        self.crash_at = None if crash_at is None else np.datetime64(crash_at, "s")
        self.slept: list[float] = []
        self._fire()

    def now(self):
        return self.t

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.t = self.t + np.timedelta64(int(np.ceil(seconds)), "s")
        self._fire()
        if self.crash_at is not None and self.t >= self.crash_at:
            self.crash_at = None
            raise Crash(f"clock crash at {self.t}")

    def _fire(self):
        while self.events and self.events[0][0] <= self.t:
            self.events.pop(0)[1]()


class FakeCycle:
    """Stands for ``landia cycle``: exactly-once per window, runs every window up to ``end``.

    ``fail`` maps an end to how many launches for it fail (status 1) before one succeeds;
    ``crash`` maps an end to 'before' or 'after' (the work): serve dies during that launch.
    """

    def __init__(self, fail=None, crash=None):
        self.calls: list[tuple[str, int, str]] = []
        self.windows_run: list[str] = []
        self.fail = dict(fail or {})
        self.crash = dict(crash or {})

    def __call__(self, request):
        end = request.tokens["end"]
        self.calls.append((end, request.attempt, request.tokens["obs"]))
        if self.crash.get(end) == "before":
            del self.crash[end]
            raise Crash(f"serve died launching {end}")
        if self.fail.get(end, 0) > 0:
            self.fail[end] -= 1
            return 1
        t = np.datetime64("2016-05-01T06:00")
        while t <= np.datetime64(end):
            label = str(t)
            if label not in self.windows_run:
                self.windows_run.append(label)
            t = t + np.timedelta64(6, "h")
        if self.crash.get(end) == "after":
            del self.crash[end]
            raise Crash(f"serve died after the job for {end}")
        return 0

    def ends(self):
        return [c[0] for c in self.calls]


def write_obs(path: Path):
    """A valid tiny netCDF file, written beside and renamed in (the atomic convention)."""
    tmp = path.with_name("." + path.name + ".part")
    with netCDF4.Dataset(tmp, "w") as ds:
        ds.createDimension("x", 2)
        ds.createVariable("soil_moisture", "f4", ("x",))[:] = [0.2, 0.3]
    os.replace(tmp, path)


def write_corrupt(path: Path):
    path.write_bytes(b"this is not netCDF\n" * 10)


@pytest.fixture(autouse=True)
def _no_fsync(monkeypatch):
    """The fake clock polls hundreds of times; fsync of every status rewrite only slows the
    tests down (durability is not what they check)."""
    monkeypatch.setattr(os, "fsync", lambda fd: None)


@pytest.fixture
def site(tmp_path):
    (tmp_path / "cycle.toml").write_text(CYCLE)
    (tmp_path / "serve.toml").write_text(SERVE)
    return tmp_path


def settings_for(site, extra=""):
    """SERVE with the keys of ``extra`` added or replaced."""
    keys = {line.split("=")[0].strip() for line in extra.splitlines() if "=" in line}
    base = [line for line in SERVE.splitlines(keepends=True)
            if line.split("=")[0].strip() not in keys]
    (site / "serve.toml").write_text("".join(base) + extra)
    return load_serve_settings(site / "serve.toml")


def incoming(site, i):
    return site / "incoming" / f"obs_{STAMPS[i]}.nc"


def alerts(site):
    path = site / "run" / "serve" / "alerts.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def status(site):
    return json.loads((site / "run" / "serve" / "status.json").read_text())


def drop(site, i, corrupt=False):
    (site / "incoming").mkdir(exist_ok=True)
    return lambda: (write_corrupt if corrupt else write_obs)(incoming(site, i))


# ----------------------------------------------------------------------------- settings


def test_settings_defaults_from_cycle_config(site):
    s = load_serve_settings(site / "serve.toml")
    assert s.window_hours == 6 and s.analysis_hours == (0, 6, 12, 18)
    assert str(s.first_analysis) == "2016-05-01T06:00:00"
    assert s.observations == site / "run" / "obs"
    assert s.status_file == site / "run" / "serve" / "status.json"
    assert "{end}" in s.launcher


@pytest.mark.parametrize("extra, match", [
    ("bogus = 1\n", "unknown"),
    ("window_hours = 3\n", "differs"),
    ('first_analysis = "2016-05-01T07:00"\n', "not an analysis time"),
    ('launcher = "run {nope}"\n', "bad template"),
    ('on_failure = "maybe"\n', "on_failure"),
    ('pattern = "obs.nc"\n', "stamp"),
])
def test_settings_errors(site, extra, match):
    with pytest.raises(ConfigError, match=match):
        settings_for(site, extra)


# ----------------------------------------------------------------------------- cycles


def test_late_missing_duplicate_corrupt_early(site):
    """Four analysis times: a file late within the cut-off, one never (model-only at the
    cut-off), a corrupt one replaced by a good one, one early; duplicates and late arrivals
    of used times are set aside and never re-run a cycle."""
    s = load_serve_settings(site / "serve.toml")
    clock = FakeClock("2016-05-01T05:00", events=[
        ("2016-05-01T06:10", drop(site, 0)),                 # late but before the cut-off
        ("2016-05-01T08:00", drop(site, 0)),                 # duplicate of a used time
        ("2016-05-01T14:00", drop(site, 1)),                 # after 12:00 ran model-only
        ("2016-05-01T18:05", drop(site, 2, corrupt=True)),   # corrupt ...
        ("2016-05-01T18:20", drop(site, 2)),                 # ... then a good one
        ("2016-05-01T23:00", drop(site, 3)),                 # early: waits for 00:00
    ])
    cycle = FakeCycle()
    sched = Scheduler(s, clock=clock, launcher=cycle)
    assert sched.run() == 0
    assert cycle.ends() == TIMES
    assert [c[1] for c in cycle.calls] == [1, 1, 1, 1]
    obs = [c[2] for c in cycle.calls]
    assert obs[1] == "" and all(o.endswith(f"obs_{STAMPS[i]}.nc")
                                for i, o in enumerate(obs) if i != 1)
    assert cycle.windows_run == TIMES
    for i in (0, 2, 3):
        assert (site / "run" / "obs" / f"obs_{STAMPS[i]}.nc").is_file()
    assert not (site / "run" / "obs" / f"obs_{STAMPS[1]}.nc").exists()
    kinds = [(a["alert"], a["analysis_time"]) for a in alerts(site)]
    assert kinds == [("duplicate_feed", TIMES[0]), ("missing_feed", TIMES[1]),
                     ("late_feed", TIMES[1]), ("corrupt_file", TIMES[2])]
    missing = alerts(site)[1]
    assert missing["at"] == "2016-05-01T13:00"
    assert len(list((site / "incoming" / "rejected").iterdir())) == 1
    assert len(list((site / "incoming" / "duplicates").iterdir())) == 1
    assert len(list((site / "incoming" / "late").iterdir())) == 1
    assert not list((site / "incoming").glob("obs_*.nc"))
    st = status(site)
    assert st["phase"] == "finished" and st["last_completed"] == TIMES[3]
    assert st["next_due"] is None and st["last_error"] is None
    assert st["counts"]["cycles_ok"] == 4 and st["counts"]["model_only"] == 1
    assert st["counts"]["with_observations"] == 3
    assert st["counts"]["corrupt_files"] == 1 and st["counts"]["duplicate_feeds"] == 1
    assert st["counts"]["late_feeds"] == 1 and st["counts"]["missing_feeds"] == 1
    history = json.loads((site / "run" / "serve" / "state.json").read_text())["history"]
    finished = {h["time"]: h["finished"] for h in history}
    # 06:00 ran at the first poll after the 06:10 arrival; 00:00 not before its time
    assert "2016-05-01T06:10" <= finished[TIMES[0]] <= "2016-05-01T06:20"
    assert finished[TIMES[1]] == "2016-05-01T13:00"
    assert finished[TIMES[3]] == "2016-05-02T00:00"


def test_catches_up_without_waiting(site):
    s = load_serve_settings(site / "serve.toml")
    (site / "incoming").mkdir()
    write_obs(incoming(site, 0))
    write_obs(incoming(site, 2))
    clock = FakeClock("2016-05-02T03:00")
    cycle = FakeCycle()
    assert Scheduler(s, clock=clock, launcher=cycle).run() == 0
    assert cycle.ends() == TIMES and clock.slept == []
    assert [bool(c[2]) for c in cycle.calls] == [True, False, True, False]
    st = status(site)
    assert st["lag_seconds"] == 3 * 3600
    assert [a["alert"] for a in alerts(site)] == ["missing_feed", "missing_feed"]


def test_once_stops_when_the_next_time_must_be_waited_for(site):
    s = load_serve_settings(site / "serve.toml")
    (site / "incoming").mkdir()
    write_obs(incoming(site, 0))
    cycle = FakeCycle()
    clock = FakeClock("2016-05-01T12:30")
    assert Scheduler(s, clock=clock, launcher=cycle).run(once=True) == 0
    assert cycle.ends() == TIMES[:1] and clock.slept == []
    st = status(site)
    assert st["phase"] == "idle" and st["next_due"] == TIMES[1]
    assert st["waiting_for"]["cutoff"] == "2016-05-01T13:00"
    clock.t = np.datetime64("2016-05-01T13:00", "s")
    assert Scheduler(s, clock=clock, launcher=cycle).run(once=True) == 0
    assert cycle.ends() == TIMES[:2]


def scenario(site):
    """Files for 06 and 18 arrive in time, 12 and 00 never."""
    return [("2016-05-01T06:05", drop(site, 0)), ("2016-05-01T18:05", drop(site, 2))]


@pytest.mark.parametrize("where", ["before", "after"])
@pytest.mark.parametrize("k", range(4))
def test_crash_during_a_launch_and_restart(site, where, k):
    """serve dies while launching cycle k (before or after the job did its work); a new
    scheduler on the same state relaunches it: no cycle skipped, none run twice."""
    s = load_serve_settings(site / "serve.toml")
    cycle = FakeCycle(crash={TIMES[k]: where})
    clock = FakeClock("2016-05-01T05:00", events=scenario(site))
    with pytest.raises(Crash):
        Scheduler(s, clock=clock, launcher=cycle).run()
    st = status(site)
    assert st["phase"] == "crashed" and "Crash" in st["last_error"]
    assert Scheduler(s, clock=clock, launcher=cycle).run() == 0
    assert cycle.windows_run == TIMES
    expected = TIMES[:k + 1] + TIMES[k:]
    assert cycle.ends() == expected
    obs = {c[0]: bool(c[2]) for c in cycle.calls}
    assert obs == {TIMES[0]: True, TIMES[1]: False, TIMES[2]: True, TIMES[3]: False}
    assert [a["alert"] for a in alerts(site)] == ["missing_feed", "missing_feed"]
    assert status(site)["counts"]["cycles_ok"] == 4


@pytest.mark.parametrize("crash_at", ["2016-05-01T05:30", "2016-05-01T06:05",
                                      "2016-05-01T12:30", "2016-05-01T18:10",
                                      "2016-05-01T23:55"])
def test_crash_while_waiting_and_restart(site, crash_at):
    s = load_serve_settings(site / "serve.toml")
    cycle = FakeCycle()
    clock = FakeClock("2016-05-01T05:00", events=scenario(site), crash_at=crash_at)
    with pytest.raises(Crash):
        Scheduler(s, clock=clock, launcher=cycle).run()
    assert Scheduler(s, clock=clock, launcher=cycle).run() == 0
    assert cycle.ends() == TIMES and cycle.windows_run == TIMES
    assert [bool(c[2]) for c in cycle.calls] == [True, False, True, False]


def test_model_only_decision_survives_a_restart(site):
    """12:00 passes its cut-off, serve dies in the launch, the file arrives while serve is
    down: the restarted serve keeps the model-only decision and sets the file aside as late."""
    s = load_serve_settings(site / "serve.toml")
    cycle = FakeCycle(crash={TIMES[1]: "before"})
    clock = FakeClock("2016-05-01T05:00", events=scenario(site))
    with pytest.raises(Crash):
        Scheduler(s, clock=clock, launcher=cycle).run()
    (site / "incoming").mkdir(exist_ok=True)
    write_obs(incoming(site, 1))
    assert Scheduler(s, clock=clock, launcher=cycle).run() == 0
    assert [c for c in cycle.calls if c[0] == TIMES[1]] == [(TIMES[1], 1, ""), (TIMES[1], 1, "")]
    assert [a["alert"] for a in alerts(site)] == ["missing_feed", "late_feed", "missing_feed"]
    assert cycle.windows_run == TIMES


def test_failed_launch_is_retried_with_backoff(site):
    s = load_serve_settings(site / "serve.toml")
    (site / "incoming").mkdir()
    cycle = FakeCycle(fail={TIMES[1]: 2})
    clock = FakeClock("2016-05-02T03:00")
    assert Scheduler(s, clock=clock, launcher=cycle).run() == 0
    assert cycle.ends() == [TIMES[0], TIMES[1], TIMES[1], TIMES[1], TIMES[2], TIMES[3]]
    assert [c[1] for c in cycle.calls if c[0] == TIMES[1]] == [1, 2, 3]
    assert clock.slept == [10, 20]
    st = status(site)
    assert st["counts"]["retries"] == 2 and st["counts"]["launch_failures"] == 2
    assert st["counts"]["cycles_ok"] == 4
    assert "launch_failed" not in [a["alert"] for a in alerts(site)]


def test_failed_launch_stops_then_resumes(site):
    s = load_serve_settings(site / "serve.toml")
    cycle = FakeCycle(fail={TIMES[1]: 3})
    clock = FakeClock("2016-05-02T03:00")
    assert Scheduler(s, clock=clock, launcher=cycle).run() == 1
    assert cycle.ends() == [TIMES[0]] + [TIMES[1]] * 3
    st = status(site)
    assert st["phase"] == "failed" and st["last_completed"] == TIMES[0]
    assert "exited with status 1" in st["last_error"] and st["next_due"] == TIMES[1]
    assert alerts(site)[-1]["alert"] == "launch_failed"
    # the operator fixes the cause and restarts: it resumes at 12:00, not after it
    assert Scheduler(s, clock=clock, launcher=cycle).run() == 0
    assert cycle.ends()[4:] == TIMES[1:]
    assert cycle.windows_run == TIMES


def test_failed_launch_continue_covers_the_cycle_later(site):
    s = settings_for(site, 'on_failure = "continue"\nmax_attempts = 2\n')
    cycle = FakeCycle(fail={TIMES[1]: 2})
    clock = FakeClock("2016-05-02T03:00")
    assert Scheduler(s, clock=clock, launcher=cycle).run() == 0
    assert cycle.ends() == [TIMES[0], TIMES[1], TIMES[1], TIMES[2], TIMES[3]]
    assert cycle.windows_run == TIMES  # the 18:00 launch ran the 12:00 window first
    assert [a["alert"] for a in alerts(site)].count("launch_failed") == 1
    assert status(site)["last_completed"] == TIMES[3]


def test_marker_completion(site):
    s = settings_for(site, 'completion = "marker"\n')
    (site / "incoming").mkdir()
    write_obs(incoming(site, 0))
    marker = incoming(site, 0).with_name(incoming(site, 0).name + ".done")
    clock = FakeClock("2016-05-01T06:00",
                      events=[("2016-05-01T06:30", lambda: marker.write_text(""))])
    cycle = FakeCycle()
    Scheduler(s, clock=clock, launcher=cycle).run(once=True)
    assert cycle.calls == []  # no marker yet
    clock.sleep(1800)
    Scheduler(s, clock=clock, launcher=cycle).run(once=True)
    assert cycle.ends() == TIMES[:1] and cycle.calls[0][2]
    assert not marker.exists()


def test_stable_completion(site):
    """completion = 'stable': a file is used once unmodified for stable_seconds (its mtime)."""
    s = settings_for(site, 'completion = "stable"\nstable_seconds = 120\n')
    (site / "incoming").mkdir()
    path = incoming(site, 0)
    path.write_bytes(b"")  # a writer has just begun
    clock = FakeClock("2016-05-01T06:00")
    cycle = FakeCycle()
    Scheduler(s, clock=clock, launcher=cycle).run(once=True)
    assert cycle.calls == [] and path.exists()
    write_obs(path)
    os.utime(path, (time.time() - 60, time.time() - 60))
    Scheduler(s, clock=clock, launcher=cycle).run(once=True)
    assert cycle.calls == []  # modified 60 s ago: maybe still being written
    os.utime(path, (time.time() - 200, time.time() - 200))
    Scheduler(s, clock=clock, launcher=cycle).run(once=True)
    assert cycle.ends() == TIMES[:1] and cycle.calls[0][2]


# ----------------------------------------------------------------------------- lock, status


def test_lock_refuses_a_second_instance(site):
    s = load_serve_settings(site / "serve.toml")
    holder = ServeLock(s.lock_file)
    holder.acquire()
    try:
        with pytest.raises(LockHeld, match=f"pid {os.getpid()}"):
            Scheduler(s, clock=FakeClock("2016-05-02T03:00"), launcher=FakeCycle()).run()
        args = _args(site, "--once")
        assert run_serve(args) == EXIT_LOCKED
    finally:
        holder.release()
    cycle = FakeCycle()
    assert Scheduler(s, clock=FakeClock("2016-05-02T03:00"), launcher=cycle).run() == 0
    assert cycle.ends() == TIMES


HOLDER = """\
import fcntl, sys, time
fh = open(sys.argv[1], "a+")
fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
"""


def test_lock_waits_for_a_job_orphaned_by_a_killed_serve(site, tmp_path):
    """serve was SIGKILLed while its job ran: the job still holds the inherited lock and the
    file names a dead PID. A new serve waits for the job instead of running a second one."""
    import socket
    import subprocess

    s = load_serve_settings(site / "serve.toml")
    s.lock_file.parent.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    s.lock_file.write_text(f"pid {dead} on {socket.gethostname()} since 2016-05-01T00:00:00Z\n")
    job = subprocess.Popen([sys.executable, "-c", HOLDER, str(s.lock_file), "1.5"],
                           stdout=subprocess.PIPE, text=True)
    try:
        assert job.stdout.readline().strip() == "locked"
        t0 = time.monotonic()
        lock = ServeLock(s.lock_file)
        lock.acquire()
        waited = time.monotonic() - t0
        assert waited > 1.0  # the holder slept 1.5 s after locking
        assert s.lock_file.read_text().startswith(f"pid {os.getpid()} ")
        lock.release()
    finally:
        job.kill()
        job.wait()


def test_launched_job_inherits_the_lock(site):
    """A launched job holds the lock through its inherited descriptor: if serve dies (its
    descriptor closed without unlocking) the lock stays taken until the job ends."""
    import threading

    s = load_serve_settings(site / "serve.toml")
    lock = ServeLock(s.lock_file)
    lock.acquire()
    launcher = SubprocessLauncher(f"{sys.executable} -c 'import time; time.sleep(1.5)'")
    req = LaunchRequest(tokens={}, attempt=1, log_file=site / "job.log",
                        keep_fds=(lock.fileno(),))
    result = []
    job = threading.Thread(target=lambda: result.append(launcher(req)))
    job.start()
    time.sleep(0.5)
    lock._fh.close()  # serve "dies": no LOCK_UN
    lock._fh = None
    with pytest.raises(LockHeld):
        ServeLock(s.lock_file).acquire()  # holder PID (ours) is alive: refused
    job.join()
    assert result == [0]
    again = ServeLock(s.lock_file)
    again.acquire()  # free once the job has ended
    again.release()


def test_status_endpoint(site):
    s = load_serve_settings(site / "serve.toml")
    sched = Scheduler(s, clock=FakeClock("2016-05-02T03:00"), launcher=FakeCycle())
    sched.run()
    server = StatusServer(lambda: sched.status, port=0).start()
    try:
        host, port = server.address[:2]
        with urllib.request.urlopen(f"http://{host}:{port}/status", timeout=10) as r:
            body = json.loads(r.read())
        assert body == status(site)
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"http://{host}:{port}/other", timeout=10)
    finally:
        server.stop()


# ----------------------------------------------------------------------------- real process


SCRIPT = """\
import argparse, os, pathlib, sys
p = argparse.ArgumentParser()
p.add_argument("--config"); p.add_argument("--run-dir"); p.add_argument("--end")
p.add_argument("--obs", default="")
a = p.parse_args()
run = pathlib.Path(a.run_dir)
flag = run / "failed_once"
if a.end == "2016-05-01T12:00" and not flag.exists():
    flag.write_text("")
    print("simulated failure", flush=True)
    sys.exit(3)
markers = [k for k in os.environ if k.startswith(("PMIX_", "OMPI_COMM_WORLD_"))]
if markers:
    print("inherited MPI job variables:", markers, flush=True)
    sys.exit(4)
with open(run / "calls.txt", "a") as fh:
    fh.write(f"{a.end} {pathlib.Path(a.obs).name if a.obs else '-'} {a.config}\\n")
print("cycle done", a.end)
"""


def _args(site, *extra):
    p = argparse.ArgumentParser()
    add_serve_parser(p.add_subparsers(dest="command"))
    return p.parse_args(["serve", "--config", str(site / "serve.toml"), *extra])


def test_real_subprocess_launcher_through_the_command(site):
    """A real process per launch (a tiny script standing for `landia cycle`), started from a
    process where MPI is initialised: the job must not inherit the singleton's variables."""
    mpi = pytest.importorskip("mpi4py.MPI")
    mpi.COMM_WORLD.Get_rank()
    (site / "fake_cycle.py").write_text(SCRIPT)
    launcher = [sys.executable, str(site / "fake_cycle.py"), "--config", "{config}",
                "--run-dir", "{run_dir}", "--end", "{end}", "--obs={obs}"]
    settings_for(site, f"retry_seconds = 0\nlauncher = {json.dumps(launcher)}\n")
    (site / "incoming").mkdir()
    write_obs(incoming(site, 0))
    write_obs(incoming(site, 3))
    # the real clock is years after 2016: every cut-off has passed, --once catches up
    assert run_serve(_args(site, "--once")) == 0
    lines = (site / "run" / "calls.txt").read_text().splitlines()
    cfg = str(site / "cycle.toml")
    assert lines == [f"{TIMES[0]} obs_{STAMPS[0]}.nc {cfg}", f"{TIMES[1]} - {cfg}",
                     f"{TIMES[2]} - {cfg}", f"{TIMES[3]} obs_{STAMPS[3]}.nc {cfg}"]
    log = (site / "run" / "serve" / "logs" / f"cycle_{STAMPS[1]}.log").read_text()
    assert "# attempt 1:" in log and "simulated failure" in log and "# attempt 2:" in log
    assert "cycle done 2016-05-01T12:00" in log
    st = status(site)
    assert st["phase"] == "finished" and st["counts"]["retries"] == 1
    assert st["clock"] == "real" and st["lag_seconds"] > 3600 * 24 * 365
    # rerunning does nothing: every time is done
    assert run_serve(_args(site, "--once")) == 0
    assert len((site / "run" / "calls.txt").read_text().splitlines()) == 4
