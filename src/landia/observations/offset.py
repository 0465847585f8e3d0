r"""A product's mean offset against the model, estimated online (arithmetic, no I/O).

Satellite soil moisture and a land model disagree in their mean level (the product's
retrieval, its depth, the model's soil parameters): an analysis that takes the product's
values as they are draws that offset into the state at every cycle. The climatological
answers, CDF matching and mean/variance rescaling (:mod:`landia.observations.rescaling`),
need a training record of both; this one needs none. Before each analysis, per analysed
layer l, the mean departure of the observations from the background over the observed land
cells,

.. math:: d_l = \frac{1}{|O_l|} \sum_{i \in O_l} (y_{l,i} - x^b_{l,i}),

updates the carried offset

.. math:: \beta_l \leftarrow m\,\beta_l + (1 - m)\, d_l \quad
          (\text{the first analysis: } \beta_l = d_l),

and every observation term sees :math:`y_l - \beta_l`, clipped to the physical bounds.
This is variational bias correction with a constant predictor (Dee 2005), its coefficient
updated by a running mean of the innovations instead of inside the minimisation; the memory
m (``observations.offset_memory``) makes the offset a multi-day mean, so the day-to-day
departures of the observed swath's mean, which carry real information about the background's
error, reach the analysis, while the persistent part, the product's offset, does not. As with
CDF matching, the model's climatology is the reference: a bias of the model itself is not
corrected (docs/observation-bias.md).
"""

from __future__ import annotations

import numpy as np


def mean_departure(observation: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Per layer, the mean of y - xb over the cells where both are finite.

    Parameters
    ----------
    observation, background : ndarray (layers, ny, nx)
        Observed and background soil moisture, m3 m-3; NaN where missing or not land.

    Returns
    -------
    ndarray (layers,)
        Mean departure d_l, m3 m-3; NaN for a layer without any such cell.
    """
    y = np.asarray(observation, dtype=np.float64)
    xb = np.asarray(background, dtype=np.float64)
    if y.shape != xb.shape:
        raise ValueError(f"mean_departure: observation {y.shape} and background {xb.shape} "
                         "differ in shape")
    both = np.isfinite(y) & np.isfinite(xb)
    d = np.where(both, y - xb, 0.0).reshape(y.shape[0], -1).sum(axis=1)
    count = both.reshape(y.shape[0], -1).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, d / np.maximum(count, 1), np.nan)


def cycled_offset(previous: np.ndarray | None, departure: np.ndarray,
                  memory: float) -> np.ndarray:
    """beta <- m beta + (1 - m) d per layer; the first analysis (``previous`` None, or a
    layer never observed before, NaN) takes d; a layer without a departure now (NaN) keeps
    its previous value."""
    d = np.asarray(departure, dtype=np.float64)
    if previous is None:
        return d.copy()
    prev = np.asarray(previous, dtype=np.float64)
    if prev.shape != d.shape:
        raise ValueError(f"cycled_offset: carried offset of {prev.shape[0]} layer(s), "
                         f"departures of {d.shape[0]}")
    out = np.where(np.isfinite(prev), memory * prev + (1.0 - memory) * d, d)
    return np.where(np.isfinite(d), out, prev)


def remove_offset(observation: np.ndarray, offset: np.ndarray, lower, upper) -> np.ndarray:
    """y_l - beta_l (layers without an offset, NaN, unchanged), clipped to [lower, upper].

    Parameters
    ----------
    observation : ndarray (layers, ny, nx)
    offset : ndarray (layers,)
    lower, upper : float or ndarray broadcastable to ``observation``
        The physical bounds, m3 m-3 (porosity as the upper one): a corrected value beyond a
        bound is set to it, so a dry (wet) observation stays the driest (wettest) possible
        instead of being rejected by the analysis' QC.
    """
    y = np.asarray(observation, dtype=np.float64)
    b = np.nan_to_num(np.asarray(offset, dtype=np.float64), nan=0.0)
    corrected = y - b[:, None, None]
    with np.errstate(invalid="ignore"):
        return np.clip(corrected, lower, upper)
