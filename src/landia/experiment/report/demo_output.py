"""Reading the demo's output folder for the report: ``results.json``, the run directories'
model states and analysis files, and the observation images.

Nothing here draws: the figure modules ask :class:`DemoOutput` for numbers and fields.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np

from landia.errors import InputError
from landia.experiment.report.style import RUN_ORDER
from landia.grid import depth_weights
from landia.io.analysis_file import read_analysis
from landia.io.fields import read_field
from landia.log import get_logger

log = get_logger("landia.report")


def parse_time(text) -> datetime | None:
    """An ISO 8601 string (with or without Z) or a file label YYYYMMDDTHHMM -> naive UTC."""
    if text is None:
        return None
    s = str(text).strip()
    for fmt in ("%Y%m%dT%H%M", "%Y%m%dT%H%M%S"):
        try:
            return datetime.strptime(s, fmt)
        except ValueError:
            pass
    try:
        t = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t.replace(tzinfo=None) if t.tzinfo is not None else t


def files_by_time(folder: Path, prefix: str) -> dict[datetime, Path]:
    """``<prefix>_YYYYMMDDTHHMM.nc`` files of a folder, keyed by their time."""
    out = {}
    if folder.is_dir():
        for p in sorted(folder.glob(f"{prefix}_*.nc")):
            t = parse_time(p.stem[len(prefix) + 1:])
            if t is not None:
                out[t] = p
    return out


def _surface_weights(n: int) -> np.ndarray:
    """Weights of the first ``n`` layers in the 0-7 cm mean."""
    w = depth_weights(0.0, 0.07)[:n]
    return w / w.sum() if w.sum() > 0 else w


def surface(values: np.ndarray) -> np.ndarray:
    """0-7 cm thickness-weighted mean of a (layer, lat, lon) array."""
    values = np.asarray(values, dtype=float)
    return np.tensordot(_surface_weights(values.shape[0]), values, axes=(0, 0))


def read_state_surface(path: Path):
    """(lat, lon, 0-7 cm soil moisture) of a field file."""
    f = read_field(path)
    return f.lat, f.lon, surface(f.values)


class DemoOutput:
    """The demo's output folder as the report reads it.

    Parameters
    ----------
    out_dir : path-like
        The folder written by :mod:`landia.experiment.demo_run`. An unreadable or missing
        ``results.json`` leaves :attr:`results` empty and adds a note for the page. Runs and
        observations are read from ``experiment.map_folder`` of ``results.json`` (the first
        seed's folder) when it names one, else from ``out_dir`` itself.
    """

    def __init__(self, out_dir):
        self.out = Path(out_dir)
        self.fig_dir = self.out / "figures"
        self.fig_dir.mkdir(parents=True, exist_ok=True)
        path = self.out / "results.json"
        try:
            self.results = json.loads(path.read_text()) if path.exists() else {}
        except (OSError, ValueError) as exc:
            log.warning("report_results_unreadable", path=str(path), error=str(exc))
            self.results = {}
        self.notes: list[str] = []  # general notes for the page header
        if not self.results:
            self.notes.append(f"{path.name} is missing or unreadable: the tables are empty.")
        self.exp = self.results.get("experiment", {}) or {}
        # The run and observation files of the maps and the cost figure: the first seed's
        # folder of a multi-seed experiment (results.json names it), else OUT itself.
        self.files = self.out / str(self.exp.get("map_folder") or ".")
        runs_dir = self.files / "runs"
        self.run_dirs = {p.name: p for p in sorted(runs_dir.iterdir()) if p.is_dir()} \
            if runs_dir.is_dir() else {}

    def label(self, run: str) -> str:
        """The run's label in results.json, else its name."""
        info = (self.results.get("runs") or {}).get(run) or {}
        if info.get("label"):
            return str(info["label"])
        return "truth" if run == "truth" else run

    def ordered(self, names) -> list[str]:
        """``names`` in the experiment's run order; names it does not define last, sorted."""
        names = list(names)
        return [n for n in RUN_ORDER if n in names] + sorted(n for n in names if n not in RUN_ORDER)

    def time(self, key) -> datetime | None:
        """A time of the experiment block (``start``, ``discard_end``, ...)."""
        return parse_time(self.exp.get(key))

    def region_box(self):
        """The misspecified-error region (S, N, W, E), or None."""
        box = (self.exp.get("region") or {}).get("box")
        if box is not None and len(box) == 4 and all(v is not None for v in box):
            return [float(v) for v in box]
        return None

    def figure_path(self, name: str) -> Path:
        return self.fig_dir / name

    def analyses(self, run: str) -> dict[datetime, Path]:
        """The run's analysis files by time (none for an absent run)."""
        d = self.run_dirs.get(run)
        return files_by_time(d / "cycles", "analysis") if d else {}

    def states(self, run: str) -> dict[datetime, Path]:
        """The run's model-state files by time (none for an absent run)."""
        d = self.run_dirs.get(run)
        return files_by_time(d / "states", "state") if d else {}

    def observations(self, folder: str) -> dict[datetime, Path]:
        """The observation images of one observation set by time."""
        return files_by_time(self.files / folder, "obs")

    def run_surface(self, run: str, t: datetime):
        """(lat, lon, surface, what) of a run at t: the analysis where the run has a readable
        analysis file at t, else its state; None when it has neither."""
        ana = self.analyses(run).get(t)
        if ana is not None:
            try:
                a = read_analysis(ana)
            except InputError as exc:  # fall back to the model state at that time
                log.warning("report_analysis_unreadable", path=str(ana), error=str(exc))
            else:
                return a.lat, a.lon, surface(a.analysis), "analysis"
        st = self.states(run).get(t)
        if st is not None:
            lat, lon, s = read_state_surface(st)
            return lat, lon, s, "state"
        return None
