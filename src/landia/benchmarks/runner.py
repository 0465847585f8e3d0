"""The benchmark driver: every case in its own fresh process, figures printed as they come.

Figures of the machine, printed first: ``load_1m``, ``load_5m``, ``load_15m``
(``os.getloadavg()`` at the start), ``cpus``, ``machine`` (``platform.platform()``),
``python``, ``numpy``. Read every timing with the load in mind: the machine may be shared.

A case whose process fails prints ``{case}_failed: True`` and makes the exit status 1. A case
of :data:`MEMORY_GIB` is not started when the machine has less memory available than it needs
(``MemAvailable`` of /proc/meminfo): it prints ``{case}_skipped`` and why, so that the bench
does not call the kernel's OOM killer onto a shared machine.

At the end, the aims (:mod:`.aims`): one line per aim, ``aim | measured | PASS/MISS`` (or
``not run`` for a case the run left out); the JSON object holds them under ``aims``.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys

import numpy as np

from landia.benchmarks import aims, analysis, columns, curvelet, cycle, ensemble, wedges
from landia.launch import launch_environment

#: Every case, in the order it runs: name -> function returning its figures.
CASES = {**curvelet.CASES, **analysis.CASES, **wedges.CASES, **columns.CASES, **cycle.CASES,
         **ensemble.CASES}
#: The cases ``--quick`` leaves out (the largest of each kind).
QUICK_SKIPS = {"curvelet_1800x3600", "global_025deg", "global_01deg",
               "columns_soilwater_100000", "columns_step_100000", "cycle_eastasia_025",
               "ensemble_step_eastasia_025", "letkf_eastasia_025_40km",
               "letkf_eastasia_025_150km", "wedges_global_025deg",
               "global_025deg_2ranks"}

#: GiB of available memory a case needs before it is started (the others need under 3).
#: global_01deg: the default analysis (correlated B) at 0.1 deg was killed by the OOM killer at
#: 22.8 GB resident on a 23 GB machine (2026-12-02), so it needs more than that; the default
#: analysis now includes the local error estimate (+23 % peak at 0.25 deg): 30 GiB, scaled by
#: that ratio, not measured.
MEMORY_GIB = {"global_01deg": 30.0}


def available_gib() -> float | None:
    """``MemAvailable`` of /proc/meminfo in GiB; None where it cannot be read."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        return None
    return None


def machine_figures() -> dict:
    """Load and machine description, printed first."""
    load = os.getloadavg()
    return {"load_1m": load[0], "load_5m": load[1], "load_15m": load[2],
            "cpus": os.cpu_count(), "machine": platform.platform(),
            "python": platform.python_version(), "numpy": np.__version__}


def _format(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _run_case(name: str) -> dict | None:
    """Run one case in a fresh interpreter; its figures, or None when it failed."""
    # The driver may have initialised MPI (the landia entry point does): its children must
    # not look like members of that job, or the cycle cases' mpirun fails.
    proc = subprocess.run([sys.executable, "-m", "landia.benchmarks", "--case", name],
                          stdout=subprocess.PIPE, text=True, check=False,
                          env=launch_environment())
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        return None
    return json.loads(lines[-1])


def run_benchmarks(quick: bool = False, json_path: str | None = None) -> int:
    """Run every benchmark case and print its figures; 1 if a case failed, else 0.

    Parameters
    ----------
    quick : bool
        Leave out the cases of :data:`QUICK_SKIPS`.
    json_path : str, optional
        Also write every figure to this file, as one JSON object.
    """
    figures: dict = {}
    status = 0

    def emit(new: dict) -> None:
        figures.update(new)
        for key, value in new.items():
            print(f"{key}: {_format(value)}", flush=True)

    print(f"# landia bench{' --quick' if quick else ''}", flush=True)
    emit(machine_figures())
    ran = set()
    for name in CASES:
        if quick and name in QUICK_SKIPS:
            continue
        ran.add(name)
        need, free = MEMORY_GIB.get(name), available_gib()
        if need is not None and free is not None and free < need:
            emit({f"{name}_skipped": f"needs {need:g} GiB of memory, {free:.1f} available"})
            continue
        result = _run_case(name)
        if result is None:
            status = 1
            emit({f"{name}_failed": True})
        else:
            emit(result)
    rows = aims.evaluate(figures, ran)
    print("\n".join(aims.format_table(rows)), flush=True)
    if json_path:
        with open(json_path, "w") as fh:
            json.dump({**figures, "aims": rows}, fh, indent=1)
    return status
