"""Conservative (area-weighted, first-order) regridding of product fields to the model grid.

A target cell takes the area-weighted mean of the *valid* parts of the source cells it
overlaps. Cells are latitude/longitude rectangles on the sphere, of area

.. math:: a = R^2 \\, \\Delta\\lambda \\, (\\sin\\varphi_2 - \\sin\\varphi_1),

so the overlap area of a source cell :math:`(i, j)` (row, column) with a target cell
:math:`(t, u)` factorises into a latitude part and a longitude part,

.. math:: w_{tu,ij} = R^2 \\, A^{\\varphi}_{ti} \\, A^{\\lambda}_{uj}, \\qquad
   A^{\\varphi}_{ti} = |[\\sin\\varphi] \\text{ overlap of rows } t, i|, \\quad
   A^{\\lambda}_{uj} = |\\text{overlap of columns } u, j \\text{ (radians, modulo } 2\\pi)|.

With :math:`m` the source valid mask (finite, not masked, not the fill value) the regridded
field is, per layer,

.. math:: \\bar v = \\frac{A^{\\varphi} (v \\circ m) A^{\\lambda\\,T}}
                         {A^{\\varphi} \\, m \\, A^{\\lambda\\,T}},

which honours masks and fill values exactly. The two sparse overlap matrices are built once
(:class:`Regridder`) and reused for every time of a product. Arithmetic only: no I/O here.

Cell edges
    Midpoints between neighbouring centres, half a spacing beyond the end centres (the
    spacing of the last pair, so rectilinear grids such as SMAP's EASE-Grid 2.0 rows are
    exact), latitudes clipped to +-90. Latitudes may run either way; longitudes in -180..180
    or 0..360 (source and target need not agree; a target box may cross the source's seam).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from landia.errors import InputError
from landia.grid import LatLonGrid
from landia.observations.product import ProductField

#: Sub-intervals shorter than this (degrees) are rounding slivers between edges that are the
#: same up to round-off (e.g. a target edge 23 + 1.4 k against a midpoint of centres); they are
#: dropped so that an identity regrid is exact.
_SLIVER_DEG = 1e-9

#: Tolerance on fraction comparisons (a half-masked cell has fraction 0.5 up to round-off).
_FRACTION_TOL = 1e-9

ERROR_MODELS = ("mean", "independent")


def cell_edges(centres: np.ndarray, name: str = "coordinate") -> np.ndarray:
    """Cell edges of 1-D centres: midpoints inside, half a spacing beyond the ends.

    Parameters
    ----------
    centres : ndarray (n,)
        Strictly monotonic cell centres, degrees (either direction), n >= 2.
    name : str
        Used in error messages.

    Returns
    -------
    ndarray (n + 1,)
        Edges in the same direction as ``centres``:
        :math:`e_0 = c_0 - (c_1 - c_0)/2`, :math:`e_k = (c_{k-1} + c_k)/2`,
        :math:`e_n = c_{n-1} + (c_{n-1} - c_{n-2})/2`. Latitude edges must then be clipped
        to +-90 by the caller (:func:`lat_edges`).
    """
    c = np.asarray(centres, dtype=float)
    if c.ndim != 1 or c.size < 2:
        raise InputError(f"regrid: {name} centres must be 1-D with at least 2 values (the "
                         f"edges come from the spacing); got shape {c.shape}")
    if not np.all(np.isfinite(c)):
        raise InputError(f"regrid: {name} centres have non-finite values")
    d = np.diff(c)
    if not (np.all(d > 0) or np.all(d < 0)):
        raise InputError(f"regrid: {name} centres must be strictly monotonic")
    e = np.empty(c.size + 1)
    e[1:-1] = 0.5 * (c[:-1] + c[1:])
    e[0] = c[0] - 0.5 * d[0]
    e[-1] = c[-1] + 0.5 * d[-1]
    return e


def lat_edges(lat: np.ndarray) -> np.ndarray:
    """Latitude edges (:func:`cell_edges`) clipped to [-90, 90] degrees."""
    lat = np.asarray(lat, dtype=float)
    if np.any(np.abs(lat) > 90):
        raise InputError(f"regrid: latitudes must lie within [-90, 90]; found "
                         f"{lat.min():g}..{lat.max():g}")
    return np.clip(cell_edges(lat, "latitude"), -90.0, 90.0)


def _overlap(src: np.ndarray, tgt: np.ndarray, measure=None) -> sparse.csr_matrix:
    """Overlap matrix (n_tgt, n_src) of two increasing sequences of contiguous intervals.

    Entry (t, s) is ``measure(b) - measure(a)`` over the common part [a, b] of target
    interval t and source interval s (``measure`` defaults to the identity: the length).
    Built by merging the two edge sets: O(n_src + n_tgt).
    """
    lo, hi = max(src[0], tgt[0]), min(src[-1], tgt[-1])
    shape = (tgt.size - 1, src.size - 1)
    if hi - lo <= _SLIVER_DEG:
        return sparse.csr_matrix(shape)
    inner = np.union1d(src[(src > lo) & (src < hi)], tgt[(tgt > lo) & (tgt < hi)])
    pts = np.concatenate(([lo], inner, [hi]))
    # drop slivers: merge points closer than _SLIVER_DEG to their predecessor
    keep = np.concatenate(([True], np.diff(pts) > _SLIVER_DEG))
    pts = pts[keep]
    if pts[-1] != hi:
        pts[-1] = hi
    if pts.size < 2:
        return sparse.csr_matrix(shape)
    mid = 0.5 * (pts[1:] + pts[:-1])
    si = np.searchsorted(src, mid, side="right") - 1
    ti = np.searchsorted(tgt, mid, side="right") - 1
    w = np.diff(pts) if measure is None else np.diff(measure(pts))
    return sparse.csr_matrix((w, (ti, si)), shape=shape)


def _sin_deg(x: np.ndarray) -> np.ndarray:
    return np.sin(np.deg2rad(x))


def lat_overlap(src_lat: np.ndarray, tgt_lat: np.ndarray) -> sparse.csr_matrix:
    """Latitude overlap matrix in :math:`\\sin\\varphi` (n_tgt, n_src), rows/columns in the
    given orders of ``tgt_lat`` and ``src_lat`` (either may run north to south)."""
    se, te = lat_edges(src_lat), lat_edges(tgt_lat)
    s_desc, t_desc = se[0] > se[-1], te[0] > te[-1]
    a = _overlap(se[::-1] if s_desc else se, te[::-1] if t_desc else te, _sin_deg)
    if s_desc:
        a = a[:, ::-1]
    if t_desc:
        a = a[::-1, :]
    return sparse.csr_matrix(a)


def lon_overlap(src_lon: np.ndarray, tgt_lon: np.ndarray) -> sparse.csr_matrix:
    """Longitude overlap matrix in radians (n_tgt, n_src), periodic modulo 360 degrees.

    The source edges are shifted by every multiple of 360 degrees that meets the target
    range and the overlaps summed, so source and target may use different conventions
    (-180..180, 0..360) and a target box may cross the source's seam. A source wider than
    360 degrees would count some area twice and is refused.
    """
    se, te = cell_edges(src_lon, "source longitude"), cell_edges(tgt_lon, "target longitude")
    if se[0] > se[-1] or te[0] > te[-1]:
        raise InputError("regrid: longitudes must be strictly increasing")
    for name, e in (("source", se), ("target", te)):
        if e[-1] - e[0] > 360.0 + 1e-6:
            raise InputError(f"regrid: {name} longitude cells span {e[-1] - e[0]:g} degrees; "
                             f"expected at most 360")
    k0 = int(np.floor((te[0] - se[-1]) / 360.0))
    k1 = int(np.ceil((te[-1] - se[0]) / 360.0))
    a = sparse.csr_matrix((te.size - 1, se.size - 1))
    for k in range(k0, k1 + 1):
        a = a + _overlap(se + 360.0 * k, te)
    return sparse.csr_matrix(np.deg2rad(1.0) * a)


@dataclass
class RegridResult:
    """Regridded values and how much of each target cell they rest on.

    Attributes
    ----------
    values : ndarray (nlayer, ny, nx)
        Area-weighted mean of the valid source area, m3 m-3; NaN where rejected.
    error_variance : ndarray (nlayer, ny, nx) or None
        Regridded error variance, (m3 m-3)^2 (see :meth:`Regridder.apply`).
    valid_fraction : ndarray (nlayer, ny, nx)
        Valid source area / target-cell area covered by the source grid (NaN where not
        covered).
    covered_fraction : ndarray (ny, nx)
        Target-cell area covered by the source grid / target-cell area.
    rejected : dict[str, int]
        Target land cell-layers set to NaN, by reason: ``outside_source`` (not covered by
        the source grid at all), ``too_little_valid_area`` (covered, but valid fraction below
        ``min_valid_fraction``, including no valid value).
    """

    values: np.ndarray
    error_variance: np.ndarray | None
    valid_fraction: np.ndarray
    covered_fraction: np.ndarray
    rejected: dict = field(default_factory=dict)


class Regridder:
    """Conservative regridding from one source lat/lon grid to a target :class:`LatLonGrid`.

    Parameters
    ----------
    src_lat, src_lon : ndarray
        Source cell centres, degrees; regular or rectilinear, at least 2 each.
    target : LatLonGrid
        Target grid; its land mask decides which cells are counted in ``rejected``.

    Notes
    -----
    Only the source rows and columns that meet the target are touched by :meth:`apply`.
    """

    def __init__(self, src_lat: np.ndarray, src_lon: np.ndarray, target: LatLonGrid):
        self.src_shape = (np.size(src_lat), np.size(src_lon))
        self.target = target
        a_lat = lat_overlap(src_lat, target.lat)
        a_lon = lon_overlap(src_lon, target.lon)
        # keep only the source rows/columns that meet the target
        self._rows = np.flatnonzero(np.asarray(abs(a_lat).sum(axis=0)).ravel() > 0)
        self._cols = np.flatnonzero(np.asarray(abs(a_lon).sum(axis=0)).ravel() > 0)
        self.a_lat = sparse.csr_matrix(a_lat[:, self._rows])
        self.a_lon = sparse.csr_matrix(a_lon[:, self._cols])
        self.a_lat2 = self.a_lat.multiply(self.a_lat).tocsr()
        self.a_lon2 = self.a_lon.multiply(self.a_lon).tocsr()
        te_lat, te_lon = lat_edges(target.lat), cell_edges(target.lon, "target longitude")
        cell_area = (np.abs(np.diff(_sin_deg(te_lat)))[:, None]
                     * np.deg2rad(np.diff(te_lon))[None, :])          # / R^2
        covered = (np.asarray(self.a_lat.sum(axis=1)).ravel()[:, None]
                   * np.asarray(self.a_lon.sum(axis=1)).ravel()[None, :])
        self.covered_area = covered
        self.covered_fraction = np.minimum(covered / cell_area, 1.0)

    def _sum(self, x: np.ndarray, squared: bool = False) -> np.ndarray:
        """:math:`A^\\varphi x A^{\\lambda T}` of a (ny_sub, nx_sub) array (squared weights
        when ``squared``)."""
        a, b = (self.a_lat2, self.a_lon2) if squared else (self.a_lat, self.a_lon)
        if self._rows.size == 0 or self._cols.size == 0:
            return np.zeros(self.target.shape)
        return np.asarray(b @ np.asarray(a @ x).T).T

    def apply(self, values, valid=None, fill_value=None, error_variance=None,
              min_valid_fraction: float = 0.5, error_model: str = "mean") -> RegridResult:
        """Regrid a (nlayer, ny, nx) or (ny, nx) field.

        Parameters
        ----------
        values : array or masked array
            Source values on (src_lat, src_lon); NaN, masked entries and ``fill_value`` are
            missing.
        valid : bool array broadcastable to ``values``, optional
            Extra source mask, True where a value may be used.
        fill_value : float, optional
            A fill value to treat as missing (for raw arrays).
        error_variance : array like ``values``, optional
            Source error variance, (m3 m-3)^2; used where it and the value are valid.
        min_valid_fraction : float
            Target cells whose valid fraction is below this are set to NaN (default 0.5).
        error_model : ``"mean"`` or ``"independent"``
            ``"mean"`` (default): area-weighted mean of the variances,
            :math:`\\sum w_i \\sigma_i^2 / \\sum w_i`; keeps the per-observation
            (representativeness-dominated) error level, as operational practice does.
            ``"independent"``: variance of the area-weighted mean with independent source
            errors, :math:`\\sum w_i^2 \\sigma_i^2 / (\\sum w_i)^2`; with n equal cells this
            is :math:`\\sigma^2/n`, i.e. it *shrinks* the variance, which overstates the
            information when source errors are correlated. Separable too, since
            :math:`w_{tu,ij}^2 = (A^\\varphi_{ti})^2 (A^\\lambda_{uj})^2`.

        Returns
        -------
        RegridResult
        """
        if error_model not in ERROR_MODELS:
            raise InputError(f"regrid: error_model must be one of {ERROR_MODELS}; got "
                             f"{error_model!r}")
        if not 0.0 <= min_valid_fraction <= 1.0:
            raise InputError(f"regrid: min_valid_fraction must be in [0, 1]; got "
                             f"{min_valid_fraction}")
        mask = np.ma.getmaskarray(values) if np.ma.isMaskedArray(values) else None
        v = np.asarray(np.ma.getdata(values), dtype=float)
        squeeze = v.ndim == 2
        if squeeze:
            v = v[None]
        if v.ndim != 3 or v.shape[1:] != self.src_shape:
            raise InputError(f"regrid: values have shape {np.shape(values)}; expected "
                             f"(nlayer, {self.src_shape[0]}, {self.src_shape[1]}) on the "
                             f"source grid")
        ix = np.ix_(self._rows, self._cols)
        sub = v[(slice(None),) + ix]
        ok = np.isfinite(sub)
        if mask is not None:
            ok &= ~np.broadcast_to(mask.reshape((1,) * (3 - mask.ndim) + mask.shape),
                                   v.shape)[(slice(None),) + ix]
        if valid is not None:
            val = np.asarray(valid, dtype=bool)
            try:
                val = np.broadcast_to(val, v.shape)
            except ValueError:
                raise InputError(f"regrid: valid mask shape {val.shape} does not match "
                                 f"values {v.shape}") from None
            ok &= val[(slice(None),) + ix]
        if fill_value is not None:
            ok &= sub != fill_value
        ev = None
        if error_variance is not None:
            ev = np.asarray(np.ma.filled(error_variance, np.nan) if np.ma.isMaskedArray(
                error_variance) else error_variance, dtype=float)
            if ev.ndim == 2:
                ev = ev[None]
            if ev.shape != v.shape:
                raise InputError(f"regrid: error variance shape {ev.shape} differs from "
                                 f"values {v.shape}")
            ev = ev[(slice(None),) + ix]

        nl = v.shape[0]
        ny, nx = self.target.shape
        out = np.full((nl, ny, nx), np.nan)
        frac = np.full((nl, ny, nx), np.nan)
        out_ev = None if ev is None else np.full((nl, ny, nx), np.nan)
        covered = self.covered_area > 0
        land = self.target.land
        rejected = {"outside_source": 0, "too_little_valid_area": 0}
        for k in range(nl):
            m = ok[k].astype(float)
            num = self._sum(np.where(ok[k], sub[k], 0.0))
            den = self._sum(m)
            with np.errstate(invalid="ignore", divide="ignore"):
                f = np.where(covered, den / np.where(covered, self.covered_area, 1.0), np.nan)
                f = np.minimum(f, 1.0)
                good = covered & (den > 0) & (f >= min_valid_fraction - _FRACTION_TOL)
                out[k] = np.where(good, num / np.where(den > 0, den, 1.0), np.nan)
            frac[k] = f
            rejected["outside_source"] += int((~covered & land).sum())
            rejected["too_little_valid_area"] += int((covered & ~good & land).sum())
            if ev is not None:
                okv = ok[k] & np.isfinite(ev[k])
                e = np.where(okv, ev[k], 0.0)
                with np.errstate(invalid="ignore", divide="ignore"):
                    if error_model == "mean":
                        dv = self._sum(okv.astype(float))
                        r = self._sum(e) / dv
                    else:
                        dv = self._sum(okv.astype(float))
                        r = self._sum(e, squared=True) / dv ** 2
                out_ev[k] = np.where(good & (dv > 0), r, np.nan)
        if squeeze:
            out, frac = out[0], frac[0]
            out_ev = None if out_ev is None else out_ev[0]
        return RegridResult(values=out, error_variance=out_ev, valid_fraction=frac,
                            covered_fraction=self.covered_fraction, rejected=rejected)


def regrid(values, lat, lon, target: LatLonGrid, **kwargs) -> RegridResult:
    """Regrid one (nlayer, ny, nx) array on centres ``lat``, ``lon`` to ``target``.

    Builds a :class:`Regridder` and calls :meth:`Regridder.apply` with ``kwargs``; build a
    :class:`Regridder` once instead when many times share a grid.
    """
    return Regridder(lat, lon, target).apply(values, **kwargs)


def regrid_field(field_: ProductField, target: LatLonGrid, regridder: Regridder | None = None,
                 **kwargs) -> tuple[ProductField, RegridResult]:
    """Regrid a :class:`ProductField` (values and error variance) to ``target``.

    Returns the field on the target grid, its ``rejected`` counts extended by the
    regridding's (``regrid_outside_source``, ``regrid_too_little_valid_area``), and the
    :class:`RegridResult` with the fractions.
    """
    rg = regridder if regridder is not None else Regridder(field_.lat, field_.lon, target)
    if rg.src_shape != field_.values.shape[1:]:
        raise InputError(f"{field_.source}: field grid {field_.values.shape[1:]} differs from "
                         f"the regridder's source grid {rg.src_shape}")
    res = rg.apply(field_.values, error_variance=field_.error_variance, **kwargs)
    rejected = dict(field_.rejected)
    for key, n in res.rejected.items():
        rejected[f"regrid_{key}"] = rejected.get(f"regrid_{key}", 0) + n
    out = ProductField(time=field_.time, lat=target.lat, lon=target.lon, values=res.values,
                       layer_top=field_.layer_top, layer_bottom=field_.layer_bottom,
                       error_variance=res.error_variance, rejected=rejected,
                       source=field_.source, product=field_.product, period=field_.period)
    return out, res
