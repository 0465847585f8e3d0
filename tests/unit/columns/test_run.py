"""``landia.columns.run``: the LAI series on the forcing's local clock."""

from __future__ import annotations

import numpy as np

from landia.columns.run import lai_series

MONTHLY = {2007: np.arange(12.0), 2008: np.arange(12.0) + 0.5}


def test_lai_follows_the_local_clock():
    utc = np.arange(np.datetime64("2007-12-31T12:00"), np.datetime64("2008-01-01T12:00"),
                    np.timedelta64(30, "m")).astype("datetime64[s]")
    lai = lai_series(MONTHLY.get, utc, utc_offset_hours=8.0)
    local = lai_series(MONTHLY.get, utc + np.timedelta64(8, "h"))
    np.testing.assert_array_equal(lai, local)
    # 16:00 UTC is local midnight: the 2008 climatology starts there, not at 00:00 UTC
    year_2008 = (utc + np.timedelta64(8, "h")).astype("datetime64[Y]") == np.datetime64("2008")
    assert utc[year_2008][0] == np.datetime64("2007-12-31T16:00")
    assert not np.array_equal(lai, lai_series(MONTHLY.get, utc))
