"""H: point observations located on model cells (selection of entries)."""

from __future__ import annotations

import numpy as np
from pylops import LinearOperator

from landia.errors import OperatorError


class PointSelection(LinearOperator):
    """Select the entries ``index`` of a vector of length ``n``.

    Notes
    -----
    :math:`(Hx)_k = x_{i_k}`, :math:`H^T y = \\sum_k y_k e_{i_k}` (repeated indices
    accumulate, so two observations of one cell are two rows of H).
    """

    def __init__(self, n: int, index: np.ndarray, name: str = "H") -> None:
        index = np.asarray(index, dtype=np.int64)
        if index.ndim != 1 or (index.size and (index.min() < 0 or index.max() >= n)):
            raise OperatorError(f"PointSelection: indices must be 1-D within [0, {n}), "
                                f"got shape {index.shape}")
        self.index = index
        self.n = int(n)
        super().__init__(dtype=np.float64, shape=(index.size, n), name=name)

    def _matvec(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x).ravel()[self.index]

    def _rmatvec(self, y: np.ndarray) -> np.ndarray:
        out = np.zeros(self.n)
        np.add.at(out, self.index, np.asarray(y).ravel())
        return out
