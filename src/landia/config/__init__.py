"""Typed, validated configuration loaded from TOML.

A configuration file has one table per component. Every key is declared in the section
dataclasses of :mod:`landia.config.sections` with its type, allowed range and meaning
(:mod:`landia.config.keys` checks them); anything else is refused with an error that names
the key and says what was expected. ``landia validate CONFIG`` runs exactly this loader and
nothing else, and ``docs/configuration.md`` is generated from the same declarations
(``landia config-keys``), so the documentation cannot drift from the code. Every TOML file
landia reads goes through :func:`read_toml` (``tomllib``, or ``tomli`` on Python 3.10).

Example
-------
::

    [analysis]
    layers = 3
    terms = ["background", "image"]
    image_error_variance = 4.0e-4

    [curvelet]
    sigma = 0.5

    [minimiser]
    backend = "tao"
    tao_type = "blmvm"
"""

from __future__ import annotations

import dataclasses
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

from landia.config.keys import check_section, describe_section
from landia.config.sections import (DEFAULT_LAUNCHER, LAUNCH_TOKENS, TERMS, AnalysisSettings,
                                    CurveletSettings, CycleSettings, EnsembleSettings,
                                    GridSettings,
                                    LandscapeSettings,
                                    LoggingSettings, MinimiserSettings, ObservationSettings,
                                    PERTURBED_PAIRS, PerturbationSettings, ServeSettings)
from landia.errors import ConfigError

__all__ = ["AnalysisSettings", "CurveletSettings", "CycleSettings", "DEFAULT_LAUNCHER",
           "EnsembleSettings",
           "GridSettings", "LAUNCH_TOKENS", "LandscapeSettings", "LoggingSettings", "MinimiserSettings",
           "ObservationSettings", "PerturbationSettings", "SECTIONS", "ServeSettings",
           "Settings", "TERMS",
           "describe_keys", "load_settings", "read_toml", "settings_from_dict",
           "shipped_configs", "utc_time"]


@dataclass(frozen=True)
class Settings:
    """A whole landia configuration (``serve`` is None unless the file has that table)."""

    analysis: AnalysisSettings = field(default_factory=AnalysisSettings)
    curvelet: CurveletSettings = field(default_factory=CurveletSettings)
    minimiser: MinimiserSettings = field(default_factory=MinimiserSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)
    grid: GridSettings = field(default_factory=GridSettings)
    observations: ObservationSettings = field(default_factory=ObservationSettings)
    cycle: CycleSettings = field(default_factory=CycleSettings)
    perturbation: PerturbationSettings = field(default_factory=PerturbationSettings)
    landscape: LandscapeSettings = field(default_factory=LandscapeSettings)
    ensemble: EnsembleSettings = field(default_factory=EnsembleSettings)
    serve: Optional[ServeSettings] = None

    @property
    def image_term_acts(self) -> bool:
        """Whether the image term JI takes part in the analyses: the run assimilates
        (``cycle.mode`` 'da'), its analysis is a 3D-Var (no ensemble, or the ensemble
        hybrid's) and ``analysis.terms`` holds 'image'."""
        if self.cycle.mode != "da":
            return False
        if self.ensemble.enabled and self.ensemble.analysis != "hybrid":
            return False
        return "image" in self.analysis.terms

    @property
    def local_image_error_on(self) -> bool:
        """``analysis.local_image_error`` resolved: 'auto' is on where JI takes part
        (:attr:`image_term_acts`) over the observed cells (``image_gap_weight`` 0, the only
        term whose per-cell residual the estimate can standardise)."""
        value = self.analysis.local_image_error
        if value == "auto":
            return self.image_term_acts and self.analysis.image_gap_weight == 0
        return bool(value)

    @property
    def image_error_estimated(self) -> bool:
        """Whether JI's image-error variances are estimated (and clipped to
        ``[analysis.image_error_floor, analysis.image_error_cap]``): an
        ``analysis.image_error_method`` other than 'fixed', or the ensemble hybrid's
        ``ensemble.image_error_from_members``."""
        return self.analysis.image_error_method_used != "fixed" or (
            self.ensemble.enabled and self.ensemble.image_error_from_members)

    @property
    def ensemble_update_layers(self) -> int:
        """Layers, from the top, that an ensemble's LETKF updates: ``ensemble.update_layers``,
        or ``analysis.layers`` where that is 0 (or no more)."""
        return max(self.ensemble.update_layers, self.analysis.layers)

    @property
    def hybrid_split_on(self) -> bool:
        """``analysis.hybrid_split`` where it acts: JO and JI both in a 3D-Var's J."""
        return (self.analysis.hybrid_split and self.image_term_acts
                and "point" in self.analysis.terms)

    def replace(self, section: str, **changes: Any) -> "Settings":
        """Return a copy with keys of one section changed (validated like a file)."""
        current = {k: v for k, v in dataclasses.asdict(self).items() if v is not None}
        current[section] = {**current.get(section, {}), **changes}
        return settings_from_dict(current, source="<replace>")


SECTIONS: dict[str, type] = {
    "analysis": AnalysisSettings,
    "curvelet": CurveletSettings,
    "minimiser": MinimiserSettings,
    "logging": LoggingSettings,
    "grid": GridSettings,
    "observations": ObservationSettings,
    "cycle": CycleSettings,
    "perturbation": PerturbationSettings,
    "landscape": LandscapeSettings,
    "ensemble": EnsembleSettings,
    "serve": ServeSettings,
}


def shipped_configs() -> dict[str, Path]:
    """Example configurations shipped with the package, by name (file stem)."""
    folder = Path(__file__).parent.parent / "configs"
    return {p.stem: p for p in sorted(folder.glob("*.toml"))}


def load_settings(path: str | Path) -> Settings:
    """Load and validate a TOML configuration file, or a shipped one by name.

    ``path`` may name a shipped example (``image3dvar``, ``point3dvar``, ``hybrid``)
    when no such file exists.

    Raises
    ------
    ConfigError
        File missing or not TOML, unknown section or key, wrong type or value out of
        range; the message names the file and the key.
    """
    path = Path(path)
    if not path.exists() and str(path) in shipped_configs():
        path = shipped_configs()[str(path)]
    if not path.exists():
        raise ConfigError(f"{path}: configuration file not found (shipped configurations: "
                          f"{', '.join(shipped_configs())})")
    return settings_from_dict(read_toml(path), source=str(path))


def read_toml(path: str | Path, what: str = "configuration file") -> dict[str, Any]:
    """The tables of the TOML file ``path``; every TOML file landia reads comes through here.

    Raises
    ------
    ConfigError
        The file is missing, unreadable, not UTF-8 (naming the byte offset and line of the
        first bad byte) or not TOML; the message names the file and calls it ``what``.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: {what} not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read {what}: {exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}: {what} is not UTF-8 text: byte {exc.start} (line {line}) "
                          f"is {data[exc.start:exc.start + 1]!r}; TOML files are UTF-8 "
                          f"(convert it, e.g. iconv -f latin1 -t utf-8)") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def settings_from_dict(raw: dict[str, Any], source: str = "<dict>") -> Settings:
    """Validate a nested mapping (as read from TOML) into :class:`Settings`."""
    sections = {}
    for name, value in raw.items():
        if name not in SECTIONS:
            raise ConfigError(f"{source}: unknown section [{name}]; expected one of "
                              f"{', '.join('[' + s + ']' for s in SECTIONS)}")
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: [{name}] must be a table of keys, got "
                              f"{type(value).__name__}")
        sections[name] = check_section(SECTIONS[name], name, value, source)
    settings = Settings(**sections)
    _cross_checks(settings, source)
    return settings


def _cross_checks(settings: Settings, source: str) -> None:
    if not settings.analysis.terms:
        raise ConfigError(f"{source}: analysis.terms: expected at least one of "
                          f"{', '.join(TERMS)}, got an empty list")
    if settings.curvelet.wedges % 3:
        raise ConfigError(f"{source}: curvelet.wedges: expected a multiple of 3 "
                          f"(UDCT's decimation needs it), got {settings.curvelet.wedges}")
    if settings.analysis.correlation_steps % 2:
        raise ConfigError(f"{source}: analysis.correlation_steps: expected an even number "
                          f"(B^1/2 is half the diffusion steps), got "
                          f"{settings.analysis.correlation_steps}")
    if settings.curvelet.scales == 1:
        raise ConfigError(f"{source}: curvelet.scales: expected 0 (automatic) or >= 2, got 1")
    g = settings.grid
    if g.north <= g.south:
        raise ConfigError(f"{source}: grid.north: expected a value above grid.south="
                          f"{g.south}, got {g.north}")
    if not 0.0 < g.east - g.west <= 360.0:
        raise ConfigError(f"{source}: grid.east: expected grid.west < east <= grid.west + 360 "
                          f"(west={g.west}), got {g.east}")
    c = settings.cycle
    times = {}
    for key in ("start", "end", "assimilation_end"):
        value = getattr(c, key)
        if key == "assimilation_end" and value == "":
            continue
        try:
            times[key] = np.datetime64(value, "s")
        except ValueError:
            raise ConfigError(f"{source}: cycle.{key}: expected an ISO date-time such as "
                              f"2016-05-01T00:00, got {value!r}") from None
    if times["end"] <= times["start"]:
        raise ConfigError(f"{source}: cycle.end: expected a time after cycle.start "
                          f"({c.start}), got {c.end!r}")
    span = (times["end"] - times["start"]).astype(int)
    if span % (3600 * c.window_hours):
        raise ConfigError(f"{source}: cycle.end: the run must be a whole number of "
                          f"{c.window_hours} h windows from cycle.start ({c.start}); got "
                          f"{c.end!r}")
    if c.mode == "da" and not c.analysis_hours:
        raise ConfigError(f"{source}: cycle.analysis_hours: expected at least one hour in "
                          f"mode 'da'")
    o = settings.observations
    if o.rescaling != "none" and not o.climatology.strip():
        raise ConfigError(f"{source}: observations.climatology: required when "
                          f"observations.rescaling = {o.rescaling!r}; give the file written by "
                          f"'landia climatology'")
    a = settings.analysis
    if a.image_error_bands == "wedge" and a.image_error_method_used == "fixed":
        raise ConfigError(f"{source}: analysis.image_error_bands = 'wedge' estimates one "
                          f"variance per band: it needs analysis.image_error_method "
                          f"'desroziers' or 'innovation' (with 'fixed' every band has "
                          f"image_error_variance); got 'fixed'")
    if a.vertical_carry != "increment" and not a.vertical_length_m:
        raise ConfigError(f"{source}: analysis.vertical_carry = {a.vertical_carry!r} chooses what "
                          f"analysis.vertical_length_m carries below the analysed layers: it "
                          f"needs vertical_length_m > 0 (0 carries nothing); got 0")
    if a.image_error_floor != "variance" and a.image_error_floor >= a.image_error_cap:
        raise ConfigError(f"{source}: analysis.image_error_cap: expected a value above "
                          f"analysis.image_error_floor={a.image_error_floor}, got "
                          f"{a.image_error_cap}")
    # the default floor follows image_error_variance, which may be any size where nothing is
    # estimated (the paper's unweighted s2 = 1 with 'fixed')
    if settings.image_error_estimated and a.image_error_floor == "variance" \
            and a.image_error_variance >= a.image_error_cap:
        raise ConfigError(f"{source}: analysis.image_error_cap: expected a value above the "
                          f"floor of the estimated image-error variances, "
                          f"analysis.image_error_variance={a.image_error_variance} "
                          f"(image_error_floor = 'variance'), got {a.image_error_cap}; give a "
                          f"larger image_error_cap, a number as image_error_floor, or "
                          f"image_error_method = 'fixed' (one variance, nothing estimated)")
    ub = settings.analysis.upper_bound
    if not isinstance(ub, str) and ub <= settings.analysis.lower_bound:
        raise ConfigError(f"{source}: analysis.upper_bound: expected a value above "
                          f"analysis.lower_bound={settings.analysis.lower_bound}, got {ub}")
    _perturbation_checks(settings.perturbation, source)
    _ensemble_checks(settings, source)
    if settings.serve is not None:
        _serve_checks(settings.serve, source)


def _perturbation_checks(p: PerturbationSettings, source: str) -> None:
    """The cross-correlations: six numbers in [-1, 1] making a positive-definite matrix."""
    where = f"{source}: perturbation.correlations"
    values = p.correlations
    if len(values) != len(PERTURBED_PAIRS) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and -1.0 <= v <= 1.0
            for v in values):
        raise ConfigError(f"{where}: expected {len(PERTURBED_PAIRS)} numbers in [-1, 1] "
                          f"({', '.join(PERTURBED_PAIRS)}), got {values!r}")
    matrix = np.eye(4)
    matrix[np.triu_indices(4, 1)] = values
    matrix = np.triu(matrix) + np.triu(matrix, 1).T
    smallest = float(np.linalg.eigvalsh(matrix)[0])
    if smallest <= 1e-6:
        raise ConfigError(f"{where}: the correlation matrix of {values!r} is not positive "
                          f"definite (smallest eigenvalue {smallest:.3g}); weaken the "
                          f"correlations")


def _ensemble_checks(settings: Settings, source: str) -> None:
    """An ensemble needs perturbed forcing; its hybrid needs the 3D-Var's JB and an
    observation term (JO, JI or both)."""
    e = settings.ensemble
    if not e.enabled:
        return
    if not settings.perturbation.enabled:
        raise ConfigError(f"{source}: ensemble.enabled = true needs perturbation.enabled = "
                          f"true (the members differ by their forcing perturbations); got "
                          f"perturbation.enabled = false")
    terms = settings.analysis.terms
    missing = ([] if "background" in terms else ["background"]) + (
        [] if {"point", "image"} & set(terms) else ["point or image"])
    if e.analysis == "hybrid" and missing:
        raise ConfigError(f"{source}: ensemble.analysis = 'hybrid' runs the 3D-Var of the "
                          f"ensemble mean: analysis.terms must hold 'background' and an "
                          f"observation term, 'point', 'image' or both; got {terms!r} "
                          f"(missing {', '.join(missing)})")
    if e.update_layers > settings.analysis.layers and settings.analysis.vertical_length_m:
        raise ConfigError(f"{source}: ensemble.update_layers = {e.update_layers} and "
                          f"analysis.vertical_length_m = {settings.analysis.vertical_length_m} "
                          f"both give the layers below the {settings.analysis.layers} "
                          f"analysed an increment: expected one of them (set the other to 0)")
    if e.update_layers and e.update_layers < settings.analysis.layers:
        raise ConfigError(f"{source}: ensemble.update_layers = {e.update_layers} would update "
                          f"fewer layers than the {settings.analysis.layers} analysed "
                          f"(analysis.layers); expected 0 (the analysed layers) or a number "
                          f"from {settings.analysis.layers} to 10")
    if e.analysis == "hybrid" and e.image_error_from_members \
            and settings.analysis.image_error_bands == "wedge":
        raise ConfigError(f"{source}: ensemble.image_error_from_members diagnoses one "
                          f"image-error variance per curvelet scale; analysis."
                          f"image_error_bands = 'wedge' asks for one per wedge: set it to "
                          f"'scale' or image_error_from_members = false")


def utc_time(text: str) -> np.datetime64:
    """An ISO date-time (UTC, a trailing ``Z`` allowed) as ``datetime64[s]``.

    Raises
    ------
    ValueError
        ``text`` is not an ISO date-time.
    """
    return np.datetime64(str(text).rstrip("Zz"), "s")


def _serve_checks(serve: ServeSettings, source: str) -> None:
    """What a [serve] table can get wrong on its own (the cycle clock is checked when serve
    loads it with its cycle configuration)."""
    for name in ("first_analysis", "end"):
        value = getattr(serve, name)
        try:
            if value:
                utc_time(value)
        except ValueError:
            raise ConfigError(f"{source}: serve.{name}: expected an ISO date-time such as "
                              f"2016-05-01T06:00, got {value!r}") from None
    if "{stamp}" not in serve.pattern:
        raise ConfigError(f"{source}: serve.pattern: expected a name containing {{stamp}}, "
                          f"got {serve.pattern!r}")
    template = serve.launcher_template
    try:
        [a.format(**{k: "x" for k in LAUNCH_TOKENS}) for a in shlex.split(template)]
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(f"{source}: serve.launcher: bad template {template!r} ({exc}); "
                          f"tokens: {', '.join('{' + t + '}' for t in LAUNCH_TOKENS)}") from None


def describe_keys() -> str:
    """Markdown documentation of every section and key, generated from the declarations."""
    lines = ["# Configuration keys", "",
             "Generated by `landia config-keys` from `src/landia/config/sections.py`; unknown",
             "keys are errors. Every key is optional except those whose default reads",
             "*required*: a file that has their section must give them.", ""]
    for name, cls in SECTIONS.items():
        lines += describe_section(name, cls)
    return "\n".join(lines)
