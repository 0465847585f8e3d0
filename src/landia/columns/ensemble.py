"""An ensemble of columns in one state: members stacked member-major (physics only).

N members of n columns are one :class:`~landia.columns.model.ModelState` of N n columns:
column ``m * n + i`` is member ``m`` of column ``i``. One :func:`~landia.columns.model.step`
call then steps every member (the column physics is column by column, so a member's numbers
do not depend on the others), and the parameters are the members' parameters stacked the
same way (:func:`tile_parameters`, :func:`stack_parameters`).

Members may also differ in their soil (:func:`member_texture`): sand and clay of every land
cell perturbed by ``texture_std`` percentage points of standard-normal noise drawn on the
whole land order from ``numpy.random.default_rng([seed, member, 7])``, so that a cell's
member soil does not depend on how the cells are split over MPI ranks.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from landia.columns.model import STATE_FIELDS, ModelState
from landia.columns.soil import SoilParameters
from landia.columns.state import ColumnParameters

#: Stream number of the texture perturbations in ``default_rng([seed, member, stream])``.
TEXTURE_STREAM = 7


def stack_members(states: list[ModelState]) -> ModelState:
    """One state of the members' columns, member-major (member 0's columns first).

    Parameters
    ----------
    states : list of ModelState
        N states of n columns each (the same n and layers).

    Returns
    -------
    ModelState
        N n columns; column ``m * n + i`` is column ``i`` of ``states[m]`` (bit-identical).
    """
    if not states:
        raise ValueError("states: expected at least one member")
    sizes = {s.columns.n_columns for s in states}
    if len(sizes) != 1:
        raise ValueError(f"states: expected members of the same number of columns; got "
                         f"{sorted(sizes)}")
    arrays = [s.arrays() for s in states]
    return ModelState.from_arrays({name: np.concatenate([a[name] for a in arrays])
                                   for name in STATE_FIELDS})


def split_members(state: ModelState, members: int) -> list[ModelState]:
    """The members of a member-major state (the inverse of :func:`stack_members`)."""
    return [ModelState.from_arrays(a) for a in member_arrays(state, members)]


def member_arrays(state: ModelState, members: int) -> list[dict[str, np.ndarray]]:
    """The named arrays of each member of a member-major state (views, no copies)."""
    total = state.columns.n_columns
    if members < 1 or total % members:
        raise ValueError(f"members: {total} columns do not split into {members} members")
    n = total // members
    arrays = state.arrays()
    return [{name: a[m * n:(m + 1) * n] for name, a in arrays.items()}
            for m in range(members)]


def member_values(values: np.ndarray, members: int) -> np.ndarray:
    """A member-major per-column array (N n, ...) as (N, n, ...) (a view)."""
    values = np.asarray(values)
    if values.shape[0] % members:
        raise ValueError(f"values: {values.shape[0]} columns do not split into {members} "
                         f"members")
    return values.reshape(members, values.shape[0] // members, *values.shape[1:])


def stack_parameters(params: list[ColumnParameters]) -> ColumnParameters:
    """The members' parameters stacked member-major (like :func:`stack_members`)."""
    soil = SoilParameters.concatenate([p.soil for p in params])
    return ColumnParameters(soil=soil,
                            root_fraction=np.concatenate([p.root_fraction for p in params]),
                            land_cover=sum((tuple(p.land_cover) for p in params), ()))


def tile_parameters(params: ColumnParameters, members: int) -> ColumnParameters:
    """The parameters of n columns repeated for N members (N n columns, member-major)."""
    return stack_parameters([params] * members)


def member_texture(sand: np.ndarray, clay: np.ndarray, texture_std: float, seed: int,
                   member: int) -> tuple[np.ndarray, np.ndarray]:
    r"""Sand and clay of every land cell for one member, in %.

    .. math:: s_m = \mathrm{clip}(s + \sigma z_1, 0, 100), \qquad
              c_m = \mathrm{clip}(c + \sigma z_2, 0, 100 - s_m)

    with :math:`\sigma` = ``texture_std`` (percentage points) and :math:`z_1, z_2` standard
    normal on the whole land order, drawn from ``default_rng([seed, member, 7])``.

    Parameters
    ----------
    sand, clay : ndarray (n_land,) or (n_land, nlayer)
        The landscape's texture, %, on every land cell in the global order.
    texture_std : float
        Standard deviation of the perturbation, percentage points; 0 returns the inputs.
    seed, member : int
        Seed and member number of the draw (``perturbation.seed``, ``perturbation.member``
        plus the member's index).

    Returns
    -------
    (sand, clay) : ndarrays like the inputs
    """
    sand = np.asarray(sand, dtype=float)
    clay = np.asarray(clay, dtype=float)
    if texture_std == 0.0:
        return sand, clay
    z = np.random.default_rng([int(seed), int(member), TEXTURE_STREAM]).standard_normal(
        (2, sand.shape[0]))
    shape = (-1,) + (1,) * (sand.ndim - 1)
    new_sand = np.clip(sand + texture_std * z[0].reshape(shape), 0.0, 100.0)
    new_clay = np.clip(clay + texture_std * z[1].reshape(shape), 0.0, 100.0 - new_sand)
    return new_sand, new_clay


def member_parameters(params: ColumnParameters, soil: SoilParameters) -> ColumnParameters:
    """``params`` with another soil (a member's), the same roots and land cover."""
    return dataclasses.replace(params, soil=soil)


#: Most columns stepped in one call. Beyond it every temporary of the step outgrows glibc's
#: mmap threshold (32 MB) and is a fresh zeroed mapping: 20 members of the 0.25 deg East Asia
#: grid (633,060 columns) in one call took 2.2-2.7x the time of 20 separate steps, in blocks of
#: this size 1.0-1.1x (``landia bench``, docs/benchmarks.md).
BLOCK_COLUMNS = 65536


def member_blocks(members: int, n: int, limit: int = BLOCK_COLUMNS) -> list[tuple[int, int]]:
    """Consecutive ranges ``(first, stop)`` of whole members with at most ``limit`` columns
    each (one member per block when a member alone has more)."""
    per = max(1, limit // max(n, 1))
    return [(m, min(m + per, members)) for m in range(0, members, per)]


def block_state(state: ModelState, n: int, first: int, stop: int) -> ModelState:
    """Members ``first .. stop - 1`` of a member-major state of ``n`` columns per member
    (views: no copy, no validation of numbers already valid)."""
    arrays = {name: a[first * n:stop * n] for name, a in state.arrays().items()}
    return ModelState.from_arrays(arrays)


def block_parameters(params: ColumnParameters, n: int, first: int,
                     stop: int) -> ColumnParameters:
    """The parameters of members ``first .. stop - 1`` (see :func:`block_state`)."""
    cut = slice(first * n, stop * n)
    soil = params.soil.take(cut)
    return ColumnParameters(soil=soil, root_fraction=params.root_fraction[cut],
                            land_cover=tuple(params.land_cover[cut]))


def join_blocks(blocks: list[ModelState]) -> ModelState:
    """The member-major state of consecutive member blocks (the inverse of
    :func:`block_state` over :func:`member_blocks`)."""
    if len(blocks) == 1:
        return blocks[0]
    arrays = [b.arrays() for b in blocks]
    return ModelState.from_arrays({name: np.concatenate([a[name] for a in arrays])
                                   for name in STATE_FIELDS})
