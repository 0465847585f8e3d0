"""A progress bar on stderr, for commands that step through a known number of steps."""

from __future__ import annotations

import time

from landia.log import end_progress, show_progress


class ProgressBar:
    """``progress(k, n)`` after step k of n redraws one line on a terminal's stderr, every 5 %::

        column [#########...........]  45% step 2160/4800   12.3 s, eta   15.0 s

    The line ends with a newline after the last step. A disabled bar, or one whose stderr is
    not a terminal (redirected to a file), prints nothing (:func:`landia.log.show_progress`).

    Parameters
    ----------
    label : str
        First word of the line (the command).
    enabled : bool
        False for ``--no-progress``.
    """

    def __init__(self, label: str, enabled: bool = True):
        self.label, self.enabled = label, enabled
        self.last = -1  # percentage of the last line drawn
        self.t0 = time.perf_counter()

    def __call__(self, k: int, n: int) -> None:
        if not self.enabled:
            return
        pct = (100 * k) // n
        if pct // 5 == self.last // 5 and k != n:
            return
        self.last = pct
        bar = "#" * (pct // 5) + "." * (20 - pct // 5)
        elapsed = time.perf_counter() - self.t0
        eta = elapsed * (n - k) / k if k else 0.0
        show_progress(f"{self.label} [{bar}] {pct:3d}% step {k}/{n} {elapsed:6.1f} s, "
                      f"eta {eta:6.1f} s")
        if k == n:
            end_progress()
