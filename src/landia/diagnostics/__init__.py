"""Diagnostics: curvelet threshold choice (paper 3.3.2) and background-error estimation (3.3.1).

Arithmetic lives in :mod:`.thresholds` and :mod:`.background_error` (no I/O), files in
:mod:`.images`, :mod:`.departures` and :mod:`.tables`, figures in :mod:`.plots`; the commands
are :mod:`landia.commands.threshold_diagnostics` and :mod:`landia.commands.estimate_b`. The
names below are imported on first use, so that building the command line does not load the
curvelet machinery.
"""

from importlib import import_module

_LAZY = {"BackgroundErrorEstimate": "background_error", "estimate_background_error": "background_error",
         "ThresholdDiagnostics": "thresholds", "threshold_diagnostics": "thresholds"}
__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(f"landia.diagnostics.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'landia.diagnostics' has no attribute {name!r}")
