"""State and parameters of N CoLM soil columns, with the column's total water.

Physics only (numpy and :mod:`landia.grid`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from landia.columns.aquifer import AQUIFER_INITIAL, AQUIFER_MAX, water_table_depth
from landia.columns.roots import land_cover_root_fractions
from landia.columns.soil import SoilParameters
from landia.columns.soilwater import POND_MAX, RHO_ICE, RHO_WATER
from landia.grid import colm_layer_thickness

#: Default initial relative saturation theta_liq / porosity of every layer.
INITIAL_SATURATION = 0.5
#: Default initial soil temperature (K).
INITIAL_SOIL_TEMPERATURE = 283.15


def layer_sum(a: np.ndarray) -> np.ndarray:
    """``a.sum(axis=1)`` of an (N, nlayer) array, bit for bit, in a third of the time.

    For a C-ordered array (a state's, as :class:`ColumnState` keeps them) numpy sums each
    short row with its pairwise kernel (one call per row, slow for 10 values); this adds
    whole layers, (N,) at a time, in that kernel's order: rows of fewer than 8 values in
    sequence from 0, rows of 8 to 128 into 8 partial sums ``r_k = a_k + a_{k+8} + ...``
    combined as ``((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))``, then the remainder in
    sequence, then added to 0. Longer rows and other memory orders take ``a.sum(axis=1)``.
    Checked bit for bit against numpy in the tests. The model step sums the water of every
    column four times a step (the budget residual): 0.076 against 0.226 ms a sum for the
    demo ensemble's 15,856 columns of 10 layers.
    """
    n = a.shape[1]
    if n > 128 or not a.flags.c_contiguous:  # numpy's order differs there (F order: in turn)
        return a.sum(axis=1)
    if n < 8:
        out = np.zeros(a.shape[0])
        for j in range(n):
            out += a[:, j]
        return out
    stop = n - n % 8
    r = [a[:, j] for j in range(8)]  # views; the first block's sums are new arrays
    if stop > 8:
        r = [x.copy() for x in r]
        for i in range(8, stop, 8):
            for j in range(8):
                r[j] += a[:, i + j]
    out = r[0] + r[1]
    out += r[2] + r[3]
    right = r[4] + r[5]
    right += r[6] + r[7]
    out += right
    for i in range(stop, n):
        out += a[:, i]
    out += 0.0  # numpy adds the kernel's sum to the identity: a row of -0.0 sums to +0.0
    return out


@dataclass(frozen=True)
class ColumnParameters:
    """Fixed properties of N columns.

    Attributes
    ----------
    soil : SoilParameters
        Clapp-Hornberger parameters per column and layer.
    root_fraction : ndarray, shape (N, nlayer)
        Root fraction per layer, >= 0, summing to 1 (or all 0: no roots, e.g. bare soil).
    land_cover : tuple of str, length N
        Land-cover name per column (keys of :data:`landia.columns.roots.LAND_COVER_ROOTS`,
        or any label when the root fractions are given directly).
    """

    soil: SoilParameters
    root_fraction: np.ndarray
    land_cover: tuple = field(default=())

    def __post_init__(self) -> None:
        n, nl = self.soil.n_columns, self.soil.n_layers
        roots = np.ascontiguousarray(self.root_fraction, dtype=float)
        if roots.shape != (n, nl):
            raise ValueError(f"root_fraction: expected shape {(n, nl)}; got {roots.shape}")
        sums = roots.sum(axis=1)
        if np.any(~np.isfinite(roots)) or np.any(roots < 0) or not np.all(
            (np.abs(sums - 1.0) < 1e-9) | (sums == 0.0)
        ):
            raise ValueError("root_fraction: expected values >= 0 summing to 1 (or all 0) per column")
        object.__setattr__(self, "root_fraction", roots)
        cover = tuple(self.land_cover) if self.land_cover else ("unspecified",) * n
        if len(cover) != n:
            raise ValueError(f"land_cover: expected {n} names; got {len(cover)}")
        object.__setattr__(self, "land_cover", cover)
        # Asked for twice per model step: made once (the parameters are fixed), read-only.
        has_roots = sums > 0.0
        has_roots.setflags(write=False)
        object.__setattr__(self, "_has_roots", has_roots)

    @property
    def n_columns(self) -> int:
        return self.soil.n_columns

    @property
    def has_roots(self) -> np.ndarray:
        """(N,) bool, read-only: whether the column has roots (can transpire)."""
        return self._has_roots

    @classmethod
    def from_land_cover(cls, soil: SoilParameters, land_cover) -> ColumnParameters:
        """Parameters with the Schenk and Jackson root fractions of each column's land cover."""
        names = (land_cover,) * soil.n_columns if isinstance(land_cover, str) else tuple(land_cover)
        return cls(soil=soil, root_fraction=land_cover_root_fractions(names), land_cover=names)


@dataclass(frozen=True)
class ColumnState:
    """Prognostic state of N columns (all water in mm = kg m-2).

    Attributes
    ----------
    w_liq, w_ice : ndarray, shape (N, nlayer)
        Liquid water and ice per layer (mm); theta_liq = w_liq / (1000 dz),
        theta_ice = w_ice / (917 dz), and theta_liq + theta_ice <= porosity.
    t_soil : ndarray, shape (N, nlayer)
        Soil temperature (K).
    pond : ndarray, shape (N,)
        Water ponding on the surface (mm), in [0, 10].
    snow : ndarray, shape (N,)
        Snow water equivalent (mm), >= 0.
    wa : ndarray, shape (N,)
        Aquifer store (mm), in [0, 5000].
    z_wt : ndarray, shape (N,)
        Water-table depth (m), in [0, 80]; derived from ``wa``
        (:func:`landia.columns.aquifer.water_table_depth`) and kept with it.
    """

    w_liq: np.ndarray
    w_ice: np.ndarray
    t_soil: np.ndarray
    pond: np.ndarray
    snow: np.ndarray
    wa: np.ndarray
    z_wt: np.ndarray

    def __post_init__(self) -> None:
        w_liq = np.ascontiguousarray(self.w_liq, dtype=float)
        if w_liq.ndim != 2:
            raise ValueError(f"w_liq: expected shape (N, nlayer); got {w_liq.shape}")
        n = w_liq.shape[0]
        object.__setattr__(self, "w_liq", w_liq)
        for name in ("w_ice", "t_soil"):
            arr = np.ascontiguousarray(getattr(self, name), dtype=float)
            if arr.shape != w_liq.shape:
                raise ValueError(f"{name}: expected shape {w_liq.shape} like w_liq; got {arr.shape}")
            object.__setattr__(self, name, arr)
        for name in ("pond", "snow", "wa", "z_wt"):
            arr = np.ascontiguousarray(getattr(self, name), dtype=float)
            if arr.shape != (n,):
                raise ValueError(f"{name}: expected shape ({n},); got {arr.shape}")
            object.__setattr__(self, name, arr)
        # Each field's least and greatest value, in two reductions: NaN propagates to both
        # and an infinity is one of them, so they also tell whether every value is finite.
        lo, hi = {}, {}
        for name in ("w_liq", "w_ice", "t_soil", "pond", "snow", "wa", "z_wt"):
            a = getattr(self, name)
            lo[name], hi[name] = (a.min(), a.max()) if a.size else (0.0, 0.0)
            if not (np.isfinite(lo[name]) and np.isfinite(hi[name])):
                raise ValueError(f"{name}: expected finite values; found NaN or inf")
        checks = (
            ("w_liq", lo["w_liq"] >= 0, ">= 0 mm"),
            ("w_ice", lo["w_ice"] >= 0, ">= 0 mm"),
            ("t_soil", lo["t_soil"] > 0, "> 0 K"),
            ("pond", lo["pond"] >= 0 and hi["pond"] <= POND_MAX * (1 + 1e-12), f"in [0, {POND_MAX:g}] mm"),
            ("snow", lo["snow"] >= 0, ">= 0 mm"),
            ("wa", lo["wa"] >= 0 and hi["wa"] <= AQUIFER_MAX * (1 + 1e-12), f"in [0, {AQUIFER_MAX:g}] mm"),
            ("z_wt", lo["z_wt"] >= 0 and hi["z_wt"] <= 80.0, "in [0, 80] m"),
        )
        for name, ok, expected in checks:
            if not ok:
                raise ValueError(f"{name}: expected values {expected}")

    @property
    def n_columns(self) -> int:
        return self.w_liq.shape[0]

    def total_water(self) -> np.ndarray:
        """Water held by each column (mm): soil liquid + ice, pond, snow and aquifer."""
        return layer_sum(self.w_liq) + layer_sum(self.w_ice) + self.pond + self.snow + self.wa

    def volumetric(self, layers: int | None = None, dz: np.ndarray | None = None) -> np.ndarray:
        r"""Volumetric soil moisture, liquid + ice, of the top ``layers`` (default all), m3 m-3.

        .. math:: \theta_j = \frac{w_{liq,j}}{\rho_w \Delta z_j}
                            + \frac{w_{ice,j}}{\rho_i \Delta z_j}

        with the CoLM layer thicknesses (or ``dz``, m); shape (N, layers).
        """
        nl = self.w_liq.shape[1]
        layers = nl if layers is None else layers
        dz = colm_layer_thickness(nl) if dz is None else np.asarray(dz, float)
        dz = dz[:layers]
        return (self.w_liq[:, :layers] / (RHO_WATER * dz)
                + self.w_ice[:, :layers] / (RHO_ICE * dz))

    def check_soil_bounds(self, soil: SoilParameters, dz: np.ndarray | None = None) -> None:
        """Raise ``ValueError`` where theta_liq + theta_ice exceeds the porosity of a layer."""
        theta = self.volumetric(dz=dz)
        if np.any(theta > soil.porosity * (1 + 1e-12) + 1e-15):
            raise ValueError("w_liq, w_ice: expected theta_liq + theta_ice <= porosity in every layer")

    def replace(self, **changes) -> ColumnState:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    @classmethod
    def default(
        cls,
        soil: SoilParameters,
        saturation: float = INITIAL_SATURATION,
        t_soil: float = INITIAL_SOIL_TEMPERATURE,
        dz: np.ndarray | None = None,
    ) -> ColumnState:
        """The documented default initial state.

        Every layer liquid at ``saturation`` x porosity (default 0.5), no ice, soil at
        ``t_soil`` (default 283.15 K), no pond, no snow, the aquifer at CoLM's cold-start
        4800 mm and the water table it implies (4.43 m below the surface).
        """
        if not 0.0 <= saturation <= 1.0:
            raise ValueError(f"saturation: expected a value in [0, 1]; got {saturation}")
        n, nl = soil.n_columns, soil.n_layers
        dz = colm_layer_thickness(nl) if dz is None else np.asarray(dz, float)
        wa = np.full(n, AQUIFER_INITIAL)
        return cls(
            w_liq=saturation * soil.porosity * RHO_WATER * dz,
            w_ice=np.zeros((n, nl)),
            t_soil=np.full((n, nl), float(t_soil)),
            pond=np.zeros(n),
            snow=np.zeros(n),
            wa=wa,
            z_wt=water_table_depth(wa),
        )
