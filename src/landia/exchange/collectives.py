"""Gather per-rank column arrays to the root and scatter them back (mpi4py Gatherv/Scatterv).

The communicator is always an argument; nothing here reads ``MPI.COMM_WORLD``. The counts and
displacements of every collective come from a :class:`~landia.exchange.decomposition.Decomposition`
(in cells, multiplied by the number of values per cell). Gatherv and Scatterv only copy bytes,
so a gathered array is bit-identical to the serial array in the global order, for any number of
ranks, and a scatter followed by a gather returns the original bits (NaN payloads included).

Arguments are checked collectively before any data moves: when one rank's input is wrong,
every rank raises the same :class:`ValueError` (no rank is left waiting in a collective).
"""

from __future__ import annotations

import numpy as np
from mpi4py import MPI

from landia.columns.model import LAYERED_FIELDS, STATE_FIELDS, ModelState
from landia.exchange.decomposition import Decomposition

_FLOAT64 = np.dtype(np.float64)


def _check_comm(comm, decomposition: Decomposition, root: int) -> None:
    # Same values on every rank: raising here is collective-safe.
    if comm.size != decomposition.size:
        raise ValueError(f"communicator has {comm.size} ranks; the decomposition expects "
                         f"{decomposition.size}")
    if not 0 <= root < comm.size:
        raise ValueError(f"root: expected a rank in [0, {comm.size - 1}]; got {root}")


def _raise_collected(info: list) -> None:
    """Raise on every rank when any rank reported an error (``info``: allgathered pairs)."""
    bad = [(r, e) for r, (e, _) in enumerate(info) if e is not None]
    if bad:
        raise ValueError("; ".join(f"rank {r}: {e}" for r, e in bad))


def _gatherv(comm, decomposition: Decomposition, arr: np.ndarray, trailing: tuple,
             root: int) -> np.ndarray | None:
    per_cell = int(np.prod(trailing, dtype=np.int64))
    n_local = decomposition.count(comm.rank)
    out = recv = None
    if comm.rank == root:
        out = np.empty((decomposition.n_cells, *trailing), dtype=_FLOAT64)
        counts = [c * per_cell for c in decomposition.counts]
        displs = [d * per_cell for d in decomposition.displacements]
        recv = [out, counts, displs, MPI.DOUBLE]
    comm.Gatherv([np.ascontiguousarray(arr), n_local * per_cell, MPI.DOUBLE], recv, root=root)
    return out


def gather_to_root(comm, decomposition: Decomposition, local: np.ndarray,
                   root: int = 0) -> np.ndarray | None:
    """Gather every rank's block of a per-column array into the global order on ``root``.

    Parameters
    ----------
    comm : mpi4py.MPI.Comm
        The run's communicator (``comm.size == decomposition.size``).
    decomposition : Decomposition
        Which cells each rank owns.
    local : ndarray of float64, shape (n_local, ...)
        This rank's cells (``n_local == decomposition.count(comm.rank)``; may be 0), in any
        unit; the trailing shape must be the same on every rank.
    root : int, optional
        The rank that receives the global array (default 0).

    Returns
    -------
    ndarray of float64, shape (n_cells, ...) on ``root``; None on the other ranks.
        Bit-identical to concatenating the blocks in rank order.

    Raises
    ------
    ValueError
        On every rank, when any rank's array has the wrong dtype, number of cells or a
        trailing shape different from the others'.
    """
    _check_comm(comm, decomposition, root)
    arr = np.asarray(local)
    n_local = decomposition.count(comm.rank)
    error = None
    if arr.dtype != _FLOAT64:
        error = f"local array: expected dtype float64; got {arr.dtype}"
    elif arr.ndim < 1 or arr.shape[0] != n_local:
        error = f"local array: expected a first axis of {n_local} cells; got shape {arr.shape}"
    trailing = tuple(arr.shape[1:]) if arr.ndim >= 1 else None
    shapes = comm.allgather((error, trailing))
    _raise_collected(shapes)
    if len({t for _, t in shapes}) != 1:
        raise ValueError("local array: expected the same trailing shape on every rank; got "
                         + ", ".join(f"rank {r}: {t}" for r, (_, t) in enumerate(shapes)))
    return _gatherv(comm, decomposition, arr, trailing, root)


def scatter_from_root(comm, decomposition: Decomposition, global_array: np.ndarray | None,
                      trailing_shape: tuple = (), root: int = 0) -> np.ndarray:
    """Send each rank its block of a global-order per-column array held by ``root``.

    Parameters
    ----------
    comm, decomposition
        As for :func:`gather_to_root`.
    global_array : ndarray of float64, shape (n_cells, *trailing_shape), or None
        The array in the global order on ``root`` (any unit); ignored (pass None) elsewhere.
    trailing_shape : tuple of int, optional
        Shape of one cell's values, the same on every rank: ``()`` for one value per cell
        (default), ``(nlayer,)`` for a layered field.
    root : int, optional
        The rank holding the global array (default 0).

    Returns
    -------
    ndarray of float64, shape (decomposition.count(comm.rank), *trailing_shape)
        This rank's block, bit-identical to ``global_array[decomposition.block(rank)]``.

    Raises
    ------
    ValueError
        On every rank, when the root's array has the wrong dtype or shape.
    """
    _check_comm(comm, decomposition, root)
    trailing = tuple(int(t) for t in trailing_shape)
    if any(t < 0 for t in trailing):
        raise ValueError(f"trailing_shape: expected non-negative sizes; got {trailing_shape}")
    per_cell = int(np.prod(trailing, dtype=np.int64))
    send = None
    error = None
    if comm.rank == root:
        expected = (decomposition.n_cells, *trailing)
        arr = None if global_array is None else np.asarray(global_array)
        if arr is None:
            error = f"global array on root: expected an array of shape {expected}; got None"
        elif arr.dtype != _FLOAT64:
            error = f"global array on root: expected dtype float64; got {arr.dtype}"
        elif arr.shape != expected:
            error = f"global array on root: expected shape {expected}; got {arr.shape}"
        else:
            counts = [c * per_cell for c in decomposition.counts]
            displs = [d * per_cell for d in decomposition.displacements]
            send = [np.ascontiguousarray(arr), counts, displs, MPI.DOUBLE]
    error = comm.bcast(error, root=root)
    if error is not None:
        raise ValueError(error)
    n_local = decomposition.count(comm.rank)
    out = np.empty((n_local, *trailing), dtype=_FLOAT64)
    comm.Scatterv(send, [out, n_local * per_cell, MPI.DOUBLE], root=root)
    return out


def gather_state(comm, decomposition: Decomposition, local: ModelState | None,
                 root: int = 0) -> ModelState | None:
    """Gather every rank's columns of a :class:`ModelState` into the global order on ``root``.

    Parameters
    ----------
    local : ModelState or None
        This rank's columns; None on a rank with an empty block (a state of zero columns
        cannot be built).
    comm, decomposition, root
        As for :func:`gather_to_root`; ``root`` receives the global state.

    Returns
    -------
    ModelState on ``root`` (every field of :data:`STATE_FIELDS`, bit-identical to the serial
    state), None elsewhere.
    """
    _check_comm(comm, decomposition, root)
    n_local = decomposition.count(comm.rank)
    error = None
    if local is None and n_local:
        error = f"local state: expected {n_local} columns; got None"
    elif local is not None and local.columns.n_columns != n_local:
        error = f"local state: expected {n_local} columns; got {local.columns.n_columns}"
    nlayer = None if local is None else local.columns.w_liq.shape[1]
    info = comm.allgather((error, nlayer))
    _raise_collected(info)
    layers = {n for _, n in info if n is not None}
    if len(layers) > 1:
        raise ValueError("local state: expected the same number of layers on every rank; got "
                         + ", ".join(f"rank {r}: {n}" for r, (_, n) in enumerate(info)))
    if not layers:
        raise ValueError("local state: no rank holds any column (n_cells = 0)")
    nl = layers.pop()
    if local is None:
        arrays = {n: np.empty((0, nl) if n in LAYERED_FIELDS else (0,)) for n in STATE_FIELDS}
    else:
        arrays = local.arrays()
    # Already checked collectively: ColumnState holds C-contiguous float64 arrays.
    gathered = {n: _gatherv(comm, decomposition, np.asarray(arrays[n], dtype=np.float64),
                            (nl,) if n in LAYERED_FIELDS else (), root) for n in STATE_FIELDS}
    return ModelState.from_arrays(gathered) if comm.rank == root else None


def scatter_state(comm, decomposition: Decomposition, state: ModelState | None,
                  root: int = 0) -> ModelState | None:
    """Send each rank its columns of a global-order :class:`ModelState` held by ``root``.

    Parameters
    ----------
    comm, decomposition, root
        As for :func:`scatter_from_root`; ``root`` holds the global state.
    state : ModelState or None
        The global state on ``root`` (``decomposition.n_cells`` columns); None elsewhere.

    Returns
    -------
    ModelState or None
        This rank's columns, bit-identical to the serial state's rows
        ``decomposition.block(rank)``; None on a rank with an empty block.
    """
    _check_comm(comm, decomposition, root)
    error = None
    nlayer = None
    if comm.rank == root:
        if state is None:
            error = "global state on root: expected a ModelState; got None"
        elif state.columns.n_columns != decomposition.n_cells:
            error = (f"global state on root: expected {decomposition.n_cells} columns; "
                     f"got {state.columns.n_columns}")
        else:
            nlayer = state.columns.w_liq.shape[1]
    error, nlayer = comm.bcast((error, nlayer), root=root)
    if error is not None:
        raise ValueError(error)
    arrays = state.arrays() if comm.rank == root else {}
    local = {n: scatter_from_root(comm, decomposition,
                                  np.asarray(arrays[n], dtype=np.float64) if arrays else None,
                                  (nlayer,) if n in LAYERED_FIELDS else (), root)
             for n in STATE_FIELDS}
    return ModelState.from_arrays(local) if decomposition.count(comm.rank) else None
