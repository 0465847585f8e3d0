"""Atomic writes honour the umask like an ordinary open() (issue 13, item 12)."""

from __future__ import annotations

import os
import stat

import pytest

from landia.io.atomic import atomic_path, current_umask


@pytest.fixture
def umask():
    """Set the process umask for one test, restoring it afterwards."""
    saved = os.umask(0o022)
    os.umask(saved)
    yield lambda mask: os.umask(mask)
    os.umask(saved)


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077, 0o027])
def test_an_atomically_written_file_gets_the_mode_open_would_give(tmp_path, umask, mask):
    umask(mask)
    assert current_umask() == mask
    with atomic_path(tmp_path / "atomic.txt") as tmp:
        tmp.write_text("new")
    with open(tmp_path / "plain.txt", "w") as fh:
        fh.write("plain")
    mode = stat.S_IMODE((tmp_path / "atomic.txt").stat().st_mode)
    assert mode == 0o666 & ~mask
    assert mode == stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode)
    assert (tmp_path / "atomic.txt").read_text() == "new"


def test_reading_the_umask_leaves_it_unchanged(umask):
    umask(0o037)
    assert current_umask() == 0o037
    assert os.umask(0o022) == 0o037
