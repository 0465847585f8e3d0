"""``landia prepare-obs``: product files in, model-grid observation images out.

For every time of every product file (ERA5/ERA5-Land, GLDAS-2.1, C3S/ESA CCI, SMAP L3):

1. read it (:func:`landia.observations.products.read_product`; the reader's own rejections,
   fill values and flags, are counted);
2. regrid it conservatively to the model grid (``[grid]``), keeping a cell only when at least
   ``observations.min_valid_fraction`` of its area is valid;
3. map its layers to the top ``observations.layers`` CoLM layers by node depth;
4. quality-control it on the model grid (:func:`landia.observations.qc.quality_control`:
   bounds ``[0, porosity]`` with the porosity of ``--porosity`` or
   ``observations.upper_bound``, error variances, too few valid cells);
5. write ``obs_YYYYMMDDTHHMM.nc`` (field-file format, ``observation_error_variance``,
   ``valid_time``, the QC counts as a JSON attribute), or, for a refused image, nothing but a
   warning.

Nothing here raises on a merely sparse image; an unreadable file is logged with its reason and
the other files are still processed (exit status 2 at the end).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from landia.config import Settings
from landia.errors import InputError
from landia.grid import LatLonGrid, colm_node_depths
from landia.io.fields import SoilMoistureField, read_field, write_field
from landia.io.naming import observation_name
from landia.landmask import grid_from_settings
from landia.log import get_logger
from landia.observations.products import read_product
from landia.observations.qc import quality_control
from landia.observations.regrid import Regridder, regrid_field
from landia.observations.vertical import map_field

PRODUCT_SUFFIXES = (".nc", ".nc4", ".h5", ".he5", ".hdf5")
_FORMATS = {"era5": "era5", "gldas": "gldas", "cci": "cci", "smap": "smap_l3"}


@dataclass
class PreparedImage:
    """What happened to one product time."""

    time: np.datetime64
    source: str
    product: str
    valid_cells: int
    land_cells: int
    written: str | None
    reason: str = ""
    counts: dict = field(default_factory=dict)


def product_files(paths) -> list[Path]:
    """Files named by ``paths`` (files, or folders searched for product files), sorted."""
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(q for q in p.iterdir()
                              if q.is_file() and q.suffix.lower() in PRODUCT_SUFFIXES))
        elif p.exists():
            out.append(p)
        else:
            raise InputError(f"{p}: product file or folder not found")
    if not out:
        raise InputError(f"no product files (suffixes {', '.join(PRODUCT_SUFFIXES)}) in "
                         f"{', '.join(map(str, paths))}")
    return out


def prepare_observations(paths, settings: Settings, output_dir, porosity_file=None,
                         grid: LatLonGrid | None = None) -> tuple[list[PreparedImage], list[str]]:
    """Turn product files into model-grid observation files; see the module notes.

    Returns
    -------
    images : list of PreparedImage
        One per product time, written or refused.
    failures : list of str
        One message per file that could not be read.
    """
    log = get_logger("landia.observations")
    cfg = settings.observations
    out_dir = Path(output_dir)
    if not out_dir.is_dir():
        raise InputError(f"--output-dir {out_dir}: folder does not exist")
    if grid is None:
        grid, _ = grid_from_settings(settings.grid)
    nodes = colm_node_depths()[: cfg.layers]
    upper = cfg.upper_bound
    if porosity_file is not None:
        por = read_field(porosity_file)
        if por.porosity is None:
            raise InputError(f"{porosity_file}: no 'porosity' variable; expected a field file "
                             f"with porosity(layer, lat, lon) or porosity(lat, lon)")
        if por.porosity.shape[1:] != grid.shape or not np.allclose(por.lat, grid.lat):
            raise InputError(f"{porosity_file}: grid {por.porosity.shape[1:]} differs from the "
                             f"model grid {grid.shape} of [grid]")
        upper = por.porosity[: cfg.layers]
        if upper.shape[0] < cfg.layers:
            upper = np.broadcast_to(upper[:1], (cfg.layers,) + grid.shape)
    regridders: dict = {}
    images, failures = [], []
    for path in product_files(paths):
        try:
            options = {} if cfg.product == "auto" else {"format": _FORMATS[cfg.product]}
            fields = read_product(path, **options)
        except InputError as exc:
            log.error("product_refused", file=str(path), reason=str(exc))
            failures.append(str(exc))
            continue
        for pf in fields:
            key = (pf.lat.tobytes(), pf.lon.tobytes())
            if key not in regridders:
                regridders[key] = Regridder(pf.lat, pf.lon, grid)
            on_grid, _ = regrid_field(pf, grid, regridders[key],
                                      min_valid_fraction=cfg.min_valid_fraction)
            values, variance, observed = map_field(on_grid, nodes, cfg.vertical)
            if variance is None:
                variance = np.where(np.isfinite(values), cfg.error_variance, np.nan)
            qc = quality_control(values, grid.land, upper=upper, error_variance=variance,
                                 min_valid_cells=cfg.min_valid_cells,
                                 product_rejections=on_grid.rejected)
            if not observed[0]:
                qc.accepted = False
                qc.reason = (f"the product's layers ({pf.layer_top[0]:g}-"
                             f"{pf.layer_bottom[-1]:g} m) do not reach the top model layer "
                             f"(node {nodes[0]:g} m)")
            image = PreparedImage(time=pf.time, source=pf.source, product=pf.product,
                                  valid_cells=qc.valid_top, land_cells=grid.n_land,
                                  written=None, reason=qc.reason, counts=qc.counts)
            log.info("observation_qc", time=str(pf.time), product=pf.product,
                     file=str(path), valid_top=qc.valid_top, land=grid.n_land,
                     **{k: v for k, v in qc.counts.items() if v})
            if not qc.accepted:
                log.warning("observation_image_refused", time=str(pf.time), file=str(path),
                            reason=qc.reason)
                images.append(image)
                continue
            target = out_dir / observation_name(pf.time)
            write_field(target, SoilMoistureField(
                lat=grid.lat, lon=grid.lon, depth=nodes, values=qc.values,
                error_variance=qc.error_variance, source=str(path), valid_time=pf.time),
                role="observation", title="landia observation image on the model grid",
                attributes={"product": pf.product, "product_file": str(path),
                            "product_period": pf.period,
                            "product_layers_m": json.dumps(
                                [[float(a), float(b)] for a, b in zip(pf.layer_top,
                                                                      pf.layer_bottom)]),
                            "vertical_mapping": cfg.vertical,
                            "min_valid_fraction": cfg.min_valid_fraction,
                            "qc": json.dumps(qc.counts)})
            image.written = str(target)
            images.append(image)
    return images, failures


def summary_table(images: list[PreparedImage]) -> str:
    """A plain-text table of the prepared images."""
    lines = [f"{'time':19s} {'product':8s} {'valid':>6s} {'land':>6s} {'%':>6s}  result"]
    for im in images:
        pct = 100.0 * im.valid_cells / im.land_cells if im.land_cells else float("nan")
        result = Path(im.written).name if im.written else f"refused: {im.reason}"
        lines.append(f"{str(im.time):19s} {im.product:8s} {im.valid_cells:6d} "
                     f"{im.land_cells:6d} {pct:6.1f}  {result}")
    return "\n".join(lines)
