"""Names of the time-stamped files that landia's commands hand to each other.

``landia prepare-obs`` and ``landia make-obs`` write, ``landia serve`` delivers and
``landia cycle`` reads observation images named ``obs_YYYYMMDDTHHMM.nc`` after their valid time
(UTC); the cycle names its analysis files (``cycles/analysis_YYYYMMDDTHHMM.nc``) and state files
(``states/state_YYYYMMDDTHHMM.nc``) the same way, and the experiment reads them back by those
names. This module is the one place that spells them.
"""

from __future__ import annotations

import glob
from pathlib import Path

import numpy as np

from landia.errors import InputError


def stamp(t) -> str:
    """``YYYYMMDDTHHMM`` of a UTC time (file names)."""
    s = str(np.datetime64(t, "m"))
    return s.replace("-", "").replace(":", "")


def observation_name(t) -> str:
    """``obs_YYYYMMDDTHHMM.nc``: the observation image valid at ``t`` (UTC)."""
    return f"obs_{stamp(t)}.nc"


def analysis_name(t) -> str:
    """``analysis_YYYYMMDDTHHMM.nc``: a cycle's analysis file, valid at ``t`` (UTC)."""
    return f"analysis_{stamp(t)}.nc"


def state_name(t) -> str:
    """``state_YYYYMMDDTHHMM.nc``: a cycle's model state file, valid at ``t`` (UTC)."""
    return f"state_{stamp(t)}.nc"


def parse_stamp(text: str) -> np.datetime64:
    """The UTC time (``datetime64[m]``) of a stamp ``YYYYMMDDTHHMM`` (the inverse of
    :func:`stamp`).

    Raises
    ------
    ValueError
        ``text`` is not such a stamp.
    """
    text = str(text)
    if len(text) != 13 or text[8] != "T" or not (text[:8] + text[9:]).isdigit():
        raise ValueError(f"{text!r} is not a time stamp YYYYMMDDTHHMM")
    return np.datetime64(f"{text[:4]}-{text[4:6]}-{text[6:8]}T{text[9:11]}:{text[11:13]}", "m")


def stamp_of(path) -> str:
    """The stamp of a time-stamped file name: ``state_20160501T0600.nc`` -> ``20160501T0600``."""
    return Path(path).name.split("_", 1)[1].split(".", 1)[0]


def input_files(items, option: str, patterns=("*.nc", "*.nc4")) -> list[Path]:
    """Input files from a command line's list of files, glob patterns and folders.

    A folder gives the files inside it that match ``patterns`` (sorted, pattern by pattern), a
    pattern the files it matches (sorted), a file itself. ``option`` names the command-line
    option in the errors.

    Raises
    ------
    InputError
        A folder without a matching file, a pattern that matches nothing, or a file that does
        not exist.
    """
    files: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            found = [f for pattern in patterns for f in sorted(p.glob(pattern))]
            if not found:
                raise InputError(f"{option} {item}: folder holds no {' or '.join(patterns)} "
                                 "file")
            files += found
        elif any(c in str(item) for c in "*?["):
            found = sorted(Path(f) for f in glob.glob(str(item)))
            if not found:
                raise InputError(f"{option} {item!r}: pattern matches no file")
            files += found
        elif not p.is_file():
            raise InputError(f"{option} {item}: no such file or folder")
        else:
            files.append(p)
    return files
