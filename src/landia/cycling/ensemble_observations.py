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

from landia.cycling.clock import Window
from landia.cycling.ensemble_analysis import ObservationSet
from landia.errors import InputError
from landia.exchange.guards import on_root
from landia.io.naming import observation_name
from landia.observations.timing import read_observation
from landia.observations.withhold import withhold


def window_observations(runner, window: Window) -> ObservationSet | None:
    """Every rank: the window's valid observations, or None (alerted on the root) when there
    is no usable file. Collective.

    ``runner`` is the :class:`~landia.cycling.ensemble_run.EnsembleRunner` (its settings,
    grid, bias correction, observation folder and alert log).
    """
    def root_read():
        obs_dir = runner._observation_dir()
        path = None if obs_dir is None else obs_dir / observation_name(window.end)
        if path is None or not path.exists():
            runner._alert(window, "observation_missing",
                          f"no observation file {path}" if path else
                          "no observation folder configured (cycle.observations)")
            return None
        o = runner.settings.observations
        try:
            image = runner.bias.apply(read_observation(path, window.end, o, runner.grid.shape))
            image, _ = withhold(image, runner.grid.land, o.withhold_fraction, o.withhold_seed,
                                window.index)
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
