"""Reading the output folder of ``landia experiment conus-smap`` for its scores and report.

The folder (``OUT``) holds ``withheld_cells.nc`` (the fixed draw of verifying cells),
``smap/obs_YYYYMMDDTHHMM.nc`` (every QC'd SMAP value of a day, raw, on the top two CoLM
layers), ``climatology.nc`` (what the DA runs rescale with) and ``runs/<name>/`` (``landia
cycle`` run directories: ``states/``, ``cycles/analysis_*.nc`` of deterministic DA runs,
``ensemble/ens_*.nc`` of ensemble runs). :class:`ConusOutput` reads them into stacked arrays
(time, ...) and caches them; nothing here scores or draws.

The model equivalent of SMAP (:func:`smap_equivalent`) is the thickness-weighted mean of the
CoLM layers over 0-5 cm (SMAP's sensing depth): with the CoLM interfaces 1.75, 4.51 and
9.06 cm, the weights of :func:`landia.grid.depth_weights` (0, 0.05) are 0.350, 0.552 and
0.098 for layers 1-3.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np

from landia.errors import InputError
from landia.grid import depth_weights
from landia.io.analysis_file import read_analysis_field
from landia.io.ensemble_file import read_ensemble_file
from landia.io.fields import read_field
from landia.io.netcdf import open_netcdf, read_values

#: SMAP's sensing depth, m: the model equivalent is the mean over [top, bottom].
SMAP_TOP, SMAP_BOTTOM = 0.0, 0.05
#: The runs of the experiment that write ``ensemble/ens_*.nc`` (no background in analyses).
ENSEMBLE_FOLDER = "ensemble"


def smap_weights(n_layers: int) -> np.ndarray:
    """Weights of the first ``n_layers`` CoLM layers in the 0-5 cm mean (sum 1)."""
    w = depth_weights(SMAP_TOP, SMAP_BOTTOM)[:n_layers]
    if w.sum() <= 0:
        raise InputError(f"0-5 cm equivalent: {n_layers} layer(s) do not reach 5 cm")
    return w / w.sum()


def smap_equivalent(values: np.ndarray) -> np.ndarray:
    r"""The model equivalent of SMAP: the thickness-weighted 0-5 cm mean.

    .. math:: \theta_{0-5} = \sum_j w_j\,\theta_j,\qquad
              w_j = \frac{\max(0, \min(z_{i,j}, 5\,\mathrm{cm}) - z_{i,j-1})}{5\,\mathrm{cm}}

    with the CoLM interface depths :math:`z_{i,j}` (layers 1-3: 0.350, 0.552, 0.098).

    Parameters
    ----------
    values : ndarray (..., nlayer, ny, nx)
        Volumetric soil moisture of the top ``nlayer`` (>= 3) layers or more, m3 m-3.

    Returns
    -------
    ndarray (..., ny, nx)
        m3 m-3; NaN where any contributing layer is NaN.
    """
    v = np.asarray(values, dtype=float)
    w = smap_weights(v.shape[-3])
    used = w > 0
    return np.einsum("k,...kij->...ij", w[used], v[..., used, :, :])


def smap_value(values: np.ndarray) -> np.ndarray:
    """The SMAP value of an observation image (layer, ny, nx): its first layer, else the
    second (both hold the same 0-5 cm value where observed)."""
    v = np.asarray(values, dtype=float)
    return v[0] if v.shape[0] == 1 else np.where(np.isfinite(v[0]), v[0], v[1])


def read_withheld_mask(path) -> np.ndarray:
    """The withheld cells of ``withheld_cells.nc``: (ny, nx) bool, True = withheld.

    The file holds ``withheld(lat, lon)`` int8: 1 withheld, 0 assimilated, fill (-1) off land.

    Raises
    ------
    InputError
        The file or the variable is missing, naming them.
    """
    path = Path(path)
    with open_netcdf(path, "withheld cells") as ds:
        values = read_values(ds, path, "withheld")
    if values.ndim != 2:
        raise InputError(f"{path}: variable 'withheld' has shape {values.shape}; expected "
                         "(lat, lon)")
    return np.isfinite(values) & (values == 1)


def _stamp_time(path: Path, prefix: str) -> datetime | None:
    try:
        return datetime.strptime(path.stem[len(prefix) + 1:], "%Y%m%dT%H%M")
    except ValueError:
        return None


def files_by_time(folder: Path, prefix: str) -> dict[datetime, Path]:
    """``<prefix>_YYYYMMDDTHHMM.nc`` files of ``folder`` by their time (naive UTC)."""
    out = {}
    if folder.is_dir():
        for p in sorted(folder.glob(f"{prefix}_*.nc")):
            t = _stamp_time(p, prefix)
            if t is not None:
                out[t] = p
    return out


class ConusOutput:
    """The experiment's output folder, read on demand and cached.

    Parameters
    ----------
    out_dir : path-like
        The folder of ``landia experiment conus-smap``.
    """

    def __init__(self, out_dir):
        self.root = Path(out_dir)
        self._cache: dict = {}

    @classmethod
    def of(cls, out_dir) -> "ConusOutput":
        """``out_dir`` itself when it is a :class:`ConusOutput` (its cache reused, as when the
        report follows the scores), else a new one."""
        return out_dir if isinstance(out_dir, cls) else cls(out_dir)

    # -- what is there ---------------------------------------------------------------------
    def run_dir(self, run: str) -> Path:
        return self.root / "runs" / run

    def has_run(self, run: str) -> bool:
        return (self.run_dir(run) / "states").is_dir()

    def is_ensemble(self, run: str) -> bool:
        return (self.run_dir(run) / ENSEMBLE_FOLDER).is_dir()

    def withheld(self) -> np.ndarray:
        """(ny, nx) bool, True at the withheld cells (:func:`read_withheld_mask`)."""
        if "withheld" not in self._cache:
            self._cache["withheld"] = read_withheld_mask(self.root / "withheld_cells.nc")
        return self._cache["withheld"]

    def smap(self, folder: str = "smap"):
        """SMAP of every day: (times (nt,) datetime64[s], values (nt, ny, nx) raw m3 m-3,
        NaN = none, lat, lon)."""
        times, images, lat, lon = self.smap_images(folder)
        return times, np.array([smap_value(v) for v in images]), lat, lon

    def smap_images(self, folder: str = "smap"):
        """The observation images as read: (times, (nt, nlayer, ny, nx), lat, lon)."""
        key = ("smap", folder)
        if key not in self._cache:
            files = files_by_time(self.root / folder, "obs")
            if not files:
                raise InputError(f"{self.root / folder}: no observation files obs_*.nc")
            fields = [read_field(p, "observation") for p in files.values()]
            self._cache[key] = (np.array(list(files), dtype="datetime64[s]"),
                                np.array([f.values for f in fields]),
                                fields[0].lat, fields[0].lon)
        return self._cache[key]

    def state_times(self, run: str) -> np.ndarray:
        """The times of a run's state files, datetime64[s] (InputError without any)."""
        key = ("states", run)
        if key not in self._cache:
            files = files_by_time(self.run_dir(run) / "states", "state")
            if not files:
                raise InputError(f"{self.run_dir(run) / 'states'}: no state files state_*.nc")
            self._cache[key] = files
        return np.array(sorted(self._cache[key]), dtype="datetime64[s]")

    def states(self, run: str, times=None):
        """Model states of a run at ``times`` (default: every state file).

        Returns
        -------
        times : ndarray datetime64[s] (nt,)
        values : ndarray (nt, nlayer, ny, nx)
            m3 m-3, NaN off land.

        Raises
        ------
        InputError
            The run has no state files, or lacks some of ``times`` (naming the first).
        """
        self.state_times(run)
        files = self._cache[("states", run)]
        if times is None:
            wanted = sorted(files)
        else:
            wanted = [_as_datetime(t) for t in times]
            missing = [t for t in wanted if t not in files]
            if missing:
                raise InputError(
                    f"{self.run_dir(run) / 'states'}: {len(missing)} state file(s) missing, "
                    f"first state_{missing[0]:%Y%m%dT%H%M}.nc")
        vkey = ("state_values", run)
        cached = self._cache.setdefault(vkey, {})
        for t in wanted:
            if t not in cached:
                cached[t] = read_field(files[t]).values
        if wanted:
            values = np.array([cached[t] for t in wanted])
        else:  # no time: an empty (0, nlayer, ny, nx) of the run's grid
            first = read_field(files[min(files)]).values
            values = np.zeros((0,) + first.shape)
        return np.array(wanted, dtype="datetime64[s]"), values

    def surface(self, run: str, times=None):
        """The 0-5 cm equivalent (:func:`smap_equivalent`) of a run's states:
        (times, (nt, ny, nx))."""
        t, v = self.states(run, times)
        return t, smap_equivalent(v) if len(v) else v[:, 0]

    def backgrounds(self, run: str) -> dict[datetime, np.ndarray]:
        """The 1-day forecasts of a DA run by time, (nlayer, ny, nx) m3 m-3: the
        ``background`` of its analysis files (deterministic), or the ensemble file's
        ``soil_moisture_background`` (ensemble; times without one are left out)."""
        key = ("backgrounds", run)
        if key in self._cache:
            return self._cache[key]
        out = {}
        if self.is_ensemble(run):
            for t, p in files_by_time(self.run_dir(run) / ENSEMBLE_FOLDER, "ens").items():
                ens = read_ensemble_file(p)
                if ens.background is not None:
                    out[t] = ens.background
        else:
            for t, p in files_by_time(self.run_dir(run) / "cycles", "analysis").items():
                out[t] = read_analysis_field(p, "background").values
        self._cache[key] = out
        return out

    def increment(self, run: str, t: datetime) -> np.ndarray | None:
        """The analysis increment of a deterministic DA run at ``t`` (nlayer, ny, nx), or
        None without an analysis file then."""
        p = self.run_dir(run) / "cycles" / f"analysis_{t:%Y%m%dT%H%M}.nc"
        return read_analysis_field(p, "increment").values if p.exists() else None


def _as_datetime(t) -> datetime:
    if isinstance(t, datetime):
        return t
    return np.datetime64(t, "s").astype(datetime)
