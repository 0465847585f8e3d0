"""The analysis case the command tests share: a background, an observation image and a
configuration file in one folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from landia.io.fields import write_field
from tests.conftest import make_case

CONFIG = """
[analysis]
layers = 2
terms = ["background", "image"]
upper_bound = "porosity"
"""


def write_case(folder: Path, config: str = CONFIG) -> Path:
    """``bg.nc``, ``obs.nc`` (a 32 x 31 case) and ``c.toml`` (``config``) in ``folder``."""
    bg, obs = make_case(shape=(32, 31))
    write_field(folder / "bg.nc", bg, "background")
    write_field(folder / "obs.nc", obs, "observation")
    (folder / "c.toml").write_text(config)
    return folder


@pytest.fixture
def case_files(tmp_path):
    """The folder of :func:`write_case` with the default configuration."""
    return write_case(tmp_path)
