"""Whether an observation image is valid at the time it is used for.

A cycle takes the image of an analysis time by its name (``obs_YYYYMMDDTHHMM.nc``,
:mod:`landia.io.naming`); the name alone does not prove the time: a file valid at
2016-05-03T00:00 copied to ``obs_20160501T1200.nc`` would be assimilated at 05-01 12:00. The
file's own valid time (its ``time`` record, or the ``valid_time`` attribute of the older
layout; ``landia prepare-obs``, the OSSE and the demo write it) must lie within
``observations.valid_time_tolerance_minutes`` of the analysis time, or the file is refused
(:class:`~landia.errors.InputError`: in a cycle an ``observation_rejected`` alert and a
model-only cycle; in ``landia analyse`` a one-line error).

A file without a valid time (written by other tools, or by prepare-obs before it wrote one)
is accepted on its name, with the warning ``observation_without_valid_time``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from landia.config import ObservationSettings
from landia.errors import InputError
from landia.io.fields import SoilMoistureField, read_field
from landia.log import get_logger


def _utc(t) -> str:
    return str(np.datetime64(t, "s")) + "Z"


def _apart(seconds: float) -> str:
    minutes = seconds / 60.0
    return f"{minutes / 60.0:g} h" if minutes >= 120 else f"{minutes:g} min"


def check_valid_time(observation: SoilMoistureField, expected, tolerance_minutes: float,
                     used_for: str = "the analysis at") -> None:
    """Refuse an observation whose valid time is more than ``tolerance_minutes`` from
    ``expected``.

    Parameters
    ----------
    observation : SoilMoistureField
        As read (:func:`landia.io.fields.read_field`); ``source`` names the file.
    expected : datetime64 or ISO str
        The time it is used for (UTC).
    tolerance_minutes : float
        Largest accepted difference, minutes (``observations.valid_time_tolerance_minutes``).
    used_for : str
        What ``expected`` is, for the message ("the analysis at", "the background ... valid
        at").

    Raises
    ------
    InputError
        The valid time differs by more than the tolerance; the message names the file and
        both times.
    """
    expected = np.datetime64(expected, "s")
    if observation.valid_time is None:
        get_logger("landia.observations").warning(
            "observation_without_valid_time", file=observation.source, used_at=_utc(expected),
            note="no time record or 'valid_time' attribute: the file is taken on its name")
        return
    valid = np.datetime64(observation.valid_time, "s")
    apart = abs(float((valid - expected) / np.timedelta64(1, "s")))
    if apart > 60.0 * tolerance_minutes:
        raise InputError(f"{observation.source}: observation valid at {_utc(valid)}, but used "
                         f"for {used_for} {_utc(expected)} ({_apart(apart)} apart; "
                         f"observations.valid_time_tolerance_minutes = {tolerance_minutes:g}); "
                         f"expected an image valid then (a file named or copied for another "
                         f"time?)")


def read_observation(path: str | Path, valid_time, settings: ObservationSettings,
                     grid: tuple[int, int] | None = None) -> SoilMoistureField:
    """The observation image of ``path`` (:func:`landia.io.fields.read_field`; on ``grid``,
    the model grid's (lat, lon) size, when given), refused unless it is valid at
    ``valid_time`` within ``settings.valid_time_tolerance_minutes`` (:func:`check_valid_time`)."""
    observation = read_field(path, "observation", grid=grid)
    check_valid_time(observation, valid_time, settings.valid_time_tolerance_minutes)
    return observation
