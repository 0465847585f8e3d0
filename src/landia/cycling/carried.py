"""What a cycle carries from one analysis to the next besides the model state.

With ``analysis.image_error_method = "desroziers"`` or ``"innovation"`` each analysis
estimates the image-error variance of every curvelet scale and the cycle hands the updated values
(:attr:`landia.analysis.image_diagnostics.ImageErrorVariance.next`) to its next analysis. They
live on the root (the analysis runs there) and travel in each checkpoint as the extra array
:data:`CHECKPOINT_KEY`, raw float64, so that a resumed run, on any number of ranks, continues
with the very same bits. Until the first analysis (and with the ``fixed`` method) there is
nothing to carry: the analysis takes ``analysis.image_error_variance`` for every scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from landia.config import Settings

#: Name of the checkpoint's extra array holding the carried variances, (m3 m-3)^2.
CHECKPOINT_KEY = "image_error_variance"


@dataclass
class CarriedImageError:
    """The image-error variances carried between analyses (root only).

    Attributes
    ----------
    enabled : bool
        True with an estimated (not ``fixed``) image-error variance.
    values : ndarray (scales,) or None
        The variances for the next analysis; None before the first analysis.
    """

    enabled: bool
    values: np.ndarray | None = None

    @classmethod
    def for_settings(cls, settings: Settings) -> "CarriedImageError":
        return cls(enabled=settings.analysis.image_error_method != "fixed")

    def restore(self, extra: dict) -> None:
        """Take the values of a checkpoint's extra arrays (nothing when it has none)."""
        if self.enabled and CHECKPOINT_KEY in extra:
            self.values = np.array(extra[CHECKPOINT_KEY], dtype=np.float64)

    def after_analysis(self, result) -> dict:
        """Carry the updated variances of an accepted analysis; its run-log fields."""
        error = result.image_error
        if not self.enabled or error is None:
            return {}
        self.values = np.array(error.next, dtype=np.float64)
        return {"image_error_variance": [float(v) for v in error.used],
                "image_error_estimate": [None if not np.isfinite(v) else float(v)
                                         for v in error.estimate],
                "image_error_variance_next": [float(v) for v in self.values]}

    def checkpoint_extra(self) -> dict:
        """The checkpoint's extra arrays for the carried values (none before there are any)."""
        if not self.enabled or self.values is None:
            return {}
        return {CHECKPOINT_KEY: self.values}
