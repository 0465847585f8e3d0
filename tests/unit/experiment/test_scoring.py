"""Scores of the demo's runs: the cell groups (all, unobserved, withheld, region), period
means, and the mean and spread over seeds."""

from __future__ import annotations

import numpy as np
import pytest

from landia.experiment.observing import surface_of
from landia.experiment.scoring import (GROUPS, METRICS, mean_series, over_seeds, period_means,
                                       score_seed)
from landia.grid import colm_node_depths
from landia.io.fields import SoilMoistureField, write_field
from landia.io.naming import observation_name, state_name

NY, NX = 8, 9
LAT = 30.0 + 1.4 * np.arange(NY)
LON = 100.0 + 1.4 * np.arange(NX)
T0 = np.datetime64("2016-05-01T00:00", "s")
DAYS = [T0 + np.timedelta64(24 * k, "h") for k in range(1, 5)]
TIMES = {"start": T0, "discard_end": DAYS[0], "assimilation_end": DAYS[2], "end": DAYS[3]}


def _field(values, t):
    return SoilMoistureField(lat=LAT, lon=LON, depth=colm_node_depths()[:values.shape[0]],
                             values=values, valid_time=t)


def make_seed(root, k_day_offset=0.0):
    """A seed folder: truth, a run 0.05 too wet where unobserved, 0.02 where withheld and
    right where observed; observations on the west half (the first column withheld) on the
    assimilation days."""
    rng = np.random.default_rng(0)
    used = np.zeros((NY, NX), dtype=bool)
    used[:, 1:5] = True
    withheld = np.zeros((NY, NX), dtype=bool)
    withheld[:, 0] = True
    offset = np.where(used, 0.0, np.where(withheld, 0.02, 0.05))
    for t in DAYS:
        truth = 0.2 + 0.1 * rng.random((10, NY, NX))
        truth[:, -1, -1] = np.nan
        for run, values in (("truth", truth), ("image", truth + offset + k_day_offset)):
            d = root / "runs" / run / "states"
            d.mkdir(parents=True, exist_ok=True)
            write_field(d / state_name(t), _field(values, t))
        if t <= TIMES["assimilation_end"]:
            for folder, cells in (("obs", used), ("withheld", withheld)):
                (root / folder).mkdir(exist_ok=True)
                obs = np.where(cells, surface_of(truth) + 0.01, np.nan)[None].repeat(3, axis=0)
                write_field(root / folder / observation_name(t), _field(obs, t))
    return root


def test_each_cell_group_gets_its_own_error(tmp_path):
    region = np.zeros((NY, NX), dtype=bool)
    region[:, 6:] = True  # unobserved cells only
    scored = score_seed(make_seed(tmp_path), ["truth", "image"], TIMES, region)
    rec = scored["series"]["image"]
    assert len(rec["times"]) == 4
    for layer in ("surface", "layer_7_28"):
        assert rec[f"unobserved_{layer}"]["rmse"][1] == pytest.approx(0.05)
        assert rec[f"unobserved_{layer}"]["bias"][1] == pytest.approx(0.05)
        assert rec[f"withheld_{layer}"]["rmse"][1] == pytest.approx(0.02)
        assert rec[f"region_{layer}"]["rmse"][1] == pytest.approx(0.05)
    # against the withheld observations (truth + 0.01): 0.02 - 0.01
    assert rec["withheld_obs_surface"]["bias"][1] == pytest.approx(0.01)
    # no observation after the assimilation: no unobserved/withheld scores there
    assert rec["unobserved_surface"]["rmse"][3] is None
    table = scored["table"]["image"]
    assert table["assimilation"]["withheld_surface_rmse"] == pytest.approx(0.02)
    assert table["forecast"]["withheld_surface_rmse"] is None
    assert set(table["assimilation"]) == {f"{g}_{m}" for g in GROUPS for m in METRICS}


def test_period_means_skip_the_discarded_spin_up():
    rec = {"times": [str(t) for t in DAYS]} | {g: {m: [1.0, 2.0, 3.0, 4.0] for m in METRICS}
                                               for g in GROUPS}
    means = period_means(rec, TIMES)
    assert means["assimilation"]["surface_scc"] == 2.5  # days 2 and 3
    assert means["forecast"]["surface_scc"] == 4.0


def test_the_mean_and_spread_over_seeds():
    tables = {s: {"image": {"assimilation": {"surface_scc": v, "unobserved_surface_scc": u}}}
              for s, v, u in ((1, 0.5, None), (2, 0.6, 0.3), (3, 0.7, 0.5))}
    mean, spread = over_seeds(tables)
    assert mean["image"]["assimilation"]["surface_scc"] == pytest.approx(0.6)
    s = spread["image"]["assimilation"]["surface_scc"]
    assert (s["min"], s["max"], s["n"]) == (0.5, 0.7, 3) and s["sd"] == pytest.approx(0.1)
    assert mean["image"]["assimilation"]["unobserved_surface_scc"] == pytest.approx(0.4)
    assert spread["image"]["assimilation"]["unobserved_surface_scc"]["n"] == 2


def test_the_daily_series_averaged_over_seeds(tmp_path):
    seeds = {k: score_seed(make_seed(tmp_path / f"s{k}", 0.01 * k), ["truth", "image"], TIMES,
                           np.zeros((NY, NX), dtype=bool))["series"] for k in (1, 2)}
    mean = mean_series(seeds)["image"]
    assert mean["times"] == seeds[1]["image"]["times"]
    b1, b2 = seeds[1]["image"]["surface"]["bias"][0], seeds[2]["image"]["surface"]["bias"][0]
    assert mean["surface"]["bias"][0] == pytest.approx((b1 + b2) / 2)
    assert mean["surface"]["bias_min"][0] == pytest.approx(min(b1, b2))
    assert mean["surface"]["bias_max"][0] == pytest.approx(max(b1, b2))
    assert mean["unobserved_surface"]["rmse"][3] is None
