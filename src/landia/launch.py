"""How landia launches its own child jobs (``mpirun -n N landia cycle ...``).

``landia demo``, ``landia bench`` and ``landia serve`` run ``landia cycle`` as child processes:
:func:`toml_text` writes their configuration files, :func:`cycle_command` builds the command
line (under ``mpirun`` for more than one rank) and :func:`launch_environment` its environment.

**The environment.** A process in which MPI was initialised (an mpi4py singleton: the ``landia`` entry point takes
``COMM_WORLD``), or one started by mpirun, carries variables that mark it as part of an MPI
job; a child ``mpirun`` that inherits them believes it is inside that job and fails (Open MPI:
status 1, no message). The launchers of ``landia serve``, ``landia demo`` and ``landia bench``
therefore give their jobs this process's environment as Python saw it at start-up
(``os.environ``: variables MPI_Init set later are not in it) without those markers, plus what
Open MPI needs as root and on oversubscribed machines unless already set.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from landia.errors import InputError

#: Prefixes of the variables set by MPI_Init or by an mpirun around the process.
JOB_MARKERS = ("PMIX_", "PMI_", "OMPI_COMM_WORLD_", "OMPI_APP_CTX_", "OMPI_MCA_ess",
               "OMPI_MCA_orte_", "OMPI_MCA_pmix", "OMPI_UNIVERSE_SIZE", "OMPI_FILE_LOCATION",
               "HYDRA_", "MPI_LOCALNRANKS", "MPI_LOCALRANKID")

#: Open MPI settings for containers, root and more ranks than cores (``./run`` sets the same).
OPENMPI_DEFAULTS = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
                    "OMPI_MCA_rmaps_base_oversubscribe": "1"}


def launch_environment(openmpi_defaults: bool = False) -> dict:
    """This process's start-up environment without MPI job markers (see the module notes);
    with ``openmpi_defaults``, :data:`OPENMPI_DEFAULTS` where not set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(JOB_MARKERS)}
    if openmpi_defaults:
        for key, value in OPENMPI_DEFAULTS.items():
            env.setdefault(key, value)
    return env


def toml_text(values: dict) -> str:
    """A landia configuration as TOML: ``{section: {key: value}}`` -> ``[section]`` tables.

    Values are written as JSON literals, which TOML reads back unchanged for the numbers,
    strings, booleans and flat lists of a landia configuration.
    """
    lines = []
    for section, keys in values.items():
        lines.append(f"[{section}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in keys.items()]
    return "\n".join(lines) + "\n"


def landia_command(arguments: list[str], ranks: int, log_level: str = "warning") -> list[str]:
    """``python -m landia ARGUMENTS`` (a command and its options), under mpirun for ranks > 1.

    Raises
    ------
    InputError
        ``ranks > 1`` and neither ``mpirun`` nor ``mpiexec`` is on PATH.
    """
    cmd = [sys.executable, "-m", "landia", "--log-level", log_level] + list(arguments)
    if ranks > 1:
        launcher = shutil.which("mpirun") or shutil.which("mpiexec")
        if launcher is None:
            raise InputError(f"landia {arguments[0]} on {ranks} ranks: no mpirun or mpiexec "
                             f"on PATH")
        cmd = [launcher, "-n", str(ranks)] + cmd
    return cmd


def cycle_command(config, run_dir, ranks: int, log_level: str = "warning") -> list[str]:
    """``python -m landia cycle`` of ``config`` in ``run_dir``, under mpirun for ranks > 1
    (:func:`landia_command`)."""
    return landia_command(["cycle", "--config", str(Path(config)), "--run-dir",
                           str(Path(run_dir)), "--no-progress"], ranks, log_level)
