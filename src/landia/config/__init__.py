"""Typed, validated configuration loaded from TOML.

A configuration file has one table per component. Every key is declared in
the dataclasses below with its type, allowed range and meaning; anything else
is refused with an error that names the key and says what was expected.
``landia validate CONFIG`` runs exactly this loader and nothing else, and
``docs/configuration.md`` is generated from the same declarations
(``landia config-keys``), so the documentation cannot drift from the code.
Every TOML file landia reads goes through :func:`read_toml` (``tomllib``, or ``tomli`` on
Python 3.10).

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
import difflib
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union, get_args, get_origin, get_type_hints

import numpy as np

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

from landia.errors import ConfigError

TERMS = ("background", "point", "image")


def _key(default: Any, doc: str, *, lo: float | None = None, hi: float | None = None,
         choices: tuple | None = None, lo_open: bool = False, required: bool = False) -> Any:
    """Declare a configuration key with its default, documentation and valid range.

    A ``required`` key must be given whenever its section is (its default only fills the
    dataclass).
    """
    meta = {"doc": doc, "lo": lo, "hi": hi, "choices": choices, "lo_open": lo_open,
            "required": required}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class AnalysisSettings:
    """The 3D-Var problem: control vector, active cost terms, error variances, bounds."""

    layers: int = _key(3, "Number of model layers from the top in the control vector "
                          "(CoLM layers 1-3 span 0-9 cm).", lo=1, hi=10)
    terms: list = _key(["background", "image"],
                       "Active cost terms, any of 'background' (JB), 'point' (JO) and "
                       "'image' (JI). The paper's image 3D-Var is background+image.",
                       choices=TERMS)
    background_error_variance: float = _key(
        2.5e-3, "B diagonal, (m3 m-3)^2, used where the background file has no "
                "`background_error_variance` variable.", lo=0.0, lo_open=True)
    observation_error_variance: float = _key(
        4.0e-4, "Point-observation error variance (O+F diagonal), (m3 m-3)^2, used where "
                "the observation file has no `observation_error_variance` variable.",
        lo=0.0, lo_open=True)
    image_error_variance: float = _key(
        4.0e-4, "s2 in JI = 1/(2 s2) ||P C E (x - y)||^2, (m3 m-3)^2. 1.0 reproduces the "
                "paper's unweighted image term, which barely moves the analysis.",
        lo=0.0, lo_open=True)
    lower_bound: float = _key(0.0, "Lower bound of soil moisture, m3 m-3.", lo=0.0, hi=1.0)
    upper_bound: Union[str, float] = _key(
        "porosity", "Upper bound: 'porosity' (the background file's `porosity` variable) "
                    "or a number in m3 m-3.", lo=0.0, hi=1.0)
    min_valid_cells: int = _key(10, "Observation images with fewer valid land cells in a "
                                    "layer are refused for that layer.", lo=1)


@dataclass(frozen=True)
class CurveletSettings:
    """The image structure operator Hc = P C E."""

    backend: str = _key("udct", "'udct' (package `curvelets`, always available) or 'fdct' "
                                "(CurveLab via the optional package `curvelops`).",
                        choices=("udct", "fdct"))
    sigma: float = _key(0.5, "Fraction of the observed image's curvelet coefficients kept, "
                             "largest modulus first (paper: 0.5).", lo=0.0, hi=1.0,
                        lo_open=True)
    scales: int = _key(0, "Number of scales including the low-pass one; 0 chooses "
                          "ceil(log2(min(ny, nx))) - 3, at least 2 (CurveLab's rule).",
                       lo=0, hi=12)
    wedges: int = _key(3, "Angular wedges per direction at the coarsest scale "
                          "(multiple of 3; doubles at each finer scale).", lo=3, hi=48)
    fill_decay: float = _key(
        1.5, "Screening length, in grid cells, over which the fill of sea/missing cells "
             "relaxes from the valid values to their mean; 0 gives the pure harmonic fill, "
             "whose conditioning worsens with resolution (docs/analysis.md).", lo=0.0, hi=1e6)
    fill_sweeps: int = _key(4, "Jacobi sweeps per pyramid level of the sea/missing-cell "
                               "fill on large grids (small grids are filled exactly).",
                            lo=0, hi=100)
    exact_fill_cells: int = _key(
        80000, "Grids with at most this many cells to fill get the exact fill (sparse LU); "
               "larger ones the matrix-free multilevel approximation.", lo=0)


@dataclass(frozen=True)
class MinimiserSettings:
    """How J is minimised."""

    backend: str = _key("tao", "'tao' (PETSc/TAO via petsc4py) or 'scipy' (L-BFGS-B); "
                               "'tao' falls back to 'scipy', with a warning, where petsc4py "
                               "is not importable.",
                        choices=("tao", "scipy"))
    tao_type: str = _key("blmvm", "TAO solver type; bounded: blmvm, bqnls, bncg, bqnkls, "
                                  "bqnktr, bqnktl; unbounded (bounds then only clip the "
                                  "result): lmvm, cg.",
                         choices=("blmvm", "bqnls", "bncg", "lmvm", "cg", "bqnkls",
                                  "bqnktr", "bqnktl"))
    gttol: float = _key(1.0e-6, "Stop when the projected gradient norm ||g|| <= gttol "
                                "||g0|| (relative to the first gradient; TAO's gttol).",
                        lo=0.0)
    gatol: float = _key(1.0e-5, "Also stop when ||g|| <= gatol, a floor for cases whose first "
                                "gradient is already tiny (J's round-off stalls line searches "
                                "near 1e-6); 1e-5 means analysis errors below ~1e-7 m3 m-3 "
                                "for B variances up to 0.01.", lo=0.0)
    max_iterations: int = _key(200, "Iteration limit; reaching it without convergence is "
                                    "an error.", lo=1)
    petsc_options: str = _key("", "Extra PETSc options, e.g. '-tao_monitor -tao_view' "
                                  "(the command line and PETSC_OPTIONS work too).")


@dataclass(frozen=True)
class LoggingSettings:
    """Log output."""

    format: str = _key("console", "'console' (human-readable) or 'json' (JSON lines).",
                       choices=("console", "json"))
    level: str = _key("info", "Threshold on rank 0; other ranks log warnings only.",
                      choices=("debug", "info", "warning", "error"))


@dataclass(frozen=True)
class GridSettings:
    """The model grid: a regular lat/lon box with a real land mask (global-land-mask)."""

    south: float = _key(23.0, "Southern edge of the box, degrees_north (the paper: 23).",
                        lo=-90.0, hi=90.0)
    north: float = _key(68.0, "Northern edge, degrees_north (the paper: 68).", lo=-90.0, hi=90.0)
    west: float = _key(73.0, "Western edge, degrees_east, -180..360 (the paper: 73).",
                       lo=-180.0, hi=360.0)
    east: float = _key(117.0, "Eastern edge, degrees_east, -180..360 (the paper: 117); "
                              "west + 360 for a global grid.", lo=-180.0, hi=360.0)
    resolution: float = _key(1.4, "Cell size, degrees (the paper: 1.4, giving 32 x 31 cells).",
                             lo=0.0, hi=30.0, lo_open=True)
    land_threshold: float = _key(0.5, "A cell is land when at least this fraction of its "
                                      "sample points is land.", lo=0.0, hi=1.0, lo_open=True)
    land_samples: int = _key(8, "Sample points per cell side for the land fraction "
                                "(k x k points).", lo=1, hi=64)


@dataclass(frozen=True)
class ObservationSettings:
    """Soil-moisture products mapped to the model grid (`landia prepare-obs`)."""

    product: str = _key("auto", "Reader: 'auto' (detected from the file), 'era5', 'gldas', "
                                "'cci' (C3S / ESA CCI) or 'smap'.",
                        choices=("auto", "era5", "gldas", "cci", "smap"))
    min_valid_fraction: float = _key(
        0.05, "A model cell gets an observation only when at least this fraction of its area "
              "is covered by valid product cells (conservative regridding). 0.05 keeps a "
              "1.4-degree cell with about two valid 0.25-degree pixels (C3S May 2016 on the "
              "paper grid: 97.4 % of land cells; 0.5 keeps 79.2 %).",
        lo=0.0, hi=1.0, lo_open=True)
    vertical: str = _key("node_in_range", "Product layers to model layers: 'node_in_range' "
                                          "(a model layer takes the product layer holding its "
                                          "node depth) or 'linear' (in depth between "
                                          "product-layer mid-depths).",
                         choices=("node_in_range", "linear"))
    layers: int = _key(3, "Model layers written from the top (the paper mapped ERA-Interim's "
                          "0-7 cm layer to CoLM layers 1-3).", lo=1, hi=10)
    upper_bound: float = _key(0.6, "QC: values above this are rejected (m3 m-3) where no "
                                   "porosity is given (prepare-obs --porosity).",
                              lo=0.0, hi=1.0, lo_open=True)
    min_valid_cells: int = _key(10, "QC: an image with fewer valid land cells in its top "
                                    "layer is refused as a whole (logged, no file written).",
                                lo=1)
    error_variance: float = _key(
        4.0e-4, "Observation-error variance, (m3 m-3)^2, where the product gives no "
                "uncertainty.", lo=0.0, lo_open=True)


@dataclass(frozen=True)
class CycleSettings:
    """The assimilation cycle (`landia cycle`): period, windows, mode, inputs, checkpoints."""

    start: str = _key("2016-05-01T00:00", "First instant of the run, ISO date-time, UTC.")
    end: str = _key("2016-05-03T00:00", "End of the run (exclusive), ISO date-time, UTC.")
    assimilation_end: str = _key(
        "", "End of the assimilation period, ISO date-time, UTC; after it the run is a free "
            "forecast (no observations). Empty: assimilate until `end`.")
    window_hours: int = _key(6, "Length of a cycle's model window, hours (the paper: 6).",
                             lo=1, hi=240)
    analysis_hours: list = _key([0, 6, 12, 18], "UTC hours at which analyses are made (at the "
                                                "end of a window).",
                                choices=tuple(range(24)))
    mode: str = _key("da", "'da' (assimilate) or 'ctrl' (the same run without assimilation).",
                     choices=("da", "ctrl"))
    observations: str = _key(
        "", "Folder of observation images on the model grid (field files named "
            "obs_YYYYMMDDTHHMM.nc, as `landia prepare-obs` writes them); relative to the run "
            "directory. Empty: none (model-only cycles with an alert).")
    forcing: str = _key("", "Forcing files: a glob pattern (relative to the run directory or "
                            "absolute), e.g. '/data/gldas/GLDAS_NOAH025_3H.A2016*.nc4'. Empty: "
                            "the built-in weather generator.")
    forcing_format: str = _key("gldas", "Reader of the forcing files: 'gldas' (GLDAS-2.1 "
                                        "3-hourly), 'era5' (CDS hourly) or 'qian' (CoLM/CLM "
                                        "datm).", choices=("gldas", "era5", "qian"))
    weather_seed: int = _key(1, "Seed of the weather generator (forcing).", lo=0)
    precipitation_seed: int = _key(-1, "Seed of the generator's rain events; -1: the "
                                       "weather seed.", lo=-1)
    texture_seed: int = _key(11, "Seed of the synthetic soil texture.", lo=0)
    initial_saturation: float = _key(0.5, "Cold start: liquid water as a fraction of "
                                          "porosity in every layer.", lo=0.0, hi=1.0)
    keep_checkpoints: int = _key(3, "Checkpoints kept in the run directory (newest first).",
                                 lo=1)


#: The default ``[serve] launcher``: the cycle job up to the analysis time ``{end}``.
DEFAULT_LAUNCHER = ("mpirun -n {ranks} landia cycle --config {config} --run-dir {run_dir} "
                    "--end {end}")


@dataclass(frozen=True)
class ServeSettings:
    """The near-real-time scheduler, `landia serve` (docs/serve.md). Only a serve file has this
    section; a file that has it must give the keys marked required. Relative paths are
    relative to the file's folder (`observations`: to `run_dir`)."""

    run_dir: str = _key("", "Run directory of the cycled run (`landia cycle --run-dir`).",
                        required=True)
    cycle_config: str = _key("", "The landia configuration `landia cycle` runs; its [cycle] "
                                 "section gives the clock.", required=True)
    incoming: str = _key("", "Folder where observation files arrive.", required=True)
    observations: str = _key("", "The run's observation folder, relative to `run_dir`; empty: "
                                 "the cycle config's `cycle.observations` (one must be set).")
    pattern: str = _key("obs_{stamp}.nc", "Name of an incoming file; must contain {stamp}, "
                                          "YYYYMMDDTHHMM (UTC).")
    completion: str = _key("rename", "When an incoming file is complete: 'rename' (it has its "
                                     "name), 'marker' (<name>.done beside it) or 'stable'.",
                           choices=("rename", "marker", "stable"))
    stable_seconds: float = _key(30.0, "completion = 'stable': unmodified (mtime) for this many "
                                       "real seconds.", lo=0.0)
    first_analysis: str = _key("", "First analysis time served, ISO date-time, UTC; empty: the "
                                   "first one after cycle.start.")
    end: str = _key("", "Last analysis time served (inclusive), ISO date-time, UTC; serve then "
                        "exits 0. Empty: forever.")
    window_hours: int = _key(0, "0: the cycle config's window_hours; else it must equal it.",
                             lo=0, hi=240)
    analysis_hours: list = _key([], "Empty: the cycle config's analysis_hours; else they must "
                                    "equal them.", choices=tuple(range(24)))
    cutoff_minutes: float = _key(180.0, "Wait this long after an analysis time for its file, "
                                        "then run model-only (`missing_feed` alert).", lo=0.0)
    launcher: Union[str, list] = _key(
        DEFAULT_LAUNCHER, "Command template (a string split like a shell does, or a list), run "
                          "without a shell; tokens {ranks} {config} {run_dir} {end} {stamp} "
                          "{obs}.")
    ranks: int = _key(4, "The {ranks} token of the launcher.", lo=1)
    poll_seconds: float = _key(60.0, "How often the incoming folder is looked at.", lo=0.001)
    max_attempts: int = _key(3, "Launches of one analysis time before `launch_failed`.", lo=1)
    retry_seconds: float = _key(60.0, "Back-off before the 2nd attempt, doubled for each "
                                      "further one.", lo=0.0)
    on_failure: str = _key("stop", "After max_attempts: 'stop' (exit 1) or 'continue' (the next "
                                   "launch runs the failed cycle too).",
                           choices=("stop", "continue"))
    launch_timeout_minutes: float = _key(0.0, "Kill a launch after this long (a failure, "
                                              "status 124); 0: never.", lo=0.0)
    state_dir: str = _key("", "State, status, lock, alerts and job logs; empty: "
                              "<run_dir>/serve.")
    status_file: str = _key("", "Empty: <state_dir>/status.json.")
    lock_file: str = _key("", "Empty: <state_dir>/serve.lock.")
    alerts_file: str = _key("", "Empty: <state_dir>/alerts.jsonl.")


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
    serve: Optional[ServeSettings] = None

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
    "serve": ServeSettings,
}


def shipped_configs() -> dict[str, Path]:
    """Example configurations shipped with the package, by name (file stem)."""
    folder = Path(__file__).with_name("configs")
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
        The file is missing, unreadable or not TOML; the message names the file and calls it
        ``what``.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: {what} not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read {what}: {exc}") from None
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
        sections[name] = _section(SECTIONS[name], name, value, source)
    settings = Settings(**sections)
    _cross_checks(settings, source)
    return settings


def _section(cls: type, name: str, values: dict[str, Any], source: str) -> Any:
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in values.items():
        where = f"{source}: {name}.{key}"
        if key not in fields:
            close = difflib.get_close_matches(key, list(fields), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"{where}: unknown key{hint}; [{name}] accepts "
                              f"{', '.join(sorted(fields))}")
        kwargs[key] = _check_value(where, value, hints[key], fields[key].metadata)
    required = [k for k, f in fields.items() if f.metadata.get("required")]
    missing = [k for k in required if k not in values]
    if missing:
        raise ConfigError(f"{source}: {name}.{missing[0]}: required key missing; a [{name}] "
                          f"table needs {', '.join(required)}")
    return cls(**kwargs)


def _check_value(where: str, value: Any, hint: Any, meta: Any) -> Any:
    allowed = get_args(hint) if get_origin(hint) is Union else (hint,)
    lo, hi, choices = meta.get("lo"), meta.get("hi"), meta.get("choices")
    if bool in allowed or (isinstance(value, bool) and bool not in allowed):
        if not isinstance(value, bool) or bool not in allowed:
            raise ConfigError(f"{where}: expected {_describe(allowed)}, got {value!r}")
    if isinstance(value, str) and str in allowed:
        if choices and value not in choices and not (float in allowed):
            raise ConfigError(f"{where}: expected one of {', '.join(map(repr, choices))}, "
                              f"got {value!r}")
        if float in allowed and value != "porosity":  # only string alternative today
            raise ConfigError(f"{where}: expected 'porosity' or a number, got {value!r}")
        return value
    if isinstance(value, list) and list in allowed:
        if choices:
            for item in value:
                if item not in choices:
                    raise ConfigError(f"{where}: expected a list drawn from "
                                      f"{', '.join(map(repr, choices))}, got {item!r}")
            if len(set(value)) != len(value):
                raise ConfigError(f"{where}: repeated entries in {value!r}")
        return list(value)
    if isinstance(value, int) and not isinstance(value, bool) and int in allowed:
        number = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and float in allowed:
        number = float(value)
    else:
        raise ConfigError(f"{where}: expected {_describe(allowed)}, got "
                          f"{type(value).__name__} {value!r}")
    if isinstance(number, float) and not math.isfinite(number):
        raise ConfigError(f"{where}: expected a finite number, got {value!r}")
    open_lo = meta.get("lo_open")
    if lo is not None and (number < lo or (open_lo and number == lo)):
        raise ConfigError(f"{where}: expected a value {'>' if open_lo else '>='} {lo}, "
                          f"got {value!r}")
    if hi is not None and number > hi:
        raise ConfigError(f"{where}: expected a value <= {hi}, got {value!r}")
    return number


def _describe(allowed: tuple) -> str:
    names = {int: "an integer", float: "a number", str: "a string", list: "a list",
             bool: "true/false"}
    return " or ".join(names.get(a, getattr(a, "__name__", str(a))) for a in allowed)


def _cross_checks(settings: Settings, source: str) -> None:
    if not settings.analysis.terms:
        raise ConfigError(f"{source}: analysis.terms: expected at least one of "
                          f"{', '.join(TERMS)}, got an empty list")
    if settings.curvelet.wedges % 3:
        raise ConfigError(f"{source}: curvelet.wedges: expected a multiple of 3 "
                          f"(UDCT's decimation needs it), got {settings.curvelet.wedges}")
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
    ub = settings.analysis.upper_bound
    if not isinstance(ub, str) and ub <= settings.analysis.lower_bound:
        raise ConfigError(f"{source}: analysis.upper_bound: expected a value above "
                          f"analysis.lower_bound={settings.analysis.lower_bound}, got {ub}")


def describe_keys() -> str:
    """Markdown documentation of every section and key, generated from the declarations."""
    lines = ["# Configuration keys", "",
             "Generated by `landia config-keys` from `src/landia/config.py`; unknown keys",
             "are errors. Every key is optional except those whose default reads *required*:",
             "a file that has their section must give them.", ""]
    for name, cls in SECTIONS.items():
        lines += [f"## [{name}]", "", (cls.__doc__ or "").strip(), "",
                  "| key | default | allowed | meaning |", "|---|---|---|---|"]
        hints = get_type_hints(cls)
        defaults = cls()
        for f in dataclasses.fields(cls):
            meta = f.metadata
            allowed = []
            if meta.get("choices"):
                allowed.append(", ".join(f"`{c}`" for c in meta["choices"]))
            if meta.get("lo") is not None:
                allowed.append(f"{'>' if meta.get('lo_open') else '>='} {meta['lo']}")
            if meta.get("hi") is not None:
                allowed.append(f"<= {meta['hi']}")
            kind = _describe(get_args(hints[f.name]) if get_origin(hints[f.name]) is Union
                             else (hints[f.name],))
            default = "*required*" if meta.get("required") else f"`{getattr(defaults, f.name)!r}`"
            lines.append(f"| `{f.name}` | {default} | {kind}; {'; '.join(allowed) or 'any'} "
                         f"| {meta['doc']} |")
        lines.append("")
    return "\n".join(lines)
