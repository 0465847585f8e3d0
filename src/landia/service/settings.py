"""The settings ``landia serve`` runs with: the declared ``[serve]`` section, resolved.

``[serve]`` is declared, checked and documented with every other section
(:class:`landia.config.ServeSettings`; ``landia validate SERVE.toml``, ``docs/configuration.md``).
:func:`load_serve_settings` reads it, resolves its paths, takes the cycle clock (start, window
length, analysis hours) from the cycle configuration it names and checks that the two agree.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from landia.config import ServeSettings, load_settings, read_toml, settings_from_dict, utc_time
from landia.errors import ConfigError
from landia.service.clock import analysis_after, is_analysis_time


@dataclass(frozen=True)
class ResolvedServeSettings:
    """The ``[serve]`` table, with paths resolved and defaults taken from the cycle config.

    The meaning of each field is that of the ``[serve]`` key of the same name
    (docs/configuration.md); ``start`` is ``cycle.start`` of the cycle configuration.
    """

    run_dir: Path
    cycle_config: Path
    incoming: Path
    observations: Path
    start: np.datetime64
    first_analysis: np.datetime64
    end: np.datetime64 | None
    window_hours: int
    analysis_hours: tuple
    pattern: str
    completion: str
    stable_seconds: float
    cutoff_minutes: float
    launcher: str
    ranks: int
    poll_seconds: float
    max_attempts: int
    retry_seconds: float
    on_failure: str
    launch_timeout_minutes: float
    state_dir: Path
    status_file: Path
    lock_file: Path
    alerts_file: Path

    @property
    def state_file(self) -> Path:
        return self.state_dir / "state.json"

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"


def load_serve_settings(path: str | Path) -> ResolvedServeSettings:
    """Read and validate the ``[serve]`` table of ``path``.

    Relative paths are relative to the folder of ``path``; ``observations`` to ``run_dir``.
    The cycle clock (start, window length, analysis hours) comes from ``cycle_config``.

    Raises
    ------
    ConfigError
        The file is missing, not TOML or has no ``[serve]`` table; a key is unknown, of the
        wrong type, out of range or missing (checked as every configuration section is); or
        the table disagrees with the cycle configuration. The message names the file and key.
    """
    path = Path(path)
    raw = read_toml(path, "serve configuration file")
    if not isinstance(raw.get("serve"), dict):
        keys = ", ".join(f.name for f in dataclasses.fields(ServeSettings))
        raise ConfigError(f"{path}: no [serve] table (keys: {keys})")
    serve = settings_from_dict(raw, source=str(path)).serve
    base = path.resolve().parent
    run_dir = _resolve(serve.run_dir, base)
    cycle_config = _resolve(serve.cycle_config, base)
    cycle = load_settings(cycle_config).cycle
    wh = int(serve.window_hours or cycle.window_hours)
    if wh != cycle.window_hours:
        raise ConfigError(f"{path}: [serve] window_hours = {wh} differs from "
                          f"cycle.window_hours = {cycle.window_hours} of {cycle_config}")
    hours = tuple(sorted({int(h) for h in (serve.analysis_hours or cycle.analysis_hours)}))
    if hours != tuple(sorted({int(h) for h in cycle.analysis_hours})):
        raise ConfigError(f"{path}: [serve] analysis_hours = {list(hours)} differ from "
                          f"cycle.analysis_hours = {cycle.analysis_hours} of {cycle_config}")
    obs_name = serve.observations or cycle.observations
    if not obs_name:
        raise ConfigError(f"{path}: neither [serve] observations nor cycle.observations of "
                          f"{cycle_config} names the run's observation folder")
    start = utc_time(cycle.start)  # checked by load_settings
    first = analysis_after(start, None, wh, hours)
    if first is None:
        raise ConfigError(f"{path}: no window end of {wh} h falls on analysis hours "
                          f"{list(hours)}")
    if serve.first_analysis:
        first = utc_time(serve.first_analysis)  # an ISO time: checked by settings_from_dict
        if first <= start or not is_analysis_time(first, start, wh, hours):
            raise ConfigError(f"{path}: [serve] first_analysis = {serve.first_analysis} "
                              f"is not an analysis time of the cycle clock (start {start}, "
                              f"{wh} h windows, analysis hours {list(hours)})")
    state_dir = _resolve(serve.state_dir, base) if serve.state_dir else run_dir / "serve"
    return ResolvedServeSettings(
        run_dir=run_dir, cycle_config=cycle_config, incoming=_resolve(serve.incoming, base),
        observations=_resolve(obs_name, run_dir), start=start, first_analysis=first,
        end=utc_time(serve.end) if serve.end else None, window_hours=wh,
        analysis_hours=hours, pattern=serve.pattern, completion=serve.completion,
        stable_seconds=serve.stable_seconds, cutoff_minutes=serve.cutoff_minutes,
        launcher=serve.launcher_template, ranks=serve.ranks, poll_seconds=serve.poll_seconds,
        max_attempts=serve.max_attempts, retry_seconds=serve.retry_seconds,
        on_failure=serve.on_failure, launch_timeout_minutes=serve.launch_timeout_minutes,
        state_dir=state_dir,
        status_file=_resolve(serve.status_file, base) if serve.status_file
        else state_dir / "status.json",
        lock_file=_resolve(serve.lock_file, base) if serve.lock_file
        else state_dir / "serve.lock",
        alerts_file=_resolve(serve.alerts_file, base) if serve.alerts_file
        else state_dir / "alerts.jsonl")


def _resolve(p: str, root: Path) -> Path:
    """``p`` (``~`` expanded) if absolute, else relative to ``root``."""
    q = Path(p).expanduser()
    return q if q.is_absolute() else root / q
