"""Background-error variance from model-minus-observation series (paper 3.3.1)."""

from __future__ import annotations

import argparse

import netCDF4
import numpy as np
import pytest

from landia.diagnostics.background_error import (DEFAULT_MIN_VARIANCE,
                                                 estimate_background_error)
from landia.commands.estimate_b import add_parser as add_estimate_b_parser
from landia.commands.estimate_b import estimate_b as run_estimate_b
from landia.diagnostics.departures import pair_files
from landia.errors import InputError
from landia.io.fields import SoilMoistureField, read_field, write_field


def _series(nt=200, nl=2, shape=(12, 14), seed=0, sd_b=0.04, sd_o=0.0, bias=0.02):
    """Backgrounds and observations whose difference has a known per-cell variance."""
    rng = np.random.default_rng(seed)
    ny, nx = shape
    # per-cell standard deviation of the background error: 0.02 .. 0.06 m3 m-3
    sd = sd_b * (0.5 + np.linspace(0, 1, ny * nx).reshape(ny, nx))
    truth = 0.25 + 0.05 * rng.standard_normal((nt, nl, ny, nx)) * 0.2
    xb = truth + bias + sd * rng.standard_normal((nt, nl, ny, nx))
    y = truth + sd_o * rng.standard_normal((nt, nl, ny, nx))
    land = np.ones(shape, bool)
    land[:3, :4] = False
    xb[:, :, ~land] = np.nan
    y[:, :, ~land] = np.nan
    return xb, y, sd, land


def test_recovers_known_variance_within_sampling_error():
    nt = 200
    xb, y, sd, land = _series(nt)
    est = estimate_background_error(xb, y, min_times=10)
    true = sd**2
    ratio = est.variance[:, land] / true[land]
    # (N-1) s^2 / sigma^2 ~ chi2(N-1): relative standard error sqrt(2/(N-1)) = 0.10.
    # Bound each cell at 5 standard errors and the mean over ~300 cells at 5 / sqrt(n).
    se = np.sqrt(2.0 / (nt - 1))
    assert np.all(np.abs(ratio - 1) < 5 * se)
    assert abs(ratio.mean() - 1) < 5 * se / np.sqrt(ratio.size)
    # the constant bias is removed, not counted as error variance
    assert np.allclose(est.mean_difference[:, land], 0.02, atol=5 * 0.06 / np.sqrt(nt))
    assert np.all(np.isnan(est.variance[:, ~land]))
    assert np.all(np.isfinite(est.variance[:, land]))
    assert est.n_fallback == [0, 0] and est.n_floored == [0, 0]
    assert np.allclose(est.mean_background[:, land], xb[:, :, land].mean(axis=0))


def test_matches_numpy_unbiased_variance():
    xb, y, _, land = _series(30, nl=1, shape=(5, 6), seed=4)
    est = estimate_background_error(xb, y, min_times=5, min_variance=1e-12)
    expect = np.var(xb - y, axis=0, ddof=1)
    assert np.allclose(est.variance[:, land], expect[:, land], rtol=1e-12)


def test_observation_error_subtraction_and_floor():
    nt, sd_o = 400, 0.03
    xb, y, sd, land = _series(nt, sd_o=sd_o, seed=1)
    raw = estimate_background_error(xb, y, min_times=10)
    sub = estimate_background_error(xb, y, obs_error_variance=sd_o**2, min_times=10)
    ok = sub.variance[:, land] > DEFAULT_MIN_VARIANCE
    assert np.allclose(raw.variance[:, land][ok] - sub.variance[:, land][ok], sd_o**2)
    # var(d) = sd_b^2 + sd_o^2: after the subtraction the estimate is unbiased for sd_b^2
    ratio = sub.variance[:, land] / (sd[land] ** 2)
    assert abs(np.median(ratio) - 1) < 0.1
    # an observation error larger than the whole difference variance: floored
    big = estimate_background_error(xb, y, obs_error_variance=1.0, min_times=10)
    assert np.allclose(big.variance[:, land], DEFAULT_MIN_VARIANCE)
    assert big.n_floored == [int(land.sum())] * 2


def test_min_times_fallback_uses_the_layer_median_and_nan_handling():
    xb, y, _, land = _series(40, seed=2)
    y[5:, :, 6, 7] = np.nan      # only 5 valid times at one land cell
    xb[::2, 0, 8, 9] = np.nan    # 20 valid times: enough
    y[:, 1, 10, 10] = np.nan     # no observation at all in layer 2
    est = estimate_background_error(xb, y, min_times=10)
    assert est.n_valid[0, 6, 7] == 5 and est.n_valid[0, 8, 9] == 20
    assert est.n_fallback == [1, 2]
    assert est.variance[0, 6, 7] == pytest.approx(est.fallback_value[0])
    assert est.variance[1, 10, 10] == pytest.approx(est.fallback_value[1])
    enough = land & (est.n_valid[0] >= 10)
    assert est.fallback_value[0] == pytest.approx(np.median(est.variance[0][enough]))
    assert np.all(np.isfinite(est.variance[:, land]))
    assert np.isfinite(est.variance[0, 8, 9])
    with pytest.raises(InputError, match="no land cell"):
        estimate_background_error(xb, y, min_times=41)
    with pytest.raises(InputError, match="min_times"):
        estimate_background_error(xb, y, min_times=1)
    with pytest.raises(InputError, match="same shape"):
        estimate_background_error(xb, y[:, :1])


def test_smoothing_keeps_land_and_constant_fields():
    xb, y, _, land = _series(50, seed=3)
    est = estimate_background_error(xb, y, smoothing_cells=1.5)
    raw = estimate_background_error(xb, y)
    assert np.all(np.isnan(est.variance[:, ~land])) and np.all(np.isfinite(est.variance[:, land]))
    assert est.variance[:, land].std() < raw.variance[:, land].std()
    assert abs(np.mean(est.variance[:, land]) / np.mean(raw.variance[:, land]) - 1) < 0.05


# -- the command -----------------------------------------------------------------------------

def _parser():
    p = argparse.ArgumentParser(prog="landia")
    sub = p.add_subparsers(dest="command")
    add_estimate_b_parser(sub)
    return p


def _write_series(folder, xb, y, lat=None, times=None):
    folder.mkdir(exist_ok=True)
    nt, nl, ny, nx = xb.shape
    lat = np.linspace(20, 40, ny) if lat is None else lat
    lon = np.linspace(80, 110, nx)
    depth = np.array([0.0071, 0.0279, 0.0623])[:nl]
    for t in range(nt):
        for role, data in (("bg", xb), ("obs", y)):
            path = folder / f"{role}_{t:03d}.nc"
            write_field(path, SoilMoistureField(lat=lat, lon=lon, depth=depth, values=data[t]))
            if times is not None:
                with netCDF4.Dataset(path, "a") as ds:
                    ds.time = times[t] if role == "bg" else times[nt - 1 - t]
    return folder


def test_command_writes_a_background_file(tmp_path):
    xb, y, sd, land = _series(25, shape=(6, 7), seed=5)
    d = _write_series(tmp_path / "series", xb, y)
    out = tmp_path / "b.nc"
    args = _parser().parse_args(["estimate-b", "--background", str(d / "bg_*.nc"),
                                 "--obs", *[str(p) for p in sorted(d.glob("obs_*.nc"))],
                                 "--obs-error-variance", "1e-4", "--min-times", "5",
                                 "--output", str(out)])
    assert run_estimate_b(args) == 0
    f = read_field(out, "background")
    est = estimate_background_error(xb, y, 1e-4, 5)
    assert f.error_variance is not None
    assert np.allclose(f.error_variance[:, land], est.variance[:, land])
    assert np.all(np.isnan(f.error_variance[:, ~land]))
    assert np.allclose(f.values[:, land], np.mean(xb, axis=0)[:, land])


def test_pairing_by_time_attribute(tmp_path):
    xb, y, _, _ = _series(4, nl=1, shape=(4, 4), seed=6)
    times = ["2016-05-01T00", "2016-05-01T06", "2016-05-01T12", "2016-05-01T18"]
    d = _write_series(tmp_path / "s", xb, y, times=times)
    bgs = sorted(d.glob("bg_*.nc"))
    obs = sorted(d.glob("obs_*.nc"))
    pairs = pair_files(bgs, obs)
    # obs files carry times in reverse order: obs_003 has the time of bg_000
    assert [(b.name, o.name) for b, o, _ in pairs][0] == ("bg_000.nc", "obs_003.nc")
    assert pairs[1][2] == times[1]


def test_command_refuses_mismatched_grids_and_counts(tmp_path):
    xb, y, _, _ = _series(3, nl=1, shape=(4, 5), seed=7)
    a = _write_series(tmp_path / "a", xb, y)
    b = _write_series(tmp_path / "b", xb, y, lat=np.linspace(21, 41, 4))
    out = tmp_path / "b.nc"
    args = _parser().parse_args(["estimate-b", "--background", str(a / "bg_*.nc"),
                                 "--obs", str(b / "obs_*.nc"), "--min-times", "2",
                                 "--output", str(out)])
    with pytest.raises(InputError, match="regrid"):
        run_estimate_b(args)
    args = _parser().parse_args(["estimate-b", "--background", str(a / "bg_*.nc"),
                                 "--obs", str(a / "obs_000.nc"), "--output", str(out)])
    with pytest.raises(InputError, match="pairing by order"):
        run_estimate_b(args)
    assert not out.exists()


def test_unobserved_lower_layers_are_left_out_with_a_warning(tmp_path):
    xb, y, sd, land = _series(12, nl=3, shape=(6, 7), seed=6)
    y = y.copy()
    y[:, 2] = np.nan  # a 0-5 cm product: nothing in CoLM layer 3
    d = _write_series(tmp_path / "series", xb, y)
    out = tmp_path / "b.nc"
    args = _parser().parse_args(["estimate-b", "--background", str(d / "bg_*.nc"),
                                 "--obs", str(d / "obs_*.nc"), "--min-times", "5",
                                 "--output", str(out)])
    assert run_estimate_b(args) == 0
    f = read_field(out, "background")
    assert f.n_layers == 2 and np.isfinite(f.error_variance[:, land]).all()
