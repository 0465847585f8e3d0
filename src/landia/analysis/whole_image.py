"""The image term over the whole analysis image (``analysis.image_gap_weight`` > 0).

The paper's image term compares the analysis with the observed image on the observed cells
only (S_l keeps them); a land cell without an observation is then constrained by JB alone.
Here the term compares the whole analysed land image with the observed image completed by
its gap fill, the cells without an observation weighted by ``gap_weight`` < 1:

    JI = 1/(2 s2) sum_l || P_l C E_land W^1/2 (x_l - y~_l) ||^2

with E_land the embedding of all land cells (sea filled), y~_l = y_l on observed cells and
the observed image's fill (:class:`~landia.operators.HarmonicEmbedding`: screened harmonic,
relaxing to the image mean over ``curvelet.fill_decay`` cells) on the others, W = 1 on
observed cells and ``gap_weight`` elsewhere, and P_l chosen from the coefficients of y~_l.
The observed structure then shapes the analysis where nothing was observed, whatever B is.
"""

from __future__ import annotations

import numpy as np
from pylops import Diagonal

from landia.analysis.terms import ImageLayer
from landia.operators import CoefficientSelection, HarmonicEmbedding


def whole_image_layers(grid, valid_masks: list, observation: np.ndarray, curvelet,
                       embeddings: dict, settings, gap_weight: float, scale=None
                       ) -> tuple[list[ImageLayer], HarmonicEmbedding]:
    """The image layers of JI over all land cells of each observed layer.

    Parameters
    ----------
    grid : LatLonGrid
    valid_masks : list of ndarray of bool (ny, nx)
        Observed (QC-passed) cells of each layer; layers without any are skipped.
    observation : ndarray (layers, ny, nx)
        The observation values.
    curvelet : CurveletTransform
    embeddings : dict
        The observed-cell embeddings already built, keyed by ``np.packbits(valid)``; missing
        ones are added.
    settings : CurveletSettings
        sigma and the fill controls.
    gap_weight : float in (0, 1]
        W on land cells without an observation.
    scale : ndarray of int, optional
        The image-error variance class of every complex coefficient (its band with
        ``analysis.image_error_bands = "wedge"``); default its scale.

    Returns
    -------
    layers : list of ImageLayer
        ``cells`` all land cells of the layer, ``transform`` C E_land W^1/2 (so ``operator``
        is P C E_land W^1/2), ``observed`` C E_land W^1/2 y~ (``target`` P C E_land W^1/2 y~).
    land_embedding : HarmonicEmbedding
        E_land (its time counts in the analysis' embedding time).
    """
    n = grid.n_land
    land_embedding = HarmonicEmbedding(grid.land, curvelet.image_shape, settings.fill_sweeps,
                                       settings.exact_fill_cells, settings.fill_decay)
    ny, nx = grid.shape
    if scale is None:
        scale = curvelet.coefficient_scale  # shared by the layers
    layers = []
    for k, valid in enumerate(valid_masks):
        if not valid.any():
            continue
        key = np.packbits(valid).tobytes()
        if key not in embeddings:
            embeddings[key] = HarmonicEmbedding(valid, curvelet.image_shape, settings.fill_sweeps,
                                                settings.exact_fill_cells, settings.fill_decay)
        y = observation[k][valid]
        mean = float(np.mean(y))
        filled = embeddings[key].matvec(y - mean).reshape(curvelet.image_shape)[:ny, :nx] + mean
        completed = filled[grid.land]                       # y~ on every land cell
        completed[valid[grid.land]] = y                      # exactly y where observed
        sqrt_w = np.sqrt(np.where(valid[grid.land], 1.0, gap_weight))
        image = curvelet.matvec(land_embedding.matvec(completed - mean) + mean)
        fill = land_embedding @ Diagonal(sqrt_w)
        transform = curvelet @ fill
        observed_only = curvelet @ embeddings[key]  # the innovations, for the diagnostics
        layers.append(ImageLayer(cells=k * n + np.arange(n),
                                 selection=CoefficientSelection(image, settings.sigma),
                                 transform=transform, observed=transform.matvec(completed),
                                 scale=scale,
                                 innovation_cells=k * n + np.flatnonzero(valid[grid.land]),
                                 innovation_transform=observed_only,
                                 innovation_observed=observed_only.matvec(y), fill=fill))
    return layers, land_embedding
