"""matplotlib for landia's figures: the Agg backend (PNG files, no display) and saving.

The figure modules (:mod:`landia.diagnostics.plots`, :mod:`landia.verification.plots`, the
demo report) draw through :func:`pyplot`. matplotlib is imported there, on first use, not at
module level: it is heavy (about 0.5 s and 40 MB), and only figure-making commands need it.
"""

from __future__ import annotations

from pathlib import Path


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend (forced: figures go to files only)."""
    import matplotlib  # heavy, optional at run time: see the module notes

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def save(fig, path, dpi: int = 110, **options) -> Path:
    """Write ``fig`` to ``path`` (PNG by its suffix) and close it; returns the path."""
    path = Path(path)
    fig.savefig(path, dpi=dpi, **options)
    pyplot().close(fig)
    return path
