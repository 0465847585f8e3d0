"""Benchmark of the assimilation cycle (``landia cycle``): seconds per phase with 1 and 2 ranks.

Cases ``cycle_paper`` (32 x 31 at 1.4 deg, 991 land cells) and ``cycle_eastasia_025`` (the
same box at 0.25 deg, 180 x 176, 31,653 land cells; not with ``--quick``): a truth run (ctrl,
other rain and texture) with 2 ranks, its OSSE observations, then five 6-hourly image 3D-Var
cycles with 1 and with 2 ranks (``mpirun -n 2``). Figures are means over cycles 2-5 (the first
pays imports and operator builds), prefix ``cycle_{grid}_{r}rank_``:

``{phase}_s``
    Seconds of each phase: ``model``, ``gather``, ``analysis``, ``scatter``,
    ``gather_state``, ``output``, ``checkpoint``; ``cycle_s`` their sum.
``exchange_share``
    (gather + scatter + gather_state + checkpoint) / cycle (aim: under 0.1).
``iterations``
    Mean minimiser iterations.

Each with the layers solved on different ranks (``analysis.distribute = true``,
docs/distributed-analysis.md) and, prefix ``cycle_{grid}_{r}rank_joint_``, with the root's
joint analysis (the default), and, prefix ``cycle_{grid}_2rank_wedges_``, with JI's curvelet
wedges split across the 2 ranks (``analysis.distribute = "wedges"``). And ``cycle_{grid}_model_speedup_2ranks``: model seconds with 1
rank / with 2 ranks; ``cycle_{grid}_analysis_speedup_2ranks``: the layered analysis phase
with 1 rank / with 2 ranks; ``..._vs_joint``: the joint phase with 1 rank / the layered one
with 2 ranks (the issue's aim: >= 1.7); ``..._wedges``: the joint phase with 1 rank / the
wedge-split one with 2 ranks.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from functools import partial
from pathlib import Path

import numpy as np

from landia.launch import cycle_command, launch_environment, toml_text

CYCLE_GRIDS = {"paper": (23.0, 68.0, 73.0, 117.0, 1.4),
               "eastasia_025": (23.0, 68.0, 73.0, 117.0, 0.25)}
CYCLE_PHASES = ("model", "gather", "analysis", "scatter", "gather_state", "output", "checkpoint")


def _cycle_toml(path: Path, grid: tuple[float, ...], analysis: dict | None = None,
                **cycle) -> None:
    """Write a cycle configuration of a (south, north, west, east, resolution) box."""
    south, north, west, east, res = grid
    path.write_text(toml_text({**({"analysis": analysis} if analysis else {}),
        "grid": {"south": south, "north": north, "west": west, "east": east,
                 "resolution": res},
        "cycle": {"start": "2016-05-01T00:00", "end": "2016-05-02T06:00",
                  "observations": "obs", **cycle}}))


def _cycle_run(config: Path, run_dir: Path, ranks: int) -> None:
    """``landia cycle`` on ``ranks`` ranks, as a child process (its output discarded)."""
    subprocess.run(cycle_command(config, run_dir, ranks, log_level="error"),
                   env=launch_environment(openmpi_defaults=True), check=True,
                   stdout=subprocess.DEVNULL)


def cycle_case(name: str, analysis: dict | None = None) -> dict:
    """Five 6-hourly DA cycles (image 3D-Var against OSSE observations) with 1 and 2 ranks,
    the layers on different ranks (``analysis.distribute``) and the root's joint analysis
    (``_joint``); ``analysis``: more keys of the DA runs' [analysis] section."""
    # Imported here, not at the top: every case's process imports this module, and the
    # OSSE writer's netCDF I/O (~1 MB) would count in the other cases' memory figures.
    from landia.experiment.osse import make_observations

    grid = CYCLE_GRIDS[name]
    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="landia-bench-cycle-") as tmp:
        tmp = Path(tmp)
        _cycle_toml(tmp / "truth.toml", grid, mode="ctrl", precipitation_seed=2, texture_seed=12)
        _cycle_run(tmp / "truth.toml", tmp / "truth", 2)
        make_observations(tmp / "truth", tmp / "obs")
        # The three paths solve the same J: without the local error estimate (on by default
        # with JI), which couples the layers and would send distribute = true to the joint
        # analysis (docs/analysis.md)
        analysis = {"local_image_error": False, **(analysis or {})}
        _cycle_toml(tmp / "da.toml", grid, analysis={**analysis, "distribute": True})
        _cycle_toml(tmp / "joint.toml", grid, analysis={**analysis, "distribute": False})
        _cycle_toml(tmp / "wedges.toml", grid, analysis={**analysis, "distribute": "wedges"})
        mean = {}
        for ranks in (1, 2, "joint1", "joint2", "wedges2"):
            run = tmp / f"da{ranks}"
            run.mkdir()
            (run / "obs").symlink_to(tmp / "obs")
            config = ranks.rstrip("12") if isinstance(ranks, str) else "da"
            _cycle_run(tmp / f"{config}.toml", run,
                       int(ranks[-1]) if isinstance(ranks, str) else ranks)
            lines = [json.loads(x) for x in (run / "run_log.jsonl").read_text().splitlines()]
            timed = lines[1:]  # the first cycle pays one-off costs (imports, operator builds)
            mean[ranks] = {p: float(np.mean([r["seconds"].get(p, 0.0) for r in timed]))
                           for p in CYCLE_PHASES}
            cycle_s = sum(mean[ranks].values())
            exchange = sum(mean[ranks][p] for p in ("gather", "scatter", "gather_state",
                                                    "checkpoint"))
            prefix = (f"cycle_{name}_{ranks[-1]}rank_{ranks[:-1]}" if isinstance(ranks, str)
                      else f"cycle_{name}_{ranks}rank")
            out.update({f"{prefix}_{p}_s": v for p, v in mean[ranks].items()})
            out[f"{prefix}_cycle_s"] = cycle_s
            out[f"{prefix}_exchange_share"] = exchange / cycle_s
            out[f"{prefix}_iterations"] = float(np.mean([r.get("iterations", 0) for r in timed]))
        out[f"cycle_{name}_land_cells"] = int(lines[0].get("land_cells", 0)) or None
        out[f"cycle_{name}_model_speedup_2ranks"] = mean[1]["model"] / mean[2]["model"]
        out[f"cycle_{name}_analysis_speedup_2ranks"] = mean[1]["analysis"] / mean[2]["analysis"]
        out[f"cycle_{name}_analysis_speedup_2ranks_vs_joint"] = (mean["joint1"]["analysis"]
                                                                 / mean[2]["analysis"])
        out[f"cycle_{name}_analysis_speedup_2ranks_wedges"] = (mean["joint1"]["analysis"]
                                                               / mean["wedges2"]["analysis"])
    return {k: v for k, v in out.items() if v is not None}


CASES = {f"cycle_{g}": partial(cycle_case, g) for g in CYCLE_GRIDS}
