"""A tiny output folder of ``landia experiment conus-smap`` for the scores and the report.

A 4 x 5 grid (two sea cells), 50 days from 2015-04-01 at 12 UTC and a free period of 8
days (``obs/`` and ``obs_withheld/`` are left out: the scores read ``smap/``). A "true"
0-5 cm soil moisture s (seasonal cycle + AR(1) anomaly) per cell; SMAP sees
``0.05 + 1.2 s`` plus noise on most days; CTRL follows ``0.1 + 0.6 s`` with an anomaly of its
own; ``image`` (deterministic, analysis files) and ``letkf`` (ensemble files) are CTRL pulled
towards s. Every layer of a state holds the same value, so the 0-5 cm equivalent is it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import netCDF4
import numpy as np

from landia.grid import colm_node_depths
from landia.io.analysis_diagnostics import LOCAL_ERROR
from landia.io.climatology_file import write_climatology
from landia.io.ensemble_file import EnsembleFile, write_ensemble_file
from landia.io.fields import SoilMoistureField, write_field
from landia.io.netcdf import create_grid_file, field_dimensions, write_record
from landia.observations.rescaling import climatology_statistics

NY, NX = 4, 5
LAT = np.array([30.0, 33.0, 36.5, 40.0])
LON = np.array([-110.0, -106.0, -102.0, -98.0, -94.0])
START = datetime(2015, 4, 1, 12)
DAYS = 50
FREE_DAYS = 8
NL = colm_node_depths().size


def land_mask() -> np.ndarray:
    land = np.ones((NY, NX), dtype=bool)
    land[0, 0] = land[3, 4] = False
    return land


def withheld_mask() -> np.ndarray:
    w = np.zeros((NY, NX), dtype=bool)
    w[1, 1] = w[2, 3] = w[3, 0] = True
    return w


def write_withheld(path, withheld, land) -> None:
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("lat", NY)
        ds.createDimension("lon", NX)
        ds.createVariable("lat", "f8", ("lat",))[:] = LAT
        ds.createVariable("lon", "f8", ("lon",))[:] = LON
        v = ds.createVariable("withheld", "i1", ("lat", "lon"), fill_value=np.int8(-1))
        v[:] = np.ma.masked_array(withheld.astype(np.int8), mask=~land)


def _field(values, t, role="field", variance=None) -> SoilMoistureField:
    return SoilMoistureField(lat=LAT, lon=LON, depth=colm_node_depths()[:values.shape[0]],
                             values=values, error_variance=variance, valid_time=np.datetime64(
                                 t, "s"))


def _layers(surface, n=NL):
    return np.repeat(surface[None], n, axis=0)


def write_analysis_min(path, t, analysis, background) -> None:
    """The fields of an analysis file (what read_analysis_field reads) and the local error
    estimate's (an excess of 0.03^2 in the grid's northern row, none elsewhere)."""
    with create_grid_file(path, LAT, LON, colm_node_depths()[:3], "test analysis",
                          valid_time=np.datetime64(t, "s")) as ds:
        for name, values in (("analysis", analysis), ("background", background),
                             ("increment", analysis - background), ("observation", analysis)):
            v = ds.createVariable(name, "f8", field_dimensions(ds), fill_value=np.nan)
            v.units = "m3 m-3"
            write_record(v, values[:3])
        excess = np.where(land_mask(), 0.0, np.nan)
        excess[-1][land_mask()[-1]] = 0.03 ** 2
        for name in LOCAL_ERROR:
            v = ds.createVariable(name, "f8", field_dimensions(ds, ("lat", "lon")),
                                  fill_value=np.nan)
            write_record(v, excess)
        ds.local_error_fine_scales = np.array([1], dtype=np.int32)


def make_conus_out(root, seed: int = 1) -> dict:
    """Write the folder; returns the arrays it was made from (surface series per run)."""
    rng = np.random.default_rng(seed)
    land, withheld = land_mask(), withheld_mask()
    times = [START + timedelta(days=k) for k in range(DAYS + FREE_DAYS)]
    d = np.arange(len(times), dtype=float)
    phase = rng.uniform(0, 2 * np.pi, (NY, NX))
    anomaly = np.zeros((len(times), NY, NX))
    for k in range(1, len(times)):
        anomaly[k] = 0.8 * anomaly[k - 1] + 0.03 * rng.standard_normal((NY, NX))
    s = 0.25 + 0.06 * np.sin(2 * np.pi * d[:, None, None] / 365.25 + phase) + anomaly
    own = np.zeros_like(anomaly)
    for k in range(1, len(times)):
        own[k] = 0.8 * own[k - 1] + 0.02 * rng.standard_normal((NY, NX))
    sea = np.where(land, 0.0, np.nan)
    ctrl = 0.1 + 0.6 * s + own + sea
    image = ctrl + 0.7 * (0.1 + 0.6 * s - ctrl)
    letkf = ctrl + 0.4 * (0.1 + 0.6 * s - ctrl)
    seen = rng.random((len(times), NY, NX)) < 0.9
    smap = np.where(seen & land, 0.05 + 1.2 * s + 0.01 * rng.standard_normal(s.shape), np.nan)
    smap[:, 0, 1] = np.nan  # a land cell SMAP never sees
    (root / "smap").mkdir(parents=True)
    for name in ("ctrl", "image", "letkf", "ctrl_free", "image_free"):
        (root / "runs" / name / "states").mkdir(parents=True)
    (root / "runs" / "image" / "cycles").mkdir()
    (root / "runs" / "letkf" / "ensemble").mkdir()
    for k, t in enumerate(times):
        label = f"{t:%Y%m%dT%H%M}"
        if k < DAYS:
            two = _layers(smap[k], 2)
            write_field(root / "smap" / f"obs_{label}.nc",
                        _field(two, t, variance=np.full_like(two, 4e-4)), role="observation")
            for name, values in (("ctrl", ctrl), ("image", image), ("letkf", letkf)):
                write_field(root / "runs" / name / "states" / f"state_{label}.nc",
                            _field(_layers(values[k]), t))
            # the forecast of day k: yesterday's analysis carried on (CTRL's change added)
            bg = image[k] + (ctrl[k] - image[k]) * 0.5
            write_analysis_min(root / "runs" / "image" / "cycles" / f"analysis_{label}.nc", t,
                               _layers(image[k]), _layers(bg))
            write_ensemble_file(root / "runs" / "letkf" / "ensemble" / f"ens_{label}.nc",
                                EnsembleFile(lat=LAT, lon=LON, depth=colm_node_depths(),
                                             mean=_layers(letkf[k]),
                                             spread=_layers(0 * letkf[k] + 0.01),
                                             members=4, valid_time=np.datetime64(t, "s"),
                                             background=_layers(letkf[k] * 0.5 + ctrl[k] * 0.5)))
        else:
            j = k - DAYS
            gap = (image[DAYS - 1] - ctrl[DAYS - 1]) * 0.7 ** j
            write_field(root / "runs" / "ctrl_free" / "states" / f"state_{label}.nc",
                        _field(_layers(ctrl[k]), t))
            write_field(root / "runs" / "image_free" / "states" / f"state_{label}.nc",
                        _field(_layers(ctrl[k] + gap), t))
            if j == 0:  # a state at another hour, in both: not a day of the persistence
                for name in ("ctrl_free", "image_free"):
                    t0 = t - timedelta(hours=12)
                    write_field(root / "runs" / name / "states" / f"state_{t0:%Y%m%dT%H%M}.nc",
                                _field(_layers(ctrl[k] + 0.1), t0))
    write_withheld(root / "withheld_cells.nc", withheld, land)
    clim = climatology_statistics(np.stack([ctrl[:DAYS], ctrl[:DAYS]], axis=1),
                                  np.stack([smap[:DAYS], smap[:DAYS]], axis=1), 21, lat=LAT,
                                  lon=LON, depth=colm_node_depths()[:2], start=times[0],
                                  end=times[DAYS - 1])
    write_climatology(root / "climatology.nc", clim)
    return {"times": np.array(times, dtype="datetime64[s]"), "s": s, "ctrl": ctrl,
            "image": image, "letkf": letkf, "smap": smap, "withheld": withheld, "land": land}
