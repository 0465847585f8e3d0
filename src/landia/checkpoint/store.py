"""Checkpoint files of a cycling run: one HDF5 file per completed cycle, verified on load.

A checkpoint directory holds ``checkpoint-YYYYMMDDTHHMM.h5`` files (``...THHMMSS.h5`` when the
valid time has seconds), named by the valid time (UTC) of the model state they hold. Each file
holds the complete model state in the global order of the land cells, the cycle clock, the
configuration's hash, free-form run metadata, any extra arrays needed for an exact
continuation, and a SHA-256 checksum of all of these. Layout, checksum and recovery rules:
``docs/checkpoint.md``.

HDF5 (h5py) rather than netCDF4: the checkpoint is a private restart file, not a CF product;
h5py stores and returns the raw float64 bits with no fill-value masking or scaling, takes
arrays of any numeric dtype and shape (the extra arrays) without declaring dimensions, and
its scalar/string attributes map one-to-one to the clock and metadata.

Files are written through :func:`landia.io.atomic.atomic_path` (temporary file beside the
target, fsync, rename, directory fsync): a reader, or a run restarted after a crash, sees the
previous set of checkpoints or the complete new file, never a part of one.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from landia.columns.model import LAYERED_FIELDS, STATE_FIELDS, ModelState
from landia.errors import InputError
from landia.io.atomic import atomic_path
from landia.log import get_logger

#: Value of the root attribute ``format``.
FORMAT = "landia-checkpoint"
#: Value of the root attribute ``format_version``; part of the checksummed payload.
FORMAT_VERSION = 1
#: File-name pattern of a checkpoint (temporary files, ``.checkpoint-*.tmp``, never match).
NAME_RE = re.compile(r"^checkpoint-(\d{8}T\d{4}(?:\d{2})?)\.h5$")
#: Glob of the temporaries left by an interrupted write (see :func:`remove_temporaries`).
TEMPORARY_GLOB = ".checkpoint-*.tmp"

_F8 = np.dtype("<f8")
_EXTRA_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")

_log = get_logger("landia.checkpoint")


class CheckpointError(InputError):
    """A checkpoint file is unreadable, truncated, inconsistent or fails its checksum."""


class ConfigMismatchError(CheckpointError):
    """A checkpoint was written under a different configuration (hash) than the run's."""


@dataclass(frozen=True)
class Checkpoint:
    """The content of one checkpoint file.

    Attributes
    ----------
    path : Path
        The file it was read from (or written to).
    state : ModelState
        The model state of all land columns in the global order, valid at ``valid_time``.
    valid_time : numpy.datetime64[s]
        Valid time of the state (UTC): the end of the completed cycle.
    next_cycle : int
        Index (0-based) of the next cycle to run from this state.
    config_hash : str
        Hash of the configuration the run was started with.
    metadata : dict
        Free-form run metadata (JSON-serialisable).
    extra : dict of str to ndarray
        Extra arrays (e.g. a random-number-generator state, a forcing cursor).
    checksum : str
        ``"sha256:<64 hex digits>"`` of the payload (:func:`payload_checksum`).
    """

    path: Path
    state: ModelState
    valid_time: np.datetime64
    next_cycle: int
    config_hash: str
    metadata: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    checksum: str = ""


# ----------------------------------------------------------------------------- names and times

def _valid_time(value) -> np.datetime64:
    try:
        t = np.datetime64(value, "s")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"valid_time: expected a date-time (UTC), e.g. '2016-05-01T06:00'; "
                         f"got {value!r}") from exc
    if np.isnat(t):
        raise ValueError(f"valid_time: expected a date-time (UTC); got {value!r} (NaT)")
    return t


def checkpoint_name(valid_time) -> str:
    """File name of the checkpoint valid at ``valid_time`` (UTC), e.g.
    ``checkpoint-20160501T0600.h5``; seconds are appended when not zero."""
    t = _valid_time(valid_time)
    text = str(t)  # YYYY-MM-DDTHH:MM:SS
    stamp = text[:4] + text[5:7] + text[8:10] + "T" + text[11:13] + text[14:16]
    if text[17:19] != "00":
        stamp += text[17:19]
    return f"checkpoint-{stamp}.h5"


def _time_of_name(name: str) -> np.datetime64 | None:
    m = NAME_RE.match(name)
    if not m:
        return None
    s = m.group(1)
    iso = f"{s[0:4]}-{s[4:6]}-{s[6:8]}T{s[9:11]}:{s[11:13]}:{s[13:15] or '00'}"
    try:
        return np.datetime64(iso, "s")
    except ValueError:
        return None


def list_checkpoints(directory: str | Path) -> list[Path]:
    """Checkpoint files of ``directory``, newest valid time first.

    Only names matching :data:`NAME_RE` count; temporary files (``.checkpoint-*.tmp``) and
    anything else are ignored. A missing directory has no checkpoints.
    """
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = []
    for p in directory.iterdir():
        t = _time_of_name(p.name)
        if t is not None and p.is_file():
            found.append((t, p))
    found.sort(key=lambda tp: (tp[0], tp[1].name), reverse=True)
    return [p for _, p in found]


# ----------------------------------------------------------------------------- checksum

def _canonical_json(metadata: dict) -> str:
    try:
        return json.dumps(metadata, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                          allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"metadata: expected a JSON-serialisable dict (str keys, no NaN); "
                         f"{exc}") from exc


def _feed(h, key: str, data) -> None:
    k = key.encode("utf-8")
    h.update(len(k).to_bytes(8, "little"))
    h.update(k)
    h.update(memoryview(data).nbytes.to_bytes(8, "little"))
    h.update(data)


def payload_checksum(valid_time: str, next_cycle: int, config_hash: str, metadata_json: str,
                     state: dict[str, np.ndarray], extra: dict[str, np.ndarray]) -> str:
    """SHA-256 of a checkpoint's payload, as ``"sha256:<hex>"``.

    Every item is fed as (key length, key, data length, data), lengths as 8-byte little-endian
    integers, in this fixed order: ``format`` (``"landia-checkpoint/1"``), ``valid_time``
    (ISO text, UTF-8), ``next_cycle`` (decimal text), ``config_hash`` (UTF-8),
    ``run_metadata`` (the stored JSON text, UTF-8); then for each state array in
    :data:`STATE_FIELDS` order and each extra array in sorted name order, an item
    ``state/<name>`` or ``extra/<name>`` whose data is ``"<dtype.str> <shape>"`` (e.g.
    ``"<f8 (100, 10)"``) and an item with the same key whose data is the array's bytes in
    C order, little-endian.
    """
    h = hashlib.sha256()
    _feed(h, "format", f"{FORMAT}/{FORMAT_VERSION}".encode())
    _feed(h, "valid_time", valid_time.encode("utf-8"))
    _feed(h, "next_cycle", str(int(next_cycle)).encode())
    _feed(h, "config_hash", config_hash.encode("utf-8"))
    _feed(h, "run_metadata", metadata_json.encode("utf-8"))
    items = [(f"state/{n}", state[n]) for n in STATE_FIELDS]
    items += [(f"extra/{n}", extra[n]) for n in sorted(extra)]
    for key, arr in items:
        a = _little_endian(np.asarray(arr))
        _feed(h, key, f"{a.dtype.str} {tuple(a.shape)}".encode())
        _feed(h, key, np.ascontiguousarray(a).reshape(-1).view(np.uint8))  # C order, no copy
    return "sha256:" + h.hexdigest()


def _little_endian(a: np.ndarray) -> np.ndarray:
    if a.dtype.byteorder == ">":
        return a.astype(a.dtype.newbyteorder("<"))
    return a


# ----------------------------------------------------------------------------- writing

def _extra_arrays(extra: dict | None) -> dict[str, np.ndarray]:
    out = {}
    for name, value in (extra or {}).items():
        if not isinstance(name, str) or not _EXTRA_NAME_RE.match(name):
            raise ValueError(f"extra: expected names of letters, digits, '_', '.', '-' "
                             f"(not starting with '.' or '-'); got {name!r}")
        arr = np.asarray(value)
        if arr.dtype.kind not in "biufc":
            raise ValueError(f"extra[{name!r}]: expected a numeric or boolean array; "
                             f"got dtype {arr.dtype}")
        out[name] = np.array(_little_endian(arr), order="C")  # keeps 0-d arrays 0-d
    return out


def _write_hdf5(path: Path, attrs: dict[str, Any], state: dict[str, np.ndarray],
                extra: dict[str, np.ndarray]) -> None:
    """Write the file's content to ``path`` (a temporary file; see :func:`write_checkpoint`)."""
    with h5py.File(path, "w") as f:
        for key, value in attrs.items():
            f.attrs[key] = value
        g = f.create_group("state")
        for name in STATE_FIELDS:
            ds = g.create_dataset(name, data=state[name], dtype=_F8)
            ds.attrs["units"] = _UNITS[name]
        e = f.create_group("extra")
        for name in sorted(extra):
            e.create_dataset(name, data=extra[name])


_UNITS = {"w_liq": "kg m-2", "w_ice": "kg m-2", "t_soil": "K", "pond": "kg m-2",
          "snow": "kg m-2", "wa": "kg m-2", "z_wt": "m", "t_snow": "K"}


def write_checkpoint(directory: str | Path, state: ModelState, valid_time, next_cycle: int,
                     config_hash: str, metadata: dict | None = None,
                     extra: dict | None = None) -> Path:
    """Write the checkpoint of a completed cycle atomically; return its path.

    Parameters
    ----------
    directory : path-like
        The run's checkpoint directory (must exist).
    state : ModelState
        The model state of all land columns in the global order (N columns, nlayer layers).
    valid_time : datetime64, datetime or ISO str
        Valid time of the state (UTC); names the file (:func:`checkpoint_name`). A checkpoint
        of the same valid time is replaced.
    next_cycle : int
        Index (>= 0) of the next cycle to run.
    config_hash : str
        Hash of the run's configuration (non-empty).
    metadata : dict, optional
        Free-form run metadata, JSON-serialisable (stored as canonical JSON).
    extra : dict of str to array_like, optional
        Extra numeric or boolean arrays of any shape (e.g. RNG state, forcing cursor).

    Returns
    -------
    Path
        ``directory / checkpoint_name(valid_time)``.

    Raises
    ------
    ValueError
        On an invalid argument (nothing is written).
    InputError
        When ``directory`` does not exist.
    """
    t = _valid_time(valid_time)
    if isinstance(next_cycle, bool) or not isinstance(next_cycle, (int, np.integer)) \
            or next_cycle < 0:
        raise ValueError(f"next_cycle: expected an integer >= 0; got {next_cycle!r}")
    if not isinstance(config_hash, str) or not config_hash:
        raise ValueError(f"config_hash: expected a non-empty str; got {config_hash!r}")
    if metadata is not None and not isinstance(metadata, dict):
        raise ValueError(f"metadata: expected a dict; got {type(metadata).__name__}")
    meta_json = _canonical_json(metadata or {})
    arrays = {n: np.ascontiguousarray(a, dtype=_F8) for n, a in state.arrays().items()}
    n, nl = arrays["w_liq"].shape
    if arrays["t_snow"].shape != (n,):
        raise ValueError(f"t_snow: expected shape ({n},); got {arrays['t_snow'].shape}")
    extras = _extra_arrays(extra)
    valid_text = str(t)
    checksum = payload_checksum(valid_text, int(next_cycle), config_hash, meta_json, arrays,
                                extras)
    attrs = {
        "format": FORMAT,
        "format_version": np.int64(FORMAT_VERSION),
        "valid_time": valid_text,
        "next_cycle": np.int64(next_cycle),
        "config_hash": config_hash,
        "run_metadata": meta_json,
        "n_columns": np.int64(n),
        "n_layers": np.int64(nl),
        "checksum": checksum,
    }
    path = Path(directory) / checkpoint_name(t)
    with atomic_path(path) as tmp:
        _write_hdf5(tmp, attrs, arrays, extras)
    _log.info("checkpoint written", path=str(path), valid_time=valid_text,
              next_cycle=int(next_cycle))
    return path


# ----------------------------------------------------------------------------- reading

def _attr(f, path: Path, name: str, kind: type):
    if name not in f.attrs:
        raise CheckpointError(f"{path}: attribute {name!r} is missing; expected a landia "
                              f"checkpoint (format {FORMAT!r} version {FORMAT_VERSION})")
    value = f.attrs[name]
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    if kind is str and isinstance(value, str):
        return value
    if kind is int and isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    raise CheckpointError(f"{path}: attribute {name!r} is {value!r}; expected a "
                          f"{kind.__name__}")


def _read(path: Path) -> tuple[dict, dict, dict]:
    with h5py.File(path, "r") as f:
        fmt = _attr(f, path, "format", str)
        version = _attr(f, path, "format_version", int)
        if fmt != FORMAT or version != FORMAT_VERSION:
            raise CheckpointError(f"{path}: format {fmt!r} version {version}; expected "
                                  f"{FORMAT!r} version {FORMAT_VERSION}")
        attrs = {k: _attr(f, path, k, str) for k in ("valid_time", "config_hash",
                                                      "run_metadata", "checksum")}
        attrs.update({k: _attr(f, path, k, int) for k in ("next_cycle", "n_columns",
                                                           "n_layers")})
        n, nl = attrs["n_columns"], attrs["n_layers"]
        if "state" not in f or not isinstance(f["state"], h5py.Group):
            raise CheckpointError(f"{path}: group 'state' is missing; expected the model state")
        state = {}
        for name in STATE_FIELDS:
            if name not in f["state"]:
                raise CheckpointError(f"{path}: variable 'state/{name}' is missing; expected "
                                      f"all of {list(STATE_FIELDS)}")
            ds = f["state"][name]
            expected = (n, nl) if name in LAYERED_FIELDS else (n,)
            if ds.shape != expected or ds.dtype != _F8:
                raise CheckpointError(f"{path}: variable 'state/{name}' is {ds.dtype} "
                                      f"{ds.shape}; expected float64 {expected}")
            state[name] = np.asarray(ds[()], dtype=_F8)
        extra = {}
        if "extra" in f:
            for name, ds in f["extra"].items():
                extra[name] = np.asarray(ds[()])
    return attrs, state, extra


def load_checkpoint(path: str | Path, config_hash: str | None = None,
                    allow_config_change: bool = False) -> Checkpoint:
    """Read a checkpoint file and verify it.

    Checks, in order: the file opens as HDF5 and has the checkpoint format; every state
    variable is present, float64, of shape (n_columns, n_layers) or (n_columns,); the stored
    SHA-256 checksum equals the one recomputed from the payload; the configuration hash
    equals ``config_hash`` (when given, unless ``allow_config_change``); the state passes
    the :class:`~landia.columns.state.ColumnState` checks.

    Parameters
    ----------
    path : path-like
        The checkpoint file.
    config_hash : str, optional
        Hash of the current configuration; None skips the comparison.
    allow_config_change : bool, optional
        Accept a checkpoint written under another configuration hash (default False).

    Returns
    -------
    Checkpoint

    Raises
    ------
    CheckpointError
        The file is missing, unreadable, truncated, inconsistent or fails its checksum.
    ConfigMismatchError
        The checkpoint's configuration hash differs from ``config_hash``; the message names
        both.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint file does not exist")
    try:
        attrs, state, extra = _read(path)
    except CheckpointError:
        raise
    except (OSError, KeyError, ValueError, TypeError, RuntimeError) as exc:
        raise CheckpointError(f"{path}: cannot read the checkpoint (truncated or corrupt "
                              f"HDF5 file?): {exc}") from exc
    try:
        metadata = json.loads(attrs["run_metadata"])
    except ValueError as exc:
        raise CheckpointError(f"{path}: attribute 'run_metadata' is not JSON: {exc}") from exc
    computed = payload_checksum(attrs["valid_time"], attrs["next_cycle"], attrs["config_hash"],
                                attrs["run_metadata"], state, extra)
    if computed != attrs["checksum"]:
        raise CheckpointError(f"{path}: checksum mismatch: stored {attrs['checksum']}, "
                              f"computed {computed}; the file is corrupt")
    if (config_hash is not None and attrs["config_hash"] != config_hash
            and not allow_config_change):
        raise ConfigMismatchError(
            f"{path}: written under configuration hash {attrs['config_hash']!r}; the current "
            f"configuration hash is {config_hash!r}. Resume with the original configuration, "
            "start a new run directory, or allow the configuration change explicitly")
    try:
        model_state = ModelState.from_arrays(state)
        valid_time = _valid_time(attrs["valid_time"])
    except ValueError as exc:
        raise CheckpointError(f"{path}: invalid content: {exc}") from exc
    return Checkpoint(path=path, state=model_state, valid_time=valid_time,
                      next_cycle=attrs["next_cycle"], config_hash=attrs["config_hash"],
                      metadata=metadata, extra=extra, checksum=attrs["checksum"])


def latest_valid(directory: str | Path, config_hash: str | None,
                 allow_config_change: bool = False) -> Checkpoint | None:
    """The newest checkpoint of ``directory`` that loads and verifies, or None.

    Checkpoints are tried newest valid time first (:func:`list_checkpoints`); each one that
    fails :func:`load_checkpoint` (corrupt, truncated, checksum failure, inconsistent
    content, or another configuration hash) is skipped with a warning naming the file and
    the reason.
    """
    for path in list_checkpoints(directory):
        try:
            return load_checkpoint(path, config_hash, allow_config_change)
        except CheckpointError as exc:
            _log.warning("checkpoint skipped", path=str(path), reason=str(exc))
    return None


def keep_last(directory: str | Path, k: int, config_hash: str | None = None) -> list[Path]:
    """Remove all but the ``k`` newest checkpoints of ``directory``; return the removed paths.

    The newest valid checkpoint (the one :func:`latest_valid` with ``config_hash`` would
    return) is always kept, even when it is not among the ``k`` newest files (these may be
    corrupt); invalid files among the ``k`` newest are left in place for inspection.

    Parameters
    ----------
    directory : path-like
        The checkpoint directory.
    k : int
        Number of checkpoint files to keep, >= 1.
    config_hash : str, optional
        Current configuration hash, for deciding which checkpoint is the newest valid one.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k: expected an integer >= 1 (checkpoints to keep); got {k!r}")
    paths = list_checkpoints(directory)
    if len(paths) <= k:
        return []
    keep = set(paths[:k])
    newest_valid = latest_valid(directory, config_hash)
    if newest_valid is not None:
        keep.add(newest_valid.path)
    removed = []
    for p in paths:
        if p not in keep:
            p.unlink(missing_ok=True)
            removed.append(p)
    if removed:
        _log.info("old checkpoints removed", directory=str(directory),
                  removed=[p.name for p in removed])
    return removed


def remove_temporaries(directory: str | Path) -> list[Path]:
    """Remove the temporary files (``.checkpoint-*.tmp``) left by interrupted writes.

    Call it when no checkpoint write is in progress (at the start of a run or resume).
    """
    directory = Path(directory)
    if not directory.is_dir():
        return []
    removed = sorted(p for p in directory.glob(TEMPORARY_GLOB) if p.is_file())
    for p in removed:
        p.unlink(missing_ok=True)
    if removed:
        _log.warning("interrupted checkpoint writes removed", directory=str(directory),
                     removed=[p.name for p in removed])
    return removed
