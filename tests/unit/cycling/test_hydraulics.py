"""cycle.hydraulics: a van Genuchten ctrl cycle runs, closes its budget, differs from the
Clapp-Hornberger run, and the default configuration keeps its hash."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

pytest.importorskip("mpi4py")
from mpi4py import MPI  # noqa: E402

from landia.cycling.run import config_hash, run_cycles  # noqa: E402
from tests.unit.cycling.test_run import final_state, log_lines, settings  # noqa: E402


def test_van_genuchten_ctrl_cycle_closes_its_budget_and_differs_from_clapp_hornberger(tmp_path):
    states = {}
    for hydraulics in ("clapp_hornberger", "van_genuchten"):
        run = tmp_path / hydraulics
        run_cycles(MPI.COMM_SELF, settings(mode="ctrl", hydraulics=hydraulics), run,
                   progress=False)
        lines = log_lines(run)
        assert [r["cycle"] for r in lines] == [0, 1, 2, 3]
        for r in lines:
            assert r["budget_mm"]["max_abs_step_residual"] < 1e-9
        states[hydraulics] = final_state(run)
    ch, vg = states["clapp_hornberger"], states["van_genuchten"]
    key = next(k for k in ch if k.startswith("w_liq") or k == "soil_moisture")
    assert np.all(np.isfinite(vg[key]))
    assert np.abs(vg[key] - ch[key]).max() > 1e-3


def test_the_default_hydraulics_keeps_the_configuration_hash():
    plain = settings()
    assert plain.cycle.hydraulics == "clapp_hornberger"
    raw = dataclasses.asdict(plain)
    assert raw["cycle"].pop("hydraulics") == "clapp_hornberger"
    assert config_hash(plain) != config_hash(settings(hydraulics="van_genuchten"))
    # the hash of a default configuration is that of the same settings before the key existed
    from landia.cycling import config_hash as module
    assert ("cycle", "hydraulics") in module.HASH_NEUTRAL


def test_an_ensemble_run_carries_van_genuchten_to_every_member(tmp_path):
    """A van Genuchten truth observed, and a 5-member van Genuchten LETKF run on it."""
    from landia.config import settings_from_dict
    from landia.cycling.ensemble_run import EnsembleRunner
    from landia.experiment.osse import make_observations
    from tests.unit.cycling.test_ensemble_run import raw, run_here

    truth = settings(mode="ctrl", hydraulics="van_genuchten", precipitation_seed=2,
                     texture_seed=12)
    run_cycles(MPI.COMM_SELF, truth, tmp_path / "truth", progress=False)
    make_observations(tmp_path / "truth", tmp_path / "obs", noise_std=0.02, seed=3)
    values = raw(tmp_path / "obs")
    values["cycle"]["hydraulics"] = "van_genuchten"
    assert run_here(tmp_path / "ens", values) == 0
    lines = log_lines(tmp_path / "ens")
    assert len(lines) == 4 and all(r["analysed"] for r in lines)
    assert all(r["budget_mm"]["max_abs_step_residual"] < 1e-9 for r in lines)
    # the members' parameters are van Genuchten (block cuts and stacking keep the fields)
    runner = EnsembleRunner(MPI.COMM_SELF, settings_from_dict(values), tmp_path / "probe")
    assert runner.ens_params.soil.hydraulics == "van_genuchten"
    assert all(p.soil.hydraulics == "van_genuchten" for p in runner.block_params)
