"""landia cycle with biased observations: rescaled to the model's climatology, they no longer
drag the model towards the product's bias."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

mpi4py = pytest.importorskip("mpi4py")
from mpi4py import MPI  # noqa: E402

from landia.config import settings_from_dict  # noqa: E402
from landia.cycling.run import run_cycles  # noqa: E402
from landia.errors import InputError  # noqa: E402
from landia.experiment.osse import make_observations  # noqa: E402
from landia.grid import depth_weights  # noqa: E402
from landia.io.climatology_file import read_climatology, write_climatology  # noqa: E402
from landia.io.fields import read_field, write_field  # noqa: E402
from landia.io.naming import observation_name  # noqa: E402
from landia.log import configure_logging  # noqa: E402
from landia.observations.rescaling import climatology_statistics  # noqa: E402

GRID = {"south": 40.0, "north": 49.8, "west": 110.0, "east": 124.0, "resolution": 1.4}
PERIOD = {"start": "2016-05-01T00:00", "end": "2016-05-07T00:00"}
GAIN, OFFSET = 0.8, 0.13       # the product: y = GAIN * truth + OFFSET (+ noise)


def settings(observations=None, **cycle):
    return settings_from_dict({"grid": GRID, "cycle": {**PERIOD, "observations": "obs", **cycle},
                               "analysis": {"layers": 3, "terms": ["background", "image"],
                                            "upper_bound": "porosity"},
                               "observations": observations or {}})


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    """Truth (other rain and soils) and open-loop runs over 6 days, biased observations of the
    truth, and the climatology of the open loop against them (the first 3 days)."""
    root = tmp_path_factory.mktemp("bias")
    configure_logging("console", "info", 0, 1)   # the run directories keep the events
    run_cycles(MPI.COMM_SELF, settings(mode="ctrl", precipitation_seed=2, texture_seed=12),
               root / "truth", progress=False)
    run_cycles(MPI.COMM_SELF, settings(mode="ctrl"), root / "ctrl", progress=False)
    (root / "obs").mkdir()
    for f in make_observations(root / "truth", root / "unbiased", noise_std=0.02, seed=3):
        o = read_field(f, "observation")
        o.values = GAIN * o.values + OFFSET
        write_field(root / "obs" / f.name, o, "observation")
    model, obs, times = [], [], []
    for state in sorted((root / "ctrl" / "states").glob("state_*.nc"))[:12]:
        m = read_field(state)
        model.append(m.values[:3])
        obs.append(read_field(root / "obs" / observation_name(m.valid_time)).values)
        times.append(m.valid_time)
    clim = climatology_statistics(np.stack(model), np.stack(obs), 7, lat=m.lat, lon=m.lon,
                                  depth=m.depth[:3], start=times[0], end=times[-1])
    write_climatology(root / "clim.nc", clim)
    return root


def da_run(root: Path, name: str, **observations) -> Path:
    run = root / name
    run.mkdir()
    (run / "obs").symlink_to(root / "obs")
    run_cycles(MPI.COMM_SELF, settings(observations), run, progress=False)
    return run


def bias_against_truth(root: Path, run: Path, top: float, bottom: float) -> float:
    """Mean over land and the last 3 days of (run - truth), layer-weighted over a depth range."""
    w = depth_weights(top, bottom)
    diffs = []
    for p in sorted((root / "truth" / "states").glob("state_*.nc"))[12:]:
        t, m = read_field(p).values, read_field(run / "states" / p.name).values
        d = np.tensordot(w, m, axes=(0, 0)) - np.tensordot(w, t, axes=(0, 0))
        diffs.append(d[np.isfinite(d)])
    return float(np.mean(diffs))


def events(run: Path, name: str) -> list[dict]:
    lines = (run / "logs" / "events.rank0.jsonl").read_text().splitlines()
    return [e for e in map(json.loads, lines) if e.get("event") == name]


def test_cdf_matching_keeps_the_products_bias_out_of_the_analysis(case):
    plain = da_run(case, "da_none")
    matched = da_run(case, "da_cdf", rescaling="cdf", climatology="../clim.nc",
                     min_climatology_samples=10)
    # Scored on the 3 days after the training period. Measured (0-7 cm, m3 m-3): open loop
    # +0.005, DA without rescaling +0.091, with CDF matching +0.022; 7-28 cm: -0.001, +0.047,
    # +0.004. CDF matching keeps the model's climatology, not the truth's: the rest is the
    # open loop's own error and the noise of a 12-sample climatology.
    biased = bias_against_truth(case, plain, 0.0, 0.07)
    corrected = bias_against_truth(case, matched, 0.0, 0.07)
    assert biased > 0.06
    assert abs(corrected) < 0.35 * biased
    assert abs(bias_against_truth(case, matched, 0.07, 0.28)) < 0.35 * bias_against_truth(
        case, plain, 0.07, 0.28)
    rescaled = events(matched, "observation_rescaling")
    assert len(rescaled) == 24 and all(e["method"] == "cdf" for e in rescaled)
    assert all(e["rescaled"] == 210 and e["no_climatology"] == 0 for e in rescaled)
    assert np.mean([e["mean_shift"][0] for e in rescaled]) < -0.05      # the bias removed
    assert not events(plain, "observation_rescaling")
    log = [json.loads(x) for x in (matched / "run_log.jsonl").read_text().splitlines()]
    assert all(r["analysed"] for r in log)


def test_too_few_samples_refuse_every_observation_and_the_cycle_goes_on(case):
    run = da_run(case, "da_few", rescaling="anomaly", climatology=str(case / "clim.nc"),
                 min_climatology_samples=13)    # the climatology has 12 samples per cell
    refused = events(run, "observation_rescaling")
    assert refused and all(e["no_climatology"] == 210 and e["rescaled"] == 0 for e in refused)
    alerts = [json.loads(x) for x in (run / "alerts.jsonl").read_text().splitlines()]
    assert len(alerts) == 24 and {a["alert"] for a in alerts} == {"observation_rejected"}
    np.testing.assert_array_equal(read_field(run / "states" / "state_20160507T0000.nc").values,
                                  read_field(case / "ctrl" / "states" /
                                             "state_20160507T0000.nc").values)


def test_a_missing_or_foreign_climatology_stops_the_run_before_the_first_cycle(case, tmp_path):
    with pytest.raises(InputError, match="nothing.nc: climatology file not found"):
        run_cycles(MPI.COMM_SELF, settings({"rescaling": "cdf", "climatology": "nothing.nc"}),
                   tmp_path / "a", progress=False)
    assert not list((tmp_path / "a" / "checkpoints").glob("*.h5"))
    clim = read_climatology(case / "clim.nc")
    clim.lat, clim.count = clim.lat[:-1], clim.count[:, :-1]
    for name in ("model_quantiles", "observation_quantiles"):
        setattr(clim, name, getattr(clim, name)[:, :, :-1])
    for name in ("model_mean", "observation_mean", "model_std", "observation_std"):
        setattr(clim, name, getattr(clim, name)[:, :-1])
    write_climatology(tmp_path / "small.nc", clim)
    with pytest.raises(InputError, match="small.nc: climatology grid .* differs from the model "
                                         "grid"):
        run_cycles(MPI.COMM_SELF, settings({"rescaling": "cdf",
                                            "climatology": str(tmp_path / "small.nc")}),
                   tmp_path / "b", progress=False)
