"""Quality control of an observation image on the model grid (arithmetic, no I/O).

Every rejected value is counted by reason; the counts go to the log and the output file.
A merely sparse image is never an error: an image with too few valid land cells is
*refused* (``QCResult.accepted`` is False, with the reason), and the caller decides what to
do with it (``prepare-obs`` writes no file for it and logs a warning).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Reasons counted by :func:`quality_control`, in the order they are applied.
REASONS = ("not_land", "missing", "too_little_valid_area", "below_lower_bound",
           "above_upper_bound", "bad_error_variance")


@dataclass
class QCResult:
    """The image after QC.

    Attributes
    ----------
    values : ndarray (nlayer, ny, nx)
        Observations kept, m3 m-3; NaN wherever rejected or off land.
    error_variance : ndarray (nlayer, ny, nx) or None
        Their error variances, (m3 m-3)^2, NaN where the value is NaN.
    counts : dict[str, int]
        Rejections by reason (over all layers, land cells only except ``not_land``),
        plus ``valid`` (values kept) and, from the reader, the product's own reasons.
    valid_top : int
        Valid land cells in the top layer.
    accepted : bool
        False when the whole image is refused.
    reason : str
        Why it was refused ('' when accepted).
    """

    values: np.ndarray
    error_variance: np.ndarray | None
    counts: dict = field(default_factory=dict)
    valid_top: int = 0
    accepted: bool = True
    reason: str = ""


def quality_control(values, land, *, lower=0.0, upper=0.6, valid_fraction=None,
                    min_valid_fraction=0.5, error_variance=None, min_valid_cells=10,
                    product_rejections=None) -> QCResult:
    """Reject values that cannot be used and decide whether the image is usable at all.

    Parameters
    ----------
    values : array_like (nlayer, ny, nx)
        Observed soil moisture on the model grid, m3 m-3 (NaN = none).
    land : array_like of bool (ny, nx)
        Model land mask.
    lower : float
        Lowest physical value, m3 m-3 (values below are rejected: ``below_lower_bound``).
    upper : float or array_like (ny, nx) or (nlayer, ny, nx)
        Highest physical value (porosity), m3 m-3 (``above_upper_bound``).
    valid_fraction : array_like (ny, nx) or (nlayer, ny, nx), optional
        Fraction of each cell's area covered by valid product cells (from the regridding);
        values with less than ``min_valid_fraction`` are rejected (``too_little_valid_area``).
    error_variance : array_like (nlayer, ny, nx), optional
        Observation-error variance, (m3 m-3)^2; a kept value with a non-finite or
        non-positive variance is rejected (``bad_error_variance``).
    min_valid_cells : int
        The image is refused when its top layer keeps fewer valid land cells.
    product_rejections : dict, optional
        Counts of the reader's own rejections (flags, fill values), merged into the counts
        with a ``product_`` prefix.

    Returns
    -------
    QCResult
    """
    v = np.array(values, dtype=float, copy=True)
    if v.ndim == 2:
        v = v[None]
    land = np.asarray(land, dtype=bool)
    if land.shape != v.shape[1:]:
        raise ValueError(f"land mask shape {land.shape} does not match the image "
                         f"{v.shape[1:]}")
    counts = {r: 0 for r in REASONS}
    off_land = np.isfinite(v) & ~land
    counts["not_land"] = int(off_land.sum())
    v[:, ~land] = np.nan
    on_land = np.broadcast_to(land, v.shape)
    counts["missing"] = int((~np.isfinite(v) & on_land).sum())

    def reject(mask, reason):
        mask = mask & np.isfinite(v)
        counts[reason] += int(mask.sum())
        v[mask] = np.nan

    if valid_fraction is not None:
        frac = np.broadcast_to(np.asarray(valid_fraction, dtype=float), v.shape)
        reject(~(frac >= min_valid_fraction), "too_little_valid_area")
    with np.errstate(invalid="ignore"):
        reject(v < lower, "below_lower_bound")
        reject(v > np.broadcast_to(np.asarray(upper, dtype=float), v.shape), "above_upper_bound")
    var = None
    if error_variance is not None:
        var = np.array(np.broadcast_to(np.asarray(error_variance, dtype=float), v.shape))
        with np.errstate(invalid="ignore"):
            reject(~(np.isfinite(var) & (var > 0)), "bad_error_variance")
        var[~np.isfinite(v)] = np.nan
    for reason, n in (product_rejections or {}).items():
        counts[f"product_{reason}"] = int(n)
    counts["valid"] = int(np.isfinite(v).sum())
    valid_top = int(np.isfinite(v[0]).sum())
    result = QCResult(values=v, error_variance=var, counts=counts, valid_top=valid_top)
    if valid_top < min_valid_cells:
        result.accepted = False
        result.reason = (f"{valid_top} valid land cells in the top layer, fewer than the "
                         f"{min_valid_cells} required (observations.min_valid_cells)")
    return result
