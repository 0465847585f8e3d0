"""Fixtures of the forcing tests."""

import pytest

from landia.forcing.alma import read_alma
from tests.unit.forcing.records import MET


@pytest.fixture(scope="module")
def cng(shared_data):
    return read_alma(shared_data / MET)
