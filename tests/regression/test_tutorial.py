"""docs/tutorial.md runs as written: its ```bash blocks, in order, in a temporary folder."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "docs" / "tutorial.md"
BLOCK = re.compile(r"^```bash\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def tutorial_script(data: Path) -> str:
    """The tutorial's bash blocks joined into one script, with ``DATA`` set to ``data``."""
    blocks = BLOCK.findall(TUTORIAL.read_text())
    script = "\n".join(blocks)
    assert "DATA=/path/to/shared/data\n" in script
    return script.replace("DATA=/path/to/shared/data\n", f"DATA={data}\n")


def command_folder(folder: Path) -> Path:
    """``landia`` and ``python`` of this interpreter (and its PYTHONPATH) in ``folder``."""
    folder.mkdir()
    for name, target in (("landia", f'"{sys.executable}" -m landia'),
                         ("python", f'"{sys.executable}"')):
        path = folder / name
        path.write_text(f'#!/bin/sh\nexec {target} "$@"\n')
        path.chmod(0o755)
    return folder


def scores(path: Path) -> list[dict]:
    with path.open() as f:
        return list(csv.DictReader(f))


@pytest.mark.shared_data
def test_tutorial_runs_from_zero_to_a_real_data_cycle(shared_data, tmp_path):
    script = tutorial_script(shared_data.resolve())
    env = dict(os.environ)
    env["PATH"] = f"{command_folder(tmp_path / 'bin')}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT / "src"), env.get("PYTHONPATH", "")) if p)
    done = subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    work = tmp_path / "landia-tutorial"

    # 1. forcing series and static inputs
    assert len(list((work / "forcing").glob("GLDAS_NOAH025_3H.A*.nc4"))) == 12
    assert (work / "static.nc").is_file()
    # 2. observations from C3S
    assert (work / "obs" / "obs_20170701T0000.nc").is_file()
    assert "obs_20170701T0000.nc" in done.stdout
    # 3. spin-up: two passes, converged at the loose tolerance
    passes = [json.loads(line) for line in (work / "spinup" / "spinup_log.jsonl").open()]
    assert [p["pass"] for p in passes] == [1, 2]
    assert passes[-1]["converged"] is True
    assert (work / "spinup" / "spun_up_state.nc").is_file()
    # 4. the DA cycle from the spun-up state, then serve's model-only cycles to 2017-07-02 00Z
    log = [json.loads(line) for line in (work / "run" / "run_log.jsonl").open()]
    assert len(log) == 5  # windows ending 2017-07-01 00, 06, 12, 18Z and 2017-07-02 00Z
    assert log[-1]["time"].startswith("2017-07-02T00:00")
    analysed = [r for r in log if r["analysed"]]
    assert len(analysed) == 1
    assert analysed[0]["observation"].endswith("obs_20170701T0000.nc")
    assert analysed[0]["J_after"] < analysed[0]["J_before"]
    assert analysed[0]["scc_after"] > analysed[0]["scc_before"]
    events = (work / "run" / "logs" / "events.rank0.jsonl").read_text().splitlines()
    starts = [json.loads(e) for e in events if '"cold_start"' in e]
    assert starts[0]["initial_state"].endswith("spinup/spun_up_state.nc")
    # 5. verify wrote its scores; the analysis fits the assimilated image better
    background = scores(work / "verify" / "background" / "scores.csv")
    analysis = scores(work / "verify" / "analysis" / "scores.csv")
    assert len(background) == len(analysis) == 1
    assert int(analysis[0]["n"]) > 50
    assert float(analysis[0]["rmse"]) < float(background[0]["rmse"])
    assert (work / "verify" / "analysis" / "summary.json").is_file()
    # 6. serve --once ran the 2017-07-02 00Z cycle model-only and finished
    status = json.loads((work / "run" / "serve" / "status.json").read_text())
    assert status["phase"] == "finished"
    assert status["last_completed"] == "2017-07-02T00:00"
    assert status["counts"]["model_only"] == 1 and status["counts"]["missing_feeds"] == 1
