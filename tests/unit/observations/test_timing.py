"""An observation image is used only at the time it is valid (issue 13, item 2)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from landia.config import settings_from_dict
from landia.errors import InputError
from landia.io.fields import write_field
from landia.log import configure_logging
from landia.observations.timing import check_valid_time, read_observation
from tests.conftest import make_case

T = np.datetime64("2016-05-01T12:00", "s")


def observation(valid_time):
    _, obs = make_case()
    return dataclasses.replace(obs, valid_time=valid_time, source="obs_20160501T1200.nc")


@pytest.mark.parametrize("offset_min", [0, 29, -30, 30])
def test_an_image_within_the_tolerance_is_accepted(offset_min):
    check_valid_time(observation(T + np.timedelta64(offset_min, "m")), T, 30.0)


def test_an_image_of_another_time_is_refused_naming_both_times():
    with pytest.raises(InputError) as err:
        check_valid_time(observation(np.datetime64("2016-05-03T00:00")), T, 30.0)
    message = str(err.value)
    assert message.startswith("obs_20160501T1200.nc: observation valid at 2016-05-03T00:00:00Z")
    assert "used for the analysis at 2016-05-01T12:00:00Z (36 h apart" in message
    with pytest.raises(InputError, match=r"\(31 min apart"):
        check_valid_time(observation(T - np.timedelta64(31, "m")), T, 30.0)
    with pytest.raises(InputError, match=r"\(1 min apart; .* = 0\)"):
        check_valid_time(observation(T + np.timedelta64(1, "m")), T, 0.0)


def test_an_image_without_a_valid_time_is_taken_on_its_name_with_a_warning(capsys):
    configure_logging("json", "info", 0, 1)
    check_valid_time(observation(None), T, 30.0)
    err = capsys.readouterr().err
    assert "observation_without_valid_time" in err and "obs_20160501T1200.nc" in err


def test_read_observation_reads_and_checks_the_file(tmp_path):
    settings = settings_from_dict({}).observations
    assert settings.valid_time_tolerance_minutes == 30.0
    path = tmp_path / "obs_20160501T1200.nc"
    write_field(path, observation(np.datetime64("2016-05-03T00:00")), "observation")
    with pytest.raises(InputError, match="valid at 2016-05-03T00:00:00Z"):
        read_observation(path, T, settings)
    write_field(path, observation(T), "observation")
    assert read_observation(path, T, settings).valid_time == T
    write_field(path, observation(None), "observation")
    assert read_observation(path, T, settings).valid_time is None
