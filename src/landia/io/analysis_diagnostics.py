"""The diagnostics part of an analysis file: where the image term acts (per curvelet scale and
wedge), the image-error variances per scale, and the verification at withheld observations.

Written by :func:`landia.io.analysis_file.write_analysis` and read back by
:func:`landia.io.analysis_file.read_analysis`; a file without them (no image term, no withheld
observations, or written before they existed) reads with None in their place.

Layout::

    dimensions:  scale, wedge                 (only with an image term)
    variables:   scale(scale), wedge(wedge)    integer coordinates (0 = low-pass scale)
                 wedges_per_scale(scale)
                 coefficients(scale, wedge), kept_coefficients(scale, wedge)
                 omb_sum_all, omb_sum_kept, oma_sum_all, oma_sum_kept, omb_oma_sum_kept,
                 omb_mean_square_all, omb_mean_square_kept, oma_mean_square_all,
                 oma_mean_square_kept, white_noise_energy_kept (estimated variances
                 only), background_energy_kept (innovation only)
                                                (scale, wedge), (m3 m-3)^2
                 image_error_variance(scale), image_error_variance_next(scale),
                 image_error_estimate(scale) (estimated variances only)   (m3 m-3)^2
                 (each (scale, wedge) with analysis.image_error_bands = "wedge"; read
                 back as one value per band either way)
                 withheld_observation([time,] layer, lat, lon)            m3 m-3
                 withheld_count(layer), withheld_omb_mean(layer), withheld_omb_rmse(layer),
                 withheld_oma_mean(layer), withheld_oma_rmse(layer)
                 observation_error_excess([time,] lat, lon),
                 observation_error_excess_estimate([time,] lat, lon)     (m3 m-3)^2
                 observation_error_excess_coverage([time,] lat, lon)     1
                                                (analysis.local_image_error on only)

The statistics are defined in :mod:`landia.analysis.image_diagnostics`: O-B and O-A are the
curvelet coefficients of the filled images ``C E (y - S x)`` of the background and the
analysis, summed over the analysed layers; "kept" are those JI uses, "all" every coefficient.
"""

from __future__ import annotations

import numpy as np

from landia.errors import InputError
from landia.io.netcdf import (FIELD_COORDINATES, field_dimensions, missing_variable, read_record,
                              read_values, write_record)

#: Per-band sums and mean squares: (variable, attribute of ImageStatistics, long name).
BAND_SUMS = (
    ("omb_sum_all", "omb_all", "sum of |O-B|^2 over all coefficients of the band"),
    ("omb_sum_kept", "omb_kept", "sum of |O-B|^2 over the kept coefficients of the band"),
    ("oma_sum_all", "oma_all", "sum of |O-A|^2 over all coefficients of the band"),
    ("oma_sum_kept", "oma_kept", "sum of |O-A|^2 over the kept coefficients of the band"),
    ("omb_oma_sum_kept", "cross_kept",
     "sum of Re(conj(O-B) (O-A)) over the kept coefficients of the band"),
)
MEAN_SQUARES = (("omb_mean_square_all", "omb_all", "mean of |O-B|^2 over all coefficients"),
                ("omb_mean_square_kept", "omb_kept", "mean of |O-B|^2 over the kept coefficients"),
                ("oma_mean_square_all", "oma_all", "mean of |O-A|^2 over all coefficients"),
                ("oma_mean_square_kept", "oma_kept", "mean of |O-A|^2 over the kept coefficients"))
COUNTS = (("coefficients", "coefficients", "complex curvelet coefficients of the band"),
          ("kept_coefficients", "kept", "kept complex curvelet coefficients of the band"))
#: Per-layer statistics at the withheld observations.
WITHHELD = ("count", "omb_mean", "omb_rmse", "oma_mean", "oma_rmse")
_WITHHELD_DOC = {"count": ("withheld observations with a value", "1"),
                 "omb_mean": ("mean observation minus background at the withheld cells",
                              "m3 m-3"),
                 "omb_rmse": ("RMS of observation minus background at the withheld cells",
                              "m3 m-3"),
                 "oma_mean": ("mean observation minus analysis at the withheld cells", "m3 m-3"),
                 "oma_rmse": ("RMS of observation minus analysis at the withheld cells",
                              "m3 m-3")}
_SQ = "m6 m-6"  # (m3 m-3)^2
_FILL = -1


def write_image_diagnostics(ds, stats, image_error) -> None:
    """The scale/wedge statistics (an ImageStatistics) and the image-error variances (an
    ImageErrorVariance) into the open dataset ``ds``; nothing when ``stats`` is None."""
    if stats is None:
        return
    scales, wedges = stats.kept.shape
    ds.createDimension("scale", scales)
    ds.createDimension("wedge", wedges)
    v = ds.createVariable("scale", "i4", ("scale",))
    v.long_name = "curvelet scale (0 = low-pass band, coarsest first)"
    v[:] = np.arange(scales)
    v = ds.createVariable("wedge", "i4", ("wedge",))
    v.long_name = "curvelet wedge (orientation) within its scale"
    v.comment = "scale j has wedges_per_scale[j] wedges; the others are fill"
    v[:] = np.arange(wedges)
    v = ds.createVariable("wedges_per_scale", "i4", ("scale",))
    v.long_name, v.units = "number of wedges of each curvelet scale", "1"
    v[:] = stats.wedges_per_scale
    band = ("scale", "wedge")
    for name, attr, long_name in COUNTS:
        # 32-bit: CF-1.8 (2.2) has no 64-bit integers; a count reaches 2^31 only on grids
        # of tens of thousands of cells a side. Read back as int64.
        v = ds.createVariable(name, "i4", band, fill_value=_FILL)
        v.long_name, v.units = long_name + ", summed over the analysed layers", "1"
        v[:] = np.where(_present(stats), getattr(stats, attr), _FILL)
    for name, attr, long_name in BAND_SUMS:
        _band_variable(ds, name, getattr(stats, attr), long_name)
    for name, attr, long_name in MEAN_SQUARES:
        v = ds.createVariable(name, "f8", band, fill_value=np.nan)
        v.long_name = long_name + " of the band (per complex coefficient), layers pooled"
        v.units = _SQ
        v[:] = stats.mean_square(attr)
    if stats.white_kept is not None:
        _band_variable(ds, "white_noise_energy_kept", stats.white_kept,
                       "expected sum of |C E z|^2 over the kept coefficients for a white "
                       "observation error z of unit variance (the estimates' normaliser)",
                       units="1")
    if stats.background_kept is not None:
        _band_variable(ds, "background_energy_kept", stats.background_kept,
                       "expected sum of |C E S B^1/2 z|^2 over the kept coefficients for z "
                       "white of unit variance (the background error B states there)")
    # One value per scale, or per band (analysis.image_error_bands = "wedge"): then written
    # as (scale, wedge) tables like the statistics, fill where a scale has fewer wedges.
    per_band = np.size(image_error.used) != scales
    unit = "band" if per_band else "scale"
    rows = [("image_error_variance", image_error.used,
             f"image-error variance s2 of each curvelet {unit} used by JI"),
            ("image_error_variance_next", image_error.next,
             f"image-error variance of each {unit} carried to the next analysis")]
    if image_error.estimate is not None:
        rows.append(("image_error_estimate", image_error.estimate,
                     f"{image_error.method} estimate of the image-error variance of each "
                     f"{unit}"))
    for name, values, long_name in rows:
        values = np.asarray(values, dtype=np.float64)
        if per_band:
            table = np.full((scales, wedges), np.nan)
            table[_present(stats)] = values
            values = table
        v = ds.createVariable(name, "f8", band if per_band else ("scale",),
                              fill_value=np.nan)
        v.long_name, v.units = long_name, _SQ
        v[:] = np.where(np.isposinf(values), np.finfo(float).max, values)
        if name == "image_error_estimate" and image_error.observation_variance is not None:
            v.comment = ("innovation method: the s2 of the optimal gain for the stated mean "
                         "observation_error_variance and the background_error_variance of "
                         "each scale B states (white-equivalent); "
                         f"{np.finfo(float).max:.6g} stands for +inf (no excess innovation)")
            v.observation_error_variance = image_error.observation_variance
            v.background_error_variance = np.asarray(image_error.background_variance)


def _present(stats) -> np.ndarray:
    """The (scale, wedge) entries that are bands of the transform."""
    return np.arange(stats.kept.shape[1])[None, :] < stats.wedges_per_scale[:, None]


def _band_variable(ds, name: str, values, long_name: str, units: str = _SQ) -> None:
    v = ds.createVariable(name, "f8", ("scale", "wedge"), fill_value=np.nan)
    v.long_name = long_name + ", summed over the analysed layers"
    v.units = units
    v[:] = values


def write_withheld(ds, withheld) -> None:
    """Withheld observations and the departures at them (a dict with ``observation``
    (layer, lat, lon) and the per-layer :data:`WITHHELD` entries); nothing when None."""
    if withheld is None:
        return
    v = ds.createVariable("withheld_observation", "f8", field_dimensions(ds),
                          fill_value=np.nan, zlib=True)
    v.units = "m3 m-3"
    v.standard_name = "volume_fraction_of_condensed_water_in_soil"
    v.long_name = "observations withheld from the analysis (verification only)"
    v.coordinates = FIELD_COORDINATES
    write_record(v, withheld["observation"])
    for key in WITHHELD:
        long_name, units = _WITHHELD_DOC[key]
        if key == "count":
            v = ds.createVariable(f"withheld_{key}", "i4", ("layer",))
        else:
            v = ds.createVariable(f"withheld_{key}", "f8", ("layer",), fill_value=np.nan)
        v.long_name, v.units = long_name, units
        v[:] = withheld[key]


#: The local error estimate's per-cell fields: variable name -> (LocalError attribute,
#: long name, units).
LOCAL_ERROR = {
    "observation_error_excess": (
        "used", "observation-error variance beyond the stated one, carried to the next "
                "analysis (e, signed; this analysis used clip(e, 0, image_error_cap))", _SQ),
    "observation_error_excess_estimate": (
        "estimate", "this analysis' estimate of the excess from the observed image's "
                    "fine-scale curvelet innovations (NaN where its window saw no observation)",
        _SQ),
    "observation_error_excess_coverage": (
        "coverage", "observed share of the estimate's window (the weight of the estimate in "
                    "the carried excess)", "1"),
}


def write_local_error(ds, grid, local_error) -> None:
    """The per-cell observation-error excess of ``analysis.local_image_error``
    (:class:`landia.analysis.local_error.LocalError`, land values) as (lat, lon) fields, NaN
    off land, and the fine scales it read (attribute ``local_error_fine_scales``); nothing
    when None."""
    if local_error is None:
        return
    for name, (attr, long_name, units) in LOCAL_ERROR.items():
        v = ds.createVariable(name, "f8", field_dimensions(ds, ("lat", "lon")),
                              fill_value=np.nan, zlib=True)
        v.long_name, v.units = long_name, units
        write_record(v, grid.to_field(getattr(local_error, attr)))
    ds.local_error_fine_scales = np.asarray(local_error.fine_scales, dtype=np.int32)


def read_local_error(ds, path) -> dict | None:
    """The fields of :func:`write_local_error` by variable name, (lat, lon) each, and
    ``fine_scales``; None when the file has none."""
    if "observation_error_excess" not in ds.variables:
        return None
    out = {name: read_record(ds, path, name, dims=("lat", "lon")) for name in LOCAL_ERROR}
    out["fine_scales"] = tuple(int(k) for k in np.atleast_1d(
        ds.getncattr("local_error_fine_scales")))
    return out


def read_image_diagnostics(ds, path) -> tuple[dict | None, dict | None]:
    """(band statistics by variable name, image-error variances by variable name), None
    where the file has none."""
    if "scale" not in ds.dimensions:
        return None, None
    names = (["wedges_per_scale"] + [n for n, _, _ in COUNTS] + [n for n, _, _ in BAND_SUMS]
             + [n for n, _, _ in MEAN_SQUARES])
    names += [n for n in ("white_noise_energy_kept", "background_energy_kept")
              if n in ds.variables]
    bands = {}
    for name in names:
        values = read_values(ds, path, name)
        expected = ("scale",) if name == "wedges_per_scale" else ("scale", "wedge")
        if ds.variables[name].dimensions != expected:
            raise InputError(f"{path}: variable {name!r} has dimensions "
                             f"{ds.variables[name].dimensions}; expected {expected}")
        if name in ("wedges_per_scale", "coefficients", "kept_coefficients"):
            values = np.where(np.isfinite(values), values, 0).astype(np.int64)
        bands[name] = values
    variances = {}
    present = None
    for name in ("image_error_variance", "image_error_variance_next", "image_error_estimate"):
        if name in ds.variables:
            values = read_values(ds, path, name)
            if ds.variables[name].dimensions == ("scale", "wedge"):  # one per band
                if present is None:
                    wedges = bands["wedges_per_scale"]
                    present = np.arange(values.shape[1])[None, :] < wedges[:, None]
                values = values[present]
            elif ds.variables[name].dimensions != ("scale",):
                raise InputError(f"{path}: variable {name!r} has dimensions "
                                 f"{ds.variables[name].dimensions}; expected ('scale',) or "
                                 f"('scale', 'wedge')")
            variances[name] = values
        elif name != "image_error_estimate":
            raise InputError(missing_variable(path, name, ds))
    return bands, variances


def read_withheld(ds, path) -> dict | None:
    """The withheld observations and departures (as written by :func:`write_withheld`)."""
    if "withheld_observation" not in ds.variables:
        return None
    out = {"observation": read_record(ds, path, "withheld_observation")}
    for key in WITHHELD:
        values = read_values(ds, path, f"withheld_{key}")
        out[key] = values.astype(np.int64) if key == "count" else values
    return out
