"""Domain decomposition of the land columns and the MPI exchange between ranks and the root.

* :mod:`landia.exchange.decomposition`: balanced contiguous blocks of the global land order
  (pure arithmetic, no MPI) and one rank's share of a model state.
* :mod:`landia.exchange.collectives`: Gatherv/Scatterv of per-column arrays and of whole
  model states (mpi4py; the communicator is always an argument).

The collectives are imported on first use, so that importing this package does not load
mpi4py. See ``docs/checkpoint.md``.
"""

from __future__ import annotations

from landia.exchange.decomposition import Decomposition, local_state

_COLLECTIVES = ("gather_to_root", "scatter_from_root", "gather_state", "scatter_state")

__all__ = ["Decomposition", "local_state", *_COLLECTIVES]


def __getattr__(name: str):
    if name in _COLLECTIVES:
        from landia.exchange import collectives

        return getattr(collectives, name)
    raise AttributeError(f"module 'landia.exchange' has no attribute {name!r}")
