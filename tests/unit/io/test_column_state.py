"""Initial-state files of a single column."""

from __future__ import annotations

import numpy as np
import pytest

from landia.errors import InputError
from landia.io.column_state import read_column_state, write_column_state


def test_round_trip(tmp_path):
    sm = np.linspace(0.2, 0.4, 10)
    t = np.linspace(270, 285, 10)
    write_column_state(tmp_path / "i.nc", sm, t)
    st = read_column_state(tmp_path / "i.nc", porosity=np.full(10, 0.45))
    np.testing.assert_array_equal(st.soil_moisture, sm)
    np.testing.assert_array_equal(st.soil_temperature, t)
    write_column_state(tmp_path / "j.nc", sm)
    assert read_column_state(tmp_path / "j.nc").soil_temperature is None


def test_above_porosity(tmp_path):
    write_column_state(tmp_path / "i.nc", np.full(10, 0.5))
    with pytest.raises(InputError, match="'soil_moisture' = 0.5 m3 m-3 in layer 1; expected"):
        read_column_state(tmp_path / "i.nc", porosity=np.full(10, 0.45))


def test_negative_and_nan(tmp_path):
    sm = np.full(10, 0.3)
    sm[2] = -0.1
    write_column_state(tmp_path / "i.nc", sm)
    with pytest.raises(InputError, match="layer 3"):
        read_column_state(tmp_path / "i.nc")
    sm[2] = np.nan
    write_column_state(tmp_path / "j.nc", sm)
    with pytest.raises(InputError, match="NaN"):
        read_column_state(tmp_path / "j.nc")


def test_wrong_layers_and_celsius(tmp_path):
    write_column_state(tmp_path / "i.nc", np.full(4, 0.3))
    with pytest.raises(InputError, match="4 layers; expected 10"):
        read_column_state(tmp_path / "i.nc")
    write_column_state(tmp_path / "j.nc", np.full(10, 0.3), np.full(10, 10.0))
    with pytest.raises(InputError, match="Celsius"):
        read_column_state(tmp_path / "j.nc")


def test_wrong_units_and_missing(tmp_path):
    import netCDF4

    p = tmp_path / "i.nc"
    with netCDF4.Dataset(p, "w") as ds:
        ds.createDimension("layer", 10)
        v = ds.createVariable("soil_moisture", "f8", ("layer",))
        v.units = "kg m-2"
        v[:] = 10.0
    with pytest.raises(InputError, match="'soil_moisture' has units 'kg m-2'"):
        read_column_state(p)
    with netCDF4.Dataset(tmp_path / "e.nc", "w") as ds:
        ds.createDimension("layer", 10)
    with pytest.raises(InputError, match="'soil_moisture' not found"):
        read_column_state(tmp_path / "e.nc")


def test_failed_write_leaves_no_file(tmp_path):
    with pytest.raises(ValueError):
        write_column_state(tmp_path / "i.nc", np.full(10, 0.3), np.full(3, 280.0))
    assert list(tmp_path.iterdir()) == []
