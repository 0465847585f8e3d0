"""Running columns through a period of forcing: the loop shared by ``landia column`` and the
CN-Cng regression test.

* :func:`monthly_lai` -- LAI at given times from 12 monthly values, interpolated linearly
  between mid-months (wrapping across the year end); the cycle uses it too;
* :func:`lai_series` -- LAI at each model time, the climatology on the forcing's local clock;
* :func:`initial_model_state` -- the default :class:`ModelState`, or one built from an
  initial-state file's soil moisture (and temperature);
* :func:`run_steps` -- step the model over an interpolated forcing record, keeping per-step
  fluxes and (optionally) the layer states, with an optional progress callback.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from landia.columns.model import ModelState, forcing_at, step
from landia.columns.soilwater import RHO_WATER
from landia.grid import colm_layer_thickness


def monthly_lai(lai_monthly, times) -> np.ndarray:
    r"""LAI at ``times`` from 12 monthly values placed at mid-month, linear in between and
    across the year end.

    Parameters
    ----------
    lai_monthly : array_like, shape (12,) or (12, N)
        Mid-month LAI (m2 m-2) of one column or of N columns.
    times : datetime64 or array of datetime64, shape (T,)
        On the climatology's clock.

    Returns
    -------
    ndarray, shape ``times.shape + lai_monthly.shape[1:]``

    Notes
    -----
    With :math:`d` the day of the year (0 on 1 January 00:00) and :math:`D` the days of that
    year, the position in months from mid-January is :math:`p = 12 d / D - 1/2`; with
    :math:`m = \lfloor p \rfloor` and :math:`w = p - m`,

    .. math:: \mathrm{LAI} = (1 - w)\, L_{m \bmod 12} + w\, L_{(m + 1) \bmod 12}.
    """
    lai = np.asarray(lai_monthly, dtype=float)
    t = np.asarray(times).astype("datetime64[s]")
    year = t.astype("datetime64[Y]")
    days = (((year + 1).astype("datetime64[D]") - year.astype("datetime64[D]")).astype(int)
            .astype(float))
    doy = (t - year.astype("datetime64[s]")).astype(np.int64) / 86400.0
    pos = doy / days * 12.0 - 0.5
    m0 = np.floor(pos).astype(int)
    w = (pos - m0).reshape(pos.shape + (1,) * (lai.ndim - 1))
    return (1.0 - w) * lai[m0 % 12] + w * lai[(m0 + 1) % 12]


def lai_series(lai_for_year, times, utc_offset_hours: float = 0.0) -> np.ndarray:
    """LAI at each time of ``times`` (datetime64), using ``lai_for_year(year) -> 12 monthly
    values`` for each calendar year met.

    The climatology follows local time, ``utc_offset_hours`` ahead of ``times``: give UTC times
    and the forcing's offset (PLUMBER2 sites keep local standard time), or times already on the
    climatology's clock and 0."""
    offset = np.timedelta64(int(round(utc_offset_hours * 3600)), "s")
    times = np.asarray(times).astype("datetime64[s]") + offset
    years = times.astype("datetime64[Y]")
    out = np.empty(times.shape, dtype=float)
    for y in np.unique(years):
        sel = years == y
        out[sel] = monthly_lai(np.asarray(lai_for_year(int(str(y))), float).reshape(12),
                               times[sel])
    return out


def initial_model_state(soil, soil_moisture=None, soil_temperature=None) -> ModelState:
    """The documented default state (:meth:`ColumnState.default`), with the soil moisture
    (m3 m-3, shape (nlayer,) or (N, nlayer), all liquid) and soil temperature (K) replaced when
    given."""
    state = ModelState.default(soil)
    cols = state.columns
    dz = colm_layer_thickness(soil.n_layers)
    if soil_moisture is not None:
        sm = np.broadcast_to(np.asarray(soil_moisture, dtype=float), cols.w_liq.shape)
        cols = replace(cols, w_liq=np.array(sm * RHO_WATER * dz), w_ice=np.zeros_like(cols.w_ice))
    if soil_temperature is not None:
        t = np.broadcast_to(np.asarray(soil_temperature, dtype=float), cols.t_soil.shape)
        cols = replace(cols, t_soil=np.array(t))
    return replace(state, columns=cols)


@dataclass
class RunResult:
    """Per-step records of a run (first column when ``keep_column`` is used)."""

    state: ModelState
    precipitation: np.ndarray     # mm s-1, (nstep,)
    evapotranspiration: np.ndarray
    runoff: np.ndarray            # surface runoff, mm s-1
    drainage: np.ndarray          # base flow - correction, mm s-1 (total_runoff - runoff)
    total_runoff: np.ndarray
    residual: np.ndarray          # mm per step
    soil_moisture: np.ndarray | None  # (nstep, nlayer) m3 m-3, end of step
    soil_temperature: np.ndarray | None  # (nstep, nlayer) K, end of step
    start_water: float
    runtime_s: float


def run_steps(state: ModelState, params, forcing, lai, dt: float = 1800.0, *, z_ref=10.0,
              keep_layers: bool = False, progress=None) -> RunResult:
    """Step one column (column 0 is recorded) over every step of ``forcing`` (a record already
    interpolated to ``dt``). ``lai`` has one value per step; ``progress(k, n)`` is called after
    each step when given."""
    n = len(forcing.times)
    nl = state.columns.w_liq.shape[1]
    p, et, ro, dr, tr, res = (np.zeros(n) for _ in range(6))
    sm = np.zeros((n, nl)) if keep_layers else None
    ts = np.zeros((n, nl)) if keep_layers else None
    start_water = float(state.columns.total_water()[0])
    t0 = time.perf_counter()
    for k in range(n):
        state, fx = step(state, params, forcing_at(forcing, k), lai[k], dt, z_ref=z_ref)
        et[k], res[k] = fx.evapotranspiration[0], fx.residual[0]
        p[k], tr[k], ro[k] = fx.precipitation[0], fx.total_runoff[0], fx.runoff[0]
        dr[k] = tr[k] - ro[k]
        if keep_layers:
            sm[k] = state.columns.volumetric()[0]
            ts[k] = state.columns.t_soil[0]
        if progress is not None:
            progress(k + 1, n)
    return RunResult(state=state, precipitation=p, evapotranspiration=et, runoff=ro,
                     drainage=dr, total_runoff=tr, residual=res, soil_moisture=sm,
                     soil_temperature=ts, start_water=start_water,
                     runtime_s=time.perf_counter() - t0)
