"""Exclusive locks on a file: one process at a time for a run directory or a service.

:class:`FileLock` takes an exclusive ``fcntl.flock`` on a lock file and writes the holder
(``pid <pid> on <host> since <UTC time>``) into it. The kernel releases a ``flock`` when the
last descriptor of it is closed, so a process that dies (SIGKILL, out of memory) never leaves
a stale lock: the file stays, the lock does not. Only a child that inherited the locked
descriptor (a job launched by ``landia serve``) keeps it after its parent's death; then the
file names a dead PID (:func:`holder_dead`).

``landia cycle`` locks its run directory (:mod:`landia.cycling.run_dir`), ``landia serve`` its
state folder (:mod:`landia.service.lock`).
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import socket
import time
from pathlib import Path
from typing import Callable

from landia.errors import LandiaError


class LockHeld(LandiaError):
    """Another process holds the lock; the message names it (pid, host, start time)."""


class FileLock:
    """An exclusive ``fcntl.flock`` on ``path``, holding this process's PID in the file.

    Parameters
    ----------
    path : path-like
        The lock file (created with its folder; never removed: the ``flock`` is what counts).
    refusal : str
        What the refusal says is going on, e.g. ``"another landia cycle is running in this
        run directory"``; the message adds the file and the holder.
    """

    def __init__(self, path, refusal: str = "another process holds this lock"):
        self.path = Path(path)
        self.refusal = refusal
        self._fh = None

    def acquire(self, on_dead_holder: Callable[[str], None] | None = None) -> None:
        """Take the lock, or raise :class:`LockHeld` naming the holder.

        Parameters
        ----------
        on_dead_holder : callable(holder text), optional
            When the lock is taken but the file names a process of this host that is dead
            (a child inherited the locked descriptor), call this and then wait for the lock;
            without it (default) such a lock is refused like any other.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+")
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                fh.close()
                raise
            fh.seek(0)
            holder = fh.read().strip() or "unknown"
            dead = holder_dead(holder)
            if on_dead_holder is None or not dead:
                fh.close()
                note = "; that process is dead, a process it started holds the lock" \
                    if dead else ""
                raise LockHeld(f"{self.path}: {self.refusal} (holder: {holder}{note}); "
                               f"refusing to start a second one") from None
            on_dead_holder(holder)
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} on {socket.gethostname()} since "
                 f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\n")
        fh.flush()
        self._fh = fh

    def fileno(self) -> int | None:
        """The locked descriptor (to hand to a child that must keep the lock), or None."""
        return None if self._fh is None else self._fh.fileno()

    def release(self) -> None:
        """Release the lock (the file stays)."""
        if self._fh is not None:
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None

    def __enter__(self) -> "FileLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def holder_dead(holder: str) -> bool:
    """True if the lock file's text names a process on this host that no longer exists."""
    m = re.match(r"pid (\d+) on (\S+)", holder)
    if not m or m[2] != socket.gethostname():
        return False
    try:
        os.kill(int(m[1]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
