"""What the cycle carries between analyses (the Desroziers image-error variances) and the
withheld observations of every analysis: restart-exact, logged, in the analysis files."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

mpi4py = pytest.importorskip("mpi4py")
from mpi4py import MPI  # noqa: E402

from landia.config import settings_from_dict  # noqa: E402
from landia.cycling.carried import (CHECKPOINT_KEY, LOCAL_CHECKPOINT_KEY,  # noqa: E402
                                    OFFSET_CHECKPOINT_KEY, CarriedImageError)
from landia.cycling.run import config_hash, run_cycles  # noqa: E402
from landia.io.analysis_file import read_analysis  # noqa: E402
from tests.unit.cycling import test_run as plain  # noqa: E402
from tests.unit.cycling.test_run import GRID, PERIOD, final_state, log_lines  # noqa: E402

TUNED = {"analysis": {"image_error_method": "desroziers", "image_error_memory": 0.5},
         "observations": {"withhold_fraction": 0.2, "withhold_seed": 7}}


@pytest.fixture(scope="module")
def observations(tmp_path_factory):
    """The observation images of test_run's truth run (other rain and texture)."""
    return plain.truth_observations(tmp_path_factory.mktemp("truth"))


def settings(tuned=True, analysis=None, obs_settings=None, **cycle):
    """tuned: the estimated variances and withheld observations of TUNED; else the fixed
    image-error variance (the library's default until 2026-12-03) and nothing withheld."""
    untuned = {} if tuned else {"image_error_method": "fixed"}
    raw = {"grid": GRID, "cycle": {**PERIOD, "observations": "obs", **cycle},
           "analysis": {"layers": 3, "terms": ["background", "image"], **untuned,
                        **(analysis or {})},
           "observations": dict(obs_settings or {})}
    if tuned:
        for section, values in TUNED.items():
            raw.setdefault(section, {}).update(values)
    return settings_from_dict(raw)


def _run(tmp, observations, name, end=None, **kw):
    run = tmp / name
    (run / "obs").mkdir(parents=True, exist_ok=True)
    for f in observations:
        if not (run / "obs" / f.name).exists():
            (run / "obs" / f.name).write_bytes(f.read_bytes())
    run_cycles(MPI.COMM_SELF, settings(**kw), run, end=end, progress=False)
    return run


def _carried(run, key=CHECKPOINT_KEY):
    newest = sorted((run / "checkpoints").glob("checkpoint-*.h5"))[-1]
    with h5py.File(newest, "r") as f:
        return f["extra"][key][...] if key in f["extra"] else None


def _analyses(run):
    return [read_analysis(p) for p in sorted((run / "cycles").glob("analysis_*.nc"))]


def test_the_variances_are_carried_from_analysis_to_analysis_and_logged(tmp_path, observations):
    run = _run(tmp_path, observations, "tuned")
    files, lines = _analyses(run), log_lines(run)
    assert len(files) == 4 and all(r["analysed"] for r in lines)
    first = files[0].image_error["image_error_variance"]
    assert np.all(first == 4e-4)  # the first analysis starts from the fixed default
    for a, b in zip(files, files[1:]):  # each analysis uses what the previous one handed on
        np.testing.assert_array_equal(b.image_error["image_error_variance"],
                                      a.image_error["image_error_variance_next"])
    assert not np.array_equal(files[-1].image_error["image_error_variance"], first)
    np.testing.assert_array_equal(_carried(run), files[-1].image_error["image_error_variance_next"])
    for r, a in zip(lines, files):
        assert r["image_error_variance"] == list(a.image_error["image_error_variance"])
        assert r["image_error_variance_next"] == list(a.image_error["image_error_variance_next"])
        assert len(r["image_error_estimate"]) == a.bands["kept_coefficients"].shape[0]


def test_every_analysis_withholds_other_cells_and_scores_them(tmp_path, observations):
    run = _run(tmp_path, observations, "withheld")
    files, lines = _analyses(run), log_lines(run)
    masks = [np.isfinite(a.withheld["observation"][0]) for a in files]
    observed = [np.isfinite(a.observation[0]) | m for a, m in zip(files, masks)]
    for a, m, o, r in zip(files, masks, observed, lines):
        assert m.sum() == round(0.2 * o.sum()) and not np.any(m & np.isfinite(a.observation[0]))
        d = a.withheld["observation"][0][m] - a.background[0][m]
        assert r["withheld"]["count"] == a.withheld["count"][0] == m.sum()
        assert r["withheld"]["omb_rmse"] == pytest.approx(np.sqrt(np.mean(d ** 2)), rel=1e-12)
        assert r["withheld"]["oma_rmse"] == a.withheld["oma_rmse"][0]
    assert not np.array_equal(masks[0], masks[1])  # cycle-dependent


@pytest.mark.parametrize("bands", ["scale", "wedge"])
def test_a_tuned_run_stopped_and_resumed_ends_bit_for_bit_identical(tmp_path, observations,
                                                                    bands):
    """Also with one variance per band (``image_error_bands = "wedge"``): the carried vector
    is then one value per band, the low-pass band's never estimated."""
    analysis = {"image_error_bands": bands}
    whole = _run(tmp_path, observations, "whole", analysis=analysis)
    part = _run(tmp_path, observations, "part", end="2016-05-01T12:00", analysis=analysis)
    assert [r["cycle"] for r in log_lines(part)] == [0, 1]
    assert _carried(part) is not None
    files = _analyses(whole)
    wedges = files[0].bands["wedges_per_scale"]
    assert _carried(whole).size == (wedges.sum() if bands == "wedge" else wedges.size)
    if bands == "wedge":
        assert all(np.isnan(a.image_error["image_error_estimate"][0]) for a in files)
        assert np.all(_carried(whole)[0] == 4e-4)
        assert not np.all(_carried(whole) == 4e-4)
    _run(tmp_path, observations, "part", analysis=analysis)
    a, b = final_state(whole), final_state(part)
    for k in a:
        assert np.array_equal(a[k], b[k]), k
    assert np.array_equal(_carried(whole), _carried(part))
    for x, y in zip(_analyses(whole), _analyses(part)):
        for name in ("image_error_variance", "image_error_variance_next", "image_error_estimate"):
            assert np.array_equal(x.image_error[name], y.image_error[name],
                                  equal_nan=True), name
        for name in x.bands:
            assert np.array_equal(x.bands[name], y.bands[name], equal_nan=True), name
        assert np.array_equal(x.withheld["observation"], y.withheld["observation"],
                              equal_nan=True)
        assert np.array_equal(x.analysis, y.analysis, equal_nan=True)
    def logged(run):  # what a rerun must repeat: all but timings and the run's own paths
        return [{k: v for k, v in r.items() if k not in ("seconds", "observation")}
                for r in log_lines(run)]

    assert logged(whole) == logged(part)


def test_the_fixed_method_carries_nothing_and_keeps_the_hash_of_earlier_runs(tmp_path,
                                                                              observations):
    run = _run(tmp_path, observations, "fixed", tuned=False)
    assert _carried(run) is None
    assert all("image_error_variance" not in r and "withheld" not in r for r in log_lines(run))
    assert all(a.withheld is None for a in _analyses(run))
    # the new keys at their defaults leave the hash of an earlier version's run unchanged
    plain = settings(tuned=False)
    assert config_hash(plain) != config_hash(settings())
    assert config_hash(plain) == config_hash(plain.replace("observations", withhold_seed=0))


def test_the_default_method_is_hashed_as_what_it_resolves_to():
    """'auto' (the default since 2026-12-04) keeps the hash of the method it resolves to:
    a run with the correlated B that of 'desroziers' (the default before it, so its
    checkpoints stay valid), one with the diagonal B that of 'innovation'."""
    auto = settings(tuned=False, analysis={"image_error_method": "auto"})
    diagonal = auto.replace("analysis", correlation_length_km=0.0)
    for s, method in ((auto, "desroziers"), (diagonal, "innovation")):
        explicit = s.replace("analysis", image_error_method=method)
        assert config_hash(s) == config_hash(explicit)
    assert config_hash(diagonal) != config_hash(
        diagonal.replace("analysis", image_error_method="desroziers"))


def test_carried_image_error_alone():
    carried = CarriedImageError.for_settings(settings())
    assert carried.enabled and carried.values is None and carried.checkpoint_extra() == {}
    carried.restore({CHECKPOINT_KEY: np.array([1e-3, 2e-3])})
    np.testing.assert_array_equal(carried.checkpoint_extra()[CHECKPOINT_KEY], [1e-3, 2e-3])
    off = CarriedImageError.for_settings(settings(tuned=False))
    off.restore({CHECKPOINT_KEY: np.array([1e-3])})
    assert off.values is None and off.checkpoint_extra() == {}


def test_the_local_error_excess_is_carried_logged_and_resumed_bit_for_bit(tmp_path, observations):
    local = {"local_image_error": True}
    whole = _run(tmp_path, observations, "whole", tuned=False, analysis=local)
    part = _run(tmp_path, observations, "part", tuned=False, analysis=local,
                end="2016-05-01T12:00")
    assert _carried(part, LOCAL_CHECKPOINT_KEY) is not None
    assert _carried(part) is None                   # the fixed per-scale variances
    _run(tmp_path, observations, "part", tuned=False, analysis=local)
    a, b = final_state(whole), final_state(part)
    for k in a:
        assert np.array_equal(a[k], b[k]), k
    excess = _carried(whole, LOCAL_CHECKPOINT_KEY)
    assert np.array_equal(excess, _carried(part, LOCAL_CHECKPOINT_KEY))
    assert excess.ndim == 1 and np.all(np.isfinite(excess))
    lines = log_lines(whole)
    assert all("local_error_max" in r and "local_error_cells" in r
               for r in lines if r.get("analysed"))
    # false leaves the hash of the earlier format; 'auto' (the default) with JI is on, and
    # hashed as an explicit true
    plain = settings(tuned=False)
    off = settings(tuned=False, analysis={"local_image_error": False})
    assert plain.local_image_error_on and not off.local_image_error_on
    assert config_hash(plain) == config_hash(settings(tuned=False, analysis=local))
    assert config_hash(plain) != config_hash(off)


def test_the_observation_offset_is_removed_carried_logged_and_resumed_bit_for_bit(
        tmp_path, observations):
    """observations.offset_correction = "cycled": each analysis sees y - beta, beta the running
    mean (memory m) of the mean O-B per layer, carried in the checkpoint."""
    cycled = {"offset_correction": "cycled", "offset_memory": 0.6}
    whole = _run(tmp_path, observations, "whole", tuned=False, obs_settings=cycled)
    part = _run(tmp_path, observations, "part", tuned=False, obs_settings=cycled,
                end="2016-05-01T12:00")
    assert _carried(part, OFFSET_CHECKPOINT_KEY) is not None
    _run(tmp_path, observations, "part", tuned=False, obs_settings=cycled)
    a, b = final_state(whole), final_state(part)
    for k in a:
        assert np.array_equal(a[k], b[k]), k
    beta = _carried(whole, OFFSET_CHECKPOINT_KEY)
    assert np.array_equal(beta, _carried(part, OFFSET_CHECKPOINT_KEY)) and beta.shape == (3,)
    lines = [r for r in log_lines(whole) if r.get("analysed")]
    files = _analyses(whole)
    assert len(lines) == len(files) == 4
    previous = None
    for r, f in zip(lines, files):
        d, used = np.array(r["observation_departure"]), np.array(r["observation_offset"])
        # the departure is the mean O-B of the raw image over the observed land cells
        raw = f.observation + used[:, None, None]  # nothing clipped on this case
        np.testing.assert_allclose(d, np.nanmean((raw - f.background).reshape(3, -1), axis=1),
                                   atol=1e-12)
        expected = d if previous is None else 0.6 * previous + 0.4 * d
        np.testing.assert_allclose(used, expected, rtol=0, atol=1e-15)
        previous = used
    np.testing.assert_array_equal(beta, previous)
    assert abs(previous[0]) > 1e-3  # the truth run's images differ from the model in the mean
    plain = settings(tuned=False)
    assert config_hash(plain) == config_hash(settings(
        tuned=False, obs_settings={"offset_correction": "none", "offset_memory": 0.9}))
    assert config_hash(plain) != config_hash(settings(tuned=False, obs_settings=cycled))
