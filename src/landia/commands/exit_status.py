"""A command's exit status: the one place where an error becomes a status.

* :func:`exit_status` -- run a command; a :class:`~landia.errors.LandiaError` (bad input,
  configuration or data, named in its message) is logged as ``failed`` and gives status 2.
  Any other exception is a bug and propagates with its traceback.
* :func:`root_only` -- run a command on the root while the other ranks wait
  (:func:`landia.exchange.guards.on_root`), and give every rank the root's status.
"""

from __future__ import annotations

from collections.abc import Callable

from landia.errors import LandiaError
from landia.exchange.guards import on_root
from landia.log import get_logger

#: A LandiaError: the input, configuration or data is wrong (the log says which).
EXIT_FAILED = 2
#: What the waiting ranks return when the root died of a bug (the root raises it).
EXIT_CRASHED = 1


def exit_status(work: Callable[[], int]) -> int:
    """``work()``'s exit status; a LandiaError is logged (``failed``, its message and kind)
    and gives :data:`EXIT_FAILED`."""
    try:
        return work()
    except LandiaError as exc:
        get_logger("landia").error("failed", error=str(exc), kind=type(exc).__name__)
        return EXIT_FAILED


def root_only(comm, work: Callable[[], int]) -> int:
    """Run a command's ``work()`` on rank 0 of ``comm``; every rank returns its exit status.

    The other ranks wait without taking a core from the root (``on_root`` sleep-polls). A
    LandiaError on the root is logged there (:func:`exit_status`) and gives status 2 on every
    rank. Any other exception on the root (a bug, Ctrl-C) gives the other ranks
    :data:`EXIT_CRASHED` before it is raised on the root, so that no rank is left waiting.
    """
    crash: list[BaseException] = []

    def on_the_root() -> int:
        try:
            return exit_status(work)
        except BaseException as exc:  # tell the waiting ranks first, raise it below
            crash.append(exc)
            return EXIT_CRASHED

    status = comm.bcast(on_root(comm, on_the_root), root=0)
    if crash:
        raise crash[0]
    return status
