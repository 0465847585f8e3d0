"""The incoming folder: when an arrived observation file is complete, whether it is usable,
and moving it into the run or aside (``rejected/``, ``duplicates/``, ``late/``,
``unexpected/``). See docs/serve.md, "Incoming files"."""

from __future__ import annotations

import errno
import os
import re
import shutil
import stat
import time
from pathlib import Path

import numpy as np

from landia.errors import InputError
from landia.io.atomic import atomic_path
from landia.io.naming import parse_stamp, stamp
from landia.io.netcdf import open_netcdf
from landia.io.netcdf_size import check_fits_in_memory, shortfall


def arrival_pattern(pattern: str) -> re.Pattern:
    """A regular expression of the incoming names ``pattern`` allows (group 1: the stamp)."""
    stem = re.escape(pattern).replace(re.escape("{stamp}"), r"(\d{8}T\d{4})")
    return re.compile(f"^{stem}$")


def arrival_time(name: str, names: re.Pattern) -> np.datetime64 | None:
    """The UTC time in an incoming file name matching ``names``; None for any other name."""
    m = names.match(name)
    if not m:
        return None
    try:
        return parse_stamp(m[1]).astype("datetime64[s]")
    except ValueError:
        return None


def marker(path: Path) -> Path:
    """The ``<name>.done`` marker of ``path`` (completion = 'marker')."""
    return path.with_name(path.name + ".done")


def is_complete(path: Path, completion: str, stable_seconds: float) -> bool:
    """Whether ``path`` is complete by the ``completion`` convention.

    Something that is there but is no regular file (a FIFO, a folder) counts as complete by
    any convention: it will never become a file, and :func:`netcdf_validator` refuses it, so
    it is set aside rather than waited for (and never opened: a FIFO would block). By the
    ``stable`` convention, a file shorter than its header declares is still being written,
    however long it has not changed.
    """
    try:
        st = path.stat()
    except FileNotFoundError:
        return False
    if not stat.S_ISREG(st.st_mode):
        return True
    if completion == "rename":
        return True
    if completion == "marker":
        return marker(path).exists()
    # 'stable': unmodified for stable_seconds of real time (file-system clock), and as long
    # as its header says
    if time.time() - st.st_mtime < stable_seconds:
        return False
    try:
        return shortfall(path) is None
    except FileNotFoundError:  # moved away meanwhile
        return False


def netcdf_validator(path: Path) -> str | None:
    """None if ``path`` is a netCDF file that opens, else the reason: landia's own check of
    every netCDF input (:func:`landia.io.netcdf.open_netcdf`: a regular file, as long as its
    header declares), and no variable larger than memory
    (:func:`landia.io.netcdf_size.check_fits_in_memory`; the cycle checks the grid)."""
    try:
        with open_netcdf(path, "observation") as ds:
            check_fits_in_memory(ds, path)
    except InputError as exc:
        return str(exc)
    return None


def deliver(src: Path, dst: Path) -> None:
    """Move ``src`` to ``dst`` atomically (a copy, fsynced and renamed, across file systems)
    and remove its marker."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(src, dst)
        _fsync_dir(dst.parent)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        with atomic_path(dst) as tmp:  # another file system: copy, then remove
            shutil.copyfile(src, tmp)
        src.unlink()
    marker(src).unlink(missing_ok=True)


def set_aside(src: Path, folder: Path, now: np.datetime64) -> Path:
    """Move ``src`` into ``folder`` as ``<name>.<stamp of now>`` (``.1``, ``.2``, ... if
    taken), remove its marker, and return the new path."""
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / f"{src.name}.{stamp(now)}"
    n = 1
    while dest.exists():
        dest = folder / f"{src.name}.{stamp(now)}.{n}"
        n += 1
    os.replace(src, dest)
    marker(src).unlink(missing_ok=True)
    return dest


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
