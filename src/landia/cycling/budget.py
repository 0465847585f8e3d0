"""The water budget of a window, summed over the domain in one fixed order.

Each rank keeps its columns' fluxes per model step; the root gathers them in the global order
of the land cells and sums them step by step, exactly as a serial run does. So ``budget_mm``
in ``run_log.jsonl`` has the same bits on 1, 2 or 3 ranks (a reduction of per-rank partial
sums would differ in the last place with the decomposition).
"""

from __future__ import annotations

import numpy as np

from landia.exchange.collectives import gather_to_root

#: The fluxes summed (attributes of the step's water fluxes), kg m-2 s-1.
FLUXES = ("precipitation", "evapotranspiration", "total_runoff")


class WindowBudget:
    """One rank's water fluxes of a window: per column and step, and the largest residual.

    Parameters
    ----------
    n_local : int
        The rank's columns (may be 0).
    n_steps : int
        Model steps of the window (the same on every rank).
    """

    def __init__(self, n_local: int, n_steps: int):
        self.fluxes = np.zeros((n_local, n_steps, len(FLUXES)))
        self.max_abs_residual = 0.0

    @classmethod
    def for_window(cls, n_local: int, start, end, dt: float) -> "WindowBudget":
        """The budget of the window ``[start, end)`` (datetime64) on steps of ``dt`` s."""
        return cls(n_local, int((end - start) / np.timedelta64(int(dt), "s")))

    def add_step(self, k: int, fluxes, rows: slice = slice(None)) -> None:
        """Keep step ``k``'s fluxes (a ``WaterFluxes``-like object of (n_local,) arrays, or
        of the columns ``rows`` only)."""
        for j, name in enumerate(FLUXES):
            self.fluxes[rows, k, j] = getattr(fluxes, name)
        self.max_abs_residual = max(self.max_abs_residual, float(np.abs(fluxes.residual).max()))


def domain_totals(comm, decomposition, budget: WindowBudget, source: np.ndarray, dt: float):
    """Domain totals of a window on the root: (array (4,), max |residual|), None elsewhere.

    The totals are precipitation, evapotranspiration and runoff (kg m-2 over the window,
    summed over the land cells) and the assimilation source (``source``: per column, mm),
    each summed in the global order of the land cells, step by step, as a serial run does.
    """
    fluxes = gather_to_root(comm, decomposition, budget.fluxes)
    sources = gather_to_root(comm, decomposition, np.ascontiguousarray(source, dtype=float))
    worst = comm.gather(budget.max_abs_residual, root=0)
    if comm.Get_rank() != 0:
        return None, None
    totals = np.zeros(len(FLUXES) + 1)
    for k in range(fluxes.shape[1]):
        for j in range(len(FLUXES)):
            totals[j] += np.ascontiguousarray(fluxes[:, k, j]).sum() * dt
    totals[-1] = float(sources.sum())
    return totals, max(worst)
