"""ERA5 (CDS netCDF) forcing: both layouts, packing, de-accumulation, dew point, errors."""

from __future__ import annotations

import netCDF4
import numpy as np
import pytest

from landia.errors import InputError
from landia.forcing import read_era5
from landia.forcing.era5 import deaccumulate, specific_humidity_from_dewpoint
from tests.unit.forcing.forcing_files import field, hours, write_grid

UNITS = {"t2m": "K", "d2m": "K", "sp": "Pa", "u10": "m s**-1", "v10": "m s**-1",
         "ssrd": "J m**-2", "strd": "J m**-2", "tp": "m"}
RANGES = {"t2m": (280, 300), "d2m": (260, 275), "sp": (9e4, 1e5), "u10": (-8, 8),
          "v10": (-8, 8), "ssrd": (0, 3e6), "strd": (1e6, 1.3e6), "tp": (0, 3e-3)}
# ERA5-like grid: 1 deg, 90 -> -90, 0..359
LAT = np.arange(90.0, -91.0, -1.0)
LON = np.arange(0.0, 360.0, 1.0)
COLUMNS = ([44.593, -33.2, 0.4], [123.509, -70.6, 359.7])  # 359.7 E and 0.0 E share a cell


def era5_values(n=6, seed=0, nan=None):
    rng = np.random.default_rng(seed)
    v = {k: field(rng, (n, LAT.size, LON.size), *r) for k, r in RANGES.items()}
    v["tp"][:, :, ::3] = 0.0  # dry cells
    return v


def packed(values, name):
    lo, hi = values.min(), values.max()
    scale = (hi - lo) / 60000 if hi > lo else 1.0
    return scale, (hi + lo) / 2


def old_layout(path, values, times):
    """netCDF3, time in hours since 1900, packed int16 (as the CDS delivered until 2024)."""
    variables = {k: (v, {"units": UNITS[k], "pack": packed(v, k)}) for k, v in values.items()}
    return write_grid(path, LAT, LON, times, variables, lat_name="latitude",
                      lon_name="longitude", fmt="NETCDF3_64BIT_OFFSET")


def new_layout(path, values, times, extra_dim=("number", 1)):
    """netCDF4, valid_time in seconds since 1970, float32, a size-1 extra dimension."""
    variables = {k: (v, {"units": UNITS[k]}) for k, v in values.items()}
    return write_grid(path, LAT, LON, times, variables, time_name="valid_time",
                      time_units="seconds since 1970-01-01", lat_name="latitude",
                      lon_name="longitude", extra_dim=extra_dim)


def cell_values(path, name, lat, lon):
    """What the file holds (unpacked) at the columns' nearest cells: (T, N)."""
    i = [int(np.argmin(abs(LAT - a))) for a in lat]
    j = [int(np.argmin(abs(((LON - b) + 180) % 360 - 180))) for b in lon]
    with netCDF4.Dataset(path) as ds:
        v = np.asarray(ds[name][:], dtype=float)
    v = v.reshape(v.shape[0], LAT.size, LON.size)
    return v[:, i, j]


@pytest.mark.parametrize("layout", ["old", "new"])
def test_era5_layouts_read_states_and_conserve_accumulations(tmp_path, layout):
    times = hours("2019-07-01", 6)
    values = era5_values()
    path = (old_layout if layout == "old" else new_layout)(tmp_path / "e.nc", values, times)
    f = read_era5(path, *COLUMNS)
    np.testing.assert_array_equal(f.times, times[:-1])  # the last stamp has no following hour
    assert f.tair.shape == (5, 3) and f.lwdown.shape == (5, 3)
    lat, lon = COLUMNS
    # states: the stamps' values (to the packing precision)
    t2m = cell_values(path, "t2m", lat, lon)
    np.testing.assert_allclose(f.tair, t2m[:-1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(f.tair, values["t2m"][:-1, [45, 123, 90], [124, 289, 0]],
                               atol=2e-4)
    u, v = cell_values(path, "u10", lat, lon), cell_values(path, "v10", lat, lon)
    np.testing.assert_allclose(f.wind, np.hypot(u, v)[:-1], rtol=1e-12)
    # fluxes: the value at t_k is the accumulation stamped t_k+1, per second
    tp = np.maximum(cell_values(path, "tp", lat, lon), 0)
    ssrd = np.maximum(cell_values(path, "ssrd", lat, lon), 0)
    np.testing.assert_allclose(f.precip, 1000 * tp[1:] / 3600, rtol=1e-12)
    # conservation: sum of rate * dt equals the total accumulated over the record's hours
    np.testing.assert_allclose((f.precip * 3600).sum(axis=0), 1000 * tp[1:].sum(axis=0),
                               rtol=1e-12)
    np.testing.assert_allclose((f.swdown * 3600).sum(axis=0), ssrd[1:].sum(axis=0),
                               rtol=1e-12)
    assert np.all(f.precip >= 0) and np.all(f.swdown >= 0)


def test_old_and_new_layouts_agree(tmp_path):
    times = hours("2019-07-01", 4)
    values = era5_values(4, seed=3)
    a = read_era5(old_layout(tmp_path / "old.nc", values, times), *COLUMNS)
    b = read_era5(new_layout(tmp_path / "new.nc", values, times, ("expver", 0)), *COLUMNS)
    np.testing.assert_allclose(a.tair, b.tair, atol=2e-4)
    np.testing.assert_allclose(a.qair, b.qair, rtol=1e-4)
    np.testing.assert_allclose(a.swdown, b.swdown, atol=3e6 / 60000 / 3600 + 0.1)


def test_dewpoint_to_specific_humidity_matches_a_hand_value():
    # Td = 283.15 K, p = 1000 hPa: e = 611.21 exp(17.502 * 9.99 / 250.96) = 1226.78 Pa,
    # q = 0.621981 e / (p - 0.378019 e) = 7.66587e-3 kg/kg
    assert specific_humidity_from_dewpoint(283.15, 1e5) == pytest.approx(7.66587e-3, rel=1e-5)
    # saturation at the dew point: q rises with Td and falls with p
    assert specific_humidity_from_dewpoint(263.15, 8.5e4) == pytest.approx(2.0973e-3, rel=1e-4)


def test_reader_uses_dewpoint_and_pressure(tmp_path):
    times = hours("2019-07-01", 3)
    values = era5_values(3, seed=5)
    path = new_layout(tmp_path / "d.nc", values, times)
    f = read_era5(path, *COLUMNS)
    td, sp = (cell_values(path, n, *COLUMNS)[:-1] for n in ("d2m", "sp"))
    np.testing.assert_allclose(f.qair, specific_humidity_from_dewpoint(td, sp), rtol=1e-12)


def test_tiny_negative_packed_accumulations_become_zero(tmp_path):
    times = hours("2019-07-01", 3)
    values = era5_values(3, seed=6)
    values["tp"][:] = np.where(np.arange(LON.size) % 2, -1e-9, 2e-3)
    f = read_era5(new_layout(tmp_path / "n.nc", values, times), [10.0, 10.0], [1.0, 2.0])
    assert np.all(f.precip[:, 0] == 0.0)
    assert np.all(f.precip[:, 1] > 0.0)


def test_running_accumulations_with_resets_conserve_totals():
    times = hours("2019-07-01T06", 8)
    # forecast from 06 UTC: running sums; a new forecast restarts at 09 UTC (2.5 -> 0.5)
    running = np.array([[0.0], [2.0], [2.5], [2.5], [0.5], [1.5], [3.5], [7.5]])
    inc = deaccumulate(running, times, "running")
    np.testing.assert_array_equal(inc[:, 0], [2.0, 0.5, 0.0, 0.5, 1.0, 2.0, 4.0])
    assert inc.sum() == (2.5 - 0.0) + 7.5  # both forecasts' totals
    # a restart that the values do not show (the new sum exceeds the old) needs reset_hours
    hidden = np.array([[0.0], [2.0], [2.5], [2.5], [3.0], [4.0], [6.0], [10.0]])
    np.testing.assert_array_equal(deaccumulate(hidden, times, "running")[:, 0],
                                  [2.0, 0.5, 0.0, 0.5, 1.0, 2.0, 4.0])
    inc2 = deaccumulate(hidden, times, "running", reset_hours=[9])
    np.testing.assert_array_equal(inc2[:, 0], [2.0, 0.5, 0.0, 3.0, 1.0, 2.0, 4.0])
    # hourly form: each stamp's value is its own hour
    np.testing.assert_array_equal(deaccumulate(hidden, times, "hourly")[:, 0], hidden[1:, 0])
    # packing noise below the tolerance is not a restart
    noisy = np.array([[1.0], [0.9999995], [2.0]])
    np.testing.assert_array_equal(deaccumulate(noisy, times[:3], "running", tolerance=1e-6)
                                  [:, 0], [0.0, 2.0 - 0.9999995])


def test_running_form_from_file_conserves_the_total(tmp_path):
    times = hours("2019-07-01", 7, 3.0)
    values = era5_values(7, seed=7)
    steps = values["tp"].copy()
    run = np.cumsum(steps, axis=0)
    run[4:] = np.cumsum(steps[4:], axis=0)  # a new forecast from the 4th stamp
    values["tp"] = run
    path = new_layout(tmp_path / "r.nc", values, times)
    f = read_era5(path, *COLUMNS, accumulation="running")
    stored = cell_values(path, "tp", *COLUMNS)
    expected = stored[-1] + stored[3] - stored[0]  # totals of both forecasts after t0
    np.testing.assert_allclose((f.precip * 3 * 3600).sum(axis=0) / 1000, expected, rtol=1e-6)
    with pytest.raises(InputError, match=r"hourly stamps are expected"):
        read_era5(path, *COLUMNS)


def test_start_end_select_and_single_stamp_is_refused(tmp_path):
    times = hours("2019-07-01", 6)
    path = new_layout(tmp_path / "s.nc", era5_values(), times)
    f = read_era5(path, *COLUMNS, start="2019-07-01T02", end="2019-07-01T04")
    np.testing.assert_array_equal(f.times, times[2:4])
    full = read_era5(path, *COLUMNS)
    np.testing.assert_array_equal(f.precip, full.precip[2:4])
    with pytest.raises(InputError, match=r"at least two stamps"):
        read_era5(path, *COLUMNS, start="2019-07-01T05")


def test_files_one_per_day_concatenate(tmp_path):
    times = hours("2019-07-01", 6)
    values = era5_values()
    whole = read_era5(new_layout(tmp_path / "all.nc", values, times), *COLUMNS)
    first = {k: v[:3] for k, v in values.items()}
    second = {k: v[3:] for k, v in values.items()}
    a = new_layout(tmp_path / "b.nc", second, times[3:])
    b = new_layout(tmp_path / "a.nc", first, times[:3])
    split = read_era5([a, b], *COLUMNS)
    np.testing.assert_array_equal(split.times, whole.times)
    np.testing.assert_array_equal(split.precip, whole.precip)
    np.testing.assert_array_equal(split.tair, whole.tair)


def test_era5_errors_name_file_and_variable(tmp_path):
    times = hours("2019-07-01", 3)
    values = era5_values(3)
    path = new_layout(tmp_path / "u.nc", values, times)
    with netCDF4.Dataset(path, "a") as ds:
        ds["tp"].units = "mm"
    with pytest.raises(InputError, match=r"u\.nc: variable 'tp' has units 'mm'; expected m"):
        read_era5(path, *COLUMNS)
    del values["d2m"]
    path = new_layout(tmp_path / "h.nc", values, times)
    with pytest.raises(InputError, match=r"h\.nc: no humidity: expected 'd2m'"):
        read_era5(path, *COLUMNS)
    values = era5_values(3)
    del values["ssrd"]
    with pytest.raises(InputError, match=r"s\.nc: variable 'ssrd' not found"):
        read_era5(new_layout(tmp_path / "s.nc", values, times), *COLUMNS)
    values = era5_values(3)
    values["t2m"][1, 45, 124] = np.nan
    path = new_layout(tmp_path / "nan.nc", values, times)
    with pytest.raises(InputError, match=r"nan\.nc: variable 't2m' is missing .* at "
                                         r"2019-07-01T01:00:00 UTC for column 0 at 44\.5930 N"):
        read_era5(path, *COLUMNS)


def test_mixed_expver_of_size_two_is_refused(tmp_path):
    times = hours("2019-07-01", 3)
    path = new_layout(tmp_path / "x.nc", era5_values(3), times, ("expver", 1))
    with netCDF4.Dataset(path) as ds:
        assert ds["t2m"].dimensions[1] == "expver"
    # rewrite t2m with two experiment versions
    p2 = tmp_path / "x2.nc"
    with netCDF4.Dataset(path) as src, netCDF4.Dataset(p2, "w") as dst:
        for d in src.dimensions:
            dst.createDimension(d, 2 if d == "expver" else len(src.dimensions[d]))
        for name, var in src.variables.items():
            v = dst.createVariable(name, var.dtype, var.dimensions)
            v.setncatts({a: var.getncattr(a) for a in var.ncattrs() if a != "_FillValue"})
            if "expver" in var.dimensions:
                v[:, 0] = var[:, 0]
                v[:, 1] = var[:, 0]
            else:
                v[:] = var[:]
    with pytest.raises(InputError, match=r"dimension 'expver' of size 2; expected size 1"):
        read_era5(p2, *COLUMNS)
