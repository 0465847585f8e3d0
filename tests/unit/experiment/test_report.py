"""The demo report: figures and a self-contained HTML page from a synthetic output folder."""

from __future__ import annotations

import base64
import json
import re
import shutil
from datetime import datetime, timedelta

import numpy as np
import pytest

from landia.experiment.observing import TRUE_ERROR_SET
from landia.experiment.report import build_report
from landia.experiment.report.maps import MAP_FIGURES, assimilating
from landia.experiment.report.style import REFERENCE_LINE, RUN_ORDER, RUN_STYLE
from landia.experiment.runs import RUNS
from landia.grid import colm_node_depths
from landia.io.analysis_diagnostics import LOCAL_ERROR
from landia.io.fields import SoilMoistureField, write_field
from landia.io.netcdf import create_grid_file, field_dimensions, write_record

NY, NX = 6, 7
T0 = datetime(2016, 5, 1)
TIMES = [T0 + timedelta(hours=6 * k) for k in range(4)]
LAT = 30.0 + 1.4 * np.arange(NY)
LON = 80.0 + 1.4 * np.arange(NX)
LABELS = {"ctrl": "CTRL (no assimilation)", "image": "image DA (JB+JI)",
          "point": "point DA (JB+JO)", "hybrid": "hybrid DA (JB+JO+JI)",
          "image_misspecified": "image DA, misspecified obs",
          "point_misspecified": "point DA, misspecified obs"}
TERMS = {"ctrl": [], "image": ["background", "image"], "point": ["background", "point"],
         "hybrid": ["background", "point", "image"],
         "image_misspecified": ["background", "image"],
         "point_misspecified": ["background", "point"]}
FIGURES = ["maps.png", "maps_misspecified.png", "observation_error_excess.png",
           "timeseries.png", "timeseries_region.png", "timeseries_gaps.png", "cost.png",
           "propagation.png"]
#: The misspecified region of the test folder (S, N, W, E) and its observing system.
REGION = [31.0, 35.0, 82.0, 87.0]


def _label(t: datetime) -> str:
    return t.strftime("%Y%m%dT%H%M")


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _field(values: np.ndarray, t: datetime) -> SoilMoistureField:
    n = values.shape[0]
    return SoilMoistureField(lat=LAT, lon=LON, depth=colm_node_depths()[:n], values=values,
                             porosity=np.full(values.shape, 0.45),
                             valid_time=np.datetime64(t, "s"))


def _state(rng, base: np.ndarray, spread: float, layers: int = 10) -> np.ndarray:
    v = base[None] + spread * rng.standard_normal((layers, NY, NX))
    v = np.clip(v, 0.02, 0.44)
    v[:, 0, 0] = np.nan  # a sea cell
    return v


def _write_analysis(path, t, rng, values, excess=None):
    """An analysis file in the layout of landia.io.analysis_file.write_analysis; ``excess``
    (ny, nx): the local error estimate's fields."""
    n_it = 5 + int(rng.integers(0, 4))
    with create_grid_file(path, LAT, LON, colm_node_depths()[:3], "test analysis",
                          valid_time=t) as ds:
        ds.createDimension("iteration", n_it + 1)
        ds.createDimension("term", 2)
        for name, offset in (("analysis", 0.0), ("background", 0.01), ("increment", None),
                             ("observation", -0.005)):
            v = ds.createVariable(name, "f8", field_dimensions(ds), fill_value=np.nan)
            v.units = "m3 m-3"
            write_record(v, np.full((3, NY, NX), -0.01) if offset is None
                         else values[:3] + offset)
        ds.createVariable("cost", "f8", ("iteration",))[:] = 1000.0 * 0.5 ** np.arange(n_it + 1)
        ds.createVariable("gradient_norm", "f8", ("iteration",))[:] = 10.0 * 0.3 ** np.arange(
            n_it + 1)
        term = ds.createVariable("term", "i4", ("term",))
        term.flag_meanings = "background image"
        term[:] = [1, 2]
        ds.createVariable("cost_before", "f8", ("term",))[:] = [0.0, 1000.0]
        ds.createVariable("cost_after", "f8", ("term",))[:] = [20.0, 40.0]
        if excess is not None:
            for name in LOCAL_ERROR:
                v = ds.createVariable(name, "f8", field_dimensions(ds, ("lat", "lon")),
                                      fill_value=np.nan)
                write_record(v, excess if name != "observation_error_excess_coverage"
                             else np.where(np.isfinite(excess), 1.0, np.nan))
            ds.local_error_fine_scales = np.array([2], dtype=np.int32)
        ds.iterations = np.int32(n_it)
        ds.converged_reason = "CONVERGED_GATOL"
        ds.solver = "tao:blmvm"
    return n_it


def _excess(rng, values):
    """A local error excess, (m3 m-3)^2: 8 x 0.04^2 inside REGION, about 0 elsewhere."""
    s, n, w, e = REGION
    inside = np.outer((LAT >= s) & (LAT <= n), (LON >= w) & (LON <= e))
    out = np.where(inside, 8 * 0.04 ** 2, 0.0) + 1e-4 * rng.standard_normal((NY, NX))
    return np.where(np.isfinite(values[0]), out, np.nan)


def make_demo_out(root, runs=tuple(LABELS), with_truth=True):
    """A tiny demo output folder: 6x7 grid, 4 times, the named runs, obs and results.json."""
    rng = np.random.default_rng(3)
    base = 0.2 + 0.1 * np.sin(np.add.outer(np.arange(NY), np.arange(NX)) / 2.0)
    names = (["truth"] if with_truth else []) + list(runs)
    minimiser = {}
    for name in names:
        rdir = root / "runs" / name
        (rdir / "states").mkdir(parents=True)
        logs = []
        spread = 0.0 if name == "truth" else (0.06 if name == "ctrl" else 0.02)
        its = []
        for t in TIMES:
            values = _state(rng, base, spread)
            write_field(rdir / "states" / f"state_{_label(t)}.nc", _field(values, t))
            entry = {"cycle": len(logs), "time": _iso(t), "analysed": bool(TERMS.get(name)),
                     "seconds": {"model": 0.1}}
            if TERMS.get(name):
                (rdir / "cycles").mkdir(exist_ok=True)
                n_it = _write_analysis(rdir / "cycles" / f"analysis_{_label(t)}.nc", t, rng,
                                       values, _excess(rng, values) if "image" in TERMS[name]
                                       else None)
                its.append(n_it)
                entry.update(iterations=n_it, J_before=1000.0, J_after=60.0,
                             scc_before=0.4, scc_after=0.7)
            logs.append(entry)
        (rdir / "run_log.jsonl").write_text("".join(json.dumps(e) + "\n" for e in logs))
        if its:
            minimiser[name] = {"times": [_iso(t) for t in TIMES], "iterations": its,
                               "J_before": [1000.0] * 4, "J_after": [60.0, 55.0, 50.0, 45.0]}
    for folder in ("obs", "obs_misspecified"):
        (root / folder).mkdir()
        for t in TIMES:
            top = np.repeat(base[None], 3, axis=0) + 0.02 * rng.standard_normal((3, NY, NX))
            top[:, 0, 0] = np.nan
            write_field(root / folder / f"obs_{_label(t)}.nc", _field(top, t))

    def metrics(k):
        return {"surface_scc": 0.4 + 0.1 * k, "surface_rmse": 0.16 - 0.01 * k,
                "layer_7_28_scc": 0.3 + 0.1 * k, "layer_7_28_rmse": 0.1 - 0.01 * k,
                "region_surface_scc": 0.35 + 0.05 * k, "region_surface_rmse": 0.2 - 0.02 * k,
                "unobserved_surface_scc": 0.3 + 0.05 * k,
                "unobserved_surface_rmse": 0.17 - 0.01 * k,
                "withheld_surface_scc": 0.32 + 0.05 * k, "withheld_surface_rmse": 0.15 - 0.01 * k}

    series, table, spread = {}, {}, {}
    for k, name in enumerate(runs):
        m = metrics(k)
        series[name] = {"times": [_iso(t) for t in TIMES]}
        for group in ("surface", "layer_7_28", "region_surface", "unobserved_surface",
                      "withheld_surface"):
            series[name][group] = {
                "scc": [m[f"{group}_scc"] + 0.01 * i for i in range(4)],
                "rmse": [m[f"{group}_rmse"] - 0.001 * i for i in range(4)],
                "scc_min": [m[f"{group}_scc"] - 0.02 + 0.01 * i for i in range(4)],
                "scc_max": [m[f"{group}_scc"] + 0.02 + 0.01 * i for i in range(4)]}
        table[name] = {"assimilation": m, "forecast": {key: v * 0.9 for key, v in m.items()
                                                       if not key.startswith(("unob", "with"))}}
        spread[name] = {"assimilation": {"surface_scc": {"min": m["surface_scc"] - 0.011,
                                                         "max": m["surface_scc"] + 0.013,
                                                         "sd": 0.012, "n": 3}}}
    depths = colm_node_depths()
    results = {
        "experiment": {"grid": "6 x 7 test grid", "start": _iso(TIMES[0]),
                       "discard_end": _iso(TIMES[1]), "assimilation_end": _iso(TIMES[2]),
                       "end": _iso(TIMES[3]), "ranks": 2, "seconds": 12.5,
                       "region": {"name": "test box", "box": REGION},
                       "observing": {"overpass_hour": 0, "random_std": 0.04,
                                     "correlated_std": 0.02, "correlated_km": 300.0,
                                     "bias_offset": 0.05, "bias_slope": 0.9,
                                     "region": REGION, "region_factor": 3.0,
                                     "withhold_fraction": 0.1, "layers": 3}},
        "runs": {name: {"label": LABELS[name], "terms": TERMS[name],
                        "observations": ("obs_misspecified" if "misspecified" in name
                                         else "obs") if TERMS[name] else None}
                 for name in runs},
        "series": series,
        "table": table,
        "spread": spread,
        "minimiser": minimiser,
        "propagation": {"run": "image", "depths_m": depths.tolist(),
                        "times": [_iso(t) for t in TIMES],
                        "mean_abs_difference": [
                            (0.02 * np.exp(-depths / (0.05 * (i + 1)))).tolist()
                            for i in range(4)],
                        "reach_hours": {"0.1": 6.0, "0.5": None}},
        "paper": {"surface_scc_gain": 0.28, "layer_7_28_scc_gain": 0.22,
                  "surface_rmse_ctrl": 0.16, "surface_rmse_da": 0.12, "iterations": 22},
    }
    (root / "results.json").write_text(json.dumps(results, indent=1))
    return root


@pytest.fixture(scope="module")
def full_report(tmp_path_factory):
    out = make_demo_out(tmp_path_factory.mktemp("demo_out"))
    return out, build_report(out)


def _embedded_pngs(text: str) -> list[bytes]:
    return [base64.b64decode(m) for m in
            re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)]


def test_report_embeds_every_figure_as_valid_png(full_report):
    out, page = full_report
    assert page == out / "report.html" and page.is_file()
    text = page.read_text(encoding="utf-8")
    pngs = _embedded_pngs(text)
    assert len(pngs) == len(FIGURES)
    assert all(p.startswith(b"\x89PNG\r\n\x1a\n") for p in pngs)
    for name in FIGURES:
        data = (out / "figures" / name).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n"), name
        assert len(data) > 5000, name  # a real plot, not an empty canvas
        assert data in pngs, f"{name} is not the embedded image"
    assert "Figure skipped" not in text


def test_report_is_self_contained(full_report):
    _, page = full_report
    text = page.read_text(encoding="utf-8")
    assert not re.search(r"https?://", text)
    # no external stylesheet, script or image: every src is a data URI, no <link>/<script>
    assert "<link" not in text and "<script" not in text
    assert all(s.startswith("data:image/png;base64,")
               for s in re.findall(r'src="([^"]*)"', text))
    assert "<style>" in text


def test_report_tables_name_every_run_and_the_paper(full_report):
    _, page = full_report
    text = page.read_text(encoding="utf-8")
    results_table = text.split("<h2>Results</h2>", 1)[1].split("<h3>", 1)[0]
    for run in ("ctrl", "image", "point", "hybrid"):
        assert LABELS[run] in results_table
    region = text.split("misspecified-error region</h3>", 1)[1].split("<h2>", 1)[0]
    for run in ("image_misspecified", "point_misspecified"):
        assert LABELS[run] in region
    # the CTRL value (with its range over the seeds) and the gain of image DA over CTRL
    # (assimilation surface SCC 0.5 - 0.4)
    assert "<td>0.400<br><span class=s>0.389–0.413</span></td>" in results_table
    assert "<td>0.160</td>" not in results_table and "<td>0.1600</td>" in results_table
    assert "+0.100" in results_table
    gaps = text.split("<h3>Where there is no observation</h3>", 1)[1].split("<h3>", 1)[0]
    for run in ("ctrl", "image", "point", "hybrid", "image_misspecified"):
        assert LABELS[run] in gaps
    assert "<td>0.300</td>" in gaps and "<td>0.1500</td>" in gaps  # CTRL unobserved, withheld
    paper = text.split("<h3>Next to the paper</h3>", 1)[1].split("<h3>", 1)[0]
    assert "+0.28" in paper and "+0.22" in paper and ">22<" in paper
    # header: grid, ranks, wall time
    assert "6 x 7 test grid" in text and "0.2 min" in text


def test_missing_runs_are_skipped_with_a_note(tmp_path):
    out = make_demo_out(tmp_path, runs=("ctrl", "image"))
    shutil.rmtree(out / "obs_misspecified")
    text = build_report(out).read_text(encoding="utf-8")
    # maps, series and cost and propagation still come; the misspecified maps and the region
    # series (present in results.json) - the maps are skipped: their runs are absent
    assert "maps_misspecified.png" not in text
    assert re.search(r'Figure skipped: none of the DA runs .*image_misspecified', text)
    assert (out / "figures" / "maps.png").is_file()
    assert not (out / "figures" / "maps_misspecified.png").exists()
    # point and hybrid absent from the main maps: a note names them
    assert "Not shown:" in text and "hybrid" in text
    # the excess map has the image run only, and says which run it lacks
    assert (out / "figures" / "observation_error_excess.png").is_file()
    assert "Not shown: runs/image_misspecified" in text
    assert len(_embedded_pngs(text)) == 7


def test_report_without_truth_or_results_still_builds(tmp_path):
    out = make_demo_out(tmp_path, runs=("ctrl", "image"), with_truth=False)
    (out / "results.json").unlink()
    page = build_report(out)
    text = page.read_text(encoding="utf-8")
    assert "no truth run" in text
    assert "results.json is missing" in text
    # only the cost figure and the excess map can still be drawn (from the analysis files)
    assert len(_embedded_pngs(text)) == 2 and (out / "figures" / "cost.png").is_file()
    assert (out / "figures" / "observation_error_excess.png").is_file()
    assert text.count("Figure skipped") == 5


def test_the_report_draws_exactly_the_runs_of_the_experiment(full_report):
    assert RUN_ORDER == tuple(RUNS) and set(RUN_STYLE) == set(RUNS)
    # one colour per method, dashed where the observations' stated error is misspecified
    for name, spec in RUNS.items():
        if spec["observations"] == "obs_misspecified":
            twin = name.removesuffix("_misspecified")
            assert RUN_STYLE[name] == dict(RUN_STYLE[twin], ls="--"), name
        if spec["observations"] == TRUE_ERROR_SET:  # the reference: its method's colour
            twin = name.removesuffix("_true_error")
            assert RUN_STYLE[name] == dict(RUN_STYLE[twin], ls=REFERENCE_LINE), name
    assert len({RUN_STYLE[n]["color"] for n in RUNS
                if n not in ("truth", "ctrl") and not RUNS[n].get("ensemble")}) == 3
    # and no two runs look alike (the CDF-matched image run is dotted)
    styles = [tuple(sorted(RUN_STYLE[n].items())) for n in RUNS]
    assert len(set(styles)) == len(styles)
    # every DA run is on the maps of its observation set, and no other run
    mapped = [run for folder in MAP_FIGURES for run in assimilating(folder)]
    assert sorted(mapped) == sorted(n for n, s in RUNS.items()
                                    if s["terms"] or s.get("ensemble"))
    _, page = full_report
    assert "hybrid_misspecified" not in page.read_text(encoding="utf-8")


def test_a_multi_seed_folder_maps_the_first_seed(tmp_path):
    """results.json at the top, the runs and observations of the maps in its map_folder."""
    seed = make_demo_out(tmp_path / "seed1")
    results = json.loads((seed / "results.json").read_text())
    results["experiment"].update(map_folder="seed1", seeds=[1, 2, 3])
    (tmp_path / "results.json").write_text(json.dumps(results))
    text = build_report(tmp_path).read_text(encoding="utf-8")
    assert "Figure skipped" not in text and len(_embedded_pngs(text)) == len(FIGURES)
    assert (tmp_path / "figures" / "maps.png").is_file()
    assert "<dt>seeds</dt><dd>1, 2, 3</dd>" in text
