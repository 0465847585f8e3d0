"""GLDAS-2.x Noah soil moisture (GES DISC netCDF4, ``GLDAS_NOAH025_3H`` and the like).

Variables ``SoilMoi0_10cm_inst``, ``SoilMoi10_40cm_inst``, ``SoilMoi40_100cm_inst`` and
``SoilMoi100_200cm_inst`` hold the water in each Noah layer in kg m-2; divided by
1000 kg m-3 x the layer thickness (0.1, 0.3, 0.6, 1.0 m) they are m3 m-3. ``_FillValue``
-9999 (sea, ice sheets, Antarctica is outside the 60 S .. 90 N grid) becomes NaN, counted as
``fill``. Other units are refused. The time is the file's ``time`` (the instant of the
``_inst`` variables; GLDAS-2.1 3-hourly: the end of the 3-hour step).
"""

from __future__ import annotations

import numpy as np

from landia.errors import InputError
from landia.io.netcdf import normalise_units, read_grid, read_times, read_values
from landia.observations.product import ProductField
from landia.observations.products.reading import open_product, reject_fill_and_negative, squeeze_extra

#: variable -> depth range (m)
LAYERS = {
    "SoilMoi0_10cm_inst": (0.0, 0.1),
    "SoilMoi10_40cm_inst": (0.1, 0.4),
    "SoilMoi40_100cm_inst": (0.4, 1.0),
    "SoilMoi100_200cm_inst": (1.0, 2.0),
}
WATER_UNITS = ("kg m-2", "kg m**-2", "kg/m2", "kg/m^2", "kg m^-2", "mm")
WATER_DENSITY = 1000.0  # kg m-3


def read_gldas_soil_moisture(path, layers=None) -> list[ProductField]:
    """Read GLDAS-2.x Noah soil moisture: one ProductField per time, m3 m-3.

    Parameters
    ----------
    path : path-like
        A GLDAS netCDF4 file (``*.nc4``).
    layers : sequence of str, optional
        Variable names to read (a subset of :data:`LAYERS`); default the four present.

    Returns
    -------
    list of ProductField
        Values (nlayer, 600, 1440) in m3 m-3 for the 0.25 deg product, product ``gldas``,
        period ``instant``; lat -59.875 .. 89.875 (south to north), lon -179.875 .. 179.875.
    """
    ds = open_product(path, "GLDAS soil-moisture")
    try:
        names = list(layers) if layers is not None else [n for n in LAYERS if n in ds.variables]
        if not names:
            raise InputError(f"{path}: no GLDAS soil moisture variable "
                             f"({', '.join(LAYERS)}); the file has "
                             f"{', '.join(sorted(ds.variables))}")
        grid = read_grid(ds, path)
        _, times = read_times(ds, path, ("time",))
        stack = []
        for name in names:
            if name not in LAYERS:
                raise InputError(f"{path}: {name!r} is not a GLDAS soil moisture layer; "
                                 f"expected one of {', '.join(LAYERS)}")
            if name not in ds.variables:
                raise InputError(f"{path}: variable {name!r} not found; the file has "
                                 f"{', '.join(sorted(ds.variables))}")
            var = ds.variables[name]
            units = getattr(var, "units", None)
            top, bottom = LAYERS[name]
            if units is None or normalise_units(units) not in WATER_UNITS:
                hint = (" (already volumetric? this reader expects the GLDAS water amount)"
                        if units is not None and "m3" in normalise_units(units) else "")
                raise InputError(f"{path}: variable {name!r} has units {units!r}; expected "
                                 f"kg m-2 (water in the {top:g}-{bottom:g} m layer, divided "
                                 f"here by 1000 x {bottom - top:g} m for m3 m-3){hint}")
            data = read_values(ds, path, name)
            data, dims = squeeze_extra(path, name, var, data,
                                       ("time", grid.lat_dim, grid.lon_dim))
            if dims == (grid.lat_dim, grid.lon_dim):
                data = data[None]
            elif dims != ("time", grid.lat_dim, grid.lon_dim):
                raise InputError(f"{path}: variable {name!r} has dimensions {dims}; expected "
                                 f"(time, lat, lon)")
            stack.append(data / (WATER_DENSITY * (bottom - top)))
    finally:
        ds.close()
    data = np.stack(stack, axis=1)
    if data.shape[0] != times.size:
        raise InputError(f"{path}: {names[0]} has {data.shape[0]} times but the time "
                         f"coordinate has {times.size}")
    out = []
    for it in range(data.shape[0]):
        values = data[it]
        rejected: dict = {}
        reject_fill_and_negative(values, rejected)
        out.append(ProductField(
            time=times[it], lat=grid.lat, lon=grid.lon, values=values,
            layer_top=[LAYERS[n][0] for n in names], layer_bottom=[LAYERS[n][1] for n in names],
            rejected=rejected, source=str(path), product="gldas", period="instant"))
    return out
