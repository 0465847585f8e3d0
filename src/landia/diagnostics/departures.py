"""Background departures from files: background and observation fields paired in time, on one
grid, the sample that :func:`~landia.diagnostics.background_error.estimate_background_error`
turns into variances.

* :func:`file_time` -- the time a field file carries, if any;
* :func:`pair_files` -- background and observation files paired by time (else by order);
* :func:`read_departures` -- the paired fields as two stacks, their grid checked, restricted to
  the layers both have and the observations reach.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from landia.errors import InputError
from landia.io.fields import SoilMoistureField, read_field
from landia.io.netcdf import decode_times, open_netcdf, read_values
from landia.log import get_logger


_TIME_ATTRS = ("time", "valid_time", "analysis_time", "date")


def file_time(path) -> str | None:
    """Time of a field file as an ISO string, or None when it carries none.

    Looked up as a global attribute (``time``, ``valid_time``, ``analysis_time``, ``date``)
    or a scalar / single-valued ``time`` variable with CF units.
    """
    with open_netcdf(path, "field") as ds:
        for a in _TIME_ATTRS:
            if a in ds.ncattrs():
                return str(ds.getncattr(a)).strip()
        if "time" in ds.variables:
            v = ds.variables["time"]
            if v.size == 1 and hasattr(v, "units"):
                return str(decode_times(read_values(ds, path, "time"), v.units,
                                        getattr(v, "calendar", "standard"), path, "time")[0])
    return None


def pair_files(backgrounds: list[Path], observations: list[Path]) -> list[tuple[Path, Path, str]]:
    """Pair background and observation files by time when all carry one, else by order."""
    log = get_logger("landia.diagnostics")
    tb = [file_time(p) for p in backgrounds]
    to = [file_time(p) for p in observations]
    if all(t is not None for t in tb + to):
        for name, times, files in (("--background", tb, backgrounds), ("--obs", to, observations)):
            if len(set(times)) != len(times):
                dup = sorted({t for t in times if times.count(t) > 1})
                raise InputError(f"{name}: several files carry the same time {dup[:3]}")
        obs_at = dict(zip(to, observations))
        pairs = [(b, obs_at[t], t) for b, t in zip(backgrounds, tb) if t in obs_at]
        unmatched_b = len(backgrounds) - len(pairs)
        unmatched_o = len(observations) - len(pairs)
        if unmatched_b or unmatched_o:
            log.warning("unpaired_files", backgrounds=unmatched_b, observations=unmatched_o,
                        note="files without a partner at the same time are not used")
        if not pairs:
            raise InputError(f"no background time matches an observation time (backgrounds "
                             f"{tb[:3]}..., observations {to[:3]}...)")
        return pairs
    if len(backgrounds) != len(observations):
        raise InputError(f"{len(backgrounds)} background file(s) and {len(observations)} "
                         "observation file(s) without a time attribute on every file: pairing by "
                         "order needs as many of each (or give each file a 'time' attribute)")
    return [(b, o, str(k)) for k, (b, o) in enumerate(zip(backgrounds, observations))]


@dataclass
class Departures:
    """Paired fields, one stack each, on the grid of the first background.

    Attributes
    ----------
    background, observation : ndarray, shape (npair, nlayer, ny, nx)
        m3 m-3, NaN where absent.
    first : SoilMoistureField
        The first background: grid, depths and porosity of what is estimated from them.
    """

    background: np.ndarray
    observation: np.ndarray
    first: SoilMoistureField

    @property
    def n_layers(self) -> int:
        return self.background.shape[1]


def _same_grid(a, b) -> bool:
    return (a.shape == b.shape and np.allclose(a.lat, b.lat, atol=1e-6)
            and np.allclose(a.lon, b.lon, atol=1e-6))


def _grid_text(f) -> str:
    return (f"{f.shape[0]} x {f.shape[1]} cells, lat {f.lat[0]:g}..{f.lat[-1]:g}, "
            f"lon {f.lon[0]:g}..{f.lon[-1]:g}")


def read_departures(pairs) -> Departures:
    """Read each (background, observation, time) pair of :func:`pair_files`.

    The layers kept are those of the first pair's thinner file, then only the top layers that
    some observation reaches (a 0-5 cm satellite product does not reach CoLM layer 3).

    Raises
    ------
    InputError
        A file on another grid than the first background, or with fewer layers.
    """
    log = get_logger("landia.diagnostics")
    first = None
    xb, yo = [], []
    for b_path, o_path, _t in pairs:
        b = read_field(b_path, "background")
        o = read_field(o_path, "observation")
        if first is None:
            first = b
            nl = min(b.n_layers, o.n_layers)
            if b.n_layers != o.n_layers:
                log.warning("layers_differ", background=b.n_layers, observation=o.n_layers,
                            used=nl)
        for f in (b, o):
            if not _same_grid(f, first):
                raise InputError(f"{f.source}: grid {_grid_text(f)} differs from the first "
                                 f"background {first.source} ({_grid_text(first)}); regrid the "
                                 "observations to the model grid first")
            if f.n_layers < nl:
                raise InputError(f"{f.source}: {f.n_layers} layer(s); expected at least {nl} "
                                 "like the first pair")
        xb.append(b.values[:nl])
        yo.append(o.values[:nl])
    xb, yo = np.stack(xb), np.stack(yo)
    seen = [bool(np.any(np.isfinite(xb[:, k]) & np.isfinite(yo[:, k]))) for k in range(nl)]
    if seen[0] and not all(seen):
        keep = seen.index(False)
        log.warning("layers_not_observed", layers=[k + 1 for k in range(keep, nl)],
                    note="no observation in these layers (e.g. a 0-5 cm satellite product does "
                         "not reach CoLM layer 3); the estimate covers the layers above")
        nl = keep
        xb, yo = xb[:, :nl], yo[:, :nl]
    return Departures(background=xb, observation=yo, first=first)
