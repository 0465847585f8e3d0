"""The launcher as a real process, through the command, from a process where MPI is initialised."""

from __future__ import annotations

import json
import sys

import pytest

from landia.commands.serve import serve as run_serve
from tests.unit.service.serve_case import (STAMPS, TIMES, incoming, serve_args, settings_for,
                                           status, write_obs)


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
    assert run_serve(serve_args(site, "--once")) == 0
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
    assert run_serve(serve_args(site, "--once")) == 0
    assert len((site / "run" / "calls.txt").read_text().splitlines()) == 4
