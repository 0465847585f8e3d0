"""Forcing records in memory for the tests: times and a random valid record."""

from __future__ import annotations

import numpy as np

from landia.forcing import Forcing

#: The CN-Cng site forcing in ../shared/data.
MET = "plumber2_CN-Cng/CN-Cng_2008-2009_FLUXNET2015_Met.nc"



def times(start, n, step_s):
    return np.datetime64(start, "s") + np.arange(n) * np.timedelta64(step_s, "s")


def synthetic(n_times=16, step_s=6 * 3600, lat=(44.6, -10.0, 70.0), lon=(123.5, 20.0, -60.0),
              seed=0, lw=True, start="2008-06-01T00:00"):
    rng = np.random.default_rng(seed)
    shape = (n_times, len(lat))
    return Forcing(times=times(start, n_times, step_s), lat=lat, lon=lon,
                   tair=280 + 10 * rng.random(shape), qair=0.002 + 0.01 * rng.random(shape),
                   psurf=9e4 + 1e4 * rng.random(shape), wind=5 * rng.random(shape),
                   swdown=400 * rng.random(shape),
                   lwdown=300 + 50 * rng.random(shape) if lw else None,
                   precip=np.where(rng.random(shape) < 0.5, 0.0, 1e-3 * rng.random(shape)))
