"""Verification of model and analysis fields against reference fields and stations.

The scores themselves (SCC, RMSE, bias, ubRMSE, temporal correlation) are arithmetic shared with
the analysis' own diagnostics and live in :mod:`landia.scores`. Here: score tables
(:mod:`.verify`), station matching (:mod:`.points`), reading model files and writing tables
(:mod:`.files`) and figures (:mod:`.plots`); the command is :mod:`landia.commands.verify`.
"""
