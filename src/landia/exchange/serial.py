"""A one-process communicator, for landia installed without mpi4py (``pip install landia``).

The commands take a communicator and run their work on its root (most of them) or on every
rank. Without mpi4py there is one process; :class:`SerialComm` is its communicator: rank 0 of
1, whose collectives return this process's own contribution. ``landia cycle`` needs MPI's
collectives and refuses to run without mpi4py (``pip install 'landia[mpi]'``).
"""

from __future__ import annotations

from typing import Any


class SerialComm:
    """The communicator of a single process: the subset of mpi4py's ``Comm`` that the commands
    and :mod:`landia.exchange.guards` use, with the results MPI gives on one rank."""

    def Get_rank(self) -> int:  # noqa: N802 (mpi4py's names)
        return 0

    def Get_size(self) -> int:  # noqa: N802
        return 1

    def bcast(self, obj: Any, root: int = 0) -> Any:
        return obj

    def gather(self, obj: Any, root: int = 0) -> list[Any]:
        return [obj]

    def allgather(self, obj: Any) -> list[Any]:
        return [obj]

    def allreduce(self, obj: Any, op: Any = None) -> Any:
        return obj

    def Barrier(self) -> None:  # noqa: N802
        return None

    def Abort(self, errorcode: int = 1) -> None:  # noqa: N802
        raise SystemExit(errorcode)
