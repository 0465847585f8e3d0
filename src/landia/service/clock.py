"""The scheduler's clocks and the analysis times it serves.

A clock is any object with ``now() -> numpy.datetime64[s]`` (UTC) and ``sleep(seconds)``:
:class:`SystemClock` in operation, :class:`SimulatedClock` for demonstrations and replays,
a fake one in tests. The analysis times are those of the cycle clock
(:mod:`landia.cycling.clock`): window ends ``start + k * window_hours`` whose UTC hour is one
of the analysis hours.
"""

from __future__ import annotations

import time

import numpy as np

from landia.cycling.clock import HOUR, windows
from landia.errors import ConfigError


class SystemClock:
    """The real UTC clock."""

    simulated = False

    def now(self) -> np.datetime64:
        return np.datetime64(int(time.time()), "s")

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))


class SimulatedClock:
    """A clock that starts at ``anchor`` and runs ``speed`` times faster than real time.

    For demonstrations and replays of past periods (``--clock-start``, ``--clock-speed``):
    with speed 60 one real minute is one hour of analysis times.
    """

    simulated = True

    def __init__(self, anchor, speed: float = 1.0):
        if speed <= 0:
            raise ConfigError(f"clock speed must be positive, got {speed}")
        self.anchor = np.datetime64(anchor, "s")
        self.speed = float(speed)
        self._t0 = time.monotonic()

    def now(self) -> np.datetime64:
        elapsed = (time.monotonic() - self._t0) * self.speed
        return self.anchor + np.timedelta64(int(elapsed), "s")

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds) / self.speed)


def analysis_after(start, after, window_hours: int, hours) -> np.datetime64 | None:
    """The first analysis time of the cycle clock strictly after ``after`` (None: the first)."""
    w = window_hours * HOUR
    t0 = np.datetime64(start, "s")
    k0 = 0 if after is None else max(0, int((np.datetime64(after, "s") - t0) // w))
    a = t0 + k0 * w
    # the pattern of window-end hours repeats within 24 windows
    for win in windows(a, a + 25 * w, window_hours, hours, mode="da"):
        if win.analyse and (after is None or win.end > np.datetime64(after, "s")):
            return win.end
    return None


def is_analysis_time(t: np.datetime64, start: np.datetime64, window_hours: int, hours) -> bool:
    """Whether ``t`` is a window end of the clock (``start``, ``window_hours``) whose UTC hour
    is one of ``hours``."""
    return (t - start) % (window_hours * HOUR) == 0 and \
        int((t - t.astype("datetime64[D]")) // HOUR) in hours


def iso(t) -> str | None:
    """``YYYY-MM-DDTHH:MM`` of a UTC time (the ``{end}`` token), or None."""
    return None if t is None else str(np.datetime64(t, "m"))
