"""The vertical correlation length of the background error below the analysed layers,
estimated from a model run's own changes over one analysis interval.

Nothing observes the layers below the analysed ones, so innovation statistics cannot tell how
their background errors follow the analysed layers' (``analysis.vertical_length_m``,
:mod:`landia.analysis.vertical`). Between two analyses the background error grows by the
model's response to what its forcing got wrong (rain, above all), and that response has the
vertical structure of the model's own changes over the interval. So, in the spirit of the NMC
method, this module regresses the changes of the layers below on those of the deepest
analysed layer :math:`L` in an open-loop run (CTRL, a spin-up): for each pair of states
``lag`` apart, over the land cells, as anomalies about that pair's domain mean,

.. math:: \\beta_k = \\frac{\\sum_t \\sum_i \\Delta x'_{k,i,t}\\, \\Delta x'_{L,i,t}}
                          {\\sum_t \\sum_i \\Delta x'^2_{L,i,t}}, \\qquad k > L,

and fits the exponential weights :math:`\\exp(-(z_k - z_L)/L_z)` to them by least squares in
:math:`\\log \\beta_k` (node depths :math:`z`):

.. math:: \\frac{1}{L_z} = -\\frac{\\sum_k (z_k - z_L) \\log \\beta_k}{\\sum_k (z_k - z_L)^2}.

Pure arithmetic: :mod:`landia.commands.estimate_vertical` reads the files.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class VerticalLength:
    """The estimate and what it was made from.

    Attributes
    ----------
    length_m : float
        :math:`L_z`, m (NaN when no regression is in (0, 1)).
    regression : ndarray (layers_below,)
        :math:`\\beta_k` of each layer below the analysed ones (only those in (0, 1) enter
        the fit).
    layer_lengths_m : ndarray (layers_below,)
        :math:`-(z_k - z_L) / \\log \\beta_k` of each of them alone, m.
    pairs : int
        Pairs of states used.
    """

    length_m: float
    regression: np.ndarray
    layer_lengths_m: np.ndarray
    pairs: int


class ChangeRegression:
    """The sums of the regression, one pair of states at a time (a run's files need not be
    held in memory together).

    Parameters
    ----------
    depths : array_like (nlayer,)
        Node depths, m, increasing.
    analysed : int
        Analysed layers L (from the top); the regression is on layer L.
    layers_below : int
        How many layers below L enter the fit.
    """

    def __init__(self, depths, analysed: int, layers_below: int = 2):
        self.z = np.asarray(depths, dtype=float)
        if self.z.ndim != 1 or not np.all(np.diff(self.z) > 0):
            raise ValueError("depths: expected increasing node depths")
        if not 1 <= analysed < self.z.size or layers_below < 1 \
                or analysed + layers_below > self.z.size:
            raise ValueError(f"analysed {analysed}, layers_below {layers_below}: expected "
                             f"1 <= analysed and analysed + layers_below <= {self.z.size}")
        self.analysed, self.below = analysed, layers_below
        #: the rows of a state (nlayer, n_cells) that the regression reads
        self.rows = slice(analysed - 1, analysed + layers_below)
        self.top_sq, self.cross, self.pairs = 0.0, np.zeros(layers_below), 0

    def add(self, change) -> None:
        """One pair's change of the rows :attr:`rows`, (1 + layers_below, n_cells), m3 m-3
        (cells not finite in every row are left out; a pair with fewer than two is
        skipped)."""
        d = np.asarray(change, dtype=float)
        if d.ndim != 2 or d.shape[0] != 1 + self.below:
            raise ValueError(f"change: expected shape ({1 + self.below}, n_cells); got "
                             f"{d.shape}")
        ok = np.all(np.isfinite(d), axis=0)
        if ok.sum() < 2:
            return
        a = d[:, ok] - d[:, ok].mean(axis=1, keepdims=True)
        self.top_sq += float(a[0] @ a[0])
        self.cross += a[1:] @ a[0]
        self.pairs += 1

    def result(self) -> VerticalLength:
        """The fitted :math:`L_z` (NaN when no regression lies in (0, 1))."""
        if self.pairs == 0 or self.top_sq == 0.0:
            raise ValueError("states: no pair of states with a change at two or more cells")
        beta = self.cross / self.top_sq
        dz = self.z[self.analysed:self.analysed + self.below] - self.z[self.analysed - 1]
        usable = (beta > 0) & (beta < 1)
        alone = np.full(self.below, np.nan)
        alone[usable] = -dz[usable] / np.log(beta[usable])
        length = (1.0 / (-np.sum(dz[usable] * np.log(beta[usable])) / np.sum(dz[usable] ** 2))
                  if usable.any() else float("nan"))
        return VerticalLength(length_m=float(length), regression=beta, layer_lengths_m=alone,
                              pairs=self.pairs)


def vertical_length(states, depths, analysed: int, layers_below: int = 2,
                    lag: int = 1) -> VerticalLength:
    """:math:`L_z` from the changes of a sequence of states (see the module notes).

    Parameters
    ----------
    states : array_like (T, nlayer, n_cells)
        Volumetric soil moisture of every layer at T successive analysis times, m3 m-3 (NaN
        off land; a cell must be finite in every layer used).
    depths : array_like (nlayer,)
        Node depths, m, increasing.
    analysed : int
        Analysed layers L (from the top); the regression is on layer L.
    layers_below : int
        How many layers below L enter the fit (default 2: the ones with weights worth having).
    lag : int
        States apart in a pair (1: one analysis interval).

    Returns
    -------
    VerticalLength
    """
    x = np.asarray(states, dtype=float)
    regression = ChangeRegression(depths, analysed, layers_below)
    if x.ndim != 3 or x.shape[1] != regression.z.size:
        raise ValueError(f"states: expected shape (T, {regression.z.size}, n_cells); got "
                         f"{x.shape}")
    if not 1 <= lag < x.shape[0]:
        raise ValueError(f"lag {lag}: expected 1 <= lag < {x.shape[0]} (the number of states)")
    rows = regression.rows
    for t in range(lag, x.shape[0]):
        regression.add(x[t, rows] - x[t - lag, rows])
    return regression.result()
