"""The analysis output file (netCDF4, CF-1.8): :func:`write_analysis` writes it atomically,
:func:`read_analysis` reads it back whole and :func:`read_analysis_field` reads one of its
fields.

Layout::

    dimensions:  time (unlimited, 1: only with a valid time), layer, lat, lon, nv, iteration,
                 term
    variables:   time(time)          seconds since 1970-01-01, the valid time (optional)
                 lat(lat), lon(lon), layer(layer), depth(layer), depth_bnds(layer, nv)
                                     the grid (degrees, m)
                 analysis, background, increment, observation
                                     (time, layer, lat, lon), m3 m-3; without a valid
                                     time (layer, lat, lon), as in files before 2026-12
                 cost(iteration), gradient_norm(iteration)           J per minimiser iteration
                 term(term)          integer coordinate; flag_meanings names the cost terms
                 cost_before(term), cost_after(term)                 each term's value
    attributes:  solver, tao_type, converged_reason, iterations, terms, sigma,
                 image_error_variance, image_error_method, qc (JSON), scores (JSON)

With an image term, the O-B and O-A statistics per curvelet scale and wedge and the
image-error variance per scale; with withheld observations, those and the departures at them;
with the local error estimate (``analysis.local_image_error``), its per-cell excess, estimate
and coverage (:mod:`landia.io.analysis_diagnostics`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from landia.errors import InputError
from landia.grid import colm_node_depths
from landia.io.analysis_diagnostics import (read_image_diagnostics, read_local_error,
                                            read_withheld, write_image_diagnostics,
                                            write_local_error, write_withheld)
from landia.io.atomic import atomic_path
from landia.io.fields import VOLUMETRIC_UNITS, SoilMoistureField
from landia.io.netcdf import (FIELD_COORDINATES, create_grid_file, field_dimensions,
                              missing_variable, open_netcdf, read_record, read_valid_time,
                              read_values, write_record)

FIELDS = ("analysis", "increment", "background", "observation")


def write_analysis(path, result, settings, valid_time=None, withheld=None) -> None:
    """Write analysis, increment, background, cost history and diagnostics.

    Variables: ``analysis``, ``increment``, ``background``, ``observation``
    (layer, lat, lon; m3 m-3), ``cost`` and ``gradient_norm`` (iteration),
    ``cost_before`` and ``cost_after`` (term); ``term`` is an integer coordinate
    whose ``flag_meanings`` name the terms. Global
    attributes: solver, converged reason, iterations, terms, sigma, s2, QC counts,
    scores (JSON). With ``valid_time``, the record dimension and coordinate ``time`` (length
    1, unlimited; the fields are (time, layer, lat, lon)), as field files have. The image term's statistics per curvelet scale and wedge and its
    variances per scale come from ``result.image_statistics`` and ``result.image_error``;
    ``withheld`` (a dict: ``observation`` (layer, lat, lon) and the per-layer ``count``,
    ``omb_mean``, ``omb_rmse``, ``oma_mean``, ``oma_rmse``) adds the withheld observations
    and the departures at them (:mod:`landia.io.analysis_diagnostics`).
    """
    problem = result.problem
    grid = problem.grid
    with atomic_path(path) as tmp:
        with create_grid_file(tmp, grid.lat, grid.lon, problem.depth,
                              "landia image 3D-Var soil-moisture analysis",
                              valid_time=valid_time) as ds:
            fields = (
                ("analysis", result.analysis_field, "analysed volumetric soil moisture"),
                ("increment", result.increment_field, "analysis minus background"),
                ("background", result.background_field, "background volumetric soil moisture"),
                ("observation", problem.observation, "observations used after QC"),
            )
            for name, values, long_name in fields:
                v = ds.createVariable(name, "f8", field_dimensions(ds), fill_value=np.nan,
                                      zlib=True)
                v.units = "m3 m-3"
                if name != "increment":
                    v.standard_name = "volume_fraction_of_condensed_water_in_soil"
                v.long_name = long_name
                v.coordinates = FIELD_COORDINATES
                write_record(v, values)
            mres = result.minimiser
            ds.createDimension("iteration", len(mres.cost))
            v = ds.createVariable("iteration", "i4", ("iteration",))
            v.long_name = "minimiser iteration (0 = start point)"
            v[:] = np.arange(len(mres.cost))
            v = ds.createVariable("cost", "f8", ("iteration",))
            v.long_name, v.units = "cost function J", "1"
            v[:] = mres.cost
            v = ds.createVariable("gradient_norm", "f8", ("iteration",))
            v.long_name, v.units = "norm of the projected gradient of J", "m-3 m3"
            v[:] = mres.gradient_norm
            names = list(result.terms_before)
            ds.createDimension("term", len(names))
            # An integer coordinate with flag meanings rather than a string variable:
            # CDO skips netCDF string variables.
            v = ds.createVariable("term", "i4", ("term",))
            v.long_name = "cost term"
            v.flag_values = np.arange(1, len(names) + 1, dtype=np.int32)
            v.flag_meanings = " ".join(names)
            v.comment = "background = JB, point = JO, image = JI"
            v[:] = np.arange(1, len(names) + 1)
            for key, values in (("cost_before", result.terms_before),
                                ("cost_after", result.terms_after)):
                v = ds.createVariable(key, "f8", ("term",))
                v.long_name = f"value of each cost term {key.split('_')[1]} minimisation"
                v.units = "1"
                v[:] = [values[n] for n in names]
            ds.solver = mres.solver
            ds.tao_type = mres.solver.split(":", 1)[1]
            ds.converged_reason = mres.reason
            ds.iterations = np.int32(mres.iterations)
            ds.terms = ",".join(settings.analysis.terms)
            ds.sigma = settings.curvelet.sigma
            ds.image_error_variance = settings.analysis.image_error_variance
            ds.image_error_method = settings.analysis.image_error_method_used
            write_image_diagnostics(ds, result.image_statistics, result.image_error)
            write_withheld(ds, withheld)
            write_local_error(ds, grid, result.local_error)
            ds.qc = json.dumps(problem.qc)
            ds.scores = json.dumps(result.scores)


@dataclass(frozen=True, eq=False)
class AnalysisFile:
    """What an analysis file holds (the inverse of :func:`write_analysis`).

    Attributes
    ----------
    lat, lon : ndarray
        Cell centres, degrees north and east.
    depth : ndarray (nlayer,)
        Node depth of each analysed layer, m.
    analysis, background, increment, observation : ndarray (nlayer, ny, nx)
        Volumetric soil moisture, m3 m-3 (the increment is analysis minus background); NaN
        off land and, for the observation, where none passed QC.
    cost, gradient_norm : ndarray (niteration,)
        J and the norm of its projected gradient at each minimiser iteration (0 = start).
    cost_before, cost_after : dict of str to float
        Each cost term's value (``background``, ``point``, ``image``) before and after the
        minimisation, in the file's order.
    iterations : int
        Minimiser iterations.
    converged_reason, solver : str
        Why the minimiser stopped, and which one it was (``tao:blmvm``, ``scipy:L-BFGS-B``).
    valid_time : numpy.datetime64 or None
        UTC time the analysis is valid at; None when the file was written without one.
    source : str
        The file, for messages.
    bands : dict of str to ndarray or None
        The O-B/O-A statistics per curvelet scale and wedge, by variable name
        (``kept_coefficients``, ``omb_sum_kept``, ... as (scale, wedge) tables, and
        ``wedges_per_scale``); None without an image term.
    image_error : dict of str to ndarray or None
        ``image_error_variance``, ``image_error_variance_next`` and, with the Desroziers
        method, ``image_error_estimate`` (one value per scale, (m3 m-3)^2).
    withheld : dict of str to ndarray or None
        ``observation`` (layer, lat, lon) and the per-layer ``count``, ``omb_mean``,
        ``omb_rmse``, ``oma_mean``, ``oma_rmse``; None without withheld observations.
    local_error : dict or None
        With the local error estimate (``analysis.local_image_error`` on): the per-cell
        ``observation_error_excess`` (the carried e), ``observation_error_excess_estimate``
        ((m3 m-3)^2) and ``observation_error_excess_coverage`` as (lat, lon) fields, NaN off
        land, and ``fine_scales``; None without it.
    """

    lat: np.ndarray
    lon: np.ndarray
    depth: np.ndarray
    analysis: np.ndarray
    background: np.ndarray
    increment: np.ndarray
    observation: np.ndarray
    cost: np.ndarray
    gradient_norm: np.ndarray
    cost_before: dict
    cost_after: dict
    iterations: int
    converged_reason: str
    solver: str
    valid_time: np.datetime64 | None
    source: str
    bands: dict | None = None
    image_error: dict | None = None
    withheld: dict | None = None
    local_error: dict | None = None


def read_analysis(path) -> AnalysisFile:
    """Read an analysis file written by :func:`write_analysis`.

    Raises
    ------
    InputError
        Naming the file and the variable or attribute: the file is missing or not netCDF, a
        variable or attribute is absent, a field has other dimensions or units than
        (layer, lat, lon) in m3 m-3, or the cost terms do not match ``cost_before`` and
        ``cost_after``.
    """
    path = Path(path)
    with open_netcdf(path, "analysis") as ds:
        lat, lon, depth = _grid(ds, path)
        fields = {name: _field(ds, path, name) for name in FIELDS}
        cost = _iteration_series(ds, path, "cost")
        gradient_norm = _iteration_series(ds, path, "gradient_norm")
        terms = _term_names(ds, path)
        before, after = (_term_values(ds, path, name, terms)
                         for name in ("cost_before", "cost_after"))
        iterations = _attribute(ds, path, "iterations")
        try:
            iterations = int(iterations)
        except (TypeError, ValueError):
            raise InputError(f"{path}: global attribute 'iterations' = {iterations!r}; "
                             "expected an integer") from None
        reason = str(_attribute(ds, path, "converged_reason"))
        solver = str(_attribute(ds, path, "solver"))
        valid_time = read_valid_time(ds, path)
        bands, image_error = read_image_diagnostics(ds, path)
        withheld = read_withheld(ds, path)
        local_error = read_local_error(ds, path)
    return AnalysisFile(lat=lat, lon=lon, depth=depth, cost=cost, gradient_norm=gradient_norm,
                        cost_before=before, cost_after=after, iterations=iterations,
                        converged_reason=reason, solver=solver, valid_time=valid_time,
                        source=str(path), bands=bands, image_error=image_error,
                        withheld=withheld, local_error=local_error, **fields)


def read_analysis_field(path, variable: str = "analysis") -> SoilMoistureField:
    """One field of an analysis file (``analysis``, ``background``, ``increment`` or
    ``observation``) with its grid and valid time, as a field read from a field file.

    Only that variable and the grid are read: ``depth`` may be absent (the CoLM node depths
    of the top layers are taken). Raises InputError naming the file and the variable.
    """
    if variable not in FIELDS:
        raise InputError(f"{path}: cannot read {variable!r} from an analysis file; it holds "
                         f"{', '.join(FIELDS)}")
    path = Path(path)
    with open_netcdf(path, "analysis") as ds:
        lat, lon, depth = _grid(ds, path, depth_required=False)
        values = _field(ds, path, variable)
        valid_time = read_valid_time(ds, path)
    if depth is None:
        depth = colm_node_depths()[: values.shape[0]]
    return SoilMoistureField(lat=lat, lon=lon, depth=depth, values=values, source=str(path),
                             valid_time=valid_time)


def read_analysis_local_error(path) -> tuple[np.ndarray, np.ndarray, dict | None]:
    """(lat, lon, :attr:`AnalysisFile.local_error`) of an analysis file: only the grid and the
    local error estimate's fields are read (None without them)."""
    path = Path(path)
    with open_netcdf(path, "analysis") as ds:
        lat, lon, _ = _grid(ds, path, depth_required=False)
        return lat, lon, read_local_error(ds, path)


def read_analysis_image_error(path) -> tuple[dict | None, dict | None]:
    """(:attr:`AnalysisFile.bands`, :attr:`AnalysisFile.image_error`) of an analysis file:
    only the image diagnostics are read (None, None without an image term)."""
    path = Path(path)
    with open_netcdf(path, "analysis") as ds:
        return read_image_diagnostics(ds, path)


def _grid(ds, path, depth_required: bool = True):
    lat, lon = read_values(ds, path, "lat"), read_values(ds, path, "lon")
    for name, c in (("lat", lat), ("lon", lon)):
        if c.ndim != 1 or not np.all(np.isfinite(c)):
            raise InputError(f"{path}: coordinate {name!r} must be 1-D and finite")
    return lat, lon, read_values(ds, path, "depth", required=depth_required)


def _field(ds, path, name: str) -> np.ndarray:
    """A (layer, lat, lon) soil-moisture variable, NaN where masked, stored as such or as one
    (time, layer, lat, lon) record (:func:`~landia.io.netcdf.read_record`)."""
    if name not in ds.variables:
        raise InputError(missing_variable(path, name, ds))
    var = ds.variables[name]
    units = str(getattr(var, "units", "")).strip()
    if units not in VOLUMETRIC_UNITS:
        raise InputError(f"{path}: variable {name!r} has units {units!r}; expected volumetric "
                         f"soil moisture in one of {sorted(VOLUMETRIC_UNITS)}")
    return read_record(ds, path, name)


def _iteration_series(ds, path, name: str) -> np.ndarray:
    values = read_values(ds, path, name)
    if ds.variables[name].dimensions != ("iteration",):
        raise InputError(f"{path}: variable {name!r} has dimensions "
                         f"{ds.variables[name].dimensions}; expected ('iteration',)")
    return values


def _term_names(ds, path) -> list[str]:
    """The cost terms, from the ``flag_meanings`` of the integer ``term`` coordinate."""
    if "term" not in ds.variables:
        raise InputError(missing_variable(path, "term", ds))
    meanings = getattr(ds.variables["term"], "flag_meanings", None)
    if meanings is None:
        raise InputError(f"{path}: variable 'term' has no 'flag_meanings' attribute naming the "
                         "cost terms (e.g. 'background image')")
    return str(meanings).split()


def _term_values(ds, path, name: str, terms: list[str]) -> dict:
    values = read_values(ds, path, name)
    if values.shape != (len(terms),):
        raise InputError(f"{path}: variable {name!r} has shape {values.shape}; expected "
                         f"({len(terms)},), one value per cost term ({' '.join(terms)})")
    return {t: float(v) for t, v in zip(terms, values)}


def _attribute(ds, path, name: str):
    if name not in ds.ncattrs():
        raise InputError(f"{path}: global attribute {name!r} not found; the file has "
                         f"{', '.join(sorted(ds.ncattrs())) or 'no global attributes'}")
    return ds.getncattr(name)

