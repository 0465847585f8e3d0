"""The conus-smap scores: known answers on synthetic series, and a tiny output folder."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from landia.errors import InputError
from landia.experiment.conus_output import read_withheld_mask, smap_equivalent, smap_weights
from landia.experiment.conus_scores import (cdf_rescale, half_day, innovation_statistics,
                                            pair_scores, periods, persistence, score_experiment,
                                            season_of, seasonal_cycle, training_climatology)
from tests.unit.experiment.conus_case import land_mask, make_conus_out, withheld_mask

T = np.datetime64("2015-04-01T12:00", "s") + np.arange(730) * np.timedelta64(86400, "s")


def harmonic(phase=0.3, mean=0.25):
    d = np.arange(T.size, dtype=float)
    w = 2 * np.pi / 365.25
    return mean + 0.05 * np.cos(w * d + phase) + 0.02 * np.sin(2 * w * d + 1.0)


def test_the_smap_equivalent_is_the_thickness_weighted_0_5_cm_mean():
    w = smap_weights(10)
    assert w[:3] == pytest.approx([0.3503, 0.5516, 0.0982], abs=1e-4) and w.sum() == 1.0
    assert not w[3:].any()
    v = np.arange(10.0)[:, None, None] * np.ones((10, 2, 3))
    assert np.allclose(smap_equivalent(v), w @ np.arange(10.0))
    assert smap_equivalent(np.ones((4, 10, 2, 3))).shape == (4, 2, 3)


def test_the_seasonal_cycle_of_a_harmonic_series_is_itself():
    y = np.stack([harmonic(), harmonic(1.0, 0.3)], axis=1)
    y[::3, 0] = np.nan  # gaps do not matter
    fit = seasonal_cycle(T, y)
    ok = np.isfinite(y)
    assert np.allclose(fit[ok], y[ok], atol=1e-10) and np.isnan(fit[~ok]).all()


def test_anomaly_r_and_ubrmse_have_their_known_values():
    rng = np.random.default_rng(0)
    a = 0.03 * rng.standard_normal(T.size)
    obs = (harmonic() + a)[:, None]
    same = pair_scores(T, obs, obs)
    assert same["anomaly_r"] == pytest.approx(1.0) and same["ubrmse"] == pytest.approx(0.0)
    assert same["n"] == T.size and same["cells"] == 1
    # another seasonal cycle and a bias change neither; the model's noise e lowers R to
    # sigma_a / sqrt(sigma_a^2 + sigma_e^2) = 0.03 / 0.05 and gives ubRMSE ~ sigma_e
    biased = pair_scores(T, (harmonic(1.0, 0.4) + a)[:, None], obs)
    assert biased["anomaly_r"] == pytest.approx(1.0)
    shifted = pair_scores(T, obs + 0.1, obs)
    assert shifted["ubrmse"] == pytest.approx(0.0, abs=1e-12)
    assert shifted["bias"] == pytest.approx(0.1)
    e = 0.04 * rng.standard_normal(T.size)
    noisy = pair_scores(T, obs + e[:, None], obs)
    assert noisy["anomaly_r"] == pytest.approx(0.6, abs=0.03)
    assert noisy["ubrmse"] == pytest.approx(0.04, abs=0.003)
    assert noisy["raw_r"] > noisy["anomaly_r"]  # the shared seasonal cycle helps the raw R


def test_cells_with_too_few_pairs_are_not_scored():
    obs = np.stack([harmonic(), harmonic()], axis=1)
    obs[30:, 1] = np.nan
    s = pair_scores(T, obs, obs, min_pairs=31)
    assert s["cells"] == 1 and s["n"] == T.size
    empty = pair_scores(T[:5], obs[:5], obs[:5])
    assert empty["cells"] == 0 and empty["anomaly_r"] is None


def test_seasons_and_innovation_statistics_per_season():
    t = np.array(["2015-12-31T12", "2016-01-15T12", "2016-03-01T12", "2016-06-01T12",
                  "2016-09-30T12", "2016-11-30T12"], dtype="datetime64[s]")
    assert list(season_of(t)) == ["DJF", "DJF", "MAM", "JJA", "SON", "SON"]
    d = np.array([[0.01, 0.03], [0.02, np.nan], [0.0, 0.0], [0.1, 0.1], [-0.1, 0.1],
                  [0.05, 0.05]])
    s = innovation_statistics(t, d)
    assert s["n"] == 11 and s["mean"] == pytest.approx(np.nanmean(d))
    assert s["seasons"]["DJF"] == {"mean": pytest.approx(0.02), "std": pytest.approx(0.01),
                                   "n": 3}
    assert s["seasons"]["MAM"]["std"] == 0.0 and s["seasons"]["SON"]["n"] == 4
    ref = 2 * d
    ref[0, 0] = np.nan  # only the samples both have count
    c = innovation_statistics(t, d, ref)
    assert c["std_change"] == pytest.approx(-0.5)
    assert c["seasons"]["JJA"]["std_change"] is not None or c["seasons"]["JJA"]["std"] == 0


def test_cdf_rescaling_of_a_monotone_transform_recovers_the_model():
    rng = np.random.default_rng(1)
    model = rng.uniform(0.05, 0.45, (365, 2, 3))
    obs = 0.02 + 0.5 * model + 1.5 * model ** 2  # increasing on [0, 1]
    clim = training_climatology(model, obs, T[0], T[364])
    back = cdf_rescale(obs, clim)
    assert np.nanmax(np.abs(back - model)) < 2e-3
    assert np.isnan(cdf_rescale(obs, clim, min_samples=366)).all()  # too few samples


def test_persistence_and_the_half_day():
    t = T[:10]
    ctrl = np.full((10, 10, 2, 2), 0.2)
    ctrl[:, :, 0, 0] = np.nan
    run = ctrl + 0.04 * 0.7 ** np.arange(10)[:, None, None, None]
    p = persistence(t, run, ctrl)
    assert p["surface"][0] == pytest.approx(0.04) and p["half_day_surface"] == 2
    assert p["half_day_layers"] == [2] * 10 and len(p["layers"]) == 10
    assert half_day([0.0, 0.0]) is None and half_day([1.0, 0.9]) is None


def test_periods_discard_and_years():
    p = periods(datetime(2015, 4, 1, 12), datetime(2017, 3, 31, 12), 30)
    assert p["all"] == (datetime(2015, 5, 1, 12), datetime(2017, 3, 31, 12))
    assert p["year1"][0] == datetime(2015, 5, 1, 12)
    assert p["year2"] == (datetime(2016, 4, 1, 12), datetime(2017, 3, 31, 12))
    assert set(p) == {"all", "year1", "year2"}


@pytest.fixture(scope="module")
def conus_out(tmp_path_factory):
    root = tmp_path_factory.mktemp("conus")
    return root, make_conus_out(root)


def test_the_withheld_mask_is_read_back(conus_out):
    root, _ = conus_out
    assert np.array_equal(read_withheld_mask(root / "withheld_cells.nc"), withheld_mask())


def test_score_experiment_on_a_tiny_output_folder(conus_out):
    root, made = conus_out
    r = score_experiment(root, ["ctrl", "point", "image", "letkf"], min_pairs=20, discard_days=10)
    assert r["scoring"]["skipped"] == ["point"] and "point" not in r
    assert r["scoring"]["withheld_cells"] == 3
    for run in ("ctrl", "image", "letkf"):
        w = r[run]["withheld"]
        assert w["cells"] == 3 and 3 * 20 <= w["n"] <= 3 * 40  # 40 scored days
        assert set(w) >= {"anomaly_r", "ubrmse", "n", "raw_r", "cells", "start", "end"}
        assert set(r[run]["withheld_by_year"]) == {"year1"}
        i = r[run]["innovation"]
        assert i["n"] > 0 and i["std"] > 0 and set(i["seasons"]) <= {"MAM", "JJA"}
    # image DA is CTRL pulled towards the truth SMAP sees: better at the withheld cells
    assert r["image"]["withheld"]["anomaly_r"] > r["letkf"]["withheld"]["anomaly_r"] > \
        r["ctrl"]["withheld"]["anomaly_r"]
    assert r["image"]["withheld"]["ubrmse"] < r["ctrl"]["withheld"]["ubrmse"]
    # the forecasts are between CTRL and the analysis: O-F spread below CTRL's
    assert r["image"]["innovation"]["std_change"] < 0
    assert r["letkf"]["innovation"]["std_change"] < 0
    assert r["ctrl"]["innovation"]["n"] >= r["image"]["innovation"]["n"]
    assert r["image"]["innovation_withheld"]["n"] < r["image"]["innovation"]["n"]
    # the free run's distance from CTRL decays by 0.7 a day
    p = r["persistence"]["image"]
    assert p["half_day_surface"] == 2 and p["days"] == 8
    assert set(r["persistence"]) == {"image"}
    # the innovation is the rescaled SMAP minus CTRL's top layer (no pair outside the land)
    assert land_mask().sum() == 18


def test_missing_inputs_are_named(conus_out, tmp_path):
    root, _ = conus_out
    with pytest.raises(InputError, match="runs/ctrl/states"):
        score_experiment(tmp_path, ["ctrl"])
    (tmp_path / "runs" / "ctrl" / "states").mkdir(parents=True)
    with pytest.raises(InputError, match="withheld_cells.nc"):
        score_experiment(tmp_path, ["ctrl"])
