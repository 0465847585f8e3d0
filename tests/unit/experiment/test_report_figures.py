"""The report's figures as a browser shows them (issue 14, "Report figures (seen in
Chromium)"): maps the width of the page with larger panels and a coastline, titles that do not
overlap, legends off the data, a colour-bar label inside the figure, a viewport tag."""

from __future__ import annotations

import json
import struct
from datetime import datetime
from itertools import combinations

import numpy as np
import pytest

from landia.experiment.report import build_report
from landia.experiment.report.cost import cost_canvas
from landia.experiment.report.demo_output import DemoOutput
from landia.experiment.report.maps import MAP_COLUMNS, maps_canvas
from landia.experiment.report.propagation import propagation_canvas, propagation_numbers
from tests.unit.experiment.test_report import make_demo_out

# The page's column: max-width 1300 px less 1 em padding each side; a wider PNG is scaled down
PAGE_COLUMN_PX = 1270
# the demo's grid: 32 x 31 cells at 1.4 degrees, 23-68 N, 73-117 E
LAT = 23.0 + 1.4 * np.arange(32) * (45.0 / 43.4)
LON = 73.0 + 1.4 * np.arange(31) * (44.0 / 42.0)
LONG_LABELS = ["truth", "observation (obs_misspecified/)", "CTRL (no assimilation)\n(state)",
               "image DA, misspecified obs error\n(analysis)",
               "point DA, misspecified obs error\n(analysis)",
               "hybrid DA (JB+JO+JI)\n(analysis)", "image DA, CDF-matched obs\n(analysis)"]


def _png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    return struct.unpack(">II", data[16:24])


def _renderer(fig):
    """Lay the figure out on the Agg canvas it is saved with; its renderer."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # as landia.figures: lazily

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = make_demo_out(tmp_path_factory.mktemp("demo_out"))
    return out, build_report(out)


def test_the_maps_cost_and_propagation_figures_fit_the_page_column_unscaled(report):
    out, _ = report
    for name in ("maps.png", "maps_misspecified.png", "observation_error_excess.png", "cost.png",
                 "propagation.png"):
        png = out / "figures" / name
        width, _ = _png_size(png)
        assert width <= PAGE_COLUMN_PX, f"{png.name} is {width} px wide"


def test_the_page_has_a_viewport_tag(report):
    _, page = report
    head = page.read_text(encoding="utf-8").split("</head>", 1)[0]
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in head


@pytest.mark.parametrize("n", [5, 7])
def test_map_panels_are_large_with_a_coastline_and_titles_apart(n):
    rng = np.random.default_rng(1)
    truth = 0.2 + 0.05 * rng.standard_normal((LAT.size, LON.size))
    truth[-3:, :2] = np.nan  # sea: the land mask's outline is drawn on every map
    panels = [(f"p{k}", LONG_LABELS[k], truth + 0.01 * k) for k in range(n)]
    fig = maps_canvas(panels, LAT, LON, truth, datetime(2016, 6, 10), "test maps",
                      box=[25.0, 45.0, 100.0, 115.0])
    renderer = _renderer(fig)
    maps = [ax for ax in fig.get_axes() if ax.get_label() != "<colorbar>"]
    assert len(maps) == 2 * n - 1
    assert fig.bbox.width <= PAGE_COLUMN_PX * 100 / fig.dpi + 1  # 110 dpi when saved
    for ax in maps:
        # a map panel at least 2 inches wide (about 220 px on the page; it was about 110)
        assert ax.get_window_extent(renderer).width / fig.dpi >= 2.0
        assert ax.collections[1:] and any(len(c.get_paths()) for c in ax.collections[1:]), \
            "no land-mask outline"
    rows = [round(ax.get_window_extent(renderer).y0) for ax in maps]
    assert max(rows.count(y) for y in rows) <= MAP_COLUMNS
    titles = [ax.title.get_window_extent(renderer) for ax in maps if ax.get_title()]
    for a, b in combinations(titles, 2):
        assert not a.overlaps(b), "two panel titles overlap"
    for ax in maps:  # nor does a title reach into another panel
        t = ax.title.get_window_extent(renderer)
        assert not any(t.overlaps(o.get_window_extent(renderer)) for o in maps if o is not ax)


def test_the_cost_legend_covers_no_data(report):
    out, _ = report
    fig, notes = cost_canvas(DemoOutput(out))
    renderer = _renderer(fig)
    axes = fig.get_axes()
    assert not notes and len(axes) == 3
    assert axes[1].get_legend() is None and axes[2].get_legend() is None
    (legend,) = fig.legends
    box = legend.get_window_extent(renderer)
    assert {"image DA (JB+JI)", "point DA (JB+JO)", "paper: 22"} <= {
        t.get_text() for t in legend.get_texts()}
    for ax in axes:
        assert not box.overlaps(ax.get_window_extent(renderer))
    assert fig.bbox.contains(box.x0, box.y0) and fig.bbox.contains(box.x1, box.y1)


def test_the_propagation_colour_bar_label_is_inside_the_figure(tmp_path):
    out = make_demo_out(tmp_path)
    results = json.loads((out / "results.json").read_text())
    results["runs"]["image"]["label"] = "image DA, misspecified obs error, CDF-matched (JB+JI)"
    (out / "results.json").write_text(json.dumps(results))
    output = DemoOutput(out)
    fig, lines = propagation_canvas(output, *propagation_numbers(output))
    renderer = _renderer(fig)
    colourbars = [ax for ax in fig.get_axes() if ax.get_label() == "<colorbar>"]
    assert len(colourbars) == 1 and lines
    label = colourbars[0].yaxis.label
    assert "CDF-matched" in label.get_text()
    box = label.get_window_extent(renderer)
    assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1
    assert fig.bbox.y0 <= box.y0 and box.y1 <= fig.bbox.y1, "colour-bar label clipped"
