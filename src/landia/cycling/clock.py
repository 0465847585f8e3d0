"""The cycle clock: which windows a run has and which of them end with an analysis.

Pure arithmetic on ``numpy.datetime64`` (no MPI, no I/O). A run from ``start`` to ``end`` is cut
into windows of ``window_hours``; window ``k`` covers ``[start + k w, start + (k + 1) w)``. The
analysis of window ``k`` is valid at its end, ``t_k = start + (k + 1) w``, and is made when
the run assimilates (mode ``da``), ``t_k`` is not after the end of the assimilation period and
the UTC hour of ``t_k`` is one of the analysis hours. The state saved in checkpoint ``k`` is
valid at ``t_k`` (after the analysis); a restart continues with window ``k + 1``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from landia.io.naming import stamp

HOUR = np.timedelta64(3600, "s")


@dataclass(frozen=True)
class Window:
    """One cycle: the model runs over ``[start, end)``; an analysis at ``end`` if ``analyse``."""

    index: int
    start: np.datetime64
    end: np.datetime64
    analyse: bool
    period: str  # "assimilation" or "forecast"

    @property
    def label(self) -> str:
        """``YYYYMMDDTHHMM`` of the window's end (the analysis time)."""
        return stamp(self.end)


def windows(start, end, window_hours: int, analysis_hours, mode: str = "da",
            assimilation_end=None) -> list[Window]:
    """All windows of a run, in order.

    Parameters
    ----------
    start, end : datetime64 or str
        UTC; ``end - start`` must be a whole number of windows.
    window_hours : int
        Window length, hours.
    analysis_hours : iterable of int
        UTC hours (0-23) at which analyses are made.
    mode : str
        ``"da"`` or ``"ctrl"`` (no analyses).
    assimilation_end : datetime64 or str, optional
        Last analysis time; later windows are ``"forecast"`` (default: ``end``).
    """
    t0 = np.datetime64(start, "s")
    t1 = np.datetime64(end, "s")
    w = int(window_hours) * HOUR
    if window_hours < 1 or t1 <= t0 or (t1 - t0) % w:
        raise ValueError(f"windows: expected end after start by a whole number of "
                         f"{window_hours} h windows; got {t0} to {t1}")
    last = t1 if assimilation_end in (None, "") else np.datetime64(assimilation_end, "s")
    hours = {int(h) for h in analysis_hours}
    out = []
    for k in range(int((t1 - t0) // w)):
        a, b = t0 + k * w, t0 + (k + 1) * w
        in_da = b <= last
        hour = int((b - b.astype("datetime64[D]")) // HOUR)
        out.append(Window(index=k, start=a, end=b,
                          analyse=(mode == "da" and in_da and hour in hours),
                          period="assimilation" if in_da else "forecast"))
    return out
