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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from landia.config import Settings

#: Name of the checkpoint's extra array holding the carried variances, (m3 m-3)^2.
CHECKPOINT_KEY = "image_error_variance"
#: ... and the one holding the carried observation-error excess per land cell, (m3 m-3)^2.
LOCAL_CHECKPOINT_KEY = "observation_error_excess"


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
        True with ``analysis.local_image_error``.
    excess : ndarray (n_land,) or None
        The observation-error excess for the next analysis; None before the first one.
    """

    enabled: bool
    values: np.ndarray | None = None
    local: bool = False
    excess: np.ndarray | None = None

    @classmethod
    def for_settings(cls, settings: Settings) -> "CarriedImageError":
        return cls(enabled=settings.analysis.image_error_method != "fixed",
                   local=settings.analysis.local_image_error)

    def restore(self, extra: dict) -> None:
        """Take the values of a checkpoint's extra arrays (nothing when it has none)."""
        if self.enabled and CHECKPOINT_KEY in extra:
            self.values = np.array(extra[CHECKPOINT_KEY], dtype=np.float64)
        if self.local and LOCAL_CHECKPOINT_KEY in extra:
            self.excess = np.array(extra[LOCAL_CHECKPOINT_KEY], dtype=np.float64)

    def after_analysis(self, result) -> dict:
        """Carry the updated values of an accepted analysis; its run-log fields."""
        fields = {}
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
        return extra
