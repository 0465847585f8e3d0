"""The near-real-time replay on the real CONUS set (service/replay.py): the NLDAS-2 file split
into daily forcing files, daily SMAP observation images, and the real `landia serve` launching
the real `landia cycle` for 4 days with one observation day missing. Its states equal those of
one direct `landia cycle` on the same inputs, to the bit. Skipped without ../shared."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import netCDF4
import pytest

from landia.service.replay import Plan, schedule, setup

DATA = "conus_nldas_smap"


def test_schedule_delivers_each_day_with_the_planned_exceptions():
    plan = Plan(first="2016-06-01", last="2016-06-05", drop=["2016-06-02"],
                late=["2016-06-03"], too_late=["2016-06-04"], corrupt=["2016-06-05"],
                forcing_late=["2016-06-01"])
    got = [(d.at, d.kind, d.day) for d in schedule(plan)]
    assert got == sorted(got)                                     # in time order
    assert got[:2] == [("2016-06-01T13:30:00", "obs", "2016-06-01"),
                       ("2016-06-01T20:00:00", "forcing", "2016-06-01")]  # forcing late
    assert [x for x in got if x[1] == "forcing"][1:] == [
        (f"2016-06-0{k}T00:00:00", "forcing", f"2016-06-0{k}") for k in range(2, 6)]
    assert [x for x in got if x[1] != "forcing"][1:] == [
        ("2016-06-03T19:00:00", "obs", "2016-06-03"),             # late, before the cut-off
        ("2016-06-05T02:00:00", "obs", "2016-06-04"),             # after its 22:00 cut-off
        ("2016-06-05T13:30:00", "corrupt", "2016-06-05"),         # junk, then the file
        ("2016-06-05T17:00:00", "obs", "2016-06-05")]             # 2016-06-02: dropped


@pytest.mark.shared_data
def test_serve_on_daily_files_equals_a_direct_cycle(shared_data, tmp_path):
    data = shared_data / DATA
    if not (data / "nldas2_daily_2015-2018.nc").exists():
        pytest.skip(f"{data} is absent")
    plan = Plan(first="2016-06-01", last="2016-06-04", drop=["2016-06-02"], late=[],
                too_late=[], corrupt=[], forcing_late=[])
    info = setup(data, tmp_path / "served", plan)
    assert info["forcing_files"] == 5 and info["observation_files"] == 4
    served = tmp_path / "served"
    direct = tmp_path / "direct"
    shutil.copytree(served, direct)
    for f in (served / "feed" / "forcing").glob("*.nc"):
        shutil.copy(f, served / "run" / "forcing")
        shutil.copy(f, direct / "run" / "forcing")
    for f in (served / "feed" / "obs").glob("*.nc"):
        if "20160602" not in f.name:
            shutil.copy(f, served / "incoming")
            shutil.copy(f, direct / "run" / "obs")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3] / "src")}
    # every cut-off has passed at the clock's start: serve takes the three files and runs the
    # four analysis times back to back, the missing one model-only after a missing_feed
    serve = subprocess.run([sys.executable, "-m", "landia", "serve", "--config", "serve.toml",
                            "--clock-start", "2016-06-05T00:00", "--clock-speed", "60"],
                           cwd=served, env=env, capture_output=True, text=True, timeout=120)
    assert serve.returncode == 0, serve.stderr[-2000:]
    status = json.loads((served / "run" / "serve" / "status.json").read_text())
    assert status["phase"] == "finished"
    counts = status["counts"]
    assert (counts["cycles_ok"], counts["with_observations"], counts["model_only"],
            counts["missing_feeds"], counts["launch_failures"]) == (4, 3, 1, 1, 0)
    alerts = [json.loads(x) for x in
              (served / "run" / "serve" / "alerts.jsonl").read_text().splitlines()]
    assert [(a["alert"], a["analysis_time"]) for a in alerts] == [
        ("missing_feed", "2016-06-02T12:00")]
    log = [json.loads(x) for x in (served / "run" / "run_log.jsonl").read_text().splitlines()]
    assert [(r["time"], r["analysed"]) for r in log] == [
        ("2016-06-01T12:00:00Z", True), ("2016-06-02T12:00:00Z", False),
        ("2016-06-03T12:00:00Z", True), ("2016-06-04T12:00:00Z", True)]

    cycle = subprocess.run([sys.executable, "-m", "landia", "cycle", "--config", "cycle.toml",
                            "--run-dir", "run"], cwd=direct, env=env, capture_output=True,
                           text=True, timeout=120)
    assert cycle.returncode == 0, cycle.stderr[-2000:]
    states = sorted(p.name for p in (served / "run" / "states").glob("*.nc"))
    assert len(states) == 4 and states == sorted(
        p.name for p in (direct / "run" / "states").glob("*.nc"))
    for name in states:
        with netCDF4.Dataset(served / "run" / "states" / name) as a, \
                netCDF4.Dataset(direct / "run" / "states" / name) as b:
            for var in ("soil_moisture",):
                assert a[var][:].tobytes() == b[var][:].tobytes(), (name, var)
