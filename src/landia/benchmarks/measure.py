"""How the benchmarks measure: peak memory and median wall seconds.

Timings are medians of repeated runs, so that one slow run on a shared machine does not make
the figure; MB are MiB (2**20 bytes).
"""

from __future__ import annotations

import resource
import statistics
import time
from collections.abc import Callable

import numpy as np


def peak_mb() -> float:
    """Peak resident memory of this process, MiB (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def median_seconds(fn: Callable[[], object], budget: float = 1.0) -> float:
    """Median wall seconds of ``fn()``: at least 3 runs, more (up to 50) within ``budget`` s."""
    times: list[float] = []
    while len(times) < 3 or (sum(times) < budget and len(times) < 50):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def pair_seconds(op) -> float:
    """Median seconds of ``op.rmatvec(op.matvec(x))`` on a random image (a linear operator's
    forward + adjoint pair)."""
    x = np.random.default_rng(1).standard_normal(op.shape[1])
    return median_seconds(lambda: op.rmatvec(op.matvec(x)))


def timed_steps(advance: Callable[[], object], budget: float = 2.0) -> tuple[float, int]:
    """Median seconds of ``advance()`` (one step from the current state, which it moves on).

    One untimed warm-up step, then at least 5 timed steps, more (up to 50) within
    ``budget`` s. Returns (median seconds, timed steps).
    """
    advance()
    times: list[float] = []
    while len(times) < 5 or (sum(times) < budget and len(times) < 50):
        t0 = time.perf_counter()
        advance()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), len(times)
