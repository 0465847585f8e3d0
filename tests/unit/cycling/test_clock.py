"""The cycle clock."""

import numpy as np
import pytest

from landia.cycling.clock import windows
from landia.io.naming import stamp


def test_windows_analyses_and_forecast_period():
    w = windows("2016-05-01", "2016-05-03", 6, [0, 12], assimilation_end="2016-05-02T00:00")
    assert len(w) == 8 and [x.index for x in w] == list(range(8))
    assert w[0].start == np.datetime64("2016-05-01T00:00") and w[0].end == np.datetime64("2016-05-01T06:00")
    assert [x.analyse for x in w] == [False, True, False, True, False, False, False, False]
    assert [x.period for x in w] == ["assimilation"] * 4 + ["forecast"] * 4
    assert w[1].label == "20160501T1200" and stamp("2016-05-01T06:00") == "20160501T0600"
    assert not any(x.analyse for x in windows("2016-05-01", "2016-05-02", 6, [0, 6], mode="ctrl"))


def test_run_must_be_whole_windows():
    with pytest.raises(ValueError, match="whole number"):
        windows("2016-05-01T00:00", "2016-05-01T07:00", 6, [0])
    with pytest.raises(ValueError, match="whole number"):
        windows("2016-05-01", "2016-05-01", 6, [0])
