"""A physically impossible background is an error, not a warning (issue 13, item 4); a value
the bounds merely clip is still analysed."""

from __future__ import annotations

import numpy as np
import pytest

from landia.analysis.analyse import POROSITY_MARGIN, build_problem, run_analysis
from landia.config import settings_from_dict
from landia.errors import InputError
from tests.conftest import make_case

SETTINGS = settings_from_dict({"analysis": {"layers": 2, "terms": ["background", "image"],
                                            "upper_bound": "porosity"}})


def land_cells(bg, n):
    return [tuple(c) for c in np.argwhere(np.isfinite(bg.values[0]))[:n]]


@pytest.mark.parametrize("layer, value", [(0, 1.7), (1, -0.3), (0, 0.45 + 0.1), (1, 1.0001)])
def test_an_impossible_value_is_refused_with_the_count_and_the_first_cell(layer, value):
    bg, obs = make_case(shape=(32, 31))
    cells = land_cells(bg, 3)
    for j, i in cells[1:]:
        bg.values[layer, j, i] = value
    j, i = cells[1]
    with pytest.raises(InputError) as err:
        build_problem(bg, obs, SETTINGS)
    message = str(err.value)
    assert "physically impossible at 2 land cell(s)" in message
    assert (f"first at lat {bg.lat[j]:.4g}, lon {bg.lon[i]:.4g}, layer {layer + 1}: "
            f"{value:.4g}") in message


def test_a_layer_below_the_analysed_ones_is_not_judged():
    bg, obs = make_case(shape=(32, 31), layers=3)
    j, i = land_cells(bg, 1)[0]
    bg.values[2, j, i] = 1.7
    build_problem(bg, obs, SETTINGS)  # analysis.layers = 2


def test_a_value_marginally_above_porosity_is_clipped_as_before():
    bg, obs = make_case(shape=(32, 31))
    j, i = land_cells(bg, 1)[0]
    bg.values[:, j, i] = 0.45 + 0.5 * POROSITY_MARGIN
    result = run_analysis(bg, obs, SETTINGS)
    assert np.all(result.analysis_field[:, j, i] <= 0.45)
    assert np.isfinite(result.analysis_field[:, j, i]).all()
