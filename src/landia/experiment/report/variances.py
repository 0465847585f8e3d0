"""Figure: the image-error variance each image run carried, per curvelet scale, through time.

With an estimating ``analysis.image_error_method`` (the demo's Desroziers estimate) every
analysis file holds the variances JI used (``image_error_variance``, one per scale, or per band
with ``analysis.image_error_bands = "wedge"``: then the geometric mean over each scale's
wedges is drawn). The figure draws them for the first seed's image runs, against the stated
variance: where a scale's line rises, the statistics found the observations' error there
larger than stated and JI followed them less. Runs whose files hold no estimate (the fixed
variance) are not drawn; without any, the report leaves the figure out.
"""

from __future__ import annotations

import numpy as np

from landia.experiment.report.demo_output import DemoOutput
from landia.experiment.report.style import RUN_STYLE, format_time_axis, new_figure
from landia.figures import save
from landia.io.analysis_file import read_analysis_image_error

#: The runs drawn, in order, one panel each (those present with estimated variances).
VARIANCE_RUNS = ("image", "hybrid", "image_misspecified")
NAME = "image_error_variance.png"


def per_scale(values: np.ndarray, wedges_per_scale: np.ndarray) -> np.ndarray:
    """One value per scale: ``values`` itself, or with one value per band (scale by scale,
    wedge by wedge) the geometric mean over each scale's wedges."""
    values = np.asarray(values, dtype=np.float64)
    wedges = np.asarray(wedges_per_scale, dtype=np.int64)
    if values.size == wedges.size:
        return values
    if values.size != wedges.sum():
        raise ValueError(f"{values.size} image-error variances for {wedges.size} scales of "
                         f"{wedges.sum()} bands")
    scale = np.repeat(np.arange(wedges.size), wedges)
    return np.exp(np.bincount(scale, np.log(values)) / wedges)


def variance_series(output: DemoOutput, run: str) -> tuple[list, np.ndarray]:
    """(times, (times, scales) variances used) of the run's analyses whose files hold an
    estimate; empty when none does."""
    times, rows = [], []
    for t, path in sorted(output.analyses(run).items()):
        bands, image_error = read_analysis_image_error(path)
        if not image_error or "image_error_estimate" not in image_error:
            continue
        times.append(t)
        rows.append(per_scale(image_error["image_error_variance"],
                              bands["wedges_per_scale"]))
    return times, np.array(rows)


def has_estimates(output: DemoOutput) -> bool:
    """Whether the first analysis of any of :data:`VARIANCE_RUNS` holds an estimate."""
    for run in VARIANCE_RUNS:
        files = sorted(output.analyses(run).items())
        if files:
            _, image_error = read_analysis_image_error(files[0][1])
            if image_error and "image_error_estimate" in image_error:
                return True
    return False


def variance_figure(output: DemoOutput):
    """One panel per run of :data:`VARIANCE_RUNS` with estimated variances: the variance of
    each scale through time, log scale, the stated variance dashed; (path, caption, note)."""
    found = [(run, *variance_series(output, run)) for run in VARIANCE_RUNS
             if run in output.run_dirs]
    drawn = [(run, t, v) for run, t, v in found if t]
    if not drawn:
        return None, "", ("no analysis file of " + ", ".join(f"runs/{r}" for r in VARIANCE_RUNS)
                          + " holds estimated image-error variances (analysis."
                          "image_error_method 'fixed')")
    stated = output.exp.get("stated_error_variance")
    fig = new_figure(11.4, 3.6)
    axes = np.atleast_1d(fig.subplots(1, len(drawn), sharey=True))
    for ax, (run, times, values) in zip(axes, drawn):
        for j in range(values.shape[1]):
            ax.plot(times, values[:, j], lw=1.6 if j == 0 else 1.0,
                    label="low-pass" if j == 0 else f"scale {j}")
        if stated is not None:
            ax.axhline(stated, color="k", ls="--", lw=1.0, label="stated")
        ax.set_yscale("log")
        ax.set_title(output.label(run), fontsize=10,
                     color=RUN_STYLE.get(run, {}).get("color", "k"))
        format_time_axis(ax)
    axes[0].set_ylabel("image-error variance s2 ((m3 m-3)^2)")
    axes[-1].legend(fontsize=8, loc="upper left", frameon=False)
    path = save(fig, output.figure_path(NAME), dpi=110)
    caption = ("The image-error variance of each curvelet scale JI used in each analysis "
               "(analysis.image_error_method, carried from analysis to analysis; first seed), "
               "with the stated variance dashed, which is also the estimates' floor. A rising "
               "line: the O-B and O-A statistics found the observations' error at that scale "
               "larger than stated, and JI followed them less there.")
    skipped = [run for run, t, _ in found if not t]
    note = ("Not shown: " + ", ".join(f"runs/{r}" for r in skipped)
            + " (fixed variance).") if skipped else ""
    return path, caption, note
