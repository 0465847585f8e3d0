"""Figures of the verification (matplotlib, Agg backend: no display needed).

Each function takes arrays (no file reading) and writes one PNG.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from landia.figures import pyplot, save


def plot_score_series(rows, path: str | Path) -> None:
    """SCC and RMSE (m3 m-3) against time, one line per layer."""
    plt = pyplot()
    fig, axes = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    times = list(dict.fromkeys(r.time for r in rows))
    x = np.arange(len(times))
    for layer in sorted({r.layer for r in rows}):
        by_time = {r.time: r for r in rows if r.layer == layer}
        for ax, name in zip(axes, ("scc", "rmse")):
            y = [getattr(by_time[t], name) if t in by_time else np.nan for t in times]
            ax.plot(x, y, marker="o", label=f"layer {layer}")
    axes[0].set_ylabel("SCC")
    axes[1].set_ylabel("RMSE (m3 m-3)")
    axes[1].set_xticks(x)
    axes[1].set_xticklabels(times, rotation=45, ha="right", fontsize=7)
    axes[0].legend(fontsize=8)
    axes[0].set_title("model vs reference: spatial correlation and RMSE")
    fig.tight_layout()
    save(fig, path, dpi=100)


def plot_scatter(model: dict, reference: dict, path: str | Path) -> None:
    """Model against reference values, one panel per layer (``{layer: 1-D values}``)."""
    plt = pyplot()
    layers = sorted(model)
    ncol = min(len(layers), 4)
    nrow = (len(layers) + ncol - 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.2 * ncol, 3.2 * nrow), squeeze=False)
    for ax, layer in zip(axes.ravel(), layers):
        m, r = np.asarray(model[layer]), np.asarray(reference[layer])
        ok = np.isfinite(m) & np.isfinite(r)
        ax.plot(r[ok], m[ok], ".", ms=2, alpha=0.5)
        if ok.any():
            lo, hi = min(r[ok].min(), m[ok].min()), max(r[ok].max(), m[ok].max())
            ax.plot([lo, hi], [lo, hi], "k-", lw=0.8)
        ax.set_title(f"layer {layer}", fontsize=9)
        ax.set_xlabel("reference (m3 m-3)", fontsize=8)
        ax.set_ylabel("model (m3 m-3)", fontsize=8)
    for ax in axes.ravel()[len(layers):]:
        ax.axis("off")
    fig.tight_layout()
    save(fig, path, dpi=100)


def plot_difference_maps(lat, lon, differences: dict, title: str, path: str | Path) -> None:
    """Maps of model minus reference (m3 m-3), one panel per layer (``{layer: (ny, nx)}``)."""
    plt = pyplot()
    layers = sorted(differences)
    ncol = min(len(layers), 4)
    nrow = (len(layers) + ncol - 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.6 * ncol, 3.0 * nrow), squeeze=False)
    finite = [np.abs(d[np.isfinite(d)]) for d in differences.values()]
    vmax = max([float(f.max()) for f in finite if f.size] or [1.0]) or 1.0
    lat = np.asarray(lat)
    order = np.argsort(lat)
    for ax, layer in zip(axes.ravel(), layers):
        im = ax.pcolormesh(lon, lat[order], np.asarray(differences[layer])[order],
                           cmap="RdBu", vmin=-vmax, vmax=vmax, shading="nearest")
        ax.set_title(f"layer {layer}", fontsize=9)
        fig.colorbar(im, ax=ax, label="m3 m-3")
    for ax in axes.ravel()[len(layers):]:
        ax.axis("off")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    save(fig, path, dpi=100)


def plot_station_series(result, path: str | Path) -> None:
    """Matched station and model series of a :class:`~landia.verification.points.PointResult`."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(9, 3.5))
    t = np.asarray(result.times).astype("datetime64[s]").astype("O")
    ax.plot(t, result.station_values, ".", ms=2, label="station (accepted flags)")
    ax.plot(t, result.model_values, ".", ms=2, label=f"model layer {result.layer}")
    ax.set_ylabel("soil moisture (m3 m-3)")
    ax.set_title(f"{result.network} {result.station} ({result.depth:g} m): n={result.n}, "
                 f"r={result.r:.2f}, bias={result.bias:.3f}, ubRMSE={result.ubrmse:.3f}",
                 fontsize=9)
    ax.legend(fontsize=8, markerscale=4)
    fig.autofmt_xdate()
    fig.tight_layout()
    save(fig, path, dpi=100)
