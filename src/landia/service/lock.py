"""One ``landia serve`` per run: an exclusive ``fcntl.flock`` held for the whole process."""

from __future__ import annotations

import errno
import fcntl
import os
import re
import socket
import time
from pathlib import Path

from landia.errors import LandiaError
from landia.log import get_logger


class LockHeld(LandiaError):
    """Another ``landia serve`` holds the lock file of this run."""


class ServeLock:
    """An exclusive ``fcntl.flock`` on ``path``, holding this process's PID in the file."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._fh = None

    def acquire(self) -> None:
        """Take the lock, or raise LockHeld naming the holder.

        Launched jobs inherit the locked descriptor, so a job orphaned by a serve that was
        killed (SIGKILL, OOM) keeps holding the lock: then the PID written in the file is
        dead, and a new serve waits for that job to end instead of starting a second one.
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
            if not _holder_dead(holder):
                fh.close()
                raise LockHeld(f"{self.path}: another landia serve is running for this run "
                               f"(holder: {holder}); refusing to start a second one") from None
            get_logger("landia.serve").warning(
                "waiting_for_orphaned_job", lock=str(self.path), holder=holder,
                note="the serve that held the lock is dead; a job it launched still runs")
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} on {socket.gethostname()} since "
                 f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\n")
        fh.flush()
        self._fh = fh

    def fileno(self) -> int | None:
        return None if self._fh is None else self._fh.fileno()

    def release(self) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None

    def __enter__(self) -> "ServeLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _holder_dead(holder: str) -> bool:
    """True if the lock file names a process on this host that no longer exists."""
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
