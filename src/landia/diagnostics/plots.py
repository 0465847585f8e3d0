"""Figures of the threshold diagnostics (matplotlib, Agg backend, PNG files).

Each function draws one figure from a
:class:`~landia.diagnostics.thresholds.ThresholdDiagnostics` and writes it to
``path``; nothing is computed here beyond what a figure needs (histogram bins,
a Gaussian of the error's mean and standard deviation).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from landia.diagnostics.thresholds import ThresholdDiagnostics
from landia.figures import pyplot, save


def _nearest(keys, sigma: float) -> float:
    return min(keys, key=lambda k: abs(k - sigma))


def plot_scores(diag: ThresholdDiagnostics, path) -> Path:
    """SCC and RMSE of the top-sigma reconstruction versus sigma (two axes)."""
    plt = pyplot()
    s = np.array([x.sigma for x in diag.scores])
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(s, [x.scc for x in diag.scores], "o-", color="C0", label="SCC")
    ax.set_xlabel("sigma (fraction of coefficients kept)")
    ax.set_ylabel("spatial correlation with the original", color="C0")
    ax.axhline(0.99, color="C0", lw=0.6, ls=":")
    ax2 = ax.twinx()
    ax2.semilogy(s, [max(x.rmse, 1e-6) for x in diag.scores], "s--", color="C3", label="RMSE")
    ax2.set_ylabel("RMSE (m3 m-3), floored at 1e-6", color="C3")
    ax.set_title(f"{diag.name}: reconstruction from the top-sigma coefficients")
    fig.tight_layout()
    return save(fig, path, bbox_inches="tight")


def plot_error_histogram(diag: ThresholdDiagnostics, path, sigma: float = 0.5) -> Path:
    """Histogram of the reconstruction error at ``sigma`` with a Gaussian overlay."""
    plt = pyplot()
    key = _nearest(diag.errors, sigma)
    e = diag.errors[key]
    e = e[np.isfinite(e)]
    sc = diag.score(key)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.hist(e, bins=60, density=True, color="0.6", label="error (land cells)")
    mu, sd = float(np.mean(e)), float(np.std(e))
    if sd > 0:
        x = np.linspace(e.min(), e.max(), 300)
        ax.plot(x, np.exp(-0.5 * ((x - mu) / sd) ** 2) / (sd * np.sqrt(2 * np.pi)), "C3",
                label=f"Gaussian, mean {mu:.1e}, sd {sd:.1e}")
    ax.set_xlabel("reconstruction minus original (m3 m-3)")
    ax.set_ylabel("density")
    ax.set_title(f"{diag.name}, sigma = {key:g}: skewness {sc.skewness:.2f}, "
                 f"excess kurtosis {sc.excess_kurtosis:.2f}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save(fig, path, bbox_inches="tight")


def plot_correlation_curves(diag: ThresholdDiagnostics, path) -> Path:
    """Autocorrelation versus distance: threshold bands (left) and cumulative (right)."""
    plt = pyplot()
    e = diag.bin_edges
    centres = 0.5 * (e[:-1] + e[1:])
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, curves, title in ((axes[0], diag.band_curves, "bands of coefficients"),
                              (axes[1], diag.cumulative_curves, "top sigma (cumulative)")):
        cmap = plt.get_cmap("viridis")
        for i, c in enumerate(curves):
            ax.plot(centres, c.r, "-", color=cmap(i / max(1, len(curves) - 1)), label=c.label)
        ax.plot(centres, diag.original_curve.r, "k--", lw=1.5, label="original")
        ax.axhline(0.0, color="0.5", lw=0.6)
        ax.axhline(0.5, color="0.5", lw=0.6, ls=":")
        ax.set_xlabel("great-circle distance (km)")
        ax.set_title(title)
        ax.legend(fontsize=7, ncol=2)
    axes[0].set_ylabel("spatial correlation")
    fig.suptitle(f"{diag.name}: spatial correlation versus distance")
    fig.tight_layout()
    return save(fig, path, bbox_inches="tight")


def plot_maps(diag: ThresholdDiagnostics, original: np.ndarray, lat: np.ndarray, lon: np.ndarray,
              path, sigma: float = 0.5) -> Path:
    """Original image, its reconstruction at ``sigma`` and the difference."""
    plt = pyplot()
    key = _nearest(diag.reconstructions, sigma)
    rec = diag.reconstructions[key]
    diff = diag.errors[key]
    lat, lon = np.asarray(lat, float), np.asarray(lon, float)
    # North up whichever way the rows run.
    origin = "upper" if lat[0] > lat[-1] else "lower"
    extent = (lon[0], lon[-1], min(lat[0], lat[-1]), max(lat[0], lat[-1]))
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    finite = original[np.isfinite(original)]
    vmin, vmax = (np.percentile(finite, [1, 99]) if finite.size else (0, 1))
    dmax = float(np.nanmax(np.abs(diff))) if np.isfinite(diff).any() else 1.0
    for ax, img, title, kw in (
            (axes[0], original, "original (m3 m-3)", dict(cmap="YlGnBu", vmin=vmin, vmax=vmax)),
            (axes[1], rec, f"reconstruction, sigma {key:g}", dict(cmap="YlGnBu", vmin=vmin,
                                                                     vmax=vmax)),
            (axes[2], diff, "reconstruction - original", dict(cmap="RdBu_r", vmin=-dmax,
                                                               vmax=dmax))):
        im = ax.imshow(img, extent=extent, origin=origin, aspect="auto", interpolation="nearest",
                       **kw)
        ax.set_title(title)
        ax.set_xlabel("longitude")
        fig.colorbar(im, ax=ax, shrink=0.85)
    axes[0].set_ylabel("latitude")
    fig.suptitle(diag.name)
    fig.tight_layout()
    return save(fig, path, bbox_inches="tight")
