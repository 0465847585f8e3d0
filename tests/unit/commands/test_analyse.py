"""``landia analyse`` with estimated image-error variances: it writes them, and a later
analysis takes them from that file (``--image-error-from``), as a cycle carries them; the
correlated B's normalisation kept in ``--normalisation-cache``."""

from __future__ import annotations

import numpy as np
import pytest

from landia.cli import main
from landia.commands.analyse import _carried_variances
from landia.errors import InputError
from landia.io.analysis_file import read_analysis
from tests.unit.commands.conftest import write_case

CONFIG = """
[analysis]
layers = 2
terms = ["background", "image"]
upper_bound = "porosity"
image_error_method = "innovation"
"""


@pytest.fixture
def files(tmp_path):
    return write_case(tmp_path, CONFIG)


def _analyse(d, output, *extra):
    return main(["analyse", "--config", str(d / "c.toml"), "--background", str(d / "bg.nc"),
                 "--obs", str(d / "obs.nc"), "--output", str(d / output), *extra])


def test_the_variances_written_by_one_analysis_are_taken_by_the_next(files):
    d = files
    assert _analyse(d, "first.nc") == 0
    first = read_analysis(d / "first.nc")
    assert np.all(first.image_error["image_error_variance"] == 4e-4)
    assert not np.array_equal(first.image_error["image_error_variance_next"],
                              first.image_error["image_error_variance"])
    assert _analyse(d, "second.nc", "--image-error-from", str(d / "first.nc"), "--check") == 0
    second = read_analysis(d / "second.nc")
    np.testing.assert_array_equal(second.image_error["image_error_variance"],
                                  first.image_error["image_error_variance_next"])


def test_a_file_without_variances_is_refused_by_name(files):
    d = files
    (d / "p.toml").write_text(CONFIG.replace('"image"', '"point"'))
    assert main(["analyse", "--config", str(d / "p.toml"), "--background", str(d / "bg.nc"),
                 "--obs", str(d / "obs.nc"), "--output", str(d / "point.nc")]) == 0
    with pytest.raises(InputError, match=r"point\.nc: no image-error variances"):
        _carried_variances(d / "point.nc")
    assert _analyse(d, "x.nc", "--image-error-from", str(d / "point.nc")) != 0
    assert not (d / "x.nc").exists()


def test_a_normalisation_cache_is_written_once_and_gives_the_same_analysis(files):
    """One process here (C is also kept in the process): the file's bits against a fresh
    process' are tested in tests/unit/analysis/test_control.py."""
    d = files
    assert _analyse(d, "plain.nc") == 0
    assert _analyse(d, "cold.nc", "--normalisation-cache", str(d / "cache")) == 0
    [cached] = (d / "cache").iterdir()
    assert cached.name.startswith("correlation-") and cached.suffix == ".npz"
    written = cached.stat().st_mtime_ns
    assert _analyse(d, "warm.nc", "--normalisation-cache", str(d / "cache")) == 0
    assert cached.stat().st_mtime_ns == written        # read, not written again
    plain = read_analysis(d / "plain.nc").analysis
    for name in ("cold.nc", "warm.nc"):
        np.testing.assert_array_equal(read_analysis(d / name).analysis, plain)
