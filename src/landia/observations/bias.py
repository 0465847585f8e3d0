"""The configured observation-bias handling of a run (``[observations] rescaling``).

:class:`BiasCorrection` is what ``landia cycle`` and ``landia analyse`` call between reading an
observation image and analysing it: built once from the settings (the climatology file read
and checked once), then :meth:`BiasCorrection.apply` to each image. With ``rescaling =
"none"`` it hands the image back untouched. The arithmetic is in
:mod:`landia.observations.rescaling`; the method is described in ``docs/observation-bias.md``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from landia.config import Settings
from landia.errors import InputError
from landia.io.climatology_file import Climatology, read_climatology
from landia.io.fields import SoilMoistureField
from landia.log import get_logger
from landia.observations.rescaling import rescale


class BiasCorrection:
    """Rescaling of observation images to the model's climatology, as configured.

    Parameters
    ----------
    method : {"none", "cdf", "mean_std", "anomaly"}
    climatology : Climatology or None
        Required unless ``method`` is ``"none"``.
    min_samples : int
        ``observations.min_climatology_samples``.
    default_error_variance : float
        Used where an image has no ``observation_error_variance``
        (``analysis.observation_error_variance``), (m3 m-3)^2: the rescaled image always
        carries its (rescaled) variances.
    cdf_error_scaling : {"std_ratio", "local_slope"}
        ``observations.cdf_error_scaling`` (:func:`~landia.observations.rescaling.rescale`).
    """

    def __init__(self, method: str, climatology: Climatology | None = None,
                 min_samples: int = 2, default_error_variance: float = 4.0e-4,
                 cdf_error_scaling: str = "std_ratio"):
        if method != "none" and climatology is None:
            raise InputError(f"observations.rescaling = {method!r} needs a climatology "
                             "(observations.climatology)")
        self.method = method
        self.climatology = climatology
        self.min_samples = min_samples
        self.default_error_variance = default_error_variance
        self.cdf_error_scaling = cdf_error_scaling

    @classmethod
    def from_settings(cls, settings: Settings, base_dir, lat=None, lon=None) -> "BiasCorrection":
        """The bias correction of ``settings``; ``observations.climatology`` is relative to
        ``base_dir`` (a cycle's run directory; the working directory for ``landia analyse``).
        With ``lat``/``lon`` (the model grid) the climatology's grid is checked now.

        Raises
        ------
        InputError
            The climatology file is missing or bad, or on another grid than ``lat``/``lon``.
        """
        obs = settings.observations
        if obs.rescaling == "none":
            return cls("none")
        path = Path(obs.climatology)
        path = path if path.is_absolute() else Path(base_dir) / path
        clim = read_climatology(path)
        if lat is not None and lon is not None:
            _check_grid(clim, np.asarray(lat), np.asarray(lon), "the model grid")
        get_logger("landia.observations").info(
            "climatology_loaded", file=str(path), method=obs.rescaling, layers=clim.n_layers,
            quantiles=len(clim.levels), period=f"{clim.start}Z..{clim.end}Z",
            cells_with_enough_samples=[int((clim.count[k] >= obs.min_climatology_samples).sum())
                                       for k in range(clim.n_layers)],
            min_samples=obs.min_climatology_samples)
        return cls(obs.rescaling, clim, obs.min_climatology_samples,
                   settings.analysis.observation_error_variance, obs.cdf_error_scaling)

    def apply(self, observation: SoilMoistureField) -> SoilMoistureField:
        """``observation`` rescaled to the model's climatology (itself when ``none``).

        Values without a usable climatology are refused (NaN) and counted; the counts and the
        mean shift of each layer are logged (``observation_rescaling``).

        Raises
        ------
        InputError
            The image is not on the climatology's grid.
        """
        if self.method == "none":
            return observation
        clim = self.climatology
        _check_grid(clim, observation.lat, observation.lon, observation.source)
        variance = (observation.error_variance if observation.error_variance is not None
                    else self.default_error_variance)
        result = rescale(observation.values, variance, clim, self.method, self.min_samples,
                         self.cdf_error_scaling)
        get_logger("landia.observations").info(
            "observation_rescaling", file=observation.source, method=self.method,
            cdf_error_scaling=self.cdf_error_scaling if self.method == "cdf" else None,
            **result.counts, mean_shift=[round(s, 6) for s in result.mean_shift],
            climatology=clim.source)
        return dataclasses.replace(observation, values=result.values,
                                   error_variance=result.error_variance)


def _check_grid(clim: Climatology, lat: np.ndarray, lon: np.ndarray, what: str) -> None:
    same = (lat.shape == clim.lat.shape and lon.shape == clim.lon.shape
            and np.allclose(lat, clim.lat, atol=1e-6) and np.allclose(lon, clim.lon, atol=1e-6))
    if not same:
        raise InputError(f"{clim.source}: climatology grid ({clim.lat.size} x {clim.lon.size} "
                         f"cells, lat {clim.lat[0]:g}..{clim.lat[-1]:g}, lon "
                         f"{clim.lon[0]:g}..{clim.lon[-1]:g}) differs from {what} "
                         f"({lat.size} x {lon.size} cells); build it from a run on this grid")
