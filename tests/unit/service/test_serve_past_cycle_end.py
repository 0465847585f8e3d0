"""``landia serve`` runs past ``cycle.end`` (issue 13, case 11): the real scheduler launches
the real ``landia cycle`` (a subprocess, no mpirun) with ``--end`` after ``cycle.end``."""

from __future__ import annotations

import json
import sys

import pytest

from landia.service import Scheduler, SubprocessLauncher, load_serve_settings
from tests.unit.service.serve_case import TIMES, FakeClock

CYCLE = """\
[grid]
south = 40.0
north = 49.8
west = 110.0
east = 124.0
resolution = 1.4
[cycle]
start = "2016-05-01T00:00"
end = "2016-05-01T12:00"
window_hours = 6
analysis_hours = [0, 6, 12, 18]
observations = "obs"
mode = "ctrl"
"""

SERVE = """\
[serve]
run_dir = "run"
cycle_config = "cycle.toml"
incoming = "incoming"
end = "2016-05-02T00:00"
cutoff_minutes = 60
max_attempts = 1
"""


def test_serve_launches_real_cycles_past_cycle_end(tmp_path):
    pytest.importorskip("mpi4py")
    (tmp_path / "cycle.toml").write_text(CYCLE)
    (tmp_path / "serve.toml").write_text(SERVE)
    s = load_serve_settings(tmp_path / "serve.toml")
    template = (f"{sys.executable} -m landia --log-level error cycle --config {{config}} "
                f"--run-dir {{run_dir}} --end {{end}} --no-progress")
    scheduler = Scheduler(s, clock=FakeClock("2016-05-02T03:00"),
                          launcher=SubprocessLauncher(template))
    assert scheduler.run(once=True) == 0  # every cut-off passed: four model-only cycles
    state = json.loads(s.state_file.read_text())
    assert [h["time"] for h in state["history"]] == TIMES
    assert all(h["outcome"] == "completed" for h in state["history"])
    log = [json.loads(x) for x in (s.run_dir / "run_log.jsonl").read_text().splitlines()]
    assert [r["time"] for r in log] == [t + ":00Z" for t in TIMES]  # 18:00 and 00:00 too
