"""The correlated B's normalisation on disk: computed once, read by every later process.

The diffusion correlation C = N A^{-m} N (:mod:`landia.operators.correlation`) needs the
variances :math:`v_i = (A^{-m})_{ii}` of its normalisation :math:`N = \\mathrm{diag}(v)^{-1/2}`;
on a global 0.25 deg grid their randomised estimate is most of the analysis' build (15.7 of
21.7 s), and `landia serve` starts every cycle as a new process. As NEMOVAR reads its
normalisation factors from a file, the variances are kept in
``<cache_dir>/correlation-<key>.npz``, ``key`` the operator's
:func:`~landia.operators.correlation.normalisation_key` (grid, L, m, method, seed, versions).

The file holds ``key`` (checked against the name asked for), ``variance`` (float64, one per land
cell) and ``sha256`` (of the variances' bytes). A file that cannot be read, is truncated, names
another key, has the wrong length or checksum, or holds a variance that is not finite and > 0 is
logged (``normalisation_cache_rejected``) and treated as absent: the caller recomputes and
stores it again. Writes are atomic (:func:`landia.io.atomic.atomic_path`).
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import numpy as np

from landia.errors import InputError
from landia.io.atomic import atomic_path
from landia.log import get_logger


def normalisation_path(cache_dir: str | Path, key: str) -> Path:
    """``<cache_dir>/correlation-<key>.npz``."""
    return Path(cache_dir) / f"correlation-{key}.npz"


def _digest(variance: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(variance, dtype="<f8").tobytes()).hexdigest()


def load_normalisation(cache_dir: str | Path, key: str, n: int) -> np.ndarray | None:
    """The cached variances (float64, (n,)) of ``key``, or None when there is no usable file.

    A present but unusable file is logged as ``normalisation_cache_rejected`` (with the file
    and why) and not trusted; a missing one is silent.
    """
    path = normalisation_path(cache_dir, key)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            stored_key = str(data["key"][()])
            variance = np.asarray(data["variance"])
            digest = str(data["sha256"][()])
        why = None
        if stored_key != key:
            why = f"it holds key {stored_key[:16]}..., not {key[:16]}..."
        elif variance.dtype != np.float64 or variance.shape != (n,):
            why = f"variance is {variance.dtype} {variance.shape}, expected float64 ({n},)"
        elif _digest(variance) != digest:
            why = "the variances do not match their sha256"
        elif not np.all(np.isfinite(variance) & (variance > 0)):
            why = "a variance is not finite and > 0"
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        why = f"unreadable: {type(exc).__name__}: {exc}"
    if why is not None:
        get_logger("landia.io").warning("normalisation_cache_rejected", file=str(path),
                                        reason=why, note="recomputed and rewritten")
        return None
    return variance


def store_normalisation(cache_dir: str | Path, key: str, variance: np.ndarray) -> Path:
    """Write the variances of ``key`` atomically (creating ``cache_dir``); return the file."""
    variance = np.ascontiguousarray(variance, dtype=np.float64)
    path = normalisation_path(cache_dir, key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{path.parent}: cannot create the normalisation cache folder: "
                         f"{exc}") from exc
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, key=np.array(key), variance=variance, sha256=np.array(_digest(variance)))
    return path
