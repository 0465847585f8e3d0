"""The forcing record and its validation (landia.forcing.record)."""

from __future__ import annotations

import numpy as np
import pytest

from landia.errors import InputError
from tests.unit.forcing.records import synthetic


# ---------------------------------------------------------------- record validation

@pytest.mark.parametrize("name, value, expected", [("tair", 400.0, r"\(150, 350\) K"),
                                                   ("qair", -0.01, r"\[0, 0.1\)"),
                                                   ("psurf", 1e3, "30000"),
                                                   ("swdown", -1.0, "W m-2"),
                                                   ("precip", np.nan, "kg m-2 s-1")])
def test_validation_names_variable_and_range(name, value, expected):
    f = synthetic()
    getattr(f, name)[3, 1] = value
    with pytest.raises(InputError, match=rf"{name} .*2008-06-01T18:00.*column 1.*{expected}"):
        f.validate()


def test_select():
    f = synthetic(n_times=8, step_s=3600)
    g = f.select("2008-06-01T02:00", "2008-06-01T05:00")
    assert g.n_times == 3 and g.tair.shape == (3, 3) and g.lwdown.shape == (3, 3)
    np.testing.assert_array_equal(g.precip, f.precip[2:5])
    with pytest.raises(InputError, match="no forcing time"):
        f.select("2009-01-01")


def test_validation_passes_and_shapes():
    f = synthetic().validate()
    f.wind = f.wind[:, :2]
    with pytest.raises(InputError, match=r"wind .*shape"):
        f.validate()
