"""The wedge-split benchmark's smallest case, run in-process (figures, not timings)."""

import math
import shutil

import pytest

from landia.benchmarks.wedges import analysis_on_ranks_case, wedges_case


def test_paper_grid_case_reports_the_work_of_each_part():
    figures = wedges_case("paper_32x31")
    prefix = "wedges_paper_32x31_"
    f = {k[len(prefix):]: v for k, v in figures.items()}
    assert all(k.startswith(prefix) for k in figures)
    assert f["image_layers"] == 3 and f["land_cells"] > 0
    for parts in (2, 3):
        counts = [f[f"coefficients_part{p}_of{parts}"] for p in range(parts)]
        assert min(counts) > 0
        # balanced to within a wedge: no part holds more than 60 % / 45 % of the coefficients
        assert max(counts) < (0.6 if parts == 2 else 0.45) * sum(counts)
        assert all(f[f"part{p}_of{parts}_s"] > 0 for p in range(parts))
        assert math.isfinite(f[f"projected_ji_speedup_{parts}ranks"])
        assert f[f"projected_ji_speedup_{parts}ranks"] > 0
        assert f[f"root_of{parts}_s"] > 0
    assert f["cost_s"] >= f["serial_ji_s"] * 0.5 > 0


@pytest.mark.skipif(shutil.which("mpirun") is None and shutil.which("mpiexec") is None,
                    reason="needs mpirun")
def test_landia_analyse_on_two_ranks_reports_its_time_and_agreement():
    f = analysis_on_ranks_case("paper_32x31")
    assert f["analysis_paper_32x31_1rank_s"] > 0 and f["analysis_paper_32x31_2ranks_s"] > 0
    assert f["analysis_paper_32x31_2ranks_max_diff"] <= 1e-10
    assert f["analysis_paper_32x31_2ranks_speedup"] > 0
