"""CoLM/PLUMBER2 site files: per-layer soil parameters, monthly LAI/SAI, land cover.

The PLUMBER2 site files in CoLM layout (e.g. ``CN-Cng_2008-2009_FLUXNET2015_site.nc``) hold,
on a ``soil`` dimension of 10 CoLM layers:

=====================  =====================================  ==============================
variable               meaning                                unit in the file (CoLM)
=====================  =====================================  ==============================
``soil_theta_s``       porosity (saturated water content)     m3 m-3
``soil_psi_s``         matric potential at saturation         cm, negative
``soil_lambda``        Brooks-Corey/Campbell pore-size index  1
``soil_k_s``           saturated hydraulic conductivity       cm day-1
``soil_theta_r``       residual water content (unused here)   m3 m-3
``soil_wf_sand``       sand, mass fraction                    1 (0-1)
``soil_wf_gravels``    gravel, mass fraction                  1 (0-1)
=====================  =====================================  ==============================

The soil variables carry no ``units`` attribute in the PLUMBER2 files; the CoLM units above are
then assumed (CoLM's surface-data convention: psi_s in cm, k_s in cm/day, lambda of the
Campbell/Clapp-Hornberger retention curve psi = psi_s (theta/theta_s)^(-1/lambda)).
When a ``units`` attribute is present it must be one of the accepted spellings (cm or mm for
psi_s; cm day-1, mm s-1 or m s-1 for k_s), otherwise an :class:`InputError` is raised. Values
are also checked against physical ranges, which catches most unit mix-ups.

Conversion to :class:`landia.columns.soil.SoilParameters`:

* ``porosity = soil_theta_s``
* ``psi_sat = 10 * soil_psi_s`` (cm -> mm, stays negative)
* ``b = 1 / soil_lambda`` (Clapp-Hornberger b is the inverse of the pore-size index)
* ``k_sat = soil_k_s * 10 / 86400`` (cm day-1 -> mm s-1)

For CN-Cng this gives porosity 0.44-0.50, psi_sat -280 to -610 mm, b 5.9-9.4 and
k_sat 1.1e-3 to 3.4e-3 mm s-1, a silty-loam/clay-loam soil.

When the hydraulic variables are absent (or ``hydraulics="sand_clay"`` is asked for), the
parameters come from :meth:`SoilParameters.from_sand_clay` (Cosby et al. 1984) with sand % =
100 x ``soil_wf_sand`` and clay % = (100 - sand %) / 4, the clay:silt = 1:3 assumption the
PLUMBER2 files were built with upstream.

The height of the forcing's measurements, ``reference_height`` (m; 6 m at CN-Cng), is read by
:func:`read_reference_height` (10 m when the file has none).

Errors are :class:`~landia.errors.InputError` naming the file, the variable and what was
expected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from landia.columns.soil import SoilParameters
from landia.columns.state import ColumnParameters
from landia.errors import InputError
from landia.grid import N_SOIL_LAYERS
from landia.io.netcdf import open_netcdf, read_values

HYDRAULIC_VARIABLES = ("soil_theta_s", "soil_psi_s", "soil_lambda", "soil_k_s")

#: psi_s unit spelling -> factor to mm.
PSI_UNITS = {"cm": 10.0, "mm": 1.0, "m": 1000.0}
#: k_s unit spelling -> factor to mm s-1.
KSAT_UNITS = {"cm day-1": 10.0 / 86400.0, "cm/day": 10.0 / 86400.0, "cm d-1": 10.0 / 86400.0,
              "mm s-1": 1.0, "mm/s": 1.0, "m s-1": 1000.0, "m/s": 1000.0}
DIMENSIONLESS_UNITS = {"1", "-", "", "m3 m-3", "m3/m3", "fraction", "unitless", "dimensionless"}
LAI_UNITS = {"m2/m2", "m2 m-2", "1", ""}
#: Height of the forcing's measurements when a site file gives no ``reference_height``, m.
DEFAULT_REFERENCE_HEIGHT = 10.0

#: IGBP class -> landia land-cover name (keys of landia.columns.roots.LAND_COVER_ROOTS).
IGBP_LAND_COVER = {
    1: "evergreen_forest", 2: "evergreen_forest", 3: "deciduous_forest",
    4: "deciduous_forest", 5: "deciduous_forest", 6: "shrubland", 7: "shrubland",
    8: "shrubland", 9: "grassland", 10: "grassland", 11: "grassland", 12: "cropland",
    13: "bare_soil", 14: "cropland", 15: "bare_soil", 16: "bare_soil", 17: "bare_soil",
}


@dataclass
class SiteParameters:
    """What a site file gives a single column.

    Attributes
    ----------
    soil : SoilParameters
        Clapp-Hornberger parameters, shape (1, 10).
    lai_monthly, sai_monthly : ndarray, shape (nyear, 12)
        Monthly leaf and stem area index (m2 m-2), one row per year of ``lai_years``.
    lai_years : ndarray of int, shape (nyear,)
    latitude, longitude : float
        Degrees north / east.
    elevation : float or None
        m above sea level; None when the file has none (PLUMBER2 site files do not).
    igbp : int or None
        IGBP land-cover class.
    land_cover : str
        landia land-cover name (from IGBP; "grassland" when unknown).
    pft_types, pft_percent : ndarray
        CoLM plant functional types and their cover fractions (0-1), possibly empty.
    sand, clay : ndarray, shape (10,) or None
        Sand and clay (%) per layer when the file has sand (clay from clay:silt = 1:3).
    residual_content : ndarray, shape (10,) or None
        ``soil_theta_r`` (m3 m-3), for information.
    hydraulics : str
        "file" (CoLM variables) or "sand_clay" (Cosby fallback).
    source : str
    """

    soil: SoilParameters
    lai_monthly: np.ndarray
    sai_monthly: np.ndarray
    lai_years: np.ndarray
    latitude: float
    longitude: float
    elevation: float | None = None
    igbp: int | None = None
    land_cover: str = "grassland"
    pft_types: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    pft_percent: np.ndarray = field(default_factory=lambda: np.zeros(0))
    sand: np.ndarray | None = None
    clay: np.ndarray | None = None
    residual_content: np.ndarray | None = None
    hydraulics: str = "file"
    source: str = "<memory>"

    def lai_for_year(self, year: int) -> tuple[np.ndarray, np.ndarray]:
        """Monthly (LAI, SAI), each shape (12,), of ``year``; the mean over years if absent."""
        hit = np.nonzero(self.lai_years == year)[0]
        if hit.size:
            return self.lai_monthly[hit[0]].copy(), self.sai_monthly[hit[0]].copy()
        return self.lai_monthly.mean(axis=0), self.sai_monthly.mean(axis=0)


def _units(var) -> str | None:
    u = getattr(var, "units", None)
    return None if u is None else str(u).strip()


def _values(ds, path: Path, name: str, required: bool = True) -> np.ndarray | None:
    arr = read_values(ds, path, name, required)
    if arr is None:
        return None
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{path}: variable {name!r} contains NaN, inf or fill values; "
                         "expected finite values everywhere")
    return arr


def _soil_var(ds, path: Path, name: str, n_layers: int, units_ok, low, high, unit_text,
              required: bool = True):
    """A (n_layers,) soil variable converted by its units' factor, with a range check."""
    arr = _values(ds, path, name, required)
    if arr is None:
        return None
    var = ds.variables[name]
    if var.dimensions != ("soil",):
        raise InputError(f"{path}: variable {name!r} has dimensions {var.dimensions}; "
                         "expected ('soil',)")
    if arr.shape != (n_layers,):
        raise InputError(f"{path}: variable {name!r} has {arr.size} layers; expected "
                         f"{n_layers} CoLM soil layers")
    units = _units(var)
    factor = 1.0
    if isinstance(units_ok, dict):
        if units is None:
            factor = units_ok["__default__"]
        elif units in units_ok and units != "__default__":
            factor = units_ok[units]
        else:
            accepted = sorted(k for k in units_ok if k != "__default__")
            raise InputError(f"{path}: variable {name!r} has units {units!r}; expected one "
                             f"of {accepted} (or no units attribute: CoLM convention)")
    elif units is not None and units not in units_ok:
        raise InputError(f"{path}: variable {name!r} has units {units!r}; expected one of "
                         f"{sorted(units_ok)}")
    arr = arr * factor
    if np.any(arr < low) or np.any(arr > high):
        raise InputError(f"{path}: variable {name!r}: expected values in [{low:g}, {high:g}] "
                         f"{unit_text} after conversion; found min {arr.min():g}, max "
                         f"{arr.max():g} (wrong units?)")
    return arr


def read_site(path: str | Path, hydraulics: str = "auto",
              n_layers: int = N_SOIL_LAYERS) -> SiteParameters:
    """Read a CoLM/PLUMBER2 site file.

    Parameters
    ----------
    path : path-like
    hydraulics : {"auto", "file", "sand_clay"}
        "file": the CoLM hydraulic variables are required; "sand_clay": Cosby parameters from
        sand/clay; "auto": the file's variables when all are present, otherwise sand/clay.
    n_layers : int
        Expected number of soil layers (CoLM: 10).
    """
    if hydraulics not in ("auto", "file", "sand_clay"):
        raise ValueError(f"hydraulics: expected 'auto', 'file' or 'sand_clay'; got {hydraulics!r}")
    path = Path(path)
    with open_netcdf(path, "site") as ds:
        if "soil" in ds.dimensions and len(ds.dimensions["soil"]) != n_layers:
            raise InputError(f"{path}: dimension 'soil' has {len(ds.dimensions['soil'])} "
                             f"layers; expected {n_layers} CoLM soil layers")
        lat = float(_values(ds, path, "latitude").ravel()[0])
        lon = float(_values(ds, path, "longitude").ravel()[0])
        if not -90.0 <= lat <= 90.0:
            raise InputError(f"{path}: variable 'latitude' = {lat}; expected degrees north in "
                             "[-90, 90]")
        if not -180.0 <= lon <= 360.0:
            raise InputError(f"{path}: variable 'longitude' = {lon}; expected degrees east")
        elevation = None
        for name in ("elevation", "elev", "Elevation", "altitude"):
            if name in ds.variables:
                elevation = float(_values(ds, path, name).ravel()[0])
                break

        lai = _values(ds, path, "LAI_monthly")
        sai = _values(ds, path, "SAI_monthly", required=False)
        for name, arr in (("LAI_monthly", lai), ("SAI_monthly", sai)):
            if arr is None:
                continue
            u = _units(ds.variables[name])
            if u is not None and u not in LAI_UNITS:
                raise InputError(f"{path}: variable {name!r} has units {u!r}; expected one of "
                                 f"{sorted(LAI_UNITS)}")
            if arr.shape[-1] != 12:
                raise InputError(f"{path}: variable {name!r} has shape {arr.shape}; expected "
                                 "12 months in the last dimension")
            if np.any(arr < 0) or np.any(arr > 15):
                raise InputError(f"{path}: variable {name!r}: expected values in [0, 15] "
                                 f"m2 m-2; found min {arr.min():g}, max {arr.max():g}")
        lai = lai.reshape(-1, 12)
        sai = np.zeros_like(lai) if sai is None else sai.reshape(-1, 12)
        if sai.shape != lai.shape:
            raise InputError(f"{path}: variable 'SAI_monthly' has shape {sai.shape}; expected "
                             f"{lai.shape} like 'LAI_monthly'")
        years = _values(ds, path, "LAI_year", required=False)
        years = (np.arange(lai.shape[0]) if years is None else years).astype(int).ravel()
        if years.shape != (lai.shape[0],):
            raise InputError(f"{path}: variable 'LAI_year' has {years.size} values; expected "
                             f"{lai.shape[0]} (rows of 'LAI_monthly')")

        igbp = None
        if "IGBP_classification" in ds.variables:
            igbp = int(_values(ds, path, "IGBP_classification").ravel()[0])
        land_cover = IGBP_LAND_COVER.get(igbp, "grassland")
        pft = _values(ds, path, "pfttyp", required=False)
        pct = _values(ds, path, "pctpfts", required=False)
        pft = np.zeros(0, dtype=int) if pft is None else pft.astype(int).ravel()
        pct = np.zeros(0) if pct is None else pct.ravel()

        sand_frac = _soil_var(ds, path, "soil_wf_sand", n_layers, DIMENSIONLESS_UNITS, 0.0,
                              1.0, "(mass fraction)", required=False)
        sand = clay = None
        if sand_frac is not None:
            sand = 100.0 * sand_frac
            clay = (100.0 - sand) / 4.0
        theta_r = _soil_var(ds, path, "soil_theta_r", n_layers, DIMENSIONLESS_UNITS, 0.0, 1.0,
                            "m3 m-3", required=False)

        present = [v for v in HYDRAULIC_VARIABLES if v in ds.variables]
        use_file = hydraulics == "file" or (hydraulics == "auto"
                                            and len(present) == len(HYDRAULIC_VARIABLES))
        if hydraulics == "auto" and not use_file and sand is None:
            missing = [v for v in HYDRAULIC_VARIABLES if v not in ds.variables]
            raise InputError(f"{path}: variable {missing[0]!r} not found and no "
                             "'soil_wf_sand' for the sand/clay fallback; expected the CoLM "
                             f"hydraulic variables {list(HYDRAULIC_VARIABLES)} or sand")
        if use_file:
            porosity = _soil_var(ds, path, "soil_theta_s", n_layers, DIMENSIONLESS_UNITS, 0.05,
                                 0.95, "m3 m-3")
            psi = _soil_var(ds, path, "soil_psi_s", n_layers, {**PSI_UNITS, "__default__": 10.0},
                            -1e5, -1e-1, "mm (negative)")
            lam = _soil_var(ds, path, "soil_lambda", n_layers, DIMENSIONLESS_UNITS, 0.02, 2.0,
                            "(dimensionless)")
            k_sat = _soil_var(ds, path, "soil_k_s", n_layers,
                              {**KSAT_UNITS, "__default__": 10.0 / 86400.0}, 1e-9, 10.0,
                              "mm s-1")
            soil = SoilParameters(porosity=porosity[None], psi_sat=psi[None],
                                  b=(1.0 / lam)[None], k_sat=k_sat[None])
            mode = "file"
        else:
            if sand is None:
                raise InputError(f"{path}: variable 'soil_wf_sand' not found; expected sand "
                                 "mass fraction per layer for the sand/clay parameters")
            soil = SoilParameters.from_sand_clay(sand[None], clay[None])
            mode = "sand_clay"
    return SiteParameters(
        soil=soil, lai_monthly=lai, sai_monthly=sai, lai_years=years, latitude=lat,
        longitude=lon, elevation=elevation, igbp=igbp, land_cover=land_cover,
        pft_types=pft, pft_percent=pct, sand=sand, clay=clay, residual_content=theta_r,
        hydraulics=mode, source=str(path),
    )


def read_reference_height(path) -> float:
    """The site file's ``reference_height`` (m above the surface), the height of the forcing's
    wind, temperature and humidity; :data:`DEFAULT_REFERENCE_HEIGHT` when the file has none.

    Raises
    ------
    InputError
        The value is not a positive number.
    """
    with open_netcdf(path, "site") as ds:
        z = read_values(ds, path, "reference_height", required=False)
    if z is None:
        return DEFAULT_REFERENCE_HEIGHT
    z = float(z.ravel()[0])
    if not np.isfinite(z) or z <= 0:
        raise InputError(f"{path}: variable 'reference_height' = {z}; expected a positive "
                         "height in m")
    return z


def column_parameters(site: SiteParameters) -> ColumnParameters:
    """:class:`~landia.columns.state.ColumnParameters` of the site's single column: its soil and
    the Schenk and Jackson root fractions of its land cover."""
    return ColumnParameters.from_land_cover(site.soil, site.land_cover)
