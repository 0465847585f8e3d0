"""SMAP L3 radiometer soil moisture (SPL3SMP, and SPL3SMP_E on the 9 km grid), HDF5 via h5py.

Layout (SMAP L3 product specification): groups ``Soil_Moisture_Retrieval_Data_AM`` (06:00
descending overpass) and ``Soil_Moisture_Retrieval_Data_PM`` (18:00 ascending), each with
(rows, columns) datasets ``soil_moisture`` (cm3/cm3 = m3 m-3), ``soil_moisture_error``,
``retrieval_qual_flag``, ``latitude``, ``longitude``, ``tb_time_utc`` (ISO strings) or
``tb_time_seconds`` (seconds since J2000, 2000-01-01T11:58:55.816 UTC); in recent versions the
PM datasets carry the suffix ``_pm`` (``soil_moisture_pm``, ``latitude_pm``, ...). Fill value
-9999 (``_FillValue`` attribute when present) -> NaN, counted ``fill``; bit 0 of
``retrieval_qual_flag`` (recommended quality not met) -> NaN, counted ``flag_quality``.

The grid is EASE-Grid 2.0 global (EPSG:6933): Lambert cylindrical equal-area on the WGS84
ellipsoid, standard parallel 30 deg, 36 km: 406 rows x 964 columns of 36032.220840584 m
(9 km: 1624 x 3856 of 9008.055210146 m). The files' ``latitude``/``longitude`` are filled
where there is no retrieval, so the 1-D axes are derived from the projection
(:func:`ease2_axes`): x = a k0 lambda, y = a q(phi) / (2 k0), k0 = cos(phi1) /
sqrt(1 - e2 sin^2(phi1)), q the authalic function, inverted with the authalic-latitude series
(Snyder 1987, eq. 3-18). Row 0 centre 83.632 N (its northern edge 85.0446 N, the grid's limit);
column 0 centre -179.8133 E. The latitude axis is not uniform (rectilinear). The derived axes
are checked against the file's valid latitude/longitude values (to 5 % of a cell).

Time: the median of the valid ``tb_time_utc`` (or ``tb_time_seconds``) of the pass; the
overpass is at about 06:00 (AM) / 18:00 (PM) local solar time, so the UTC time of a cell
depends on its longitude and the image time is only nominal. Without any valid time the date
in the file name at 06:00 / 18:00 UTC is used. Sensing depth 0-0.05 m (L-band).
"""

from __future__ import annotations

import re
from pathlib import Path

import h5py
import numpy as np

from landia.errors import InputError
from landia.observations.product import ProductField
from landia.observations.products.reading import add_count, check_file, reject_fill_and_negative

A_WGS84 = 6378137.0
F_WGS84 = 1.0 / 298.257223563
E2_WGS84 = F_WGS84 * (2.0 - F_WGS84)
STANDARD_PARALLEL = 30.0
#: (rows, columns) -> nominal cell size (m), NSIDC EASE-Grid 2.0 global grids
GRIDS = {(406, 964): 36032.220840584, (1624, 3856): 9008.055210146,
         (4872, 11568): 3002.6850700487}
FILL = -9999.0
GROUPS = {"AM": "Soil_Moisture_Retrieval_Data_AM", "PM": "Soil_Moisture_Retrieval_Data_PM"}
NOMINAL_HOUR = {"AM": 6, "PM": 18}
J2000_UTC = np.datetime64("2000-01-01T11:58:55.816", "ms")
VOLUMETRIC_UNITS = ("cm**3/cm**3", "cm3/cm3", "cm^3/cm^3", "m3/m3", "m3 m-3", "m**3/m**3",
                    "cm**3 cm**-3", "cm3 cm-3")


def _k0() -> float:
    s = np.sin(np.radians(STANDARD_PARALLEL))
    return np.cos(np.radians(STANDARD_PARALLEL)) / np.sqrt(1.0 - E2_WGS84 * s * s)


def authalic_q(lat_deg) -> np.ndarray:
    """Snyder's q(phi) on the WGS84 ellipsoid (eq. 3-12), dimensionless."""
    e2 = E2_WGS84
    e = np.sqrt(e2)
    s = np.sin(np.radians(np.asarray(lat_deg, dtype=float)))
    return (1 - e2) * (s / (1 - e2 * s * s) - np.log((1 - e * s) / (1 + e * s)) / (2 * e))


def ease2_forward(lat_deg, lon_deg) -> tuple[np.ndarray, np.ndarray]:
    """EASE-Grid 2.0 global map coordinates (x, y), m, of positions in degrees."""
    k0 = _k0()
    x = A_WGS84 * k0 * np.radians(np.asarray(lon_deg, dtype=float))
    y = A_WGS84 * authalic_q(lat_deg) / (2 * k0)
    return x, y


def ease2_inverse_lat(y) -> np.ndarray:
    """Latitude (deg) of EASE-Grid 2.0 map ordinates y (m), authalic series (Snyder 3-18)."""
    e2 = E2_WGS84
    k0 = _k0()
    qp = authalic_q(90.0)
    beta = np.arcsin(np.clip(2 * np.asarray(y, dtype=float) * k0 / (A_WGS84 * qp), -1, 1))
    phi = (beta + (e2 / 3 + 31 * e2 ** 2 / 180 + 517 * e2 ** 3 / 5040) * np.sin(2 * beta)
           + (23 * e2 ** 2 / 360 + 251 * e2 ** 3 / 3780) * np.sin(4 * beta)
           + (761 * e2 ** 3 / 45360) * np.sin(6 * beta))
    return np.degrees(phi)


def ease2_axes(nrows: int, ncols: int) -> tuple[np.ndarray, np.ndarray]:
    """Row-centre latitudes (north to south) and column-centre longitudes of a global grid.

    The columns divide the equator's map width 2 pi a k0 exactly (cell width = the nominal
    size to 1e-9); the cell height is nominal**2 / width (equal area), rows symmetric about
    the equator.
    """
    if (nrows, ncols) not in GRIDS:
        raise InputError(f"EASE-Grid 2.0: shape ({nrows}, {ncols}) is not a known global grid; "
                         f"expected one of {sorted(GRIDS)} (36, 9 or 3 km)")
    k0 = _k0()
    width = 2 * np.pi * A_WGS84 * k0 / ncols
    height = GRIDS[(nrows, ncols)] ** 2 / width
    x = (np.arange(ncols) - ncols / 2 + 0.5) * width
    y = (nrows / 2 - 0.5 - np.arange(nrows)) * height
    return ease2_inverse_lat(y), np.degrees(x / (A_WGS84 * k0))


def _attr(ds, name, default=None):
    v = ds.attrs.get(name, default)
    if isinstance(v, bytes):
        v = v.decode(errors="replace")
    if isinstance(v, np.ndarray) and v.size == 1:
        v = v.reshape(-1)[0]
        if isinstance(v, bytes):
            v = v.decode(errors="replace")
    return v


def _read(group, path, name: str, required: bool = True, shape=None):
    if name not in group:
        if required:
            raise InputError(f"{path}: dataset {group.name}/{name} not found; the group has "
                             f"{', '.join(sorted(group.keys())) or 'no datasets'}")
        return None
    ds = group[name]
    try:
        data = ds[...]
    except (OSError, RuntimeError, ValueError) as exc:
        raise InputError(f"{path}: dataset {group.name}/{name} cannot be read (truncated or "
                         f"corrupt file?): {exc}") from None
    if shape is not None and data.shape != shape:
        raise InputError(f"{path}: dataset {group.name}/{name} has shape {data.shape}; "
                         f"expected {shape} like soil_moisture")
    return ds, data


def _floats(ds, data) -> np.ndarray:
    out = np.asarray(data, dtype=float)
    fill = _attr(ds, "_FillValue", FILL)
    try:
        fill = float(fill)
    except (TypeError, ValueError):
        fill = FILL
    return np.where((out == fill) | (out <= FILL + 0.5) | ~np.isfinite(out), np.nan, out)


def _pass_time(group, path, suffix: str, pas: str) -> np.datetime64 | None:
    got = _read(group, path, "tb_time_utc" + suffix, required=False)
    if got is not None:
        raw = np.asarray(got[1]).ravel()
        stamps = []
        for s in raw:
            s = s.decode(errors="replace") if isinstance(s, bytes) else str(s)
            s = s.strip().rstrip("Z")
            if len(s) >= 19 and s[4] == "-" and s[10] == "T":
                try:
                    stamps.append(np.datetime64(s, "ms"))
                except ValueError:
                    pass
        if stamps:
            ms = np.array(stamps, dtype="datetime64[ms]").astype(np.int64)
            return np.datetime64(int(np.median(ms)), "ms").astype("datetime64[s]")
    got = _read(group, path, "tb_time_seconds" + suffix, required=False)
    if got is not None:
        sec = _floats(*got).ravel()
        sec = sec[np.isfinite(sec)]
        if sec.size:
            return (J2000_UTC + np.timedelta64(int(round(np.median(sec) * 1000)), "ms")
                    ).astype("datetime64[s]")
    m = re.search(r"_(\d{8})_", Path(path).name)
    if m:
        d = m.group(1)
        return np.datetime64(f"{d[:4]}-{d[4:6]}-{d[6:]}T{NOMINAL_HOUR[pas]:02d}:00:00", "s")
    return None


def read_smap(path, passes=("AM", "PM"), reject_quality: bool = True,
              layer=(0.0, 0.05), check_coordinates: bool = True) -> list[ProductField]:
    """Read SMAP L3 radiometer soil moisture: one ProductField per pass (AM, PM).

    Parameters
    ----------
    path : path-like
        An SPL3SMP (or SPL3SMP_E) HDF5 file.
    passes : sequence of ``"AM"``/``"PM"``
        The passes to read; a pass whose group is absent is skipped unless no pass is found.
    reject_quality : bool
        Reject retrievals with bit 0 of ``retrieval_qual_flag`` set (``flag_quality``).
    layer : (float, float)
        Assumed sensing depth range, m.
    check_coordinates : bool
        Compare the derived EASE-Grid 2.0 axes with the file's valid latitude/longitude.

    Returns
    -------
    list of ProductField
        Values (1, 406, 964) in m3 m-3 on the 36 km grid, lat north to south (non-uniform),
        lon -179.81 .. 179.81, error variance from ``soil_moisture_error`` where present,
        product ``smap_l3``, period ``instant``.
    """
    path = check_file(path, "SMAP L3")
    try:
        h5 = h5py.File(path, "r")
    except OSError as exc:
        raise InputError(f"{path}: cannot open SMAP L3 file as HDF5 (truncated or not HDF5?): "
                         f"{exc}") from None
    out = []
    try:
        unknown = [p for p in passes if p not in GROUPS]
        if unknown:
            raise InputError(f"{path}: SMAP passes {unknown}; expected 'AM' and/or 'PM'")
        found = [p for p in passes if GROUPS[p] in h5]
        if not found:
            raise InputError(f"{path}: no group {' or '.join(GROUPS[p] for p in passes)}; the "
                             f"file has {', '.join(sorted(h5.keys())) or 'no groups'}; expected "
                             f"an SPL3SMP radiometer file")
        for pas in found:
            g = h5[GROUPS[pas]]
            suffix = "_pm" if pas == "PM" and "soil_moisture_pm" in g else ""
            sm_ds, sm_raw = _read(g, path, "soil_moisture" + suffix)
            where = f"{path}: dataset {g.name}/soil_moisture{suffix}"
            if sm_raw.ndim != 2:
                raise InputError(f"{where} has shape {sm_raw.shape}; expected 2-D (rows, "
                                 f"columns) of the EASE-Grid 2.0")
            units = str(_attr(sm_ds, "units", "cm**3/cm**3")).strip()
            if " ".join(units.split()).lower() not in VOLUMETRIC_UNITS:
                raise InputError(f"{where} has units {units!r}; expected cm**3/cm**3 "
                                 f"(volumetric, = m3 m-3)")
            shape = sm_raw.shape
            if shape not in GRIDS:
                raise InputError(f"{where} has shape {shape}; expected an EASE-Grid 2.0 global "
                                 f"grid {sorted(GRIDS)} (SPL3SMP: 406 x 964)")
            lat, lon = ease2_axes(*shape)
            values = _floats(sm_ds, sm_raw)
            rejected: dict = {}
            reject_fill_and_negative(values, rejected)
            got = _read(g, path, "retrieval_qual_flag" + suffix, required=False, shape=shape)
            if got is not None and reject_quality:
                qf_ds, qf = got
                qfill = _attr(qf_ds, "_FillValue", None)
                qf = np.asarray(qf).astype(np.int64)
                bad = ((qf & 1) != 0) & np.isfinite(values)
                if qfill is not None:
                    bad &= qf != int(qfill)
                add_count(rejected, "flag_quality", bad.sum())
                values[bad] = np.nan
            ev = None
            got = _read(g, path, "soil_moisture_error" + suffix, required=False, shape=shape)
            if got is not None:
                err = _floats(*got)
                if np.isfinite(err).any():
                    ev = np.where(np.isfinite(values), err ** 2, np.nan)
            if check_coordinates:
                _check_coordinates(g, path, suffix, shape, lat, lon)
            time = _pass_time(g, path, suffix, pas)
            if time is None:
                raise InputError(f"{path}: pass {pas}: no valid tb_time_utc{suffix} or "
                                 f"tb_time_seconds{suffix} and no date (_YYYYMMDD_) in the "
                                 f"file name; expected one of them for the time")
            out.append(ProductField(
                time=time, lat=lat, lon=lon, values=values, layer_top=[layer[0]],
                layer_bottom=[layer[1]], error_variance=ev, rejected=rejected,
                source=f"{path}:{g.name}", product="smap_l3", period="instant"))
    finally:
        h5.close()
    return out


def _check_coordinates(g, path, suffix, shape, lat, lon) -> None:
    """Refuse a file whose valid latitude/longitude disagree with the derived axes."""
    for name, axis, along in (("latitude", lat, 0), ("longitude", lon, 1)):
        got = _read(g, path, name + suffix, required=False, shape=shape)
        if got is None:
            continue
        v = _floats(*got)
        ok = np.isfinite(v)
        if not ok.any():
            continue
        expected = np.broadcast_to(axis[:, None] if along == 0 else axis[None, :], shape)
        spacing = np.abs(np.gradient(axis))
        tol = 0.05 * np.broadcast_to(spacing[:, None] if along == 0 else spacing[None, :],
                                     shape)
        diff = np.abs(v - expected)
        bad = ok & (diff > tol)
        if bad.any():
            r, c = np.argwhere(bad)[0]
            raise InputError(
                f"{path}: dataset {g.name}/{name}{suffix} at row {r}, column {c} is "
                f"{v[r, c]:.5f} but EASE-Grid 2.0 {shape} gives {expected[r, c]:.5f} "
                f"({int(bad.sum())} cells differ by more than 5 % of a cell); expected the "
                f"global EASE-Grid 2.0 (EPSG:6933)")
