"""A climatology of the model and of an observation product, from a model run and the product's
images: the training step of observation rescaling (:mod:`landia.observations.rescaling`).

The model states of a ``landia cycle`` run (``states/state_YYYYMMDDTHHMM.nc``, e.g. an open loop)
are paired with the observation images valid at the same times, per cell and layer, over a
training period; :func:`build_climatology` returns the statistics that ``landia climatology``
writes and the cycle (or an experiment) reads back.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from landia.errors import InputError
from landia.io.fields import read_field
from landia.io.naming import parse_stamp, stamp_of
from landia.log import get_logger
from landia.io.climatology_file import Climatology
from landia.observations.rescaling import climatology_statistics


def stamped_time(path: Path) -> np.datetime64 | None:
    try:
        return np.datetime64(parse_stamp(stamp_of(path)), "s")
    except (ValueError, IndexError):
        return None


def build_climatology(run_dir, observation_files, quantiles: int, start=None,
                      end=None, pool: str = "cell") -> tuple[Climatology, int]:
    """Pair the run's model states with the observation images valid at their times, within
    ``[start, end]`` (UTC datetime64 or None), and compute the climatology statistics (per
    cell, or pooled over the domain: ``pool``, see
    :func:`landia.observations.rescaling.climatology_statistics`).

    Returns
    -------
    climatology : Climatology
    pairs : int
        How many (state, image) pairs went into it.

    Raises
    ------
    InputError
        No state in the run, two images at one time, an image without a time or off the model
        grid, or no pair in the training period.
    """
    log = get_logger("landia.observations")
    run_dir = Path(run_dir)
    states = {}
    for path in sorted((run_dir / "states").glob("state_*.nc")):
        t = stamped_time(path)
        if t is not None:
            states[t] = path
    if not states:
        raise InputError(f"{run_dir}: no states/state_YYYYMMDDTHHMM.nc files; "
                         "expected the run directory of 'landia cycle'")

    pairs, unpaired, seen = [], [], set()
    for path in observation_files:
        obs = read_field(path, "observation")
        t = obs.valid_time if obs.valid_time is not None else stamped_time(path)
        if t is None:
            raise InputError(f"{path}: no valid time (neither a time record, a 'valid_time' "
                             "attribute nor an obs_YYYYMMDDTHHMM.nc name)")
        t = np.datetime64(t, "s")
        if (start is not None and t < start) or (end is not None and t > end):
            continue
        if t in seen:
            raise InputError(f"{path}: a second observation image valid at {t}Z")
        seen.add(t)
        if t in states:
            pairs.append((t, states[t], obs))
        else:
            unpaired.append(str(t))
    if unpaired:
        log.warning("observations_without_model_state", count=len(unpaired),
                    first=unpaired[:3], run=str(run_dir),
                    note="these images have no model state at their valid time; not used")
    if not pairs:
        raise InputError(f"no observation image in the training period has a model state of "
                         f"{run_dir} at its valid time (states {min(states)}Z..{max(states)}Z)")
    pairs.sort(key=lambda p: p[0])

    first_model = read_field(pairs[0][1])
    nl = min(first_model.n_layers, min(o.n_layers for _, _, o in pairs))
    model, observed = [], []
    for t, state_path, obs in pairs:
        m = first_model if state_path == pairs[0][1] else read_field(state_path)
        if m.valid_time is not None and np.datetime64(m.valid_time, "s") != t:
            raise InputError(f"{state_path}: valid_time {m.valid_time} differs from its "
                             f"name's time {t}")
        for f, other in ((obs, m), (m, first_model)):
            if f.shape != other.shape or not (np.allclose(f.lat, other.lat, atol=1e-6)
                                               and np.allclose(f.lon, other.lon, atol=1e-6)):
                raise InputError(f"{f.source}: grid {f.shape} differs from {other.source} "
                                 f"{other.shape}; observations must be on the model grid")
        model.append(m.values[:nl])
        observed.append(obs.values[:nl])
    model, observed = np.stack(model), np.stack(observed)
    period = (pairs[0][0] if start is None else start, pairs[-1][0] if end is None else end)
    clim = climatology_statistics(model, observed, quantiles, lat=first_model.lat,
                                  lon=first_model.lon, depth=first_model.depth[:nl],
                                  start=period[0], end=period[1], pool=pool)
    return clim, len(pairs)
