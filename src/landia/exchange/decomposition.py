"""Split the land cells of the model grid into contiguous, balanced blocks, one per rank.

Pure arithmetic: no MPI here (:mod:`landia.exchange.collectives` does the communication).

The global order of the land cells is :attr:`landia.grid.LatLonGrid.land_index`: the flat,
row-major (north-south rows, then west-east) indices of the land cells, numbered
``0 .. n_cells - 1``. Rank ``r`` of ``size`` ranks owns the contiguous block
``displacements[r] : displacements[r] + counts[r]`` of that order; the first
``n_cells % size`` ranks own one cell more than the others. When ``size > n_cells`` the last
``size - n_cells`` ranks own no cell (an empty block).

:func:`local_state` cuts one rank's columns out of a global-order model state (the state as
named arrays is :meth:`landia.columns.model.ModelState.arrays`).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np

from landia.columns.model import ModelState


def _count(value, name: str, minimum: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name}: expected an integer >= {minimum}; got {value!r}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}; got {value}")
    return value


@dataclass(frozen=True)
class Decomposition:
    """Balanced contiguous blocks of ``n_cells`` land cells over ``size`` ranks.

    Parameters
    ----------
    n_cells : int
        Number of land cells (columns), >= 0, in the global order of
        :attr:`landia.grid.LatLonGrid.land_index`.
    size : int
        Number of ranks, >= 1. May exceed ``n_cells``: the ranks past ``n_cells`` then own
        an empty block (count 0).

    Attributes
    ----------
    counts : tuple of int, length size
        Cells per rank: ``n_cells // size + 1`` for the first ``n_cells % size`` ranks,
        ``n_cells // size`` for the others (so ``max - min <= 1``).
    displacements : tuple of int, length size
        Global index of each rank's first cell: the running sum of ``counts``
        (``displacements[0] == 0``); for an empty block, where the next block starts.
    """

    n_cells: int
    size: int
    counts: tuple = field(init=False)
    displacements: tuple = field(init=False)

    def __post_init__(self) -> None:
        n = _count(self.n_cells, "n_cells (number of land cells)", 0)
        size = _count(self.size, "size (number of ranks)", 1)
        base, extra = divmod(n, size)
        counts = tuple(base + 1 if r < extra else base for r in range(size))
        displs = tuple(int(d) for d in np.concatenate(([0], np.cumsum(counts)[:-1])))
        object.__setattr__(self, "n_cells", n)
        object.__setattr__(self, "size", size)
        object.__setattr__(self, "counts", counts)
        object.__setattr__(self, "displacements", displs)

    @classmethod
    def for_grid(cls, grid, size: int) -> Decomposition:
        """The decomposition of the land cells of ``grid`` (a :class:`~landia.grid.LatLonGrid`)."""
        return cls(int(grid.n_land), size)

    def _rank(self, rank) -> int:
        if (isinstance(rank, (bool, np.bool_)) or not isinstance(rank, numbers.Integral)
                or not 0 <= rank < self.size):
            raise ValueError(f"rank: expected an integer in [0, {self.size - 1}]; got {rank!r}")
        return int(rank)

    def count(self, rank: int) -> int:
        """Number of cells owned by ``rank`` (0 for an empty block)."""
        return self.counts[self._rank(rank)]

    def block(self, rank: int) -> slice:
        """The cells of ``rank`` as a slice of the global order (``slice(d, d)`` when empty)."""
        r = self._rank(rank)
        start = self.displacements[r]
        return slice(start, start + self.counts[r])

    def owner(self, cell) -> np.ndarray | int:
        """Rank owning each global cell index (int for a scalar, int64 array otherwise)."""
        cells = np.asarray(cell)
        if cells.dtype.kind not in "iu" or np.any(cells < 0) or np.any(cells >= self.n_cells):
            raise ValueError(f"cell: expected integer indices in [0, {self.n_cells - 1}]; "
                             f"got {cell!r}")
        ends = np.cumsum(self.counts)
        ranks = np.searchsorted(ends, cells, side="right").astype(np.int64)
        return int(ranks) if ranks.ndim == 0 else ranks

    def local(self, global_array: np.ndarray, rank: int) -> np.ndarray:
        """The rows of ``global_array`` (first axis = global order) owned by ``rank`` (a view)."""
        arr = np.asarray(global_array)
        if arr.ndim < 1 or arr.shape[0] != self.n_cells:
            raise ValueError(f"global array: expected a first axis of {self.n_cells} cells; "
                             f"got shape {arr.shape}")
        return arr[self.block(rank)]


def local_state(state: ModelState, decomposition: Decomposition, rank: int) -> ModelState | None:
    """The columns of a global-order ``state`` owned by ``rank`` (copies).

    Returns None for a rank with an empty block: a :class:`ColumnState` of zero columns
    cannot be built.
    """
    if decomposition.count(rank) == 0:
        return None
    return ModelState.from_arrays({n: decomposition.local(a, rank).copy()
                                   for n, a in state.arrays().items()})
