"""A command's outputs, made ready before the work: ``--output FILE`` is a file name in a
writable folder (created when missing) that is none of the command's inputs; ``--output-dir``
is a folder, created when missing.

Run before anything is read or computed, so that an analysis is not lost to a bad name at
the end, and an input is never overwritten by its own result.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Mapping

from landia.errors import InputError

PathLike = str | os.PathLike


def check_output(output: PathLike, inputs: Mapping[str, PathLike | Iterable[PathLike] | None],
                 option: str = "--output") -> Path:
    """``output`` as a Path, its folder created when missing, or an InputError naming it and
    what is wrong.

    Parameters
    ----------
    output : path-like
        The file the command will write (atomically, :mod:`landia.io.atomic`).
    inputs : mapping of option -> path, paths or None
        The files the command reads, by the option that names them (None: not given).
    option : str
        The output's option, for the messages.

    Raises
    ------
    InputError
        ``output`` is a directory, its folder cannot be created or is not writable, or it is
        the same file as one of ``inputs`` (also through a link: compared by device and inode).
    """
    path = Path(output)
    if path.is_dir():
        raise InputError(f"{output}: {option} is a directory; expected the name of a file to "
                         f"write (e.g. {path / 'analysis.nc'})")
    folder = output_folder(path.resolve().parent, f"{output}: {option}'s folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"{output}: output directory {folder} is not writable")
    if not path.exists():  # a new file cannot be an input (inputs exist)
        return path
    for name, given in inputs.items():
        if given is None:
            continue
        for item in [given] if isinstance(given, (str, os.PathLike)) else given:
            if Path(item).exists() and os.path.samefile(path, item):
                raise InputError(f"{output}: {option} is the {name} file {item}; writing it "
                                 f"would overwrite that input; choose another {option}")
    return path


def output_folder(folder: PathLike, option: str = "--output-dir") -> Path:
    """``folder`` as a Path, created (with its parents) when missing.

    Raises
    ------
    InputError
        It cannot be created (a file of that name, no permission), naming ``option``.
    """
    path = Path(folder)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{option} {folder}: cannot create the output directory: "
                         f"{exc.strerror or exc}") from None
    return path
