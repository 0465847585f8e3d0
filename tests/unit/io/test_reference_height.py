"""The site file's ``reference_height``: read, defaulted when absent, refused when not positive."""

from __future__ import annotations

import netCDF4
import numpy as np
import pytest

from landia.errors import InputError
from landia.io.site import DEFAULT_REFERENCE_HEIGHT, read_reference_height


def _site(path, value=None):
    with netCDF4.Dataset(path, "w") as ds:
        if value is not None:
            ds.createVariable("reference_height", "f8")[...] = value
    return path


def test_value_default_and_bad_values(tmp_path):
    assert read_reference_height(_site(tmp_path / "a.nc", 6.0)) == 6.0
    assert read_reference_height(_site(tmp_path / "b.nc")) == DEFAULT_REFERENCE_HEIGHT == 10.0
    for name, bad in (("c.nc", 0.0), ("d.nc", -2.0), ("e.nc", np.nan)):
        path = _site(tmp_path / name, bad)
        with pytest.raises(InputError, match=f"{name}: variable 'reference_height' = "):
            read_reference_height(path)


@pytest.mark.shared_data
def test_cn_cng_site(shared_data):
    path = shared_data / "plumber2_CN-Cng" / "CN-Cng_2008-2009_FLUXNET2015_site.nc"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    assert read_reference_height(path) == 6.0
