"""Benchmarks of the curvelet operator, the image 3D-Var analysis, the column model and the
assimilation cycle.

``landia bench [--quick] [--json FILE]`` (:func:`run_benchmarks`) prints one ``name: value``
line per figure (and optionally writes the same figures to a JSON object). Benchmarks measure;
they never assert. Wherever a ratio makes sense it is taken against a reference measured in
the same run, so that figures can be compared across machines; absolute seconds and MB are
printed for information. MB are MiB (2**20 bytes). Timings are medians of at least 3 runs
(more while they take under a second in all).

Every case runs in its own fresh process (``python -m landia.benchmarks --case NAME``), so
that peak memory, caches and one-off builds of one case do not pollute another; the driver
itself stays small, since on Linux a child's ``ru_maxrss`` starts from its parent's peak. For
the same reason the case modules import what a case runs inside that case: every case's
process, and the driver, import all of them.

One module per thing measured, each describing its figures: :mod:`.curvelet` (the curvelet
operator), :mod:`.analysis` (the image 3D-Var analysis), :mod:`.columns` (the column model),
:mod:`.cycle` (the cycle); how they measure: :mod:`.measure`; the driver: :mod:`.runner`.
"""

from landia.benchmarks.runner import run_benchmarks

__all__ = ["run_benchmarks"]
