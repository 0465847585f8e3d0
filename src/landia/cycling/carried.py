"""What a cycle carries from one analysis to the next besides the model state.

With ``analysis.image_error_method = "desroziers"`` or ``"innovation"`` each analysis
estimates the image-error variance of every curvelet scale and the cycle hands the updated values
(:attr:`landia.analysis.image_diagnostics.ImageErrorVariance.next`) to its next analysis. They
live on the root (the analysis runs there) and travel in each checkpoint as the extra array
:data:`CHECKPOINT_KEY`, raw float64, so that a resumed run, on any number of ranks, continues
with the very same bits. Until the first analysis (and with the ``fixed`` method) there is
nothing to carry: the analysis takes ``analysis.image_error_variance`` for every scale.

With ``analysis.local_image_error = true`` the cycle also carries the observation error beyond
the stated one per land cell (:attr:`landia.analysis.local_error.LocalError.used`), in the
extra array :data:`LOCAL_CHECKPOINT_KEY`; the first analysis starts from zeros.

With ``observations.offset_correction = "cycled"`` it carries the product's mean offset against
the model per analysed layer (:mod:`landia.observations.offset`), in the extra array
:data:`OFFSET_CHECKPOINT_KEY`, and removes it from each observation image before the analysis
(:meth:`CarriedImageError.correct_offset`); the first analysis takes its own mean O-B.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from landia.config import Settings
from landia.io.fields import SoilMoistureField
from landia.log import get_logger
from landia.observations.offset import cycled_offset, mean_departure, remove_offset

#: Name of the checkpoint's extra array holding the carried variances, (m3 m-3)^2.
CHECKPOINT_KEY = "image_error_variance"
#: ... and the one holding the carried observation-error excess per land cell, (m3 m-3)^2.
LOCAL_CHECKPOINT_KEY = "observation_error_excess"
#: ... and the one holding the carried observation offset per analysed layer, m3 m-3.
OFFSET_CHECKPOINT_KEY = "observation_offset"


@dataclass
class CarriedImageError:
    """The image-error variances carried between analyses (root only).

    Attributes
    ----------
    enabled : bool
        True with an estimated (not ``fixed``) image-error variance.
    values : ndarray (scales,) or None
        The variances for the next analysis; None before the first analysis.
    local : bool
        True with ``analysis.local_image_error`` on (:attr:`Settings.local_image_error_on`).
    excess : ndarray (n_land,) or None
        The observation-error excess for the next analysis; None before the first one.
    offset_memory : float or None
        ``observations.offset_memory`` with ``offset_correction = "cycled"``; None without.
    offset : ndarray (layers,) or None
        The observation offset removed from the last image, m3 m-3; None before the first.
    """

    enabled: bool
    values: np.ndarray | None = None
    local: bool = False
    excess: np.ndarray | None = None
    offset_memory: float | None = None
    offset: np.ndarray | None = None
    offset_fields: dict = dataclasses.field(default_factory=dict)
    offset_cycle: int | None = None

    @classmethod
    def for_settings(cls, settings: Settings) -> "CarriedImageError":
        obs = settings.observations
        return cls(enabled=settings.analysis.image_error_method_used != "fixed",
                   local=settings.local_image_error_on,
                   offset_memory=obs.offset_memory if obs.offset_correction == "cycled"
                   else None)

    def correct_offset(self, observation: SoilMoistureField, background: SoilMoistureField,
                       settings: Settings, **log_context) -> SoilMoistureField:
        """The observation image less the updated carried offset of each of the
        background's layers, clipped to the analysis' bounds (``analysis.lower_bound``, the
        background's porosity or ``analysis.upper_bound``); the image itself without
        ``offset_correction``. Logs ``observation_offset`` (with ``log_context``).

        Called again for the same ``cycle`` (the ensemble hybrid's LETKF and 3D-Var read the
        window's image each), it removes the offset already updated for that cycle."""
        nl = background.n_layers
        if self.offset_memory is None or observation.n_layers < nl:  # (the analysis refuses
            return observation                                    # too few layers)
        departure = mean_departure(observation.values[:nl], background.values)
        cycle = log_context.get("cycle")
        if cycle is None or cycle != self.offset_cycle or self.offset is None:
            self.offset = cycled_offset(self.offset, departure, self.offset_memory)
            self.offset_cycle = cycle
        a = settings.analysis
        upper = background.porosity if a.upper_bound == "porosity" else float(a.upper_bound)
        values = np.array(observation.values, dtype=np.float64)
        values[:nl] = remove_offset(values[:nl], self.offset, a.lower_bound, upper)
        self.offset_fields = {
            "observation_offset": [None if not np.isfinite(v) else float(v) for v in self.offset],
            "observation_departure": [None if not np.isfinite(v) else float(v)
                                      for v in departure]}
        get_logger("landia.cycle").info("observation_offset", **log_context,
                                        file=observation.source, **self.offset_fields)
        return dataclasses.replace(observation, values=values)

    def restore(self, extra: dict) -> None:
        """Take the values of a checkpoint's extra arrays (nothing when it has none)."""
        if self.enabled and CHECKPOINT_KEY in extra:
            self.values = np.array(extra[CHECKPOINT_KEY], dtype=np.float64)
        if self.local and LOCAL_CHECKPOINT_KEY in extra:
            self.excess = np.array(extra[LOCAL_CHECKPOINT_KEY], dtype=np.float64)
        if self.offset_memory is not None and OFFSET_CHECKPOINT_KEY in extra:
            self.offset = np.array(extra[OFFSET_CHECKPOINT_KEY], dtype=np.float64)

    def after_analysis(self, result) -> dict:
        """Carry the updated values of an accepted analysis; its run-log fields."""
        fields = dict(self.offset_fields)  # this analysis' observation offset, if any
        if self.local and result.local_error is not None:
            self.excess = np.array(result.local_error.used, dtype=np.float64)
            fields.update(result.local_error.summary())
        error = result.image_error
        if not self.enabled or error is None:
            return fields
        self.values = np.array(error.next, dtype=np.float64)
        return {**fields, "image_error_variance": [float(v) for v in error.used],
                "image_error_estimate": [None if not np.isfinite(v) else float(v)
                                         for v in error.estimate],
                "image_error_variance_next": [float(v) for v in self.values]}

    def checkpoint_extra(self) -> dict:
        """The checkpoint's extra arrays for the carried values (none before there are any)."""
        extra = {}
        if self.enabled and self.values is not None:
            extra[CHECKPOINT_KEY] = self.values
        if self.local and self.excess is not None:
            extra[LOCAL_CHECKPOINT_KEY] = self.excess
        if self.offset_memory is not None and self.offset is not None:
            extra[OFFSET_CHECKPOINT_KEY] = self.offset
        return extra
