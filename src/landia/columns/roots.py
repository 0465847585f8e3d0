"""Root fractions per soil layer from the Schenk and Jackson (2002) logistic root profile.

Physics only (numpy and :mod:`landia.grid`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from landia.grid import N_SOIL_LAYERS, colm_interface_depths


@dataclass(frozen=True)
class RootProfile:
    """Shape of the root profile of a land-cover type.

    Attributes
    ----------
    d50 : float
        Depth (cm) above which half of the roots lie; 0 for a land cover without roots.
    beta : float
        Shape exponent (> 0) of the cumulative profile: larger means sharper around d50.
    """

    d50: float
    beta: float


#: Root profiles per land-cover type. The form is that of Schenk and Jackson (2002, Ecological
#: Monographs 72, 311-328); the values are APPROXIMATE, chosen within the ranges of the
#: vegetation-type medians those authors report (d50 of roughly 5-15 cm for grasslands and
#: croplands, 15-30 cm for shrublands and forests, with shape exponents near 1.5-2.5). They
#: are not copied from the paper's tables and should be checked against them before the
#: model is used for quantitative work. ``bare_soil`` has no roots (no transpiration).
LAND_COVER_ROOTS: dict[str, RootProfile] = {
    "grassland": RootProfile(d50=10.0, beta=1.5),
    "cropland": RootProfile(d50=12.0, beta=1.6),
    "shrubland": RootProfile(d50=20.0, beta=1.6),
    "deciduous_forest": RootProfile(d50=18.0, beta=1.8),
    "evergreen_forest": RootProfile(d50=20.0, beta=1.9),
    "bare_soil": RootProfile(d50=0.0, beta=1.0),
}


def root_fractions(
    d50: np.ndarray | float,
    beta: np.ndarray | float,
    interfaces: np.ndarray | None = None,
) -> np.ndarray:
    """Fraction of the roots in each soil layer, summing to 1 over the layers.

    Parameters
    ----------
    d50 : array_like, shape (N,) or scalar
        Depth (cm) above which half of the roots lie; ``d50 == 0`` means no roots (the
        fractions of that column are all zero).
    beta : array_like, shape (N,) or scalar
        Shape exponent, > 0.
    interfaces : ndarray, shape (nlayer,), optional
        Depths (m) of the bottom interface of each layer; default CoLM's 10 layers
        (:func:`landia.grid.colm_interface_depths`).

    Returns
    -------
    fractions : ndarray, shape (N, nlayer)
        Root fraction per layer, >= 0, summing to 1 per column (0 for rootless columns).

    Notes
    -----
    With the share of the roots below depth z (m)

    .. math:: Y(z) = \\frac{1}{1 + (100 z / d_{50})^{\\beta}}

    the fraction in layer j is :math:`Y(z_{i,j-1}) - Y(z_{i,j})` (interfaces
    :math:`z_{i,0} = 0`, Y(0) = 1), and the fractions are divided by their sum so that the
    roots below the column (3.43 m) are shared among the layers in proportion.
    """
    zi = colm_interface_depths(N_SOIL_LAYERS) if interfaces is None else np.asarray(interfaces, float)
    d50 = np.atleast_1d(np.asarray(d50, dtype=float))
    beta = np.broadcast_to(np.atleast_1d(np.asarray(beta, dtype=float)), d50.shape)
    if d50.ndim != 1:
        raise ValueError(f"d50: expected a scalar or shape (N,); got {d50.shape}")
    if np.any(~np.isfinite(d50)) or np.any(d50 < 0):
        raise ValueError("d50: expected finite depths >= 0 cm (0 = no roots)")
    if np.any(~np.isfinite(beta)) or np.any(beta <= 0):
        raise ValueError("beta: expected finite shape exponents > 0")
    rooted = d50 > 0
    out = np.zeros((d50.size, zi.size))
    if np.any(rooted):
        depth_cm = 100.0 * np.concatenate(([0.0], zi))
        ratio = depth_cm[None, :] / d50[rooted, None]
        below = 1.0 / (1.0 + ratio ** beta[rooted, None])
        frac = below[:, :-1] - below[:, 1:]
        out[rooted] = frac / frac.sum(axis=1, keepdims=True)
    return out


def land_cover_root_fractions(land_cover, interfaces: np.ndarray | None = None) -> np.ndarray:
    """Root fractions (N, nlayer) for a sequence of land-cover names of ``LAND_COVER_ROOTS``."""
    names = [land_cover] if isinstance(land_cover, str) else list(land_cover)
    unknown = sorted({n for n in names if n not in LAND_COVER_ROOTS})
    if unknown:
        raise ValueError(f"land cover: unknown {unknown}; expected one of {sorted(LAND_COVER_ROOTS)}")
    d50 = np.array([LAND_COVER_ROOTS[n].d50 for n in names])
    beta = np.array([LAND_COVER_ROOTS[n].beta for n in names])
    return root_fractions(d50, beta, interfaces)
