"""Soil hydraulic parameters of CoLM columns: Clapp-Hornberger (Cosby 1984) or van
Genuchten-Mualem (from the same texture)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from landia.grid import N_SOIL_LAYERS

#: Seconds per day, for the Cosby k_sat given in cm/day.
_SECONDS_PER_DAY = 86400.0
#: The two hydraulic models: Clapp and Hornberger (1978), van Genuchten (1980)-Mualem (1976).
HYDRAULICS = ("clapp_hornberger", "van_genuchten")
#: Residual water content as a fraction of porosity in :meth:`SoilParameters.from_sand_clay`
#: (van Genuchten): 0.15 gives theta_r = 0.056-0.073 m3 m-3 for the Cosby porosities, inside
#: the 0.034-0.100 m3 m-3 of the texture-class means of Carsel and Parrish (1988).
RESIDUAL_FRACTION = 0.15
_VG_FIELDS = ("theta_r", "vg_alpha", "vg_n")
#: Lowest matric potential (mm).
PSI_MIN = -1.0e8
#: Lowest saturation used in the retention curve.
S_MIN = 0.01
#: Liquid water content at or below which a layer conducts no water (m3 m-3).
THETA_LIQ_MIN = 1.0e-3


def clapp_hornberger_potential(theta, porosity, psi_sat, b) -> np.ndarray:
    r"""Clapp-Hornberger matric potential (mm) of volumetric liquid water ``theta`` (m3 m-3).

    .. math:: \psi = \max\big(\psi_{min},\ \psi_{sat}\, s^{-b}\big), \qquad
              s = \mathrm{clip}(\theta / \theta_{sat},\ s_{min},\ 1)

    with :data:`PSI_MIN` and :data:`S_MIN`; arrays broadcast. The surface's humidity and the
    roots' water stress take it; the soil-water step computes the same curve in place as
    :math:`\exp(-b \ln s)` (equal to within round-off, not bit for bit).
    """
    s = np.clip(theta / porosity, S_MIN, 1.0)
    return np.maximum(PSI_MIN, psi_sat * s ** (-np.asarray(b)))


def _check_range(name: str, value: np.ndarray, low: float, high: float, unit: str) -> None:
    if not np.all(np.isfinite(value)):
        raise ValueError(f"{name}: expected finite values in [{low}, {high}] {unit}; found NaN or inf")
    if np.any(value < low) or np.any(value > high):
        raise ValueError(
            f"{name}: expected values in [{low}, {high}] {unit}; "
            f"found min {np.min(value):g}, max {np.max(value):g}"
        )


@dataclass(frozen=True)
class SoilParameters:
    """Hydraulic parameters of N soil columns, per layer: Clapp-Hornberger, or van
    Genuchten-Mualem where ``theta_r``, ``vg_alpha`` and ``vg_n`` are given.

    Parameters
    ----------
    porosity : ndarray, shape (N, nlayer)
        Volumetric water content at saturation theta_sat (m3 m-3), in (0, 1].
    psi_sat : ndarray, shape (N, nlayer)
        Matric potential at saturation (mm of water), negative.
    b : ndarray, shape (N, nlayer)
        Clapp-Hornberger exponent (dimensionless), positive.
    k_sat : ndarray, shape (N, nlayer)
        Hydraulic conductivity at saturation (mm s-1), positive; K_s of both models.
    theta_r : ndarray, shape (N, nlayer), optional
        Van Genuchten residual water content (m3 m-3), in [0, porosity). None (default):
        Clapp-Hornberger hydraulics; ``vg_alpha`` and ``vg_n`` must then be None too.
    vg_alpha : ndarray, shape (N, nlayer), optional
        Van Genuchten alpha (mm-1), positive: the inverse of a characteristic suction.
    vg_n : ndarray, shape (N, nlayer), optional
        Van Genuchten n (dimensionless), > 1; m = 1 - 1/n.

    Notes
    -----
    Clapp and Hornberger (1978) retention and conductivity, with s = theta / theta_sat:

    .. math:: \\psi = \\psi_{sat} s^{-b}, \\qquad K = k_{sat} s^{2b+3}

    Van Genuchten (1980) retention with Mualem's (1976) conductivity, with
    :math:`S_e = (\\theta - \\theta_r) / (\\theta_{sat} - \\theta_r)` and m = 1 - 1/n
    (:mod:`landia.columns.van_genuchten`):

    .. math::
        \\psi = -\\frac{(S_e^{-1/m} - 1)^{1/n}}{\\alpha}, \\qquad
        K = k_{sat} S_e^{1/2} \\big(1 - (1 - S_e^{1/m})^m\\big)^2

    ``psi_sat`` and ``b`` are kept with van Genuchten hydraulics (the texture's Clapp-Hornberger
    values), but the soil-water physics then does not use them.

    The arrays are stored as float64, C-contiguous, and validated on construction; a
    ``ValueError`` names the offending parameter and the expected range.
    """

    porosity: np.ndarray
    psi_sat: np.ndarray
    b: np.ndarray
    k_sat: np.ndarray
    theta_r: np.ndarray | None = None
    vg_alpha: np.ndarray | None = None
    vg_n: np.ndarray | None = None

    def __post_init__(self) -> None:
        given = [getattr(self, n) is not None for n in _VG_FIELDS]
        if any(given) and not all(given):
            missing = [n for n, g in zip(_VG_FIELDS, given) if not g]
            raise ValueError(f"{', '.join(missing)}: expected theta_r, vg_alpha and vg_n all "
                             f"given (van Genuchten) or all None (Clapp-Hornberger)")
        names = ("porosity", "psi_sat", "b", "k_sat") + (_VG_FIELDS if all(given) else ())
        arrays = {n: np.ascontiguousarray(getattr(self, n), dtype=float) for n in names}
        shape = arrays["porosity"].shape
        if len(shape) != 2:
            raise ValueError(f"porosity: expected a 2-D array (N columns, nlayer); got shape {shape}")
        for n in names:
            if arrays[n].shape != shape:
                raise ValueError(f"{n}: expected shape {shape} like porosity; got {arrays[n].shape}")
            object.__setattr__(self, n, arrays[n])
        _check_range("porosity", self.porosity, 1e-3, 1.0, "m3 m-3")
        _check_range("psi_sat", self.psi_sat, -1e5, -1e-3, "mm (negative)")
        _check_range("b", self.b, 0.1, 50.0, "(dimensionless)")
        _check_range("k_sat", self.k_sat, 1e-12, 10.0, "mm s-1")
        if all(given):
            _check_range("theta_r", self.theta_r, 0.0, 1.0, "m3 m-3")
            if np.any(self.theta_r >= self.porosity):
                raise ValueError(
                    "theta_r: expected a residual water content below porosity; found "
                    f"max theta_r - porosity {np.max(self.theta_r - self.porosity):g} m3 m-3")
            _check_range("vg_alpha", self.vg_alpha, 1e-6, 10.0, "mm-1")
            if not np.all(self.vg_n > 1.0):
                raise ValueError(f"vg_n: expected values > 1 (m = 1 - 1/n > 0); found min "
                                 f"{np.min(self.vg_n):g}")
            _check_range("vg_n", self.vg_n, 1.0, 20.0, "(dimensionless)")
        # Layer-major copies (nlayer, N) for the solvers, made once: a per-layer row is then
        # contiguous, which makes the loops over layers several times faster.
        layer_major = tuple(np.array(getattr(self, n).T, order="C") for n in names[:4])
        object.__setattr__(self, "_layer_major", layer_major)
        b = layer_major[2]
        object.__setattr__(self, "_layer_major_exponents", (-b, 2.0 * b + 3.0))

    @property
    def hydraulics(self) -> str:
        """"clapp_hornberger", or "van_genuchten" where ``theta_r``, ``vg_alpha`` and
        ``vg_n`` are given."""
        return HYDRAULICS[1] if self.theta_r is not None else HYDRAULICS[0]

    def _fields(self) -> tuple[str, ...]:
        base = ("porosity", "psi_sat", "b", "k_sat")
        return base + (_VG_FIELDS if self.theta_r is not None else ())

    def take(self, index) -> SoilParameters:
        """The parameters of the columns ``index`` (a slice or an index array), every field
        (van Genuchten ones too) cut alike."""
        return SoilParameters(**{n: getattr(self, n)[index] for n in self._fields()})

    @classmethod
    def concatenate(cls, parts: list[SoilParameters]) -> SoilParameters:
        """The columns of ``parts`` one after the other; all of one hydraulic model."""
        kinds = {p.hydraulics for p in parts}
        if len(kinds) != 1:
            raise ValueError(f"parts: expected parameters of one hydraulic model; got {sorted(kinds)}")
        return cls(**{n: np.concatenate([getattr(p, n) for p in parts])
                      for n in parts[0]._fields()})

    def layer_major_van_genuchten(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(theta_r, alpha, n), each a C-contiguous (nlayer, N) array (shared: do not modify).

        Raises
        ------
        ValueError
            With Clapp-Hornberger parameters.
        """
        if self.theta_r is None:
            raise ValueError("theta_r: expected van Genuchten parameters; these are Clapp-Hornberger")
        cache = self.__dict__.get("_layer_major_vg")
        if cache is None:
            cache = tuple(np.array(getattr(self, n).T, order="C") for n in _VG_FIELDS)
            for a in cache:
                a.setflags(write=False)
            object.__setattr__(self, "_layer_major_vg", cache)
        return cache

    def layer_major(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(porosity, psi_sat, b, k_sat), each transposed to a C-contiguous (nlayer, N) array.

        The arrays are shared, not copied: do not modify them.
        """
        return self._layer_major

    def layer_major_exponents(self) -> tuple[np.ndarray, np.ndarray]:
        """(-b, 2b + 3), the retention and conductivity exponents, layer-major (nlayer, N).

        Shared, not copied: do not modify them.
        """
        return self._layer_major_exponents

    @property
    def n_columns(self) -> int:
        """Number of columns N."""
        return self.porosity.shape[0]

    @property
    def n_layers(self) -> int:
        """Number of soil layers."""
        return self.porosity.shape[1]

    @classmethod
    def from_sand_clay(
        cls, sand: np.ndarray, clay: np.ndarray, n_layers: int = N_SOIL_LAYERS,
        hydraulics: str = "clapp_hornberger",
    ) -> SoilParameters:
        """Parameters from sand and clay percentages with the Cosby et al. (1984) fits.

        Parameters
        ----------
        sand, clay : array_like, shape (N,) or (N, n_layers)
            Sand and clay content (%), each in [0, 100] with sand + clay <= 100. A 1-D array
            gives the same texture to every layer of a column.
        n_layers : int
            Number of layers when ``sand`` and ``clay`` are 1-D (CoLM: 10).
        hydraulics : {"clapp_hornberger", "van_genuchten"}
            "van_genuchten" adds van Genuchten parameters derived from the same Cosby values
            (below); porosity, psi_sat, b and k_sat are the same in both.

        Returns
        -------
        SoilParameters

        Notes
        -----
        As CoLM's Cosby pedotransfer function (sand, clay in %):

        .. math::
            \\theta_{sat} &= 0.489 - 0.00126\\,\\mathrm{sand} \\\\
            \\psi_{sat} &= -10^{1.88 - 0.013\\,\\mathrm{sand}}\\ \\mathrm{cm}
                        = -10 \\cdot 10^{1.88 - 0.013\\,\\mathrm{sand}}\\ \\mathrm{mm} \\\\
            b &= 2.91 + 0.159\\,\\mathrm{clay} \\\\
            k_{sat} &= 60.96 \\cdot 10^{-0.884 + 0.0153\\,\\mathrm{sand}}\\ \\mathrm{cm\\,day^{-1}}
                     = \\frac{609.6}{86400} 10^{-0.884 + 0.0153\\,\\mathrm{sand}}\\ \\mathrm{mm\\,s^{-1}}

        Van Genuchten parameters, by the asymptotic correspondence of the two retention
        curves (van Genuchten 1980; Lenhard et al. 1989, J. Irrig. Drain. Eng. 115, 744):
        for large suction van Genuchten's curve tends to
        :math:`S_e \\approx (\\alpha |\\psi|)^{-mn} = (\\alpha |\\psi|)^{-(n-1)}`, a
        Brooks-Corey (Clapp-Hornberger) curve :math:`(\\psi/\\psi_{sat})^{-1/b}` with
        pore-size index :math:`\\lambda = 1/b = n - 1` and air-entry suction
        :math:`1/\\alpha = |\\psi_{sat}|`. Hence

        .. math::
            n = 1 + 1/b, \\qquad \\alpha = 1 / |\\psi_{sat}|, \\qquad
            \\theta_r = 0.15\\, \\theta_{sat}, \\qquad K_s = k_{sat}

        (n = 1.08-1.34, alpha = 0.0013-0.023 mm-1 for sand 0-95 %, clay 0-60 %). theta_r is a
        fixed fraction (:data:`RESIDUAL_FRACTION`) within the range of the Carsel and
        Parrish (1988, Water Resour. Res. 24, 755) class means. The two models then share the
        dry-end slope of retention but differ near saturation (psi -> 0 smoothly, no air
        entry), in the residual water, and in conductivity: Mualem's
        :math:`K \\approx k_{sat} m^2 S_e^{2/m + 1/2}` in the mid range is one to two orders of
        magnitude below Clapp-Hornberger's for the same texture.
        """
        if hydraulics not in HYDRAULICS:
            raise ValueError(f"hydraulics: expected one of {HYDRAULICS}; got {hydraulics!r}")
        sand = np.asarray(sand, dtype=float)
        clay = np.asarray(clay, dtype=float)
        if sand.shape != clay.shape:
            raise ValueError(f"sand, clay: expected the same shape; got {sand.shape} and {clay.shape}")
        if sand.ndim == 0:
            sand, clay = sand.reshape(1), clay.reshape(1)
        if sand.ndim == 1:
            sand = np.repeat(sand[:, None], n_layers, axis=1)
            clay = np.repeat(clay[:, None], n_layers, axis=1)
        elif sand.ndim != 2:
            raise ValueError(f"sand: expected shape (N,) or (N, n_layers); got {sand.shape}")
        _check_range("sand", sand, 0.0, 100.0, "%")
        _check_range("clay", clay, 0.0, 100.0, "%")
        if np.any(sand + clay > 100.0 + 1e-9):
            raise ValueError(
                f"sand + clay: expected at most 100 %; found max {np.max(sand + clay):g} %"
            )
        porosity = 0.489 - 0.00126 * sand
        psi_sat = -10.0 * 10.0 ** (1.88 - 0.013 * sand)
        b = 2.91 + 0.159 * clay
        k_sat = 60.96 * 10.0 / _SECONDS_PER_DAY * 10.0 ** (-0.884 + 0.0153 * sand)
        if hydraulics == "clapp_hornberger":
            return cls(porosity=porosity, psi_sat=psi_sat, b=b, k_sat=k_sat)
        return cls(porosity=porosity, psi_sat=psi_sat, b=b, k_sat=k_sat,
                   theta_r=RESIDUAL_FRACTION * porosity, vg_alpha=-1.0 / psi_sat,
                   vg_n=1.0 + 1.0 / b)
