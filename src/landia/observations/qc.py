"""Quality control of an observation image on the model grid (arithmetic, no I/O).

The one QC of observation images: ``landia prepare-obs`` runs it on each product image, and the
analysis runs it again on the image it is given (which may come from elsewhere), with the
analysis' bounds (porosity of the background). Every rejected value is counted by reason; the
counts go to the log and the output files.

A merely sparse image is never an error. A layer with fewer than ``min_valid_cells`` valid
land cells is *refused* (its values are dropped, ``layers_refused`` counts it); an image whose
top layer is refused is refused as a whole (``QCResult.accepted`` is False, with the reason),
and the caller decides what to do with it (``prepare-obs`` writes no file for it and logs a
warning; the analysis keeps the background when no layer is left).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Reasons counted by :func:`quality_control`, in the order they are applied.
REASONS = ("not_land", "missing", "too_little_valid_area", "below_lower_bound",
           "above_upper_bound", "bad_error_variance", "layers_refused")


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
        Rejections by reason (over all layers, land cells only except ``not_land``;
        ``layers_refused`` counts layers), plus ``valid`` (values kept) and, from the reader,
        the product's own reasons.
    valid_top : int
        Valid land cells in the top layer (before any layer is refused).
    layer_valid : tuple of int
        Valid land cells of each layer before any layer is refused.
    refused_layers : tuple of int
        0-based indices of the layers refused for having too few valid cells.
    accepted : bool
        False when the whole image is refused.
    reason : str
        Why it was refused ('' when accepted).
    """

    values: np.ndarray
    error_variance: np.ndarray | None
    counts: dict = field(default_factory=dict)
    valid_top: int = 0
    layer_valid: tuple = ()
    refused_layers: tuple = ()
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
    lower : float or array_like (ny, nx) or (nlayer, ny, nx)
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
        A layer keeping fewer valid land cells is refused (``layers_refused``); the image is
        refused when its top layer is.
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
        reject(v < np.broadcast_to(np.asarray(lower, dtype=float), v.shape), "below_lower_bound")
        reject(v > np.broadcast_to(np.asarray(upper, dtype=float), v.shape), "above_upper_bound")
    var = None
    if error_variance is not None:
        var = np.array(np.broadcast_to(np.asarray(error_variance, dtype=float), v.shape))
        with np.errstate(invalid="ignore"):
            reject(~(np.isfinite(var) & (var > 0)), "bad_error_variance")
        var[~np.isfinite(v)] = np.nan
    layer_valid = tuple(int(np.isfinite(v[k]).sum()) for k in range(v.shape[0]))
    valid_top = layer_valid[0]
    refused = tuple(k for k, n in enumerate(layer_valid) if n < min_valid_cells)
    for k in refused:
        v[k] = np.nan
        if var is not None:
            var[k] = np.nan
    counts["layers_refused"] = len(refused)
    for reason, n in (product_rejections or {}).items():
        counts[f"product_{reason}"] = int(n)
    counts["valid"] = int(np.isfinite(v).sum())
    result = QCResult(values=v, error_variance=var, counts=counts, valid_top=valid_top,
                      layer_valid=layer_valid, refused_layers=refused)
    if valid_top < min_valid_cells:
        result.accepted = False
        result.reason = (f"{valid_top} valid land cells in the top layer, fewer than the "
                         f"{min_valid_cells} required (observations.min_valid_cells)")
    return result
