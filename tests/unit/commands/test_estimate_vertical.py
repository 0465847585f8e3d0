"""``landia estimate-vertical`` on the state files of a real open-loop cycle."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from landia.cli import main
from landia.config import settings_from_dict
from landia.diagnostics.vertical_length import vertical_length
from landia.grid import colm_node_depths
from landia.io.fields import read_field

mpi4py = pytest.importorskip("mpi4py")
from mpi4py import MPI  # noqa: E402

from landia.cycling.run import run_cycles  # noqa: E402

GRID = {"south": 40.0, "north": 49.8, "west": 110.0, "east": 124.0, "resolution": 1.4}


@pytest.fixture(scope="module")
def ctrl(tmp_path_factory):
    root = tmp_path_factory.mktemp("estimate_vertical")
    s = settings_from_dict({"grid": GRID, "cycle": {"start": "2016-05-01T00:00",
                                                    "end": "2016-05-04T00:00", "mode": "ctrl"}})
    assert run_cycles(MPI.COMM_SELF, s, root / "ctrl", progress=False) == 0
    return root


def test_it_prints_the_length_from_the_runs_changes(ctrl, capsys):
    assert main(["estimate-vertical", "--states", str(ctrl / "ctrl" / "states"),
                 "--log-level", "warning"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["states"] == 12 and out["pairs"] == 11 and out["analysis_layers"] == 3
    assert 0.0 < out["regression"][0] < 1.0 and 0.005 < out["vertical_length_m"] < 1.0
    # a layer whose 6-hourly changes do not follow layer 3's (here layer 5) is left out of
    # the fit, which is then the other layer's own length
    usable = [length for b, length in zip(out["regression"], out["layer_lengths_m"])
              if 0.0 < b < 1.0]
    assert len(usable) == 2 or out["vertical_length_m"] == pytest.approx(usable[0], abs=1e-4)
    # the files read one at a time give what the whole run in memory gives
    fields = [read_field(f) for f in sorted((ctrl / "ctrl" / "states").glob("*.nc"))]
    whole = vertical_length(np.stack([f.values.reshape(10, -1) for f in fields]),
                            colm_node_depths(), 3)
    assert out["vertical_length_m"] == round(whole.length_m, 4)
    assert out["regression"] == [round(float(b), 4) for b in whole.regression]
    # two analysed layers (a configuration file): the regression is on layer 2
    (ctrl / "two.toml").write_text("[analysis]\nlayers = 2\n")
    assert main(["estimate-vertical", "--states", str(ctrl / "ctrl" / "states"),
                 "--config", str(ctrl / "two.toml"), "--log-level", "warning"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["analysis_layers"] == 2


def test_too_few_states_is_an_error_that_says_so(ctrl, capsys):
    one = ctrl / "one"
    one.mkdir()
    shutil.copy(sorted((ctrl / "ctrl" / "states").glob("*.nc"))[0], one)
    assert main(["estimate-vertical", "--states", str(one), "--log-level", "warning"]) != 0
    assert "--states: 1 file(s); expected at least 2 states" in capsys.readouterr().err
