"""The embedded experiment (``landia demo``): an observing-system simulation over the paper's
domain. The runs and their scores (:mod:`.demo_run`), synthetic observations from a truth run
(:mod:`.osse`) and the report. The synthetic world it runs in is model input and lives below
the cycle: :mod:`landia.landscape` (texture, land cover, LAI) and :mod:`landia.forcing.weather`.
"""
