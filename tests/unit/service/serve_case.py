"""The serve test case: a cycle config and a serve file in a folder (the ``site`` fixture of
``conftest.py``), a fake UTC clock, a fake ``landia cycle``, and readers of what serve wrote."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import netCDF4
import numpy as np

from landia.service import load_serve_settings
from landia.commands.serve import add_parser as add_serve_parser

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


def scenario(site):
    """Files for 06 and 18 arrive in time, 12 and 00 never."""
    return [("2016-05-01T06:05", drop(site, 0)), ("2016-05-01T18:05", drop(site, 2))]


def serve_args(site, *extra):
    """Parsed ``landia serve --config <site>/serve.toml EXTRA...`` arguments."""
    p = argparse.ArgumentParser()
    add_serve_parser(p.add_subparsers(dest="command"))
    return p.parse_args(["serve", "--config", str(site / "serve.toml"), *extra])
