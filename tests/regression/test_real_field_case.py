"""The real-field case (landia.experiment.real_fields): ERA-Interim truth, GLDAS background,
observations of the truth with random errors, an underestimated-error region and 30 % of the
observed cells withheld. Prints the scores of point, image and hybrid analyses."""

from __future__ import annotations

import numpy as np
import pytest

from landia.analysis import run_analysis
from landia.config import Settings
from landia.experiment.real_fields import real_field_case, score

TERMS = {"point": ["background", "point"], "image": ["background", "image"],
         "hybrid": ["background", "point", "image"]}


@pytest.fixture(scope="module")
def case(shared_data):
    return real_field_case(shared_data, seed=0)


def test_the_case_is_what_it_says(case, shared_data):
    land = case.land
    assert 900 < land.sum() < 1100
    observed = np.isfinite(case.observation.values[0])
    assert not np.any(observed & case.withheld) and not np.any(observed & ~land)
    assert case.withheld.sum() == pytest.approx(0.3 * land.sum(), rel=0.15)
    assert case.region.sum() > 30
    bg = score(case, case.background.values)
    assert 0.4 < bg["scc"] < 0.8 and bg["rmse"] > 0.05   # two different real products
    again = real_field_case(shared_data, seed=0)                # reproducible for a seed
    assert np.array_equal(again.observation.values, case.observation.values, equal_nan=True)
    other = real_field_case(shared_data, seed=1)
    assert not np.array_equal(other.withheld, case.withheld)


@pytest.mark.slow
def test_analyses_of_the_real_field_case(case):
    bg = score(case, case.background.values)
    rows = {"background": bg}
    for name, terms in TERMS.items():
        result = run_analysis(case.background, case.observation,
                              Settings().replace("analysis", terms=terms))
        rows[name] = score(case, result.analysis_field)
        rows[name]["iterations"] = result.minimiser.iterations
        assert result.minimiser.iterations <= 25
    print("\nreal-field case (seed 0):")
    for name, r in rows.items():
        print(f"  {name:10s} " + " ".join(f"{k} {v:.4f}" for k, v in r.items()))
    for name in TERMS:
        assert rows[name]["scc"] > bg["scc"] + 0.1 and rows[name]["rmse"] < bg["rmse"]
