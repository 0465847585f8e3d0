"""Forcing perturbations: their statistics (mean, std, lag-1 autocorrelation, spatial and cross
correlation), reproducibility and independence of the decomposition and of the windows."""

import numpy as np
import pytest

from landia.config import PerturbationSettings, settings_from_dict
from landia.config.sections import CycleSettings
from landia.cycling.forcing import ForcingSource
from landia.errors import ConfigError
from landia.forcing.perturbation import (ForcingPerturbation, correlated_field,
                                         correlated_fields, correlation_matrix, grid_lengths)
from landia.forcing.weather import WeatherGenerator
from landia.grid import LatLonGrid

GRID = LatLonGrid.from_box(23, 68, 73, 117, 1.4)
ON = PerturbationSettings(enabled=True, length_km=300.0)
MONTH = np.arange(np.datetime64("2016-05-01T00:00"), np.datetime64("2016-07-01T00:00"),
                  np.timedelta64(3, "h"))


@pytest.fixture(scope="module")
def processes():
    """x_v on every land cell at every 3-hourly step of two months: (4, T, N)."""
    return ForcingPerturbation(GRID, ON).values(MONTH)


def test_the_correlated_field_has_unit_variance_and_the_gaussian_correlation():
    rng = np.random.default_rng(0)
    length = 3.0
    fields = np.stack([correlated_field(rng, (24, 30), length, length) for _ in range(1500)])
    assert fields.mean() == pytest.approx(0.0, abs=0.03)
    assert fields.var(axis=0).mean() == pytest.approx(1.0, abs=0.03)
    for lag in (1, 2, 3, 5):
        along_x = np.mean(fields[:, :, lag:] * fields[:, :, :-lag])
        along_y = np.mean(fields[:, lag:, :] * fields[:, :-lag, :])
        expected = np.exp(-lag**2 / (2 * length**2))
        assert along_x == pytest.approx(expected, abs=0.03)
        assert along_y == pytest.approx(expected, abs=0.03)


@pytest.mark.parametrize("shape, lengths", [((32, 31), (1.9, 2.3)), ((18, 38), (0.0, 0.0)),
                                            ((40, 40), (3.0, 0.5)), ((7, 9), (0.7, 0.0))])
def test_the_batched_fields_are_the_single_fields_bit_for_bit(shape, lengths):
    """One FFT over a stack gives each generator's field exactly as filtering its own noise
    alone with the formula of the notes (so batching the forcing variables changes no bit)."""
    ly, lx = lengths
    batched = correlated_fields([np.random.default_rng([5, v]) for v in range(4)], shape, ly, lx)
    ny, nx = shape
    py = ny + (4 * int(np.ceil(ly)) if ly > 0 else 0)
    px = nx + (4 * int(np.ceil(lx)) if lx > 0 else 0)
    for v in range(4):
        noise = np.random.default_rng([5, v]).standard_normal((py, px))
        if ly <= 0 and lx <= 0:
            expected = noise[:ny, :nx]
        else:
            ky, kx = np.fft.fftfreq(py)[:, None], np.fft.rfftfreq(px)[None, :]
            gain = np.exp(-np.pi**2 * ((ky * ly) ** 2 + (kx * lx) ** 2))
            full = np.fft.fftfreq(px)[None, :]
            power = np.exp(-2.0 * np.pi**2 * ((ky * ly) ** 2 + (full * lx) ** 2))
            expected = (np.fft.irfft2(np.fft.rfft2(noise) * gain, s=(py, px))[:ny, :nx]
                        / np.sqrt(power.mean()))
        assert np.array_equal(batched[v], expected)
        assert np.array_equal(correlated_field(np.random.default_rng([5, v]), shape, ly, lx),
                              expected)


def test_the_processes_are_standard_normal_with_the_ar1_autocorrelation(processes):
    x = processes
    p = ForcingPerturbation(GRID, ON)
    assert p.phi == pytest.approx(np.exp(-3 / 24))
    for v in range(4):
        assert x[v].mean() == pytest.approx(0.0, abs=0.1)
        assert x[v].std() == pytest.approx(1.0, abs=0.05)
        lag1 = np.corrcoef(x[v, 1:].ravel(), x[v, :-1].ravel())[0, 1]
        lag8 = np.corrcoef(x[v, 8:].ravel(), x[v, :-8].ravel())[0, 1]
        assert lag1 == pytest.approx(p.phi, abs=0.02)
        assert lag8 == pytest.approx(p.phi**8, abs=0.06)  # one day: e^-1


def test_the_processes_have_the_configured_cross_and_spatial_correlations(processes):
    x = processes
    measured = np.corrcoef(x.reshape(4, -1))
    np.testing.assert_allclose(measured, correlation_matrix(ON.correlations), atol=0.05)
    # neighbours along a row (1.4 deg of longitude) and a column (1.4 deg of latitude)
    ly, lx = grid_lengths(GRID, ON.length_km)
    field = np.full((4, MONTH.size) + GRID.shape, np.nan)
    field[..., GRID.land] = x
    east = np.nanmean(field[..., :, 1:] * field[..., :, :-1])
    north = np.nanmean(field[..., 1:, :] * field[..., :-1, :])
    assert east == pytest.approx(np.exp(-1 / (2 * lx**2)), abs=0.05)
    assert north == pytest.approx(np.exp(-1 / (2 * ly**2)), abs=0.05)


def test_the_perturbed_forcing_keeps_the_mean_and_has_the_configured_spread():
    # SMAP Level-4's 50 km: nearly independent from cell to cell, so that a month of a
    # thousand cells measures the mean to about 1 %
    weather = WeatherGenerator(GRID, seed=3)
    base = weather.forcing("2016-06-01", "2016-07-01", step_hours=3)
    pert = ForcingPerturbation(GRID, PerturbationSettings(enabled=True)).apply(base)
    wet = base.precip > 0
    log_factor = np.log(pert.precip[wet] / base.precip[wet])
    assert log_factor.std() == pytest.approx(ON.precipitation_std, rel=0.05)
    # mean 1 (a month's total, dominated by a few storms, would test the sampling instead)
    assert np.exp(log_factor).mean() == pytest.approx(1.0, abs=0.03)
    assert np.array_equal(pert.precip > 0, wet)          # no rain created or removed
    assert pert.swdown.mean() == pytest.approx(base.swdown.mean(), rel=0.03)
    assert np.all(pert.swdown[base.swdown == 0] == 0)    # no sun at night
    d_lw, d_t = pert.lwdown - base.lwdown, pert.tair - base.tair
    assert d_lw.mean() == pytest.approx(0.0, abs=1.5)
    assert d_lw.std() == pytest.approx(ON.longwave_std, rel=0.05)
    assert d_t.mean() == pytest.approx(0.0, abs=0.1)
    assert d_t.std() == pytest.approx(ON.air_temperature_std, rel=0.05)
    assert np.all(pert.qair <= base.qair)                # only capped at saturation
    np.testing.assert_array_equal(pert.wind, base.wind)
    np.testing.assert_array_equal(pert.psurf, base.psurf)


def test_every_subset_of_cells_gets_the_same_perturbations():
    weather = WeatherGenerator(GRID, seed=3)
    full = ForcingPerturbation(GRID, ON).apply(weather.forcing("2016-07-01", "2016-07-02"))
    for cells in (np.array([0]), np.arange(300, 420), np.array([991, 3, 500])):
        part = ForcingPerturbation(GRID, ON).apply(
            weather.forcing("2016-07-01", "2016-07-02", cells=cells), cells)
        for name in ("precip", "swdown", "lwdown", "tair", "qair"):
            np.testing.assert_array_equal(getattr(part, name), getattr(full, name)[:, cells])


def test_a_perturbation_kept_for_some_cells_gives_their_numbers_and_only_theirs():
    """cells= at construction: the cache keeps those columns only, the bits are unchanged."""
    cells = np.arange(300, 420)
    whole = ForcingPerturbation(GRID, ON).values(MONTH[:40], cells)
    kept = ForcingPerturbation(GRID, ON, cells=cells)
    np.testing.assert_array_equal(kept.values(MONTH[:40], cells), whole)
    assert all(v.shape == (4, cells.size) for v in kept._noise.values())
    with pytest.raises(ValueError, match="cells"):
        kept.values(MONTH[:40], np.arange(10))


def test_the_numbers_depend_on_the_seed_and_member_only():
    times = MONTH[:16]
    a = ForcingPerturbation(GRID, ON).values(times)
    np.testing.assert_array_equal(ForcingPerturbation(GRID, ON).values(times), a)
    for change in ({"seed": 2}, {"member": 1}):
        other = ForcingPerturbation(GRID, PerturbationSettings(
            **{**ON.__dict__, **change})).values(times)
        assert np.corrcoef(other.ravel(), a.ravel())[0, 1] < 0.1


def _source(cells, perturbation=ON):
    weather = WeatherGenerator(GRID, seed=1, precipitation_seed=2)
    return ForcingSource(CycleSettings(), ".", weather, weather.lat[cells], weather.lon[cells],
                         cells, perturbation)


def test_the_cycle_forcing_does_not_depend_on_the_decomposition_or_the_windows():
    start = np.datetime64("2016-05-03T00:00", "s")
    day = _source(np.arange(GRID.n_land)).window(start, start + np.timedelta64(24, "h"))
    halves = [np.arange(0, 500), np.arange(500, GRID.n_land)]
    six_hourly = {}
    for cells in halves:
        src = _source(cells)
        parts = [src.window(start + np.timedelta64(h, "h"), start + np.timedelta64(h + 6, "h"))
                 for h in range(0, 24, 6)]
        six_hourly[cells[0]] = parts
    for name in ("precip", "swdown", "lwdown", "tair", "qair"):
        joined = np.concatenate([np.concatenate([getattr(p, name) for p in six_hourly[c[0]]])
                                 for c in halves], axis=1)
        np.testing.assert_array_equal(joined, getattr(day, name), err_msg=name)
    plain = _source(np.arange(GRID.n_land), None).window(start, start + np.timedelta64(24, "h"))
    assert not np.array_equal(plain.precip, day.precip)


def test_the_configuration_checks_the_correlations():
    s = settings_from_dict({"perturbation": {"enabled": True, "length_km": 300}})
    assert s.perturbation.enabled is True and s.perturbation.length_km == 300.0
    for bad in ([0.9, 0.9, 0.0, -0.9, 0.0, 0.0], [0.5] * 5, [2.0, 0, 0, 0, 0, 0]):
        with pytest.raises(ConfigError, match="perturbation.correlations"):
            settings_from_dict({"perturbation": {"correlations": bad}})
    with pytest.raises(ConfigError, match="perturbation.enabled"):
        settings_from_dict({"perturbation": {"enabled": 1}})


def test_a_switched_off_perturbation_leaves_the_config_hash_unchanged():
    """Switched off, the section is left out of the hash (whatever its other keys), so runs
    from before it existed keep their hash and resume from their checkpoints."""
    from landia.cycling.run import config_hash

    plain = settings_from_dict({})
    off = settings_from_dict({"perturbation": {"enabled": False, "length_km": 300.0}})
    on = settings_from_dict({"perturbation": {"enabled": True}})
    assert config_hash(off) == config_hash(plain) != config_hash(on)
    other_seed = settings_from_dict({"perturbation": {"enabled": True, "seed": 2}})
    assert config_hash(other_seed) != config_hash(on)
