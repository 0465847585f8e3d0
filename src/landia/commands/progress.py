"""A progress bar on stderr, for commands that step through a known number of steps."""

from __future__ import annotations

import sys
import time


class ProgressBar:
    """``progress(k, n)`` after step k of n redraws one line on stderr, every 5 %::

        column [#########...........]  45% step 2160/4800   12.3 s, eta   15.0 s

    The line ends with a newline after the last step. A disabled bar prints nothing.

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
        end = "\n" if k == n else ""
        # sys.stderr looked up at each call: it may have been replaced (pytest's capsys)
        print(f"\r{self.label} [{bar}] {pct:3d}% step {k}/{n} {elapsed:6.1f} s, eta {eta:6.1f} s",
              end=end, file=sys.stderr, flush=True)
