"""Checkpoints of a whole ensemble: member by member through the root, and their size check.

An ensemble checkpoint is an ordinary checkpoint (:mod:`landia.checkpoint.store`) whose state
holds N n_land columns, member-major (column ``m * n_land + g`` is member ``m`` of land cell
``g`` in the global order), with ``members`` = N in its metadata. Each rank holds its cells
of every member, member-major too (:mod:`landia.columns.ensemble`); gathering and scattering
go member by member through the deterministic collectives
(:func:`~landia.exchange.collectives.gather_state`, :func:`~landia.exchange.collectives.scatter_state`),
so the file has the same bits on any number of ranks, and the root never holds more than the
full ensemble it writes.

A run refuses, before it compares configuration hashes, a run directory whose newest
checkpoint holds another number of members than its configuration (LISF #817): an
ensemble of another size, or a deterministic checkpoint for an ensemble run and the other way
round. The hashes would differ too, but "another configuration" does not say what to fix.
"""

from __future__ import annotations

import numpy as np

from landia.checkpoint import Checkpoint
from landia.columns.ensemble import member_arrays, stack_members
from landia.columns.model import STATE_FIELDS, ModelState
from landia.exchange.collectives import gather_state, scatter_state

#: Metadata key of an ensemble checkpoint: its number of members.
MEMBERS_KEY = "members"


def _describe(members: int | None) -> str:
    return ("a deterministic run (no ensemble)" if members is None
            else f"an ensemble of {members} members")


def member_count_refusal(found: Checkpoint | None, members: int | None) -> str | None:
    """Why the checkpoint ``found`` (the newest that verifies, whatever its configuration
    hash; None: there is none) cannot be resumed with ``members`` (None: a deterministic
    run), or None when it can. The cycle asks before it compares configuration hashes."""
    if found is None:
        return None
    held = found.metadata.get(MEMBERS_KEY)
    if held == members:
        return None
    fix = (f"set ensemble.members = {held}" if held is not None and members is not None
           else "set ensemble.enabled = " + ("true" if held is not None else "false")
           + (f" and ensemble.members = {held}" if held is not None else ""))
    return (f"{found.path}: the checkpoint holds {_describe(held)}; this configuration is "
            f"{_describe(members)}. A run cannot be resumed with another ensemble size: "
            f"{fix} to continue it, or use a new --run-dir")


def gather_members(comm, decomposition, local: ModelState | None,
                   members: int) -> ModelState | None:
    """The whole ensemble on the root, member-major in the global order (None elsewhere).

    ``local`` is the rank's member-major state (``members`` n_local columns; None on a rank
    without cells). Collective.
    """
    parts = member_arrays(local, members) if local is not None else [None] * members
    gathered = [gather_state(comm, decomposition,
                             None if p is None else ModelState.from_arrays(p))
                for p in parts]
    return stack_members(gathered) if comm.Get_rank() == 0 else None


def scatter_members(comm, decomposition, full: ModelState | None,
                    members: int) -> ModelState | None:
    """Each rank's member-major state from the root's whole ensemble (the inverse of
    :func:`gather_members`); None on a rank without cells. Collective.

    Raises
    ------
    ValueError
        On every rank, when the root's state does not hold ``members`` x n_land columns.
    """
    error = None
    if comm.Get_rank() == 0:
        expected = members * decomposition.n_cells
        got = None if full is None else full.columns.n_columns
        if got != expected:
            error = (f"ensemble state on root: expected {members} x {decomposition.n_cells} "
                     f"= {expected} columns; got {got}")
    error = comm.bcast(error, root=0)
    if error is not None:
        raise ValueError(error)
    parts = member_arrays(full, members) if comm.Get_rank() == 0 else [None] * members
    local = [scatter_state(comm, decomposition,
                           None if p is None else ModelState.from_arrays(
                               {n: np.ascontiguousarray(p[n]) for n in STATE_FIELDS}))
             for p in parts]
    return stack_members(local) if decomposition.count(comm.Get_rank()) else None
