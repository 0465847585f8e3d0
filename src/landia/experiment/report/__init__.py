"""The demo's report: PNG figures and one self-contained HTML page.

:func:`build_report` reads the demo's output folder ``OUT`` (the layout written by
:mod:`landia.experiment.demo_run`)::

    OUT/results.json                       the numbers (experiment, runs, series, table, ...)
    OUT/runs/<name>/states/state_*.nc      model states of each run (field files)
    OUT/runs/<name>/cycles/analysis_*.nc   analysis files of the DA runs
    OUT/obs/obs_*.nc, OUT/obs_misspecified/obs_*.nc   observation images

and writes ``OUT/figures/*.png`` and ``OUT/report.html``. The page embeds every figure as a
base64 ``data:`` URI and carries its own CSS, so it opens from ``file://`` with no server and
no network. The figures follow the paper's:

1. ``maps.png`` (figures 7, 9, 10): 0-7 cm soil moisture of truth, observation, CTRL and the
   DA analyses at one time near the end of the assimilation period, and their differences
   from the truth; ``maps_misspecified.png`` the same for the idealised variant with the
   large-error region outlined.
2. ``timeseries.png`` (figures 13, 16): SCC and RMSE against the truth per run for 0-7 cm
   and 7-28 cm; ``timeseries_region.png`` the same inside the misspecified region.
3. ``cost.png`` (figure 8): J per iteration for a few analyses, iterations per cycle and J
   before/after each cycle.
4. ``propagation.png`` (figure 12): depth-time plot of the mean |DA - CTRL|.

A missing run, file or series never stops the report: that figure (or panel) is left out
and the page says why.

Modules: :mod:`.demo_output` reads the folder, :mod:`.style` holds the run styles (from
:data:`landia.experiment.runs.RUNS`) and the shared figure pieces, :mod:`.maps`,
:mod:`.series`, :mod:`.cost` and :mod:`.propagation` draw one figure each (through
:mod:`landia.figures`, matplotlib on first use), :mod:`.tables` and :mod:`.page` write the
HTML, :mod:`.build` puts it together. ``python -m landia.experiment.report OUT`` rebuilds the
report of a demo folder.
"""

from landia.experiment.report.build import build_report

__all__ = ["build_report"]
