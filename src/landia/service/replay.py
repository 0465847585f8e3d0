"""Replay of near-real-time operation on the real CONUS set (``conus_nldas_smap``): daily
forcing and observation files fed to ``landia serve`` over a simulated clock.

``python -m landia.service.replay --data DIR --output-dir OUT`` (docs/serve-real-data.md):

1. **setup** (:func:`setup`): the EASE-Grid 2.0 lattice of ``static.nc``
   (:func:`landia.io.cell_static.convert_cell_static`), the NLDAS-2 daily means split into
   one file a day (:func:`landia.io.cell_days.split_daily`) and one observation image a day
   ``obs_YYYYMMDDT1200.nc`` of the SMAP L3 values on the lattice
   (:func:`landia.observations.cell_product.write_daily_observations`: nominal time 12 UTC,
   each cell's overpass time, QC by the static flags, layers 1-2) in a feed folder; the
   cycle configuration (24 h windows ending 12 UTC, image 3D-Var on 2 layers) and the
   ``[serve]`` file.
2. **the clock** (:func:`schedule`): each day's forcing file is put into the run's forcing
   folder at 00 UTC of its day, each observation file into serve's incoming folder at 12 UTC
   plus a latency, with the exceptions of the :class:`Plan`: days dropped, one delivered late
   before the cut-off, one after it, one first delivered corrupt (junk bytes) and then
   correctly, one forcing day delivered at 20 UTC, after its observations (the launch fails
   until it is there, and serve retries).
3. **the run** (:func:`replay`): ``landia serve --clock-start --clock-speed`` in a child
   process, launching ``landia cycle`` for each analysis time; this process delivers the
   files as its copy of the simulated clock passes their times (synchronised on serve's
   first ``status.json``), then collects ``replay.json`` and ``replay.md`` in the output
   folder: the files delivered, serve's counts and alerts, the cycles of the run log
   (analysed or model-only), the files set aside.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from landia.io.cell_days import day_file_name, split_daily
from landia.io.cell_static import convert_cell_static, read_qc_flags
from landia.io.fields import read_field
from landia.io.naming import observation_name
from landia.observations.cell_product import CellProductSettings, write_daily_observations

HOUR = np.timedelta64(3600, "s")
DAY = np.timedelta64(1, "D")
SMAP = "smap_l3_am_2015-2017.nc"
NLDAS = "nldas2_daily_2015-2018.nc"
STATIC = "static.nc"


@dataclass
class Plan:
    """What the replay delivers when (days as ``YYYY-MM-DD``; analysis at 12 UTC each day)."""

    first: str = "2016-06-01"
    last: str = "2016-06-28"
    latency_hours: float = 1.5
    cutoff_hours: float = 10.0
    drop: list = field(default_factory=lambda: ["2016-06-05", "2016-06-12", "2016-06-20"])
    late: list = field(default_factory=lambda: ["2016-06-09"])        # +7 h: before cut-off
    late_hours: float = 7.0
    too_late: list = field(default_factory=lambda: ["2016-06-17"])    # +14 h: after it
    too_late_hours: float = 14.0
    corrupt: list = field(default_factory=lambda: ["2016-06-23"])     # junk, then the file
    fixed_hours: float = 5.0
    forcing_late: list = field(default_factory=lambda: ["2016-06-14"])
    no_file: list = field(default_factory=list)   # days without an image (set by setup)
    forcing_late_hours: float = 20.0   # the forcing of that day arrives at 20 UTC

    def days(self) -> np.ndarray:
        return np.arange(np.datetime64(self.first, "D"), np.datetime64(self.last, "D") + DAY)


def observation_images(smap, static_file, grid, days, out_dir) -> dict:
    """The daily observation images ``obs_YYYYMMDDT1200.nc`` of the SMAP values per cell
    (:func:`landia.observations.cell_product.write_daily_observations`: 12 UTC nominal time,
    each cell's overpass time, QC by the static flags, layers 1-2, error variance
    0.04**2 = 1.6e-3); a day without a valid value after QC has no file. Returns
    {day: valid cells} of the files written."""
    summary = write_daily_observations(smap, grid, {out_dir: None}, days[0], days[-1] + DAY,
                                       flags=read_qc_flags(static_file, grid),
                                       settings=CellProductSettings(layers=2))
    out = {}
    for day in days:
        path = Path(out_dir) / observation_name(day.astype("datetime64[s]") + 12 * HOUR)
        if path.exists():
            out[str(day)] = int(np.isfinite(read_field(path).values[0]).sum())
    return {"valid_cells": out, "empty_days": summary["empty_days"],
            "rejected": summary["rejected"], "flagged_cells": summary["flagged_cells"]}


def cycle_config(first_day, last_day) -> str:
    start = str(np.datetime64(first_day, "D") - DAY) + "T12:00"
    return f"""# landia cycle on the EASE-Grid 2.0 lattice of conus_nldas_smap (service/replay.py)
[grid]
from_landscape = true
[landscape]
file = "static_landia.nc"
[cycle]
start = "{start}"
end = "{last_day}T12:00"
window_hours = 24
analysis_hours = [12]
mode = "da"
observations = "obs"
forcing = "forcing"
forcing_format = "cells"
[analysis]
layers = 2
terms = ["background", "image"]
observation_error_variance = 1.6e-3
image_error_variance = 1.6e-3
"""


def serve_config(plan: Plan, python: str = sys.executable) -> str:
    launcher = [python, "-m", "landia", "cycle", "--config", "{config}", "--run-dir",
                "{run_dir}", "--end", "{end}"]
    return f"""[serve]
run_dir = "run"
cycle_config = "cycle.toml"
incoming = "incoming"
first_analysis = "{plan.first}T12:00"
end = "{plan.last}T12:00"
cutoff_minutes = {plan.cutoff_hours * 60:g}
poll_seconds = 300
ranks = 1
launcher = {json.dumps(launcher)}
max_attempts = 4
retry_seconds = 3600
on_failure = "continue"
"""


def setup(data, out, plan: Plan) -> dict:
    """Write the run folder, the daily forcing files (``out/feed/forcing``), the daily
    observation files (``out/feed/obs``) and the configurations; returns counts. Days without
    an image (no valid value after QC) go into ``plan.no_file``."""
    data, out = Path(data), Path(out)
    run = out / "run"
    for d in (run / "forcing", run / "obs", out / "incoming", out / "feed" / "obs"):
        d.mkdir(parents=True, exist_ok=True)
    static = convert_cell_static(data / STATIC, run / "static_landia.nc")
    days = plan.days()
    forcing = split_daily(data / NLDAS, out / "feed" / "forcing", days[0] - DAY, days[-1] + DAY)
    images = observation_images(data / SMAP, run / "static_landia.nc", static.grid, days,
                                out / "feed" / "obs")
    plan.no_file = list(images["empty_days"])      # nothing to deliver on those days
    (out / "cycle.toml").write_text(cycle_config(plan.first, plan.last))
    (out / "serve.toml").write_text(serve_config(plan))
    return {"cells": int(static.grid.n_land), "grid": list(static.grid.shape),
            "forcing_files": len(forcing), "observation_files": len(images["valid_cells"]),
            "observations": images}


@dataclass
class Delivery:
    """One file put in place at simulated time ``at``: kind 'forcing', 'obs' or 'corrupt'."""

    at: str
    kind: str
    day: str
    note: str = ""


def schedule(plan: Plan) -> list[Delivery]:
    """The deliveries in time order (module notes); the first day's forcing of the day before
    (the first window starts at 12 UTC of that day) is there from the start."""
    out = []
    for day in plan.days():
        d, noon = str(day), day.astype("datetime64[s]") + 12 * HOUR
        f_at = (noon + int(plan.forcing_late_hours - 12) * HOUR if d in plan.forcing_late
                else day.astype("datetime64[s]"))
        out.append(Delivery(str(f_at), "forcing", d, "late" if d in plan.forcing_late else ""))
        if d in plan.drop or d in plan.no_file:
            continue
        hours = (plan.late_hours if d in plan.late else plan.too_late_hours
                 if d in plan.too_late else plan.fixed_hours if d in plan.corrupt
                 else plan.latency_hours)
        note = ("late, before the cut-off" if d in plan.late else "after the cut-off"
                if d in plan.too_late else "after a corrupt one" if d in plan.corrupt else "")
        if d in plan.corrupt:
            out.append(Delivery(str(noon + int(plan.latency_hours * 60) * np.timedelta64(60, "s")),
                                "corrupt", d, "junk bytes"))
        out.append(Delivery(str(noon + int(hours * 60) * np.timedelta64(60, "s")), "obs", d,
                            note))
    return sorted(out, key=lambda x: np.datetime64(x.at))


def _put(src: Path, folder: Path, name: str, data: bytes | None = None) -> None:
    """Deliver the safe way: write under a hidden name, then rename."""
    tmp = folder / f".{name}.part"
    if data is None:
        shutil.copyfile(src, tmp)
    else:
        tmp.write_bytes(data)
    os.replace(tmp, folder / name)


def deliver(out: Path, d: Delivery) -> None:
    day = np.datetime64(d.day, "D")
    if d.kind == "forcing":
        name = day_file_name("nldas2", day)
        _put(out / "feed" / "forcing" / name, out / "run" / "forcing", name)
        return
    name = observation_name(day.astype("datetime64[s]") + 12 * HOUR)
    _put(out / "feed" / "obs" / name, out / "incoming", name,
         b"this is not netCDF\n" * 64 if d.kind == "corrupt" else None)


def replay(out, plan: Plan, speed: float = 3600.0, clock_start: str | None = None,
           timeout_s: float = 3600.0) -> dict:
    """Run ``landia serve`` over the simulated clock and deliver the files; returns the
    record (also written as ``replay.json`` and ``replay.md`` in ``out``)."""
    out = Path(out).resolve()
    days = plan.days()
    clock0 = np.datetime64(clock_start or f"{days[0]}T00:00", "s")
    pending = schedule(plan)
    first = Delivery(str(clock0), "forcing", str(days[0] - DAY), "before the start")
    deliver(out, first)
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    status = out / "run" / "serve" / "status.json"
    cmd = [sys.executable, "-m", "landia", "serve", "--config", str(out / "serve.toml"),
           "--clock-start", str(clock0), "--clock-speed", f"{speed:g}"]
    t_start = time.monotonic()
    with open(out / "serve.log", "ab") as log:
        proc = subprocess.Popen(cmd, cwd=out, env=env, stdout=log, stderr=subprocess.STDOUT)
    while not status.exists() and proc.poll() is None and time.monotonic() - t_start < 60:
        time.sleep(0.01)
    t0 = time.monotonic()       # serve's clock started just before its first status
    done = [{**asdict(first), "delivered_at": str(clock0)}]
    while proc.poll() is None and time.monotonic() - t_start < timeout_s:
        now = clock0 + np.timedelta64(int((time.monotonic() - t0) * speed), "s")
        while pending and np.datetime64(pending[0].at) <= now:
            d = pending.pop(0)
            deliver(out, d)
            done.append({**asdict(d), "delivered_at": str(now)})
        time.sleep(0.02)
    if proc.poll() is None:
        proc.terminate()
        proc.wait(60)
    record = collect(out, plan, done, proc.returncode, time.monotonic() - t_start, speed)
    (out / "replay.json").write_text(json.dumps(record, indent=1) + "\n")
    (out / "replay.md").write_text(summary(record))
    return record


def collect(out: Path, plan: Plan, delivered, exit_status, wall_s, speed) -> dict:
    state = out / "run" / "serve"
    status = json.loads((state / "status.json").read_text())
    alerts = [json.loads(x) for x in (state / "alerts.jsonl").read_text().splitlines()] \
        if (state / "alerts.jsonl").exists() else []
    log = [json.loads(x) for x in (out / "run" / "run_log.jsonl").read_text().splitlines()] \
        if (out / "run" / "run_log.jsonl").exists() else []
    cycles = [{"end": r.get("time"), "analysed": bool(r.get("analysed")),
               **{k: r[k] for k in ("iterations", "scc_before", "scc_after") if k in r}}
              for r in log]
    history = json.loads((state / "state.json").read_text()).get("history", [])
    seconds = [h["seconds"] for h in history if h.get("seconds") is not None]
    aside = {sub: sorted(p.name for p in (out / "incoming" / sub).glob("*"))
             for sub in ("rejected", "late", "duplicates", "unexpected")
             if (out / "incoming" / sub).is_dir()}
    cycle_alerts = [json.loads(x) for x in
                    (out / "run" / "alerts.jsonl").read_text().splitlines()] \
        if (out / "run" / "alerts.jsonl").exists() else []
    kinds = {}
    for a in alerts:
        kinds.setdefault(a["alert"], []).append(a.get("analysis_time"))
    return {"plan": asdict(plan), "speed": speed, "wall_seconds": round(wall_s, 1),
            "serve_exit_status": exit_status, "counts": status.get("counts"),
            "phase": status.get("phase"), "last_completed": status.get("last_completed"),
            "delivered": {"forcing": sum(d["kind"] == "forcing" for d in delivered),
                          "observations": sum(d["kind"] == "obs" for d in delivered),
                          "corrupt": sum(d["kind"] == "corrupt" for d in delivered)},
            "alerts": kinds,
            "cycle_alerts": {k: [a["time"] for a in cycle_alerts if a["alert"] == k]
                             for k in sorted({a["alert"] for a in cycle_alerts})},
            "cycles_run": len(log), "analysed": sum(c["analysed"] for c in cycles),
            "model_only": [c["end"] for c in cycles if not c["analysed"]],
            "observation_files_used": sorted(p.name for p in (out / "run" / "obs").glob("*.nc")),
            "set_aside": aside, "deliveries": delivered, "cycles": cycles,
            "launch_logs": len(list((state / "logs").glob("*.log"))),
            "launch_seconds": {"min": min(seconds, default=None),
                               "mean": round(sum(seconds) / max(len(seconds), 1), 3),
                               "max": max(seconds, default=None)},
            "serve_history": history}


def summary(r: dict) -> str:
    c = r["counts"] or {}
    lines = ["# landia serve replay on conus_nldas_smap", "",
             f"{r['plan']['first']} to {r['plan']['last']}, analyses at 12 UTC, clock speed "
             f"{r['speed']:g}, {r['wall_seconds']} s real, serve exit {r['serve_exit_status']}.",
             "", "| what | number |", "|---|---|"]
    rows = [("forcing files delivered", r["delivered"]["forcing"]),
            ("observation files delivered", r["delivered"]["observations"]),
            ("corrupt files delivered", r["delivered"]["corrupt"]),
            ("cycles run (run log)", r["cycles_run"]), ("with an analysis", r["analysed"]),
            ("model-only", len(r["model_only"]))]
    rows += [("launch seconds (real) min / mean / max",
              " / ".join(str(r["launch_seconds"][k]) for k in ("min", "mean", "max")))]
    scc = [(c["scc_before"], c["scc_after"]) for c in r["cycles"] if "scc_after" in c]
    if scc:
        rows += [("analyses: mean SCC background / analysis vs. observations",
                  f"{np.mean([a for a, _ in scc]):.3f} / {np.mean([b for _, b in scc]):.3f}")]
    rows += [(f"serve {k}", v) for k, v in c.items()]
    rows += [(f"alerts {k}", ", ".join(map(str, v))) for k, v in r["alerts"].items()]
    rows += [(f"cycle alerts {k}", ", ".join(v)) for k, v in r["cycle_alerts"].items()]
    rows += [(f"set aside in incoming/{k}", ", ".join(v)) for k, v in r["set_aside"].items()]
    rows += [(f"{h['time']}: {h['attempts']} attempts", h["outcome"])
             for h in r["serve_history"] if h.get("attempts", 1) > 1]
    lines += [f"| {a} | {b} |" for a, b in rows]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m landia.service.replay", description=__doc__
                                .split("\n\n")[0])
    p.add_argument("--data", required=True, help="the conus_nldas_smap folder")
    p.add_argument("--output-dir", required=True)
    p.add_argument("--first", default=Plan.first)
    p.add_argument("--last", default=Plan.last)
    p.add_argument("--speed", type=float, default=3600.0,
                   help="simulated seconds per real second (default %(default)g)")
    a = p.parse_args(argv)
    plan = Plan(first=a.first, last=a.last)
    info = setup(a.data, a.output_dir, plan)
    (Path(a.output_dir) / "setup.json").write_text(json.dumps(info, indent=1) + "\n")
    print(json.dumps({k: v for k, v in info.items() if k != "observations"}))
    record = replay(a.output_dir, plan, a.speed)
    print(summary(record))
    return 0


if __name__ == "__main__":
    sys.exit(main())
