"""The correlated B on the real-field case (landia.experiment.real_fields): the default image
analysis carries information to the withheld cells, and the variational point analysis is the
dense BLUE with the same B on real data."""

from __future__ import annotations

import numpy as np
import pytest

from landia.analysis import run_analysis
from landia.config import Settings
from landia.experiment.real_fields import real_field_case, score

SEEDS = (0, 1, 2)


@pytest.mark.slow
@pytest.mark.parametrize("gap_fraction", [0.0, 0.5])
def test_default_image_analysis_reaches_the_withheld_cells(shared_data, gap_fraction):
    """With the paper's diagonal B the withheld cells keep the background exactly; with the
    default correlated B and the whole-image term their RMSE falls by more than half
    (measured over 5 seeds: 0.0878 -> 0.0263 with every cell observed, 0.0884 -> 0.0280 with
    half the land unobserved; docs/analysis.md)."""
    rows = []
    for seed in SEEDS:
        case = real_field_case(shared_data, seed=seed, gap_fraction=gap_fraction)
        background = score(case, case.background.values)
        result = run_analysis(case.background, case.observation, Settings())
        analysis = score(case, result.analysis_field)
        diagonal = run_analysis(case.background, case.observation, Settings().replace(
            "analysis", correlation_length_km=0.0, image_gap_weight=0.0))
        withheld = case.withheld
        assert np.array_equal(diagonal.analysis_field[:, withheld],
                              np.clip(case.background.values[:, withheld], 0, 0.6))
        rows.append((background, analysis, result.minimiser.iterations))
        assert result.minimiser.iterations <= 25
        assert analysis["rmse_withheld"] < 0.5 * background["rmse_withheld"]
        assert analysis["scc"] > background["scc"] + 0.2
        assert analysis["rmse"] < 0.5 * background["rmse"]
    print(f"\ncorrelated B, gap fraction {gap_fraction}:")
    for seed, (bg, an, it) in zip(SEEDS, rows):
        print(f"  seed {seed}: SCC {bg['scc']:.3f} -> {an['scc']:.3f}, withheld RMSE "
              f"{bg['rmse_withheld']:.4f} -> {an['rmse_withheld']:.4f}, {it} iterations")


def test_point_analysis_is_the_dense_blue_with_the_correlated_b(shared_data):
    """x_a = x_b + B H^T (H B H^T + R)^-1 (y - H x_b) on 2967 unknowns of real data, with B
    built column by column from the operator D^1/2 C D^1/2."""
    case = real_field_case(shared_data, seed=0)
    s = Settings().replace("analysis", terms=["background", "point"]).replace(
        "minimiser", gttol=1e-9, gatol=0.0)
    result = run_analysis(case.background, case.observation, s)
    problem = result.problem
    jb, jo = problem.cost.terms
    n = problem.background.size
    corr = jb.correlation.correlation(jb.nlayers)
    b = np.column_stack([corr.matvec(e) for e in np.eye(n)]) * np.outer(jb.std, jb.std)
    h = jo.operator.index
    innovation = jo.observations - problem.background[h]
    blue = problem.background + b[:, h] @ np.linalg.solve(b[np.ix_(h, h)] + np.diag(jo.variance),
                                                          innovation)
    assert result.minimiser.clipped == 0
    increment = np.max(np.abs(blue - problem.background))
    assert np.max(np.abs(result.minimiser.x - blue)) < 1e-6 * increment


@pytest.mark.slow
def test_default_image_analysis_beats_point_3dvar_on_the_real_field_case(shared_data):
    """Issue 12's real-field acceptance, seeds 0-4 (every cell observed, 30 % withheld, the
    region's error 0.10 stated as 0.03): the default image analysis beats point 3D-Var in SCC
    and in the region's RMSE, and its RMSE at the withheld cells is at least 15 % below the
    background's. The local error estimate (``local_image_error = "auto"``, on with JI) is what
    wins: without it the image analysis loses in both. Measured (means; docs/analysis.md, "The
    default"): image 0.9161 / 0.0311, point 0.9153 / 0.0350, image without the estimate
    0.9115 / 0.0431; withheld 0.0273 against the background's 0.0878."""
    runs = {"point": {"terms": ["background", "point"]}, "image": {},
            "image_plain": {"local_image_error": False}}
    scores = {name: [] for name in (*runs, "background")}
    for seed in range(5):
        case = real_field_case(shared_data, seed=seed)
        scores["background"].append(score(case, case.background.values))
        for name, keys in runs.items():
            result = run_analysis(case.background, case.observation,
                                  Settings().replace("analysis", **keys))
            assert result.minimiser.iterations <= 25
            scores[name].append(score(case, result.analysis_field))
    mean = {name: {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
            for name, rows in scores.items()}
    print("\nreal-field case, 5 seeds (SCC / regional RMSE / withheld RMSE):")
    for name, m in mean.items():
        print(f"  {name:12s} {m['scc']:.4f} / {m['rmse_region']:.4f} / {m['rmse_withheld']:.4f}")
    image, point, plain = mean["image"], mean["point"], mean["image_plain"]
    assert image["scc"] > point["scc"] and image["rmse_region"] < point["rmse_region"]
    assert image["rmse_withheld"] < 0.85 * mean["background"]["rmse_withheld"]
    assert plain["scc"] < point["scc"] and plain["rmse_region"] > point["rmse_region"]
