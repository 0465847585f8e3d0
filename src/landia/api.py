"""landia's library interface: what ``import landia`` offers a script or a notebook.

The same analysis as ``landia analyse``, on files or on fields in memory, and the readers and
writers of landia's files. Re-exported by :mod:`landia` (``landia.analyse(...)``); documented
in ``docs/api.md``. Everything here runs in the calling process, without MPI.
"""

from __future__ import annotations

import os
from pathlib import Path

from landia.analysis import AnalysisResult, run_analysis
from landia.config import Settings, load_settings
from landia.io.analysis_file import read_analysis, write_analysis
from landia.io.fields import SoilMoistureField, read_field, write_field
from landia.observations.bias import BiasCorrection
from landia.observations.timing import check_valid_time

PathLike = str | os.PathLike

__all__ = ["AnalysisResult", "Settings", "SoilMoistureField", "analyse", "load_settings",
           "read_analysis", "read_field", "write_analysis", "write_field"]


def analyse(background: SoilMoistureField | PathLike, observation: SoilMoistureField | PathLike,
            settings: Settings | PathLike | None = None, output: PathLike | None = None
            ) -> AnalysisResult:
    """One image 3D-Var analysis, as ``landia analyse`` runs it.

    Parameters
    ----------
    background, observation : SoilMoistureField or path-like
        The background and observation fields on the same grid, or their field files
        (read with :func:`read_field`, as ``--background`` and ``--obs``).
    settings : Settings, path-like or None
        The run configuration, a TOML file or the name of a shipped one (``"image3dvar"``);
        None: the defaults (:class:`Settings()`). Files named in ``[bias]`` are relative to
        the current folder.
    output : path-like, optional
        Also write the analysis file there (the file ``landia analyse --output`` writes).

    Returns
    -------
    AnalysisResult
        ``analysis_field`` and ``background_field`` (layers, lat, lon; NaN off land),
        ``increment_field``, ``scores``, ``minimiser`` (iterations, cost history, converged
        reason), ``terms_before`` and ``terms_after``.

    Raises
    ------
    landia.errors.InputError
        A file is missing or malformed, or the fields do not share a grid or a valid time.
    landia.errors.ConfigError
        A bad configuration.
    """
    if not isinstance(settings, Settings):
        settings = Settings() if settings is None else load_settings(settings)
    if not isinstance(background, SoilMoistureField):
        background = read_field(background, "background")
    if not isinstance(observation, SoilMoistureField):
        observation = read_field(observation, "observation")
    if background.valid_time is not None and observation.valid_time is not None:
        check_valid_time(observation, background.valid_time,
                         settings.observations.valid_time_tolerance_minutes,
                         "the background valid at")
    bias = BiasCorrection.from_settings(settings, Path.cwd(), background.lat, background.lon)
    result = run_analysis(background, bias.apply(observation), settings)
    if output is not None:
        write_analysis(output, result, settings)
    return result
