"""Static inputs given per cell (``cell`` dimension, ``lat(cell)``, ``lon(cell)``), converted to
landia's static-input file (:mod:`landia.io.static_file`) on the cells' rectilinear lattice.

The layout is that of ``conus_nldas_smap/static.nc`` (the hydroDL CONUS set): topsoil ``Sand``,
``Silt``, ``Clay`` (%), ``NDVI`` (a climatology), ``flag_landcover`` (dominant class) and the
SMAP flags ``flag_waterbody`` (open-water fraction) and ``flag_vegDense`` (dense-vegetation
fraction). The cells are the land points of an EASE-Grid 2.0 lattice; the model grid is
:meth:`landia.grid.LatLonGrid.from_cells` of them (land = the cells present).

Conversion rules (each documented in ``docs/ease-grid.md``):

* **Texture**: ``Sand``, ``Clay`` as they are (%) for every layer (the set has topsoil only);
  soil parameters then follow Cosby et al. (1984), :meth:`SoilParameters.from_sand_clay`. A cell
  without texture (one in the CONUS set) takes that of the nearest cell with one (great-circle
  distance); ``sand + clay`` above 100 % is scaled back to 100 %.
* **Land cover**: ``flag_landcover`` read as IGBP classes (1-17, the MODIS MCD12Q1 coding of
  the SMAP L3 ancillary data) mapped by :data:`IGBP_CLASSES`; codes outside it, or a file
  without the variable, give :data:`DEFAULT_LAND_COVER`.
* **LAI from NDVI**: the semi-empirical inversion of Baret and Guyot (1991),

  .. math:: \\mathrm{LAI} = -\\frac{1}{K}\\ln\\frac{N_\\infty - \\mathrm{NDVI}}
                                            {N_\\infty - N_s},

  with :data:`NDVI_SOIL` :math:`N_s`, :data:`NDVI_INF` :math:`N_\\infty` and
  :data:`NDVI_K` :math:`K`, clipped to [0, :data:`LAI_FROM_NDVI_MAX`] m2 m-2. The set's NDVI
  is one climatological value per cell, so the 12 monthly LAI are equal.
* **Elevation**: not in the set; the file gets ``elevation`` = 0 m unless one is given, so the
  surface pressure is the standard atmosphere at sea level, 101325 Pa
  (:mod:`landia.forcing.weather`: :math:`p = 101325\\,e^{-z/8434}`).
* **QC flags**: ``flag_waterbody`` and ``flag_vegDense`` are copied onto the grid (land cells;
  fraction 0..1) for the observation path; :func:`read_qc_flags` reads them back.
"""

from __future__ import annotations

from dataclasses import dataclass

import netCDF4
import numpy as np

from landia.errors import InputError
from landia.grid import LatLonGrid, great_circle_km
from landia.io.atomic import atomic_path
from landia.io.netcdf import open_netcdf, read_values
from landia.io.static_file import StaticFields, write_static_file

#: IGBP class (MODIS MCD12Q1 type 1) -> landia land cover.
IGBP_CLASSES = {
    1: "evergreen_forest", 2: "evergreen_forest",            # needleleaf, broadleaf
    3: "deciduous_forest", 4: "deciduous_forest", 5: "deciduous_forest",  # ..., mixed
    6: "shrubland", 7: "shrubland",                          # closed, open shrublands
    8: "deciduous_forest", 9: "grassland",                   # woody savannas, savannas
    10: "grassland", 11: "grassland",                        # grasslands, wetlands
    12: "cropland", 13: "grassland", 14: "cropland",         # crops, urban, crop mosaic
    15: "bare_soil", 16: "bare_soil", 17: "bare_soil",       # snow/ice, barren, water
}
#: Land cover of a cell whose class is unknown or absent.
DEFAULT_LAND_COVER = "grassland"
#: NDVI of bare soil N_s, of a closed canopy N_inf, and the extinction coefficient K of the
#: NDVI-LAI inversion (Baret and Guyot 1991).
NDVI_SOIL, NDVI_INF, NDVI_K = 0.05, 0.90, 0.5
#: Largest LAI the inversion gives, m2 m-2.
LAI_FROM_NDVI_MAX = 7.0
#: The per-cell flags kept for the observation path.
QC_FLAGS = ("flag_waterbody", "flag_vegDense")


def lai_from_ndvi(ndvi) -> np.ndarray:
    """LAI (m2 m-2) from NDVI by the Baret and Guyot (1991) inversion (module notes)."""
    ndvi = np.minimum(np.asarray(ndvi, dtype=float), NDVI_INF - 1e-6)
    lai = -np.log((NDVI_INF - ndvi) / (NDVI_INF - NDVI_SOIL)) / NDVI_K
    return np.clip(lai, 0.0, LAI_FROM_NDVI_MAX)


@dataclass(frozen=True)
class CellStatic:
    """Static inputs of a per-cell file on the cells' lattice.

    Attributes
    ----------
    grid : LatLonGrid
        The lattice (land = the file's cells).
    fields : StaticFields
        Texture (%), land cover, monthly LAI (m2 m-2), elevation (m), global land order.
    flags : dict of str to ndarray (N,)
        :data:`QC_FLAGS` present in the file, global land order, fraction 0..1.
    filled_texture : int
        Cells whose texture came from the nearest cell.
    """

    grid: LatLonGrid
    fields: StaticFields
    flags: dict
    filled_texture: int


def _fill_nearest(values: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    bad = ~np.isfinite(values)
    if bad.any() and (~bad).any():
        d = great_circle_km(lat[bad][:, None], lon[bad][:, None], lat[~bad][None, :],
                            lon[~bad][None, :])
        values = values.copy()
        values[bad] = values[~bad][np.argmin(d, axis=1)]
    return values


def read_cell_static(path, elevation=None) -> CellStatic:
    """Read a per-cell static file (module notes) onto its lattice.

    Parameters
    ----------
    path : path-like
        netCDF with a ``cell`` dimension, ``lat(cell)``, ``lon(cell)`` (degrees), ``Sand`` and
        ``Clay`` (%) and ``NDVI``; ``flag_landcover`` and the QC flags optional.
    elevation : float or array_like (n_cells,), optional
        Surface elevation, m, in the file's cell order; default 0 m (standard atmosphere).

    Raises
    ------
    InputError
        Missing variables, cells not on a rectilinear lattice, texture missing everywhere or
        out of [0, 100] %; the message names the file and the variable.
    """
    with open_netcdf(path, "per-cell static input") as ds:
        lat = np.asarray(read_values(ds, path, "lat"), dtype=float)
        lon = np.asarray(read_values(ds, path, "lon"), dtype=float)
        grid = LatLonGrid.from_cells(lat, lon, source=f"{path}: lat, lon")
        data = {name: np.asarray(read_values(ds, path, name), dtype=float)
                for name in ("Sand", "Clay", "NDVI")}
        cover = (np.asarray(read_values(ds, path, "flag_landcover"), dtype=float)
                 if "flag_landcover" in ds.variables else np.full(lat.size, np.nan))
        flags = {name: np.asarray(read_values(ds, path, name), dtype=float)
                 for name in QC_FLAGS if name in ds.variables}
    for name, v in {**data, **flags}.items():
        if v.shape != lat.shape:
            raise InputError(f"{path}: variable {name!r} has shape {v.shape}; expected "
                             f"({lat.size},) like lat(cell)")
    missing = ~(np.isfinite(data["Sand"]) & np.isfinite(data["Clay"]))
    if missing.all():
        raise InputError(f"{path}: variables 'Sand', 'Clay' have no finite value")
    sand = _fill_nearest(np.where(missing, np.nan, data["Sand"]), lat, lon)
    clay = _fill_nearest(np.where(missing, np.nan, data["Clay"]), lat, lon)
    for name, v in (("Sand", sand), ("Clay", clay)):
        if v.min() < 0 or v.max() > 100:
            raise InputError(f"{path}: variable {name!r} has values in [{v.min():g}, "
                             f"{v.max():g}] %; expected [0, 100]")
    scale = np.maximum((sand + clay) / 100.0, 1.0)
    sand, clay = sand / scale, clay / scale
    ndvi = data["NDVI"]
    if not np.all(np.isfinite(ndvi)):
        ndvi = _fill_nearest(ndvi, lat, lon)
    z = np.zeros(lat.size) if elevation is None else np.broadcast_to(
        np.asarray(elevation, dtype=float), lat.shape)
    order = grid.cell_order(lat, lon, source=f"{path}: lat, lon")

    def land(v):  # file cell order -> global land order, (..., N)
        out = np.empty(np.shape(v)[:-1] + (grid.n_land,), dtype=np.asarray(v).dtype)
        out[..., order] = v
        return out

    names = [IGBP_CLASSES.get(int(c), DEFAULT_LAND_COVER) if np.isfinite(c)
             else DEFAULT_LAND_COVER for c in cover]
    lai = np.repeat(lai_from_ndvi(ndvi)[None, :], 12, axis=0)
    fields = StaticFields(sand=land(sand), clay=land(clay),
                          land_cover=tuple(land(np.array(names, dtype=object))),
                          lai_monthly=land(lai), elevation=land(z))
    return CellStatic(grid=grid, fields=fields,
                      flags={k: land(np.clip(v, 0.0, 1.0)) for k, v in flags.items()},
                      filled_texture=int(missing.sum()))


def convert_cell_static(source, output, elevation=None) -> CellStatic:
    """Write the landia static-input file ``output`` from the per-cell file ``source``
    (:func:`read_cell_static`), with the QC flags as extra ``(lat, lon)`` variables;
    atomically. Returns what was read."""
    cells = read_cell_static(source, elevation)
    with atomic_path(output) as tmp:
        write_static_file(tmp, cells.grid, cells.fields)
        with netCDF4.Dataset(tmp, "a") as ds:
            ds.source = f"converted by landia from {source} (docs/ease-grid.md)"
            for name, values in cells.flags.items():
                v = ds.createVariable(name, "f8", ("lat", "lon"), fill_value=np.nan)
                v.units, v.long_name = "1", f"{name} of the source (fraction 0..1)"
                v[:] = cells.grid.to_field(values)
    return cells


def grid_of_static_file(path) -> LatLonGrid:
    """The model grid of a landia static-input file: its ``lat``/``lon``, land where
    ``land_cover`` is set (a converted per-cell file holds exactly the cells)."""
    with open_netcdf(path, "static input") as ds:
        lat = np.asarray(read_values(ds, path, "lat"), dtype=float)
        lon = np.asarray(read_values(ds, path, "lon"), dtype=float)
        cover = ds.variables["land_cover"][:] if "land_cover" in ds.variables else None
    if cover is None:
        raise InputError(f"{path}: no variable 'land_cover'; expected a static-input file")
    land = ~np.ma.getmaskarray(cover) & (np.ma.filled(cover, -1) >= 0)
    return LatLonGrid(lat, lon, land)


def read_qc_flags(path, grid: LatLonGrid) -> dict:
    """The :data:`QC_FLAGS` of a converted static file on ``grid``'s land cells (N,);
    flags the file lacks are absent from the result."""
    out = {}
    with open_netcdf(path, "static input") as ds:
        for name in QC_FLAGS:
            if name in ds.variables:
                values = np.asarray(read_values(ds, path, name), dtype=float)
                if values.shape != grid.shape:
                    raise InputError(f"{path}: variable {name!r} has shape {values.shape}; "
                                     f"expected {grid.shape} on the model grid")
                out[name] = grid.to_land(values)
    return out
