"""Names of the time-stamped files that landia's commands hand to each other.

``landia prepare-obs`` and ``landia make-obs`` write, ``landia serve`` delivers and
``landia cycle`` reads observation images named ``obs_YYYYMMDDTHHMM.nc`` after their valid time
(UTC); the cycle names its analysis and state files the same way. This module is the one
place that spells those names.
"""

from __future__ import annotations

import numpy as np


def stamp(t) -> str:
    """``YYYYMMDDTHHMM`` of a UTC time (file names)."""
    s = str(np.datetime64(t, "m"))
    return s.replace("-", "").replace(":", "")


def observation_name(t) -> str:
    """``obs_YYYYMMDDTHHMM.nc``: the observation image valid at ``t`` (UTC)."""
    return f"obs_{stamp(t)}.nc"
