"""Work done on one rank or on every rank, whose failure every rank learns of.

A rank that raises while the others wait in a collective leaves them waiting forever. These
guards run a piece of work, then tell every rank whether it failed anywhere, so that all ranks
raise together and the job stops cleanly instead of hanging:

* :func:`on_root` -- the work runs on the root only (the analysis, file writes);
* :func:`on_every_rank` -- every rank runs its own share (the model step).

A failure is a :class:`~landia.errors.LandiaError`, or an ``OSError`` on the root (a full disk,
a folder that cannot be made); it is raised on every rank as an
:class:`~landia.errors.InputError` whose message names the rank(s). Waiting ranks do not spin:
they poll a non-blocking barrier and sleep (:func:`wait_for_all`), so a rank that waits for
the root's analysis does not take a core from it when ranks share cores.

The communicator is an argument; nothing here imports mpi4py.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from landia.errors import InputError, LandiaError


def wait_for_all(comm) -> None:
    """Return once every rank of ``comm`` has called this; sleep-poll, no busy wait."""
    if comm.Get_size() == 1:
        return
    request = comm.Ibarrier()
    pause = 1e-4
    while not request.Test():
        time.sleep(pause)
        pause = min(pause * 2, 5e-3)


def on_root(comm, work: Callable[[], Any], root: int = 0) -> Any:
    """Run ``work()`` on ``root``; a failure there is raised on every rank.

    Returns
    -------
    The result of ``work()`` on ``root``; None on the other ranks.

    Raises
    ------
    InputError
        On every rank, ``"rank <root>: <Kind>: <message>"``, when ``work()`` raised a
        LandiaError or an OSError on the root.
    """
    message, result = None, None
    if comm.Get_rank() == root:
        try:
            result = work()
        except (LandiaError, OSError) as exc:
            message = f"rank {root}: {type(exc).__name__}: {exc}"
    wait_for_all(comm)
    message = comm.bcast(message, root=root)
    if message:
        raise InputError(message)
    return result


def on_every_rank(comm, work: Callable[[], Any]) -> Any:
    """Run ``work()`` on every rank; a LandiaError on any rank is raised on every rank.

    Returns
    -------
    This rank's result of ``work()``.

    Raises
    ------
    InputError
        On every rank, ``"rank <r>: <Kind>: <message>; ..."`` for each rank that failed.
    """
    result, message = None, None
    try:
        result = work()
    except LandiaError as exc:
        message = f"{type(exc).__name__}: {exc}"
    wait_for_all(comm)
    messages = comm.allgather(message)
    bad = [(r, m) for r, m in enumerate(messages) if m]
    if bad:
        raise InputError("; ".join(f"rank {r}: {m}" for r, m in bad))
    return result
