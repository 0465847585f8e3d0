"""Diagnostics: curvelet threshold choice (paper 3.3.2) and background-error estimation (3.3.1).

Arithmetic lives in :mod:`.thresholds` and :mod:`.background_error` (no I/O),
figures in :mod:`.plots`, command-line glue in :mod:`.commands`.
"""

from landia.diagnostics.background_error import BackgroundErrorEstimate, estimate_background_error
from landia.diagnostics.thresholds import ThresholdDiagnostics, threshold_diagnostics

__all__ = ["BackgroundErrorEstimate", "ThresholdDiagnostics", "estimate_background_error",
           "threshold_diagnostics"]
