"""C3S and ESA CCI satellite soil moisture (COMBINED and PASSIVE products, netCDF).

Variables (as in the C3S ``C3S-SOILMOISTURE-L3S-SSMV-*`` and ESA ``ESACCI-SOILMOISTURE-L3S-
SSMV-*`` files; which ones a file has depends on the product and its aggregation):

* ``sm`` volumetric soil moisture, m3 m-3, ``_FillValue`` -9999 -> NaN, counted ``fill``;
* ``sm_uncertainty`` (daily files), the standard deviation of the retrieval, m3 m-3 ->
  ``error_variance`` = uncertainty**2 (NaN where missing); absent in monthly files;
* ``flag`` (daily files), bits: the file's ``flag_values``/``flag_masks`` and
  ``flag_meanings`` are read and each single-bit meaning mapped to a reason
  (:data:`REASON_KEYWORDS`); the C3S v201706 daily file says 1 snow coverage or temperature
  below zero, 2 dense vegetation, 4 no convergence in the model, 8 value exceeds the physical
  boundary, 16 weight of measurement below threshold, 32 all data sets deemed unreliable,
  127 (``_FillValue``) NaN. Meanings containing ``advisory`` (e.g. the ``barren_ground``
  advisory of later versions) do not reject. A flagged value is set to NaN (in these files
  it is already -9999) and counted once, under the reason of its lowest set bit, so that the
  counts add up to the NaN values of the image (the values of a multi-bit cell are counted
  under the first of snow/frozen, dense vegetation, no convergence, physical bound, low
  weight, unreliable). Unflagged missing values are ``fill``;
* ``time`` the nominal time (the day, dekad or month start, 00 UTC); the period comes from
  ``time_coverage_duration`` (P1D / P10D / P1M), else from ``DAILY``/``DEKADAL``/``MONTHLY`` in
  the file name or ``id``. Daily observations come from 12 UTC the day before to 12 UTC
  (``time_coverage_start``/``end``; per-cell times in ``t0``).

The product (``c3s`` or ``esa_cci``) is told from the global attributes (``id``, ``title``,
``project``) or the file name. The sensing depth is taken as 0-0.05 m (C-band/X-band and
L-band microwave penetrate about 1-5 cm; the common validation depth is 5 cm): change it with
``layer=(top, bottom)``. Latitudes stay in file order (89.875 -> -89.875). The ACTIVE
product (degree of saturation, %) is refused: it is not volumetric.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from landia.errors import InputError
from landia.io.netcdf import normalise_units, read_grid, read_times, read_values
from landia.observations.product import ProductField
from landia.observations.products.reading import add_count, open_product, squeeze_extra

VOLUMETRIC_UNITS = ("m3 m-3", "m3/m3", "m^3 m^-3", "m**3 m**-3", "m3.m-3")

#: (keywords in flag_meanings, reason); the first matching entry wins
REASON_KEYWORDS = (
    (("snow", "frozen", "temperature_below_zero"), "flag_frozen_or_snow"),
    (("dense_vegetation",), "flag_dense_vegetation"),
    (("convergence",), "flag_no_convergence"),
    (("physical_bound",), "flag_above_physical_bound"),
    (("weight",), "flag_low_weight"),
    (("unreliable",), "flag_all_inputs_unreliable"),
)

#: the bits documented for C3S / ESA CCI daily files, used when ``flag`` has no meanings
DEFAULT_BITS = {1: "flag_frozen_or_snow", 2: "flag_dense_vegetation",
                4: "flag_no_convergence", 8: "flag_above_physical_bound",
                16: "flag_low_weight", 32: "flag_all_inputs_unreliable"}

PERIODS = {"P1D": "day", "P10D": "dekad", "P1M": "month"}
PERIOD_WORDS = {"DAILY": "day", "DEKADAL": "dekad", "MONTHLY": "month"}


def flag_bits(path, var) -> dict[int, str | None]:
    """Bit value -> rejection reason (None: advisory, not rejected) of a CCI ``flag``.

    Read from ``flag_masks`` or ``flag_values`` with ``flag_meanings``; single-bit values
    only (combinations such as 3 = 1 + 2 follow from the bits). Without meanings the
    documented :data:`DEFAULT_BITS`.
    """
    meanings = str(getattr(var, "flag_meanings", "")).split()
    codes = getattr(var, "flag_masks", None)
    if codes is None:
        codes = getattr(var, "flag_values", None)
    if not meanings or codes is None:
        return dict(DEFAULT_BITS)
    codes = [int(c) for c in np.atleast_1d(codes)]
    if len(codes) != len(meanings):
        raise InputError(f"{path}: variable 'flag' has {len(codes)} flag values but "
                         f"{len(meanings)} flag_meanings; expected one meaning per value")
    fill = getattr(var, "_FillValue", None)
    bits: dict[int, str | None] = {}
    for code, meaning in zip(codes, meanings):
        if code <= 0 or code & (code - 1) or (fill is not None and code == int(fill)):
            continue  # 0 = no flag, combinations, the fill value
        low = meaning.lower()
        if low in ("nan", "no_data", "missing"):
            continue
        if "advisory" in low:
            bits[code] = None
            continue
        for keys, reason in REASON_KEYWORDS:
            if any(k in low for k in keys):
                bits[code] = reason
                break
        else:
            bits[code] = "flag_" + re.sub(r"[^a-z0-9]+", "_", low).strip("_")
    return bits


def _product(path: Path, ds) -> str:
    text = " ".join(str(getattr(ds, a, "")) for a in ("id", "title", "project", "institution"))
    text = f"{text} {path.name}".upper()
    if "ESACCI" in text or "ESA CCI" in text or "CLIMATE CHANGE INITIATIVE" in text:
        return "esa_cci"
    if "C3S" in text or "COPERNICUS" in text:
        return "c3s"
    return "esa_cci"


def _period(path: Path, ds) -> str:
    duration = str(getattr(ds, "time_coverage_duration", "")).strip().upper()
    if duration in PERIODS:
        return PERIODS[duration]
    text = f"{getattr(ds, 'id', '')} {path.name}".upper()
    for word, period in PERIOD_WORDS.items():
        if word in text:
            return period
    return "day"


def read_cci(path, layer=(0.0, 0.05), product: str | None = None) -> list[ProductField]:
    """Read a C3S or ESA CCI soil-moisture file: one ProductField per time.

    Parameters
    ----------
    path : path-like
        A C3S / ESA CCI COMBINED or PASSIVE netCDF file (daily, dekadal or monthly).
    layer : (float, float)
        Assumed sensing depth range, m.
    product : str, optional
        ``c3s`` or ``esa_cci``; default from the global attributes and file name.

    Returns
    -------
    list of ProductField
        Values (1, 720, 1440) in m3 m-3 for the 0.25 deg products, error variance where
        ``sm_uncertainty`` is present, rejected counts by reason.
    """
    path = Path(path)
    ds = open_product(path, "C3S/ESA CCI soil-moisture")
    try:
        if "sm" not in ds.variables:
            raise InputError(f"{path}: variable 'sm' not found; the file has "
                             f"{', '.join(sorted(ds.variables))}")
        units = getattr(ds.variables["sm"], "units", None)
        if units is None or normalise_units(units) not in VOLUMETRIC_UNITS:
            hint = (" (the ACTIVE product is degree of saturation in %: use COMBINED or "
                    "PASSIVE)" if units is not None and ("%" in units or "percent" in
                                                         units.lower()) else "")
            raise InputError(f"{path}: variable 'sm' has units {units!r}; expected "
                             f"volumetric soil moisture in m3 m-3{hint}")
        grid = read_grid(ds, path)
        _, times = read_times(ds, path, ("time",))
        keep = ("time", grid.lat_dim, grid.lon_dim)

        def cube(name):
            var = ds.variables[name]
            data = read_values(ds, path, name)
            data, dims = squeeze_extra(path, name, var, data, keep)
            if dims == keep[1:]:
                data = data[None]
            elif dims != keep:
                raise InputError(f"{path}: variable {name!r} has dimensions {dims}; expected "
                                 f"{keep}")
            return data

        sm = cube("sm")
        unc = cube("sm_uncertainty") if "sm_uncertainty" in ds.variables else None
        if unc is not None:
            u = normalise_units(getattr(ds.variables["sm_uncertainty"], "units", "m3 m-3"))
            if u not in VOLUMETRIC_UNITS:
                raise InputError(f"{path}: variable 'sm_uncertainty' has units "
                                 f"{ds.variables['sm_uncertainty'].units!r}; expected m3 m-3")
        flags, bits = None, {}
        if "flag" in ds.variables:
            bits = flag_bits(path, ds.variables["flag"])
            flags = cube("flag")  # NaN where the flag is _FillValue
        prod = product or _product(path, ds)
        period = _period(path, ds)
    finally:
        ds.close()
    if sm.shape[0] != times.size:
        raise InputError(f"{path}: 'sm' has {sm.shape[0]} times but the time coordinate has "
                         f"{times.size}")
    out = []
    for it in range(sm.shape[0]):
        values = sm[it].copy()
        rejected: dict = {}
        flagged = np.zeros(values.shape, dtype=bool)
        if flags is not None:
            f = flags[it]
            code = np.where(np.isfinite(f), f, 0).astype(np.int64)
            for bit in sorted(bits):
                reason = bits[bit]
                if reason is None:
                    continue
                hit = ((code & bit) != 0) & ~flagged
                add_count(rejected, reason, hit.sum())
                flagged |= hit
            known = sum(bits)
            other = (code & ~known & 0xFF) != 0
            other &= ~flagged & (code > 0)
            add_count(rejected, "flag_unknown", other.sum())
            flagged |= other
        add_count(rejected, "fill", (np.isnan(values) & ~flagged).sum())
        with np.errstate(invalid="ignore"):
            negative = (values < 0) & ~flagged
        add_count(rejected, "negative", negative.sum())
        values[flagged | negative] = np.nan
        ev = None
        if unc is not None:
            ev = np.where(np.isfinite(values), unc[it] ** 2, np.nan)
        out.append(ProductField(
            time=times[it], lat=grid.lat, lon=grid.lon, values=values, layer_top=[layer[0]],
            layer_bottom=[layer[1]], error_variance=ev, rejected=rejected, source=str(path),
            product=prod, period=period))
    return out
