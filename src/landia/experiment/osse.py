"""Synthetic observations from a truth run (observing-system simulation experiment).

The truth is a ``landia cycle`` run in ``ctrl`` mode; its ``states/state_<label>.nc`` files hold
the volumetric soil moisture of every layer at every cycle. An observation image at time ``t``
is the truth's 0-7 cm soil moisture (the thickness-weighted mean of the CoLM layers above 7 cm,
layer 3 counted for the part of it above 7 cm), given to the top three model layers as the
paper did with ERA-Interim's 0-7 cm layer, plus Gaussian noise:

.. math:: y = \\theta^{truth}_{0-7} + \\epsilon, \\qquad
          \\epsilon \\sim N(0, \\sigma_o^2)\\ \\text{(independent per cell and time)}

with an optional region of large actual error (``large_error_box``, ``large_error_std``) whose
stated error variance stays :math:`\\sigma_o^2`, or a region of large *stated* error
(``stated_error_box``, ``stated_error_std``) over accurate observations: the paper's idealised
experiment (section 3.4), where point 3D-Var ignores the region and image 3D-Var does not. Values are clipped to [0.01, porosity].
Noise is drawn from ``default_rng([seed, cycle])``, so the files do not depend on which
times are generated together.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from landia.errors import InputError
from landia.grid import colm_node_depths, depth_weights
from landia.io.fields import SoilMoistureField, read_field, write_field
from landia.io.naming import observation_name, parse_stamp, stamp_of

TOP_DEPTH = 0.07  # m


def make_observations(truth_run, output_dir, noise_std: float = 0.02, seed: int = 1,
                      layers: int = 3, large_error_box=None, large_error_std: float = 0.0,
                      every_hours: int = 6, start=None, end=None, stated_error_box=None,
                      stated_error_std: float = 0.0) -> list[Path]:
    """Write ``obs_<label>.nc`` for the truth states; returns the files written.

    ``large_error_box``/``large_error_std``: inside the box the *actual* noise is
    ``large_error_std`` while the stated error stays ``noise_std``. ``stated_error_box``/
    ``stated_error_std``: inside the box the *stated* error (the file's
    ``observation_error_variance``) is ``stated_error_std`` while the actual noise stays
    ``noise_std`` -- the paper's idealised variant (section 3.4): point 3D-Var then ignores
    the region, the image term, which does not use per-point errors, still sees its structure.
    """
    states = sorted(Path(truth_run, "states").glob("state_*.nc"))
    if not states:
        raise InputError(f"{truth_run}: no states/state_*.nc files; expected a truth run of "
                         f"'landia cycle'")
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    w = depth_weights(0.0, TOP_DEPTH)
    written = []
    for path in states:
        truth = read_field(path)
        t = truth.valid_time
        if t is None:
            raise InputError(f"{path}: no valid_time attribute")
        hour = int((t - t.astype("datetime64[D]")) // np.timedelta64(3600, "s"))
        if hour % every_hours or (start is not None and t < np.datetime64(start, "s")) or (
                end is not None and t > np.datetime64(end, "s")):
            continue
        top = np.tensordot(w[: truth.n_layers], truth.values, axes=(0, 0))  # (ny, nx)
        cycle = int((t - np.datetime64("1970-01-01T00:00", "s")) // np.timedelta64(3600, "s"))
        rng = np.random.default_rng([seed, cycle])
        noise = rng.standard_normal(top.shape) * noise_std
        if large_error_box is not None and large_error_std > 0:
            s, n, west, east = large_error_box
            lat2, lon2 = np.meshgrid(truth.lat, truth.lon, indexing="ij")
            inside = (lat2 >= s) & (lat2 <= n) & (lon2 >= west) & (lon2 <= east)
            noise = np.where(inside, rng.standard_normal(top.shape) * large_error_std, noise)
        upper = truth.porosity[0] if truth.porosity is not None else 0.6
        y = np.clip(top + noise, 0.01, upper)
        values = np.repeat(y[None], layers, axis=0)
        stated = np.full(top.shape, noise_std**2)
        if stated_error_box is not None and stated_error_std > 0:
            s, n, west, east = stated_error_box
            lat2, lon2 = np.meshgrid(truth.lat, truth.lon, indexing="ij")
            inside = (lat2 >= s) & (lat2 <= n) & (lon2 >= west) & (lon2 <= east)
            stated = np.where(inside, stated_error_std**2, stated)
        variance = np.where(np.isfinite(values), stated[None], np.nan)
        target = out / observation_name(parse_stamp(stamp_of(path)))
        write_field(target, SoilMoistureField(
            lat=truth.lat, lon=truth.lon, depth=colm_node_depths()[:layers], values=values,
            error_variance=variance, source=str(path), valid_time=t),
            role="observation", title="landia synthetic observation image (OSSE)",
            attributes={"truth_state": str(path), "noise_std": noise_std, "seed": seed,
                        "large_error_std": large_error_std,
                        "stated_error_std": stated_error_std,
                        "stated_error_box": "" if stated_error_box is None
                        else " ".join(map(str, stated_error_box)),
                        "large_error_box": "" if large_error_box is None
                        else " ".join(map(str, large_error_box))})
        written.append(target)
    return written
