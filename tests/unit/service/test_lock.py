"""One ``landia serve`` per run: the lock, a second instance, jobs orphaned by a killed serve."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from landia.service import (LaunchRequest, LockHeld, Scheduler, ServeLock, SubprocessLauncher,
                            load_serve_settings)
from landia.commands.serve import EXIT_LOCKED
from landia.commands.serve import serve as run_serve
from tests.unit.service.serve_case import TIMES, FakeClock, FakeCycle, serve_args


def test_lock_refuses_a_second_instance(site):
    s = load_serve_settings(site / "serve.toml")
    holder = ServeLock(s.lock_file)
    holder.acquire()
    try:
        with pytest.raises(LockHeld, match=f"pid {os.getpid()}"):
            Scheduler(s, clock=FakeClock("2016-05-02T03:00"), launcher=FakeCycle()).run()
        args = serve_args(site, "--once")
        assert run_serve(args) == EXIT_LOCKED
    finally:
        holder.release()
    cycle = FakeCycle()
    assert Scheduler(s, clock=FakeClock("2016-05-02T03:00"), launcher=cycle).run() == 0
    assert cycle.ends() == TIMES


HOLDER = """\
import fcntl, sys, time
fh = open(sys.argv[1], "a+")
fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
"""


def test_lock_waits_for_a_job_orphaned_by_a_killed_serve(site, tmp_path):
    """serve was SIGKILLed while its job ran: the job still holds the inherited lock and the
    file names a dead PID. A new serve waits for the job instead of running a second one."""
    s = load_serve_settings(site / "serve.toml")
    s.lock_file.parent.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    s.lock_file.write_text(f"pid {dead} on {socket.gethostname()} since 2016-05-01T00:00:00Z\n")
    job = subprocess.Popen([sys.executable, "-c", HOLDER, str(s.lock_file), "1.5"],
                           stdout=subprocess.PIPE, text=True)
    try:
        assert job.stdout.readline().strip() == "locked"
        t0 = time.monotonic()
        lock = ServeLock(s.lock_file)
        lock.acquire()
        waited = time.monotonic() - t0
        assert waited > 1.0  # the holder slept 1.5 s after locking
        assert s.lock_file.read_text().startswith(f"pid {os.getpid()} ")
        lock.release()
    finally:
        job.kill()
        job.wait()


def test_launched_job_inherits_the_lock(site):
    """A launched job holds the lock through its inherited descriptor: if serve dies (its
    descriptor closed without unlocking) the lock stays taken until the job ends."""
    s = load_serve_settings(site / "serve.toml")
    lock = ServeLock(s.lock_file)
    lock.acquire()
    launcher = SubprocessLauncher(f"{sys.executable} -c 'import time; time.sleep(1.5)'")
    req = LaunchRequest(tokens={}, attempt=1, log_file=site / "job.log",
                        keep_fds=(lock.fileno(),))
    result = []
    job = threading.Thread(target=lambda: result.append(launcher(req)))
    job.start()
    time.sleep(0.5)
    lock._fh.close()  # serve "dies": no LOCK_UN
    lock._fh = None
    with pytest.raises(LockHeld):
        ServeLock(s.lock_file).acquire()  # holder PID (ours) is alive: refused
    job.join()
    assert result == [0]
    again = ServeLock(s.lock_file)
    again.acquire()  # free once the job has ended
    again.release()
