"""Is the curvelet image a better spatial filter than a correlated B? A denoising test.

The image term's claim to information that the point term lacks rests on one mechanism: in
curvelet space the structure of a soil-moisture image is sparse (few large coefficients) and a
white observation error is not, so keeping the large coefficients (the selection ``P``) or
shrinking the small ones separates structure from noise better than a linear smoother can. A
correlated B does the linear part: with x = xb + D^1/2 C^1/2 v, point 3D-Var spreads and
averages the observations over the correlation length. This module measures the mechanism on
its own, away from any model or analysis: an image ``t`` (a real soil-moisture field, or the
demo's truth) plus white noise, ``y = t + sigma z`` on every land cell, cleaned by

* ``gaussian``: the normalised Gaussian smoother over land,
  :math:`g_w * (y m) / g_w * m` (``m`` the land mask, width ``w`` cells: no sea value enters),
  the linear filter a correlated B stands for;
* ``hard``: curvelet hard thresholding, :math:`c_k` kept where
  :math:`|c_k| > k \\sigma \\sqrt{\\nu_k}` with :math:`\\nu_k = E|(C E z)_k|^2` the energy a
  unit white error on land puts in coefficient ``k`` (the image term's transform ``C E``:
  the UDCT of :mod:`landia.operators.curvelet` after the screened harmonic fill of
  :mod:`landia.operators.embedding`, anomalies about the image mean, low-pass band kept);
* ``soft``: curvelet soft thresholding, :math:`c_k \\max(0, 1 - k \\sigma \\sqrt{\\nu_k} /
  |c_k|)`;
* ``scale_gain``: one linear gain per curvelet scale ``j`` from the image itself,
  :math:`g_j = \\max(0, 1 - \\sigma^2 \\sum_{k \\in j} \\nu_k / \\sum_{k \\in j} |c_k|^2)`
  (no parameter): the per-scale Wiener filter that JI's per-scale variances
  (``analysis.image_error_method``) stand for;

the first three with their best parameter for that image and noise (an oracle tuning, the same for all
three), scored by the spatial correlation (SCC) and the RMSE against ``t`` over land. If
thresholding does not beat the smoother here, with the noise known and the threshold tuned on
the truth, an image term built on it cannot beat point 3D-Var with a correlated B on such
fields either. Measured figures: ``docs/analysis.md``, "Curvelet thresholding against a
linear smoother". ``python -m landia.experiment.denoising`` prints the table.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter

from landia.config import CurveletSettings
from landia.errors import InputError
from landia.operators.curvelet import CurveletTransform
from landia.operators.embedding import HarmonicEmbedding
from landia.scores import rmse, spatial_correlation

#: Gaussian widths (cells) and thresholds (multiples of the noise's coefficient std) tried.
WIDTHS = (0.5, 0.75, 1.0, 1.5, 2.0, 3.0)
HARD_THRESHOLDS = (1.5, 2.0, 2.5, 3.0, 4.0)
SOFT_THRESHOLDS = (0.5, 0.75, 1.0, 1.5, 2.0)
#: The methods, in the table's order.
METHODS = ("observed", "gaussian", "hard", "soft", "scale_gain")
#: The real fields: GLDAS-2.1 Noah 0-10 cm, 2015-01-01 00Z, 0.25 deg, over two boxes (S, N, W,
#: E), and East Asia in 6 x 6 block means (1.5 deg, about the paper's 1.4 deg grid).
GLDAS_FILE = "gldas/GLDAS_NOAH025_3H.A20150101.0000.021.nc4"
GLDAS_BOXES = {"gldas_conus_0.25deg": ((25.0, 50.0, -125.0, -67.0), 1),
               "gldas_east_asia_0.25deg": ((23.0, 68.0, 73.0, 117.0), 1),
               "gldas_east_asia_1.5deg": ((23.0, 68.0, 73.0, 117.0), 6)}


def smooth_on_land(values: np.ndarray, land: np.ndarray, width: float) -> np.ndarray:
    """The normalised Gaussian smoother over land: :math:`g_w * (y m) / g_w * m` at the land
    cells (``values`` one per land cell, row-major; ``width`` in cells, 0: ``values``)."""
    if width <= 0:
        return np.array(values, dtype=np.float64)
    image = np.zeros(land.shape)
    image[land] = values
    num = gaussian_filter(image, width, mode="constant")
    den = gaussian_filter(land.astype(np.float64), width, mode="constant")
    return num[land] / den[land]


@dataclass
class CurveletShrinkage:
    """Curvelet thresholding of images on ``land`` through the image term's ``C E``.

    Parameters
    ----------
    land : ndarray of bool (ny, nx)
    scales, wedges : int
        Of the transform (0 scales: the default rule, as ``curvelet.scales``).
    fill_decay : float, optional
        Of the screened harmonic fill (default ``curvelet.fill_decay``'s; its sweeps and exact
        size are the ``[curvelet]`` defaults too).
    probes : int
        White-noise probes for the per-coefficient noise energy :math:`\\nu_k`.
    seed : int
    """

    land: np.ndarray
    scales: int = 0
    wedges: int = 3
    fill_decay: float | None = None
    probes: int = 32
    seed: int = 0

    def __post_init__(self):
        self.land = np.asarray(self.land, dtype=bool)
        if self.land.ndim != 2 or not self.land.any():
            raise InputError(f"land mask of shape {self.land.shape}: expected a 2-D mask "
                             "with at least one land cell")
        self.transform = CurveletTransform.unpadded_for(self.land.shape, self.scales,
                                                        self.wedges)
        cs = CurveletSettings()
        decay = cs.fill_decay if self.fill_decay is None else self.fill_decay
        self.embedding = HarmonicEmbedding(self.land, self.transform.image_shape,
                                           cs.fill_sweeps, cs.exact_fill_cells, decay)
        self.low_pass = self.transform.coefficient_scale == 0
        rng = np.random.default_rng(self.seed)
        energy = np.zeros(self.transform.n_coefficients)
        for _ in range(self.probes):
            c = self._forward(rng.standard_normal(int(self.land.sum())))
            energy += np.abs(c) ** 2
        self.noise_energy = energy / self.probes

    def _forward(self, values: np.ndarray) -> np.ndarray:
        c = self.transform.matvec(self.embedding.matvec(values))
        return c[0::2] + 1j * c[1::2]

    def _inverse(self, z: np.ndarray) -> np.ndarray:
        c = np.empty(2 * z.size)
        c[0::2], c[1::2] = z.real, z.imag
        ny, nx = self.land.shape
        return self.transform.rmatvec(c).reshape(self.transform.image_shape)[:ny, :nx][self.land]

    def __call__(self, values: np.ndarray, noise_std: float, threshold: float,
                 soft: bool = False) -> np.ndarray:
        """``values`` (one per land cell) with their curvelet coefficients thresholded at
        ``threshold`` x ``noise_std`` x :math:`\\sqrt{\\nu_k}` (hard, or ``soft``); the
        low-pass band and the image mean are kept. Threshold 0 returns ``values`` (to
        round-off: C is a tight frame and E keeps the land values)."""
        values = np.asarray(values, dtype=np.float64)
        mean = float(values.mean())
        z = self._forward(values - mean)
        level = threshold * noise_std * np.sqrt(self.noise_energy)
        modulus = np.abs(z)
        if soft:
            kept = z * np.maximum(0.0, 1.0 - level / np.maximum(modulus, np.finfo(float).tiny))
        else:
            kept = np.where(modulus > level, z, 0.0)
        kept[self.low_pass] = z[self.low_pass]
        return self._inverse(kept) + mean

    def scale_gain(self, values: np.ndarray, noise_std: float) -> np.ndarray:
        """``values`` with each curvelet scale but the low-pass band multiplied by its gain
        :math:`\\max(0, 1 - \\sigma^2 \\sum \\nu_k / \\sum |c_k|^2)` (module notes)."""
        values = np.asarray(values, dtype=np.float64)
        mean = float(values.mean())
        z = self._forward(values - mean)
        scale = self.transform.coefficient_scale
        for j in range(1, self.transform.scales):
            band = scale == j
            power = float(np.sum(np.abs(z[band]) ** 2))
            noise = noise_std**2 * float(np.sum(self.noise_energy[band]))
            z[band] *= max(0.0, 1.0 - noise / power) if power > 0 else 0.0
        return self._inverse(z) + mean


def denoising_scores(truth: np.ndarray, land: np.ndarray, noise_std: float, draws: int = 4,
                     seed: int = 100, shrinkage: CurveletShrinkage | None = None) -> dict:
    """Mean SCC and RMSE against ``truth`` (ny, nx; NaN off land) over ``draws`` noise draws,
    for the noisy image and every parameter of each method (module notes).

    Returns
    -------
    dict
        ``{"observed": {"": (scc, rmse)}, "gaussian": {width: ...}, "hard": {k: ...},
        "soft": {k: ...}}`` and ``"best"``: per method the parameter of the highest SCC and
        its (scc, rmse).
    """
    land = np.asarray(land, dtype=bool)
    t = np.asarray(truth, dtype=np.float64)[land]
    if not np.all(np.isfinite(t)):
        raise InputError("truth: NaN or inf on a land cell")
    shrink = shrinkage or CurveletShrinkage(land)
    methods = {"observed": {"": lambda y: y},
               "gaussian": {w: (lambda y, w=w: smooth_on_land(y, land, w)) for w in WIDTHS},
               "hard": {k: (lambda y, k=k: shrink(y, noise_std, k)) for k in HARD_THRESHOLDS},
               "soft": {k: (lambda y, k=k: shrink(y, noise_std, k, soft=True))
                        for k in SOFT_THRESHOLDS},
               "scale_gain": {"": lambda y: shrink.scale_gain(y, noise_std)}}
    sums = {m: {p: np.zeros(2) for p in ps} for m, ps in methods.items()}
    for d in range(draws):
        y = t + noise_std * np.random.default_rng([seed, d]).standard_normal(t.size)
        for m, ps in methods.items():
            for p, f in ps.items():
                estimate = f(y)
                sums[m][p] += (spatial_correlation(estimate, t), rmse(estimate, t))
    out = {m: {p: tuple(float(v) for v in s / draws) for p, s in ps.items()}
           for m, ps in sums.items()}
    out["best"] = {m: max(((p, s) for p, s in out[m].items()), key=lambda ps: ps[1][0])
                   for m in methods}
    return out


def gldas_fields(data_dir) -> dict:
    """The real fields of :data:`GLDAS_BOXES`: name -> (ny, nx) 0-10 cm soil moisture, m3 m-3,
    NaN off land (block means of the valid cells, NaN where a block has none)."""
    from landia.observations.products.gldas import read_gldas_soil_moisture

    path = Path(data_dir) / GLDAS_FILE
    if not path.is_file():
        raise InputError(f"{path}: GLDAS file not found (the data README of ../shared/data)")
    field = read_gldas_soil_moisture(path, ["SoilMoi0_10cm_inst"])[0]
    out = {}
    for name, ((south, north, west, east), block) in GLDAS_BOXES.items():
        iy = np.flatnonzero((field.lat >= south) & (field.lat <= north))
        ix = np.flatnonzero((field.lon >= west) & (field.lon <= east))
        values = field.values[0][np.ix_(iy, ix)]
        if block > 1:
            ny, nx = (values.shape[0] // block) * block, (values.shape[1] // block) * block
            blocks = values[:ny, :nx].reshape(ny // block, block, nx // block, block)
            valid = np.isfinite(blocks).sum(axis=(1, 3))
            values = np.where(valid > 0, np.nansum(blocks, axis=(1, 3))
                              / np.maximum(valid, 1), np.nan)
        out[name] = values
    return out


def demo_truth_fields(run_dir, first: int = 10, count: int = 30) -> dict:
    """The demo truth's 0-7 cm images (``OUT/seed<k>/runs/truth``), days ``first`` to
    ``first + count - 1`` of its daily states: name -> (ny, nx)."""
    from landia.experiment.observing import surface_of
    from landia.io.fields import read_field

    files = sorted(Path(run_dir, "states").glob("state_*.nc"))[first:first + count]
    if not files:
        raise InputError(f"{run_dir}/states: no state_*.nc (a demo truth run's folder)")
    return {f.stem: surface_of(read_field(f).values) for f in files}


def table(fields: dict, noise_stds, draws: int = 4) -> list[dict]:
    """One row per (field, noise): the best of each method (:func:`denoising_scores`); the
    fields of one land mask share one :class:`CurveletShrinkage`."""
    rows, shrinkers = [], {}
    for name, truth in fields.items():
        land = np.isfinite(truth)
        key = (land.shape, np.packbits(land).tobytes())
        if key not in shrinkers:
            shrinkers[key] = CurveletShrinkage(land)
        for sigma in noise_stds:
            s = denoising_scores(truth, land, sigma, draws, shrinkage=shrinkers[key])
            rows.append({"field": name, "shape": list(land.shape),
                         "land_cells": int(land.sum()),
                         "scales": shrinkers[key].transform.scales,
                         "truth_std": float(np.std(truth[land])), "noise_std": sigma,
                         **{m: {"parameter": p, "scc": v[0], "rmse": v[1]}
                            for m, (p, v) in s["best"].items()}})
    return rows


def mean_rows(rows: list[dict], field: str) -> list[dict]:
    """Rows of several fields (the demo truth's days) averaged per noise, as ``field``."""
    out = []
    for sigma in sorted({r["noise_std"] for r in rows}):
        part = [r for r in rows if r["noise_std"] == sigma]
        row = dict(part[0], field=field, days=len(part))
        for m in METHODS:
            row[m] = {"parameter": "best per day",
                      "scc": float(np.mean([r[m]["scc"] for r in part])),
                      "rmse": float(np.mean([r[m]["rmse"] for r in part]))}
        out.append(row)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m landia.experiment.denoising",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", default=None,
                   help="folder holding gldas/ (default $LANDIA_DATA or ../shared/data)")
    p.add_argument("--demo-truth", default=None,
                   help="a demo truth run's folder (OUT/seed1/runs/truth) to add its days")
    p.add_argument("--noise", default="0.04,0.12",
                   help="noise standard deviations, m3 m-3 (default %(default)s: the demo's "
                        "random error and three times it, its misspecified region's)")
    p.add_argument("--draws", type=int, default=4)
    p.add_argument("--json", default=None, help="write the rows to this file")
    args = p.parse_args(argv)
    from landia.experiment.demo_run import default_data_dir

    noise = [float(s) for s in args.noise.split(",")]
    rows = table(gldas_fields(args.data_dir or default_data_dir()), noise, args.draws)
    if args.demo_truth:
        rows += mean_rows(table(demo_truth_fields(args.demo_truth), noise, 1), "demo truth")
    print("| field | noise | observed | gaussian (w) | hard (k) | soft (k) | scale gain |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        cells = [f"{r[m]['scc']:.3f} / {r[m]['rmse']:.4f}" + (
            f" ({r[m]['parameter']})" if r[m]["parameter"] != "" and r.get("days") is None
            else "") for m in METHODS]
        print(f"| {r['field']} | {r['noise_std']:g} | " + " | ".join(cells) + " |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
