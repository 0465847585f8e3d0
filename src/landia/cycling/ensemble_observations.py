"""The observations of an ensemble analysis: read on the root, broadcast to every rank.

The root reads the window's observation file exactly as the deterministic cycle does
(:func:`~landia.observations.timing.read_observation` with the valid-time check, the bias
correction of ``observations.rescaling``, the withheld cells of
``observations.withhold_fraction``) and keeps the valid observations of the top
``analysis.layers`` layers (:meth:`~landia.cycling.ensemble_analysis.ObservationSet.from_image`);
a missing or refused file is an alert and the background is kept, as in the deterministic
cycle. Every rank gets the same :class:`~landia.cycling.ensemble_analysis.ObservationSet`.
"""

from __future__ import annotations

import numpy as np

from landia.cycling.clock import Window
from landia.cycling.ensemble_analysis import ObservationSet
from landia.errors import InputError
from landia.exchange.guards import on_root
from landia.grid import colm_node_depths
from landia.io.fields import SoilMoistureField


def window_observations(runner, window: Window, background: np.ndarray | None = None
                        ) -> ObservationSet | None:
    """Every rank: the window's valid observations, or None (alerted on the root) when there
    is no usable file. Collective.

    ``runner`` is the :class:`~landia.cycling.ensemble_run.EnsembleRunner` (its settings,
    grid, bias correction, observation folder and alert log). ``background`` (root: the
    members' mean, (n_land, layers), m3 m-3) gives the departures of
    ``observations.offset_correction``.
    """
    def root_read():
        path = runner._observation_file(window)
        if path is None:
            return None
        try:
            image, _ = runner._read_observation(path, window)
            if background is not None:
                image = runner.image_error.correct_offset(
                    image, _mean_field(runner, background, window), runner.settings,
                    cycle=window.index)
            found = ObservationSet.from_image(image, runner.grid, runner.porosity_all,
                                              runner.settings)
        except InputError as exc:
            runner._alert(window, "observation_rejected", str(exc), file=str(path))
            return None
        if not found.size:
            runner._alert(window, "observation_rejected", f"{path}: no valid observation on "
                          f"land in the top {runner.layers} layer(s) after QC",
                          file=str(path))
            return None
        return found.as_tuple()

    arrays = runner.comm.bcast(on_root(runner.comm, root_read), root=0)
    return None if arrays is None else ObservationSet(*arrays)


def _mean_field(runner, background: np.ndarray, window: Window) -> SoilMoistureField:
    """The members' mean of the analysed layers as the field the offset is measured against
    (the porosity of the unperturbed soils, as the observations' QC)."""
    nl = runner.layers
    grid = runner.grid
    return SoilMoistureField(lat=grid.lat, lon=grid.lon, depth=colm_node_depths()[:nl],
                             values=grid.to_field(background[:, :nl].T),
                             porosity=grid.to_field(runner.porosity_all[:, :nl].T),
                             source=f"ensemble mean {window.label}", valid_time=window.end)
