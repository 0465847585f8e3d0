"""Point validation: a station's series against the model cell and layer that contain it.

Arithmetic only (no file access): the caller reads the station (``landia.observations.ismn``)
and the model series, and gives arrays here.

Steps
-----
1. :func:`station_cell`: the grid cell whose box contains the station (nearest centre,
   within half a grid spacing of it; longitudes compared modulo 360).
2. :func:`station_layer`: the model layer whose depth range contains the sensor's mid depth
   :math:`(d_{from} + d_{to}) / 2`; CoLM layer :math:`j` spans
   :math:`[z^{h}_{j-1}, z^{h}_j)` with :math:`z^h` from :func:`landia.grid.colm_interface_depths`
   (:math:`z^h_0 = 0`): 0-0.0175, 0.0175-0.0451, 0.0451-0.0906 m, ... so a 5 cm sensor is in
   layer 3 (node 0.0623 m).
3. :func:`match_times`: each model time is paired with the nearest accepted station value
   within a tolerance (default 3 h); model times with none are dropped.
4. :func:`point_scores`: n, Pearson r, bias, RMSE, ubRMSE of the pairs and, optionally, the
   anomaly correlation (anomalies from a centred moving mean, :func:`anomalies`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from landia.grid import colm_interface_depths, colm_node_depths
from landia.scores import all_scores, spatial_correlation


def station_cell(lat: float, lon: float, grid_lat: np.ndarray,
                 grid_lon: np.ndarray) -> tuple[int, int] | None:
    """Row and column of the cell containing (lat, lon), or None when outside the grid.

    The cell of a centre :math:`c_k` spans :math:`c_k \\pm \\Delta/2` with :math:`\\Delta` the
    local spacing (the grid may run north-to-south or south-to-north); longitudes are
    compared modulo 360 degrees.
    """
    def index(values, x, periodic):
        values = np.asarray(values, dtype=float)
        d = x - values
        if periodic:
            d = (d + 180.0) % 360.0 - 180.0
        k = int(np.argmin(np.abs(d)))
        if values.size == 1:
            return k if abs(d[k]) <= 0.5 else None  # one row/column: half a degree
        # the neighbour on the station's side of the centre (or the other one at an edge)
        side = 1 if (d[k] > 0) == (values[-1] > values[0]) else -1
        other = k + side if 0 <= k + side < values.size else k - side
        half = 0.5 * abs(values[other] - values[k])
        if periodic:
            half = 0.5 * abs((values[other] - values[k] + 180.0) % 360.0 - 180.0)
        return k if abs(d[k]) <= half * (1 + 1e-9) else None

    if not (np.isfinite(lat) and np.isfinite(lon)):
        return None
    i = index(grid_lat, lat, periodic=False)
    j = index(grid_lon, lon, periodic=True)
    return None if i is None or j is None else (i, j)


def layer_interfaces(node_depths: np.ndarray) -> np.ndarray:
    """Bottom interface depth (m) of each layer for these node depths.

    CoLM's :func:`~landia.grid.colm_interface_depths` when the nodes are CoLM's (the
    normal case); otherwise midpoints between nodes, the last layer extending as far
    below its node as half the previous spacing.
    """
    z = np.asarray(node_depths, dtype=float)
    n = z.size
    colm = colm_node_depths()
    if n <= colm.size and np.allclose(z, colm[:n], rtol=1e-4, atol=1e-6):
        return colm_interface_depths()[:n]
    zi = np.empty(n)
    zi[:-1] = 0.5 * (z[:-1] + z[1:])
    zi[-1] = z[-1] + (0.5 * (z[-1] - z[-2]) if n > 1 else z[-1])
    return zi


def station_layer(depth_from: float, depth_to: float, node_depths: np.ndarray) -> int | None:
    """0-based index of the layer containing the sensor mid depth (m), None if below them all."""
    depth = 0.5 * (float(depth_from) + float(depth_to))
    bottoms = layer_interfaces(node_depths)
    k = int(np.searchsorted(bottoms, depth, side="right"))
    return k if k < bottoms.size else None


def match_times(station_times: np.ndarray, station_ok: np.ndarray, model_times: np.ndarray,
                tolerance: np.timedelta64 = np.timedelta64(3, "h")
                ) -> tuple[np.ndarray, np.ndarray]:
    """Pair each model time with the nearest accepted station value within ``tolerance``.

    Parameters
    ----------
    station_times : datetime64 array (ns,), increasing
    station_ok : bool array (ns,)
        Values allowed by the flag policy and finite.
    model_times : datetime64 array (nm,)
    tolerance : timedelta64
        Largest allowed :math:`|t_{model} - t_{station}|` (inclusive).

    Returns
    -------
    model_index, station_index : int arrays (npairs,)
        Each model time at most once; ties go to the earlier station value.
    """
    st = np.asarray(station_times).astype("datetime64[s]")[np.asarray(station_ok, bool)]
    idx_ok = np.flatnonzero(np.asarray(station_ok, bool))
    mt = np.asarray(model_times).astype("datetime64[s]")
    if st.size == 0 or mt.size == 0:
        return np.zeros(0, int), np.zeros(0, int)
    s = st.astype(np.int64)
    m = mt.astype(np.int64)
    k = np.clip(np.searchsorted(s, m), 1, s.size - 1) if s.size > 1 else np.zeros(m.size, int)
    left = np.maximum(k - 1, 0)
    right = k
    dl = np.abs(m - s[left])
    dr = np.abs(m - s[right])
    best = np.where(dr < dl, right, left)
    dist = np.minimum(dl, dr)
    tol = int(np.timedelta64(tolerance, "s").astype(np.int64))
    keep = dist <= tol
    return np.flatnonzero(keep), idx_ok[best[keep]]


def anomalies(times: np.ndarray, values: np.ndarray, window_days: float = 35.0,
              min_count: int = 5) -> np.ndarray:
    """Short-term anomalies: value minus the mean of the values within ±window/2 of it.

    .. math:: a(t) = x(t) - \\frac{1}{|W_t|} \\sum_{s \\in W_t} x(s), \\quad
              W_t = \\{s : |s - t| \\le w/2\\}

    (the moving-average climatology of Albergel et al. 2009, w = 35 days). NaN where fewer
    than ``min_count`` values are in the window.
    """
    t = np.asarray(times).astype("datetime64[s]").astype(np.int64).astype(float)
    x = np.asarray(values, dtype=float)
    half = 0.5 * window_days * 86400.0
    lo = np.searchsorted(t, t - half, side="left")
    hi = np.searchsorted(t, t + half, side="right")
    c = np.concatenate([[0.0], np.cumsum(x)])
    n = hi - lo
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (c[hi] - c[lo]) / n
    return np.where(n >= min_count, x - mean, np.nan)


@dataclass
class PointResult:
    """Scores of one station against its model cell and layer.

    ``layer`` is 1-based; ``row``/``col`` index the model grid; times and the matched
    ``station``/``model`` values (m3 m-3) are kept for plots.
    """

    station: str
    network: str
    lat: float
    lon: float
    depth: float
    row: int | None
    col: int | None
    layer: int | None
    n: int = 0
    r: float = float("nan")
    bias: float = float("nan")
    rmse: float = float("nan")
    ubrmse: float = float("nan")
    anomaly_r: float = float("nan")
    note: str = ""
    times: np.ndarray = field(default_factory=lambda: np.zeros(0, "datetime64[s]"))
    station_values: np.ndarray = field(default_factory=lambda: np.zeros(0))
    model_values: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def row_dict(self) -> dict:
        """The CSV/JSON row (no series)."""
        return {"station": self.station, "network": self.network, "lat": self.lat,
                "lon": self.lon, "depth": self.depth, "row": self.row, "col": self.col,
                "layer": self.layer, "n": self.n, "r": self.r, "bias": self.bias,
                "rmse": self.rmse, "ubrmse": self.ubrmse, "anomaly_r": self.anomaly_r,
                "note": self.note}


def point_scores(model: np.ndarray, station: np.ndarray) -> dict[str, float]:
    """n, Pearson r, bias (model minus station), RMSE and ubRMSE of matched pairs (m3 m-3)."""
    s = all_scores(model, station)
    return {"n": s["n"], "r": s["scc"], "bias": s["bias"], "rmse": s["rmse"],
            "ubrmse": s["ubrmse"]}


def validate_station(name: str, network: str, lat: float, lon: float, depth_from: float,
                     depth_to: float, station_times: np.ndarray, station_values: np.ndarray,
                     station_ok: np.ndarray, grid_lat: np.ndarray, grid_lon: np.ndarray,
                     node_depths: np.ndarray, model_times: np.ndarray, model_series,
                     tolerance: np.timedelta64 = np.timedelta64(3, "h"),
                     anomaly_window_days: float | None = 35.0) -> PointResult:
    """Locate a station in the model, match it in time and score it.

    Parameters
    ----------
    station_times, station_values, station_ok
        The station's series (UTC, m3 m-3) and which values the flag policy accepts.
    grid_lat, grid_lon, node_depths
        The model grid (degrees) and layer node depths (m).
    model_times : datetime64 array (nt,)
    model_series : callable ``(row, col, layer) -> ndarray (nt,)`` or ndarray (nt, nl, ny, nx)
        Model soil moisture, m3 m-3.
    tolerance : timedelta64
        Largest time difference of a pair.
    anomaly_window_days : float or None
        Window of :func:`anomalies`; None skips the anomaly correlation.

    Returns
    -------
    PointResult
        With ``note`` saying why there is nothing to score (outside the grid, below the
        deepest layer, no accepted value near a model time); never an exception.
    """
    depth = 0.5 * (depth_from + depth_to)
    res = PointResult(station=name, network=network, lat=lat, lon=lon, depth=depth,
                      row=None, col=None, layer=None)
    cell = station_cell(lat, lon, grid_lat, grid_lon)
    if cell is None:
        res.note = "outside the model grid"
        return res
    res.row, res.col = cell
    k = station_layer(depth_from, depth_to, node_depths)
    if k is None:
        res.note = f"sensor depth {depth} m below the deepest model layer"
        return res
    res.layer = k + 1
    if callable(model_series):
        column = np.asarray(model_series(cell[0], cell[1], k), dtype=float)
    else:
        column = np.asarray(model_series, dtype=float)[:, k, cell[0], cell[1]]
    ok = np.asarray(station_ok, bool) & np.isfinite(station_values)
    mi, si = match_times(station_times, ok, model_times, tolerance)
    good = np.isfinite(column[mi])
    mi, si = mi[good], si[good]
    res.times = np.asarray(model_times).astype("datetime64[s]")[mi]
    res.station_values = np.asarray(station_values, dtype=float)[si]
    res.model_values = column[mi]
    if mi.size == 0:
        res.note = "no accepted station value within the tolerance of a model time"
        return res
    s = point_scores(res.model_values, res.station_values)
    res.n, res.r, res.bias, res.rmse, res.ubrmse = s["n"], s["r"], s["bias"], s["rmse"], s["ubrmse"]
    if anomaly_window_days:
        am = anomalies(res.times, res.model_values, anomaly_window_days)
        ao = anomalies(res.times, res.station_values, anomaly_window_days)
        res.anomaly_r = spatial_correlation(am, ao)
    return res
