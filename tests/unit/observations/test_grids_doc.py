"""docs/observations-grids.md states the configuration's ``min_valid_fraction`` default, and
that of :meth:`Regridder.apply`, as the code has them (issue 14: the page said 0.5 where
configuration.md said 0.05)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from landia.config.sections import ObservationSettings
from landia.observations.regrid import Regridder

PAGE = Path(__file__).resolve().parents[3] / "docs" / "observations-grids.md"


def test_the_page_gives_the_defaults_the_code_has():
    text = " ".join(PAGE.read_text(encoding="utf-8").split())
    config_default = ObservationSettings().min_valid_fraction
    apply_default = inspect.signature(Regridder.apply).parameters["min_valid_fraction"].default
    assert (f"`[observations] min_valid_fraction`, **default {config_default:g}**" in text)
    assert f"keep the stricter {apply_default:g}" in text
    # every "default N" said of the threshold is one of the two
    for value in re.findall(r"min_valid_fraction[^.|]*?default (\d+(?:\.\d+)?)", text):
        assert float(value) in (config_default, apply_default), value
    # the real-data table has a row for the configuration's default
    assert re.search(rf"\| {config_default:g} \(`\[observations\] min_valid_fraction`", text)
