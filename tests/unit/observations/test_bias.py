"""The configured bias correction: settings, climatology checks, `landia analyse` with it."""

from __future__ import annotations

import json

import netCDF4
import numpy as np
import pytest

from landia.cli import main
from landia.config import Settings
from landia.errors import InputError
from landia.io.climatology_file import write_climatology
from landia.io.fields import write_field
from landia.log import configure_logging
from landia.observations.bias import BiasCorrection
from landia.observations.rescaling import climatology_statistics
from tests.conftest import make_case

SHIFT = 0.06    # the observations' climatology is the model's plus this (m3 m-3)


def climatology_for(field, shift=SHIFT, samples=40, seed=2):
    """A climatology on ``field``'s grid: model series around the field, observations the
    same series shifted by ``shift`` plus a little noise."""
    rng = np.random.default_rng(seed)
    model = field.values[None] + 0.02 * rng.standard_normal((samples, *field.values.shape))
    obs = model + shift + 0.005 * rng.standard_normal(model.shape)
    return climatology_statistics(model, obs, 9, lat=field.lat, lon=field.lon,
                                  depth=field.depth, start="2016-04-01T00:00",
                                  end="2016-04-30T18:00")


def settings(**observations) -> Settings:
    return Settings().replace("observations", **observations)


def test_none_hands_the_image_back_untouched(tmp_path):
    _, obs = make_case()
    correction = BiasCorrection.from_settings(Settings(), tmp_path)
    assert correction.method == "none" and correction.apply(obs) is obs


def test_the_climatology_path_is_relative_to_the_base_folder_and_checked(tmp_path, capsys):
    bg, obs = make_case()
    (tmp_path / "run").mkdir()
    write_climatology(tmp_path / "clim.nc", climatology_for(bg))
    s = settings(rescaling="anomaly", climatology="../clim.nc", min_climatology_samples=20)
    configure_logging("json", "info", 0, 1)
    try:
        correction = BiasCorrection.from_settings(s, tmp_path / "run", bg.lat, bg.lon)
        out = correction.apply(obs)
    finally:
        configure_logging("console", "info", 0, 1)
    assert correction.min_samples == 20 and correction.climatology.source.endswith("clim.nc")
    observed = np.isfinite(obs.values)
    np.testing.assert_array_equal(np.isfinite(out.values), observed)
    shift = (out.values - obs.values)[observed]
    assert abs(shift.mean() + SHIFT) < 0.003
    # the image had no error variance: the configured one, rescaled (unchanged for anomaly)
    assert obs.error_variance is None
    np.testing.assert_array_equal(out.error_variance[observed],
                                  s.analysis.observation_error_variance)
    events = [json.loads(x) for x in capsys.readouterr().err.splitlines() if x.startswith("{")]
    loaded = [e for e in events if e["event"] == "climatology_loaded"]
    assert loaded and loaded[0]["method"] == "anomaly" and loaded[0]["quantiles"] == 9
    used = [e for e in events if e["event"] == "observation_rescaling"][0]
    assert used["rescaled"] == int(observed.sum()) and used["no_climatology"] == 0
    assert used["flat_mapping"] == 0 and used["mean_shift"][0] == pytest.approx(
        np.nanmean((out.values - obs.values)[0]), abs=1e-6)


def test_missing_file_and_other_grids_are_refused(tmp_path):
    bg, obs = make_case()
    with pytest.raises(InputError, match="absent.nc: climatology file not found"):
        BiasCorrection.from_settings(settings(rescaling="cdf", climatology="absent.nc"),
                                     tmp_path)
    write_climatology(tmp_path / "clim.nc", climatology_for(bg))
    s = settings(rescaling="cdf", climatology=str(tmp_path / "clim.nc"))
    with pytest.raises(InputError, match="differs from the model grid"):
        BiasCorrection.from_settings(s, tmp_path, bg.lat[:-1], bg.lon)
    correction = BiasCorrection.from_settings(s, tmp_path)
    other, _ = make_case(shape=(12, 16))
    with pytest.raises(InputError, match="climatology grid .* differs from"):
        correction.apply(other)
    with pytest.raises(InputError, match="needs a climatology"):
        BiasCorrection("cdf")


@pytest.mark.parametrize("method", ["cdf", "mean_std", "anomaly"])
def test_analyse_rescales_the_observations_when_configured(tmp_path, monkeypatch, method):
    bg, obs = make_case(shape=(32, 31))
    # the model's climatology is the background's; the product reads SHIFT wetter
    obs.values = bg.values + SHIFT + 0.01 * np.random.default_rng(3).standard_normal(
        bg.values.shape) * np.where(np.isfinite(obs.values), 1.0, np.nan)
    write_field(tmp_path / "bg.nc", bg, "background")
    write_field(tmp_path / "obs.nc", obs, "observation")
    write_climatology(tmp_path / "clim.nc", climatology_for(bg))
    monkeypatch.chdir(tmp_path)
    outputs = {}
    for name, extra in (("plain", ""), ("rescaled", f'rescaling = "{method}"\n'
                                                    'climatology = "clim.nc"\n')):
        (tmp_path / f"{name}.toml").write_text(
            '[analysis]\nlayers = 2\nterms = ["background", "point"]\n'
            f'upper_bound = "porosity"\n[observations]\n{extra}')
        assert main(["analyse", "--config", f"{name}.toml", "--background", "bg.nc", "--obs",
                     "obs.nc", "--output", f"{name}.nc"]) == 0
        with netCDF4.Dataset(tmp_path / f"{name}.nc") as ds:
            outputs[name] = {k: ds[k][:].filled(np.nan) for k in ("increment", "observation")}
    plain, rescaled = outputs["plain"], outputs["rescaled"]
    # measured: mean increment 0.044 without rescaling, 0.0003 with each method
    assert np.nanmean(plain["increment"]) > 0.035                   # dragged to the product
    assert abs(np.nanmean(rescaled["increment"])) < 0.002            # not with rescaling
    assert abs(np.nanmean(rescaled["observation"] - bg.values[:2])) < 0.002


@pytest.mark.parametrize("scaling", ["std_ratio", "local_slope"])
def test_cdf_error_scaling_is_taken_from_the_settings(tmp_path, scaling):
    """``observations.cdf_error_scaling`` reaches the rescaling: the image's variances are
    the configured variance times the std ratio squared (constant per cell) or the local
    slope squared."""
    from landia.observations.rescaling import cdf_map

    bg, obs = make_case()
    clim = climatology_for(bg)
    write_climatology(tmp_path / "clim.nc", clim)
    s = settings(rescaling="cdf", climatology="clim.nc", min_climatology_samples=20,
                 cdf_error_scaling=scaling)
    correction = BiasCorrection.from_settings(s, tmp_path, bg.lat, bg.lon)
    assert correction.cdf_error_scaling == scaling
    out = correction.apply(obs)
    ok = np.isfinite(out.values)
    nl = clim.n_layers
    if scaling == "std_ratio":
        factor = (clim.model_std / clim.observation_std)[:nl]
    else:
        factor = cdf_map(obs.values[:nl], clim.observation_quantiles[:, :nl],
                         clim.model_quantiles[:, :nl])[1]
    expected = s.analysis.observation_error_variance * factor**2
    np.testing.assert_allclose(out.error_variance[:nl][ok[:nl]], expected[ok[:nl]], rtol=1e-12)


def test_cdf_error_scaling_changes_the_run_hash_only_where_it_acts():
    """Without CDF matching the key cannot act: a run keeps its hash (and its checkpoints)
    across the new default. With CDF matching the local slope, the earlier behaviour, keeps
    the earlier hash, and the std ratio (the new default) makes a new one."""
    from landia.cycling.config_hash import config_hash

    for rescaling in ("none", "mean_std", "anomaly"):
        clim = {} if rescaling == "none" else {"climatology": "c.nc"}
        hashes = {config_hash(settings(rescaling=rescaling, cdf_error_scaling=v, **clim))
                  for v in ("std_ratio", "local_slope")}
        assert len(hashes) == 1
    assert config_hash(settings()) == config_hash(Settings())
    cdf = {"rescaling": "cdf", "climatology": "c.nc"}
    assert (config_hash(settings(**cdf, cdf_error_scaling="local_slope"))
            != config_hash(settings(**cdf)))
