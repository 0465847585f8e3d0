"""A field's coordinates must be cell centres in degrees; errors name the file (issue 13,
item 4)."""

from __future__ import annotations

import dataclasses

import netCDF4
import numpy as np
import pytest

from landia.errors import InputError
from landia.io.fields import read_field, write_field
from tests.conftest import make_case


def written(tmp_path, name="f.nc", lat=None, lon=None, units=None):
    bg, _ = make_case()
    field = dataclasses.replace(bg, lat=bg.lat if lat is None else lat,
                                lon=bg.lon if lon is None else lon)
    write_field(tmp_path / name, field, "background")
    if units is not None:
        with netCDF4.Dataset(tmp_path / name, "a") as ds:
            for var, text in zip(("lat", "lon"), units):
                if text is None:
                    ds[var].delncattr("units")
                else:
                    ds[var].units = text
    return tmp_path / name


def test_radians_are_refused_by_their_units(tmp_path):
    bg, _ = make_case()
    path = written(tmp_path, lat=np.deg2rad(bg.lat), lon=np.deg2rad(bg.lon),
                   units=("radians", "radians"))
    with pytest.raises(InputError, match=r"f\.nc: coordinate 'lat' has units 'radians'; "
                                         r"expected degrees_north"):
        read_field(path)


def test_radians_without_degree_units_are_refused_by_their_values(tmp_path):
    bg, _ = make_case()
    path = written(tmp_path, lat=np.deg2rad(bg.lat), lon=np.deg2rad(bg.lon), units=(None, "1"))
    with pytest.raises(InputError, match=r"f\.nc: coordinates 'lat' and 'lon' have no degree "
                                         r"units .* within \[-pi, pi\]: radians\?"):
        read_field(path)


def test_degrees_near_the_origin_with_degree_units_are_read(tmp_path):
    lat, lon = np.linspace(-1.5, 1.5, 16), np.linspace(-1.5, 1.5, 16)
    f = read_field(written(tmp_path, lat=lat, lon=lon))
    np.testing.assert_array_equal(f.lat, lat)


@pytest.mark.parametrize("change, match", [
    ("lat_order", r"f\.nc: coordinate 'lat' is not strictly monotonic"),
    ("lon_order", r"f\.nc: coordinate 'lon' is not strictly increasing"),
    ("lat_range", r"f\.nc: coordinate 'lat' reaches 95; expected degrees_north"),
])
def test_grid_errors_name_the_file(tmp_path, change, match):
    bg, _ = make_case()
    lat, lon = bg.lat.copy(), bg.lon.copy()
    if change == "lat_order":
        lat[[3, 4]] = lat[[4, 3]]
    elif change == "lon_order":
        lon = lon[::-1].copy()
    else:
        lat = np.linspace(20, 95, lat.size)
    with pytest.raises(InputError, match=match):
        read_field(written(tmp_path, lat=lat, lon=lon))
