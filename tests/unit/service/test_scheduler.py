"""``landia serve``: the near-real-time scheduler, driven by a fake clock and fake launchers."""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pytest

from landia.service import Scheduler, load_serve_settings
from tests.unit.service.serve_case import (STAMPS, TIMES, Crash, FakeClock, FakeCycle, alerts,
                                           drop, incoming, scenario, settings_for, status,
                                           write_obs)


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
