"""How the report draws the runs, and the pieces every figure shares.

The run order and line styles come from :data:`landia.experiment.runs.RUNS`, so the report
knows exactly the runs the experiment defines: the colour says which observation terms a run
assimilates (image, point or both), a dashed line that it assimilates the observations whose
stated error is misspecified inside the region (dash-dot-dotted: the reference run told that
error), a dotted line that it rescales its observations to the model's climatology
(``"climatology": True``).
"""

from __future__ import annotations

from landia.experiment.observing import TRUE_ERROR_SET
from landia.experiment.runs import RUNS
from landia.figures import pyplot

MISSPECIFIED_OBSERVATIONS = "obs_misspecified"
#: The line of the runs told the region's true error (:data:`TRUE_ERROR_SET`): dash-dot-dot.
REFERENCE_LINE = (0, (4, 1.5, 1, 1.5, 1, 1.5))
SM_UNITS = "m$^3$ m$^{-3}$"

RUN_ORDER = tuple(RUNS)
_METHOD_COLOURS = {frozenset({"image"}): "tab:blue", frozenset({"point"}): "tab:orange",
                   frozenset({"point", "image"}): "tab:green"}


def _style(name: str, spec: dict) -> dict:
    """Line colour and style of one run of RUNS."""
    if name == "truth":
        return dict(color="black", ls="-")
    observed = frozenset(spec["terms"]) - {"background"}
    if spec.get("ensemble"):  # LETKF purple, the ensemble hybrid red; dash-dotted
        return dict(color="tab:red" if observed else "tab:purple", ls="-.")
    if not observed:  # the free model run (CTRL)
        return dict(color="0.45", ls="-")
    if spec["observations"] == TRUE_ERROR_SET:  # the reference that knows the region's error
        return dict(color=_METHOD_COLOURS[observed], ls=REFERENCE_LINE)
    offset = spec.get("settings", {}).get("observations", {}).get("offset_correction")
    return dict(color=_METHOD_COLOURS[observed],
                ls="--" if misspecified(name) else ":" if spec.get("climatology")
                else "-." if offset not in (None, "none") else "-")


def misspecified(run: str) -> bool:
    """Whether a run assimilates the observations with the misspecified error (the idealised
    variant of the experiment), stated as the product states it or as it really is."""
    return (RUNS.get(run) or {}).get("observations") in (MISSPECIFIED_OBSERVATIONS,
                                                         TRUE_ERROR_SET)


RUN_STYLE = {name: _style(name, spec) for name, spec in RUNS.items()}


def new_figure(width: float, height: float):
    """A figure of ``width`` x ``height`` inches with constrained layout, outside pyplot's
    figure manager (it is saved, never shown)."""
    return pyplot().Figure(figsize=(width, height), layout="constrained")


def format_time_axis(ax) -> None:
    """Concise date ticks on the x axis."""
    import matplotlib.dates as mdates  # matplotlib only on first use: see landia.figures

    loc = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))


def shade_periods(ax, output, legend: bool = True) -> None:
    """Grey over the discarded spin-up, a dotted line at the end of the assimilation and
    khaki over the free forecast."""
    start, discard, assim, end = (output.time(k) for k in
                                  ("start", "discard_end", "assimilation_end", "end"))
    if start and discard and discard > start:
        ax.axvspan(start, discard, color="0.85", alpha=0.6, lw=0,
                   label="discarded (spin-up)" if legend else None)
    if assim:
        ax.axvline(assim, color="k", lw=1.0, ls=":",
                   label="end of assimilation" if legend else None)
        if end and end > assim:
            ax.axvspan(assim, end, color="khaki", alpha=0.25, lw=0,
                       label="free forecast" if legend else None)


def mark_forecast_start(ax, output) -> None:
    """A dotted line and a "forecast" arrow at the end of the assimilation."""
    assim = output.time("assimilation_end")
    if assim:
        ax.axvline(assim, color="k", lw=1.0, ls=":")
        ax.text(assim, 0.02, " forecast →", transform=ax.get_xaxis_transform(), fontsize=8,
                va="bottom", color="k", bbox=dict(fc="white", ec="none", alpha=0.7, pad=1))
