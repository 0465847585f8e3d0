"""ERA5 / ERA5-Land (and ERA-Interim) volumetric soil water as the Climate Data Store delivers it.

Variables ``swvl1`` .. ``swvl4`` (m3 m-3) for the four IFS/HTESSEL layers 0-0.07, 0.07-0.28,
0.28-1.00 and 1.00-2.89 m, and the land-sea mask ``lsm`` (fraction 0-1). Both netCDF layouts:

* older CDS / ``grib_to_netcdf`` files: ``time``, ``latitude`` (90 -> -90), ``longitude``
  (0..360), often packed int16 with ``scale_factor``/``add_offset`` (unpacked here; the packed
  missing value becomes NaN); ERA-Interim files of this layout may hold a scalar ``time``;
* current CDS netCDF4: ``valid_time``, and size-1 ``expver``/``number`` dimensions, dropped.
  An ``expver`` of size 2 (the ERA5/ERA5T mix) is refused: select one version first.

Sea cells (``lsm < lsm_threshold``, default 0.5) are not masked in ERA5 (their values are near
0): they are set to NaN and counted as ``sea``. Values already missing over land are counted
as ``fill``. IFS soil moisture has tiny negative values over land: values in
``[-negative_tolerance, 0)`` are clipped to 0 and counted as ``clipped_negative`` (kept, not
rejected); more negative values are set to NaN and counted as ``negative``. Without ``lsm``
(ERA5-Land downloads often lack it: its sea cells are already missing) sea cannot be told
from land; such a file is accepted only if it has missing values. GRIB files are not read.
"""

from __future__ import annotations

import numpy as np

from landia.errors import InputError
from landia.io.netcdf import normalise_units, read_grid, read_times, read_values
from landia.observations.product import ProductField
from landia.observations.products.reading import add_count, open_product, squeeze_extra

#: depth range (m) of each swvl layer
LAYERS = {1: (0.0, 0.07), 2: (0.07, 0.28), 3: (0.28, 1.00), 4: (1.00, 2.89)}
VOLUMETRIC_UNITS = ("m**3 m**-3", "m3 m-3", "m3/m3", "m^3 m^-3", "m3 m**-3", "m**3/m**3", "1",
                    "fraction")
LSM_UNITS = ("(0 - 1)", "(0-1)", "1", "fraction", "0-1", "dimensionless", "")
TIME_DIMS = ("time", "valid_time")


def _check_volumetric(path, name: str, var) -> None:
    units = getattr(var, "units", None)
    if units is None:
        raise InputError(f"{path}: variable {name!r} has no 'units' attribute; expected "
                         f"volumetric soil water in m**3 m**-3 (m3 m-3)")
    u = normalise_units(units)
    if u not in {normalise_units(x) for x in VOLUMETRIC_UNITS}:
        hint = ""
        if u in ("kg m-2", "kg m**-2", "mm"):
            lo, hi = LAYERS[int(name[4:])] if name[4:].isdigit() and int(name[4:]) in LAYERS \
                else (0.0, 1.0)
            hint = (f" (a water amount: divide by 1000 x the layer thickness, "
                    f"{hi - lo:g} m, for m3 m-3)")
        elif u in ("%", "percent"):
            hint = " (divide by 100 for m3 m-3)"
        raise InputError(f"{path}: variable {name!r} has units {units!r}; expected "
                         f"volumetric soil water in m**3 m**-3 (m3 m-3){hint}")


def _read_3d(ds, path, name: str, grid, time_dim: str | None) -> np.ndarray:
    """A variable as (ntime, ny, nx) float with NaN for missing (ntime 1 without time)."""
    var = ds.variables[name]
    data = read_values(ds, path, name)
    keep = (grid.lat_dim, grid.lon_dim) + ((time_dim,) if time_dim else ())
    data, dims = squeeze_extra(path, name, var, data, keep)
    expected = ((time_dim,) if time_dim in dims else ()) + (grid.lat_dim, grid.lon_dim)
    if dims != expected:
        raise InputError(f"{path}: variable {name!r} has dimensions {dims}; expected "
                         f"{expected} (time, latitude, longitude)")
    return data if time_dim in dims else data[None]


def read_era5_soil_moisture(path, lsm_threshold: float = 0.5, negative_tolerance: float = 0.01,
              layers=None) -> list[ProductField]:
    """Read ERA5 / ERA5-Land / ERA-Interim soil moisture: one ProductField per time.

    Parameters
    ----------
    path : path-like
        A CDS netCDF file with ``swvl1`` .. ``swvl4`` (any subset) and ideally ``lsm``.
    lsm_threshold : float
        Cells with land-sea mask below this fraction are sea: set to NaN, counted ``sea``.
    negative_tolerance : float
        Values in ``[-negative_tolerance, 0)`` m3 m-3 are clipped to 0 (counted
        ``clipped_negative``); lower values are rejected (``negative``).
    layers : sequence of int, optional
        The swvl layers to read (1-4); default all present in the file.

    Returns
    -------
    list of ProductField
        Values (nlayer, ny, nx) in m3 m-3, product ``era5``, period ``instant``, lat/lon as in
        the file (ERA5: 90 -> -90, 0..359.75).
    """
    if not 0.0 < lsm_threshold <= 1.0:
        raise InputError(f"ERA5 reader: lsm_threshold {lsm_threshold!r}; expected a land "
                         f"fraction in (0, 1]")
    ds = open_product(path, "ERA5 soil-moisture")
    try:
        present = sorted(int(n[4:]) for n in ds.variables
                         if n.startswith("swvl") and n[4:].isdigit())
        wanted = list(layers) if layers is not None else present
        if not wanted:
            raise InputError(f"{path}: no volumetric soil water variable swvl1..swvl4; the "
                             f"file has {', '.join(sorted(ds.variables))}")
        for k in wanted:
            if k not in LAYERS:
                raise InputError(f"{path}: swvl layer {k!r} requested; expected 1..4")
            if k not in present:
                raise InputError(f"{path}: variable 'swvl{k}' not found; the file has "
                                 f"{', '.join(sorted(ds.variables))}")
            _check_volumetric(path, f"swvl{k}", ds.variables[f"swvl{k}"])
        grid = read_grid(ds, path)
        var0 = ds.variables[f"swvl{wanted[0]}"]
        time_dim = next((d for d in var0.dimensions if d in TIME_DIMS), None)
        _, times = read_times(ds, path, TIME_DIMS)
        data = np.stack([_read_3d(ds, path, f"swvl{k}", grid, time_dim) for k in wanted],
                        axis=1)  # (ntime, nlayer, ny, nx)
        if data.shape[0] != times.size:
            raise InputError(f"{path}: swvl{wanted[0]} has {data.shape[0]} times but the time "
                             f"coordinate has {times.size}")
        lsm = None
        if "lsm" in ds.variables:
            units = normalise_units(getattr(ds.variables["lsm"], "units", ""))
            if units not in {normalise_units(u) for u in LSM_UNITS}:
                raise InputError(f"{path}: variable 'lsm' has units "
                                 f"{ds.variables['lsm'].units!r}; expected a land fraction "
                                 f"(0 - 1)")
            lsm_time = time_dim if time_dim in ds.variables["lsm"].dimensions else None
            lsm = _read_3d(ds, path, "lsm", grid, lsm_time)
            finite = lsm[np.isfinite(lsm)]
            if finite.size and (finite.min() < -0.01 or finite.max() > 1.01):
                raise InputError(f"{path}: variable 'lsm' ranges {finite.min():g} to "
                                 f"{finite.max():g}; expected a land fraction in [0, 1]")
    finally:
        ds.close()
    if lsm is None and np.all(np.isfinite(data)):
        raise InputError(f"{path}: no land-sea mask 'lsm' and no missing values in swvl: sea "
                         f"cells cannot be told from land (ERA5 does not mask sea); add 'lsm' "
                         f"to the download (ERA5-Land files, which mask sea, need none)")
    out = []
    for it in range(data.shape[0]):
        values = data[it]
        rejected: dict = {}
        if lsm is not None:
            sea = ~(lsm[min(it, lsm.shape[0] - 1)] >= lsm_threshold)  # NaN lsm counts as sea
            add_count(rejected, "sea", sea.sum() * values.shape[0])
            values[:, sea] = np.nan
        add_count(rejected, "fill", np.isnan(values).sum() - rejected.get("sea", 0))
        with np.errstate(invalid="ignore"):
            small = (values < 0) & (values >= -negative_tolerance)
            bad = values < -negative_tolerance
        add_count(rejected, "clipped_negative", small.sum())
        add_count(rejected, "negative", bad.sum())
        values[small] = 0.0
        values[bad] = np.nan
        out.append(ProductField(
            time=times[it], lat=grid.lat, lon=grid.lon, values=values,
            layer_top=[LAYERS[k][0] for k in wanted],
            layer_bottom=[LAYERS[k][1] for k in wanted],
            rejected=rejected, source=str(path), product="era5", period="instant"))
    return out
