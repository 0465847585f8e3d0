"""Launching the cycle job: the launcher template run as a process, one attempt at a time.

The template's tokens are :data:`landia.config.LAUNCH_TOKENS`; the contract the command must
fulfil is in ``docs/serve.md`` ("The launcher contract").
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from landia.launch import launch_environment


@dataclass(frozen=True)
class LaunchRequest:
    """One launch of the cycle job: its tokens and the attempt number (1-based)."""

    tokens: dict
    attempt: int
    log_file: Path
    keep_fds: tuple = ()  # descriptors the job inherits (the lock)

    @property
    def end(self) -> str:
        return self.tokens["end"]


class SubprocessLauncher:
    """Runs the launcher template as a process (no shell) and returns its exit status.

    Each token of the template (split like a shell would, ``shlex``) is formatted with
    ``{ranks} {config} {run_dir} {end} {stamp} {obs}``. Output goes to the request's log file.
    If the scheduler is interrupted (SIGTERM, Ctrl-C) while the job runs, the job's process
    group is terminated before the exception goes on, so no job outlives the lock.
    """

    def __init__(self, template: str, timeout_minutes: float = 0.0):
        self.template = template
        self.timeout = timeout_minutes * 60.0 if timeout_minutes > 0 else None

    def argv(self, tokens: dict) -> list[str]:
        return [a.format(**tokens) for a in shlex.split(self.template)]

    def __call__(self, request: LaunchRequest) -> int:
        argv = self.argv(request.tokens)
        request.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(request.log_file, "ab") as log:
            log.write(f"# attempt {request.attempt}: {shlex.join(argv)}\n".encode())
            log.flush()
            try:
                proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, env=launch_environment(),
                                        start_new_session=True, pass_fds=request.keep_fds)
            except OSError as exc:
                log.write(f"# cannot start: {exc}\n".encode())
                return 127
            try:
                return proc.wait(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                log.write(f"# killed after {self.timeout:.0f} s (launch_timeout_minutes)\n"
                          .encode())
                _terminate(proc)
                return 124
            except BaseException:
                _terminate(proc)
                raise


def _terminate(proc: subprocess.Popen, grace: float = 30.0) -> None:
    """SIGTERM the job's process group, SIGKILL it after ``grace`` seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue
