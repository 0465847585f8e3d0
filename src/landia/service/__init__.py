"""Near-real-time operation: ``landia serve``, the scheduler that feeds and launches cycles.

The contract is in ``docs/serve.md``; the ``[serve]`` keys are declared in
:mod:`landia.config` (``docs/configuration.md``). The scheduler (:mod:`.scheduler`) takes
its clock, launcher and file validator as arguments, so tests drive it with fakes.
"""

from landia.service.clock import SimulatedClock, SystemClock
from landia.service.incoming import netcdf_validator
from landia.service.launcher import LaunchRequest, SubprocessLauncher
from landia.service.lock import LockHeld, ServeLock
from landia.service.scheduler import Scheduler
from landia.service.settings import ResolvedServeSettings, load_serve_settings
from landia.service.state import ServeState
from landia.service.status import StatusServer

__all__ = ["LaunchRequest", "LockHeld", "ResolvedServeSettings", "Scheduler", "ServeLock",
           "ServeState", "SimulatedClock", "StatusServer", "SubprocessLauncher", "SystemClock",
           "load_serve_settings", "netcdf_validator"]
