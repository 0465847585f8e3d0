"""The analysis output file (netCDF4, CF-1.8), written atomically."""

from __future__ import annotations

import json

import numpy as np

from landia.io.atomic import atomic_path
from landia.io.netcdf import create_grid_file, write_valid_time


def write_analysis(path, result, settings, valid_time=None) -> None:
    """Write analysis, increment, background, cost history and diagnostics.

    Variables: ``analysis``, ``increment``, ``background``, ``observation``
    (layer, lat, lon; m3 m-3), ``cost`` and ``gradient_norm`` (iteration),
    ``cost_before`` and ``cost_after`` (term); ``term`` is an integer coordinate
    whose ``flag_meanings`` name the terms. Global
    attributes: solver, converged reason, iterations, terms, sigma, s2, QC counts,
    scores (JSON). With ``valid_time``, a scalar CF ``time`` and the ``valid_time`` attribute
    (as field files have).
    """
    problem = result.problem
    grid = problem.grid
    with atomic_path(path) as tmp:
        with create_grid_file(tmp, grid.lat, grid.lon, problem.depth,
                              "landia image 3D-Var soil-moisture analysis") as ds:
            fields = (
                ("analysis", result.analysis_field, "analysed volumetric soil moisture"),
                ("increment", result.increment_field, "analysis minus background"),
                ("background", result.background_field, "background volumetric soil moisture"),
                ("observation", problem.observation, "observations used after QC"),
            )
            for name, values, long_name in fields:
                v = ds.createVariable(name, "f8", ("layer", "lat", "lon"), fill_value=np.nan,
                                      zlib=True)
                v.units = "m3 m-3"
                if name != "increment":
                    v.standard_name = "volume_fraction_of_condensed_water_in_soil"
                v.long_name = long_name
                v[...] = values
            if valid_time is not None:
                write_valid_time(ds, valid_time, ("analysis", "increment", "background",
                                                  "observation"))
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
            ds.qc = json.dumps(problem.qc)
            ds.scores = json.dumps(result.scores)
