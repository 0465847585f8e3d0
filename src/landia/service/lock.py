"""One ``landia serve`` per run: an exclusive ``fcntl.flock`` held for the whole process.

The lock itself is :class:`landia.io.lock.FileLock` (``landia cycle`` locks its run directory
with the same one); serve adds the wait for a job orphaned by a killed serve.
"""

from __future__ import annotations

from landia.io.lock import FileLock, LockHeld
from landia.log import get_logger

__all__ = ["LockHeld", "ServeLock"]


class ServeLock(FileLock):
    """An exclusive ``fcntl.flock`` on ``path``, holding this process's PID in the file."""

    def __init__(self, path):
        super().__init__(path, "another landia serve is running for this run")

    def acquire(self, on_dead_holder=None) -> None:
        """Take the lock, or raise LockHeld naming the holder.

        Launched jobs inherit the locked descriptor, so a job orphaned by a serve that was
        killed (SIGKILL, OOM) keeps holding the lock: then the PID written in the file is
        dead, and a new serve waits for that job to end instead of starting a second one.
        """
        super().acquire(on_dead_holder or self._wait_for_orphaned_job)

    def __enter__(self) -> "ServeLock":
        self.acquire()
        return self

    def _wait_for_orphaned_job(self, holder: str) -> None:
        get_logger("landia.serve").warning(
            "waiting_for_orphaned_job", lock=str(self.path), holder=holder,
            note="the serve that held the lock is dead; a job it launched still runs")
