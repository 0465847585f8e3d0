"""Real-data check of the full column step (issue 3): CN-Cng (Changling grassland), 2008.

Forcing: the PLUMBER2 ALMA file (local standard time, UTC+8), read by
:func:`landia.forcing.alma.read_alma` and put on the 1800 s model step. The year run is the
local calendar year 2008 (UTC 2007-12-31 16:00 to 2008-12-31 16:00), so that model step k is
the flux file's half hour k. Column: one grassland column, loam (40 % sand, 20 % clay, Cosby
1984; the site file gives no clay fraction), the site file's monthly LAI for 2008 interpolated
linearly between mid-months, its reference height (6 m), the default initial state (half
saturated, 283.15 K, aquifer 4800 mm), no spin-up.

Observations: ``Qle`` of the flux file (gap-filled), converted to mm with 2.45e6 J kg-1.
Issue 3's targets: annual ET within 25 % of the observed, daily correlation >= 0.7 over the
growing season (May-September), water budget closed.
"""

from __future__ import annotations

import netCDF4
import numpy as np
import pytest

from landia.columns.model import ModelState
from landia.columns.run import monthly_lai, run_steps
from landia.columns.soil import SoilParameters
from landia.columns.state import ColumnParameters
from landia.forcing.alma import read_alma
from landia.forcing.interpolate import interpolate_forcing

SITE = "plumber2_CN-Cng"
PREFIX = "CN-Cng_2008-2009_FLUXNET2015_"
DT = 1800.0
STEPS = 366 * 48  # 2008 is a leap year
LAMBDA_OBS = 2.45e6  # J kg-1, the conversion the issue names


def run_cn_cng_2008(folder):
    """Run the column through local 2008; returns a dict of half-hourly series and figures."""
    forcing = read_alma(folder / f"{PREFIX}Met.nc", utc_offset_hours=8.0)
    model = interpolate_forcing(forcing, "2007-12-31T16:00", "2008-12-31T16:00", DT)
    with netCDF4.Dataset(folder / f"{PREFIX}site.nc") as site:
        years = list(np.asarray(site["LAI_year"][:]))
        lai_monthly = np.asarray(site["LAI_monthly"][years.index(2008)], dtype=float)
        z_ref = float(site["reference_height"][...])
    with netCDF4.Dataset(folder / f"{PREFIX}Flux.nc") as flux:
        qle = np.ma.filled(flux["Qle"][:STEPS], np.nan).ravel().astype(float)
    lai = monthly_lai(lai_monthly, np.arange(STEPS) / 48.0, 366.0)

    soil = SoilParameters.from_sand_clay(np.array([40.0]), np.array([20.0]))
    params = ColumnParameters.from_land_cover(soil, "grassland")
    run = run_steps(ModelState.default(soil), params, model, lai, DT, z_ref=z_ref)
    et, residual, p, r = run.evapotranspiration, run.residual, run.precipitation, run.total_runoff
    state, start_water, runtime = run.state, run.start_water, run.runtime_s

    obs = qle / LAMBDA_OBS * DT  # mm per half hour
    model_daily = (et * DT).reshape(366, 48).sum(axis=1)
    obs_daily = obs.reshape(366, 48).sum(axis=1)
    doy = np.arange(366)
    season = (doy >= 121) & (doy < 274)  # 1 May - 30 Sep 2008 (leap year)
    return {
        "et_mm": et.sum() * DT,
        "obs_mm": np.nansum(obs),
        "precip_mm": p.sum() * DT,
        "runoff_mm": r.sum() * DT,
        "storage_change_mm": state.columns.total_water()[0] - start_water,
        "max_abs_residual_mm": np.abs(residual).max(),
        "sum_residual_mm": residual.sum(),
        "r_daily_mjjas": np.corrcoef(model_daily[season], obs_daily[season])[0, 1],
        "runtime_s": runtime,
        "model_daily": model_daily,
        "obs_daily": obs_daily,
    }


@pytest.mark.slow
@pytest.mark.shared_data
def test_cn_cng_2008_evapotranspiration(shared_data):
    folder = shared_data / SITE
    if not (folder / f"{PREFIX}Met.nc").exists():
        pytest.skip(f"{folder} lacks the CN-Cng files")
    out = run_cn_cng_2008(folder)
    ratio = out["et_mm"] / out["obs_mm"]
    print(
        f"\nCN-Cng 2008: ET {out['et_mm']:.1f} mm, observed (Qle/2.45e6) {out['obs_mm']:.1f} mm "
        f"(ratio {ratio:.3f}); daily r May-Sep {out['r_daily_mjjas']:.3f}; P {out['precip_mm']:.1f} "
        f"mm, runoff {out['runoff_mm']:.1f} mm, storage change {out['storage_change_mm']:.1f} mm; "
        f"max |budget residual| {out['max_abs_residual_mm']:.2e} mm per step; "
        f"run {out['runtime_s']:.1f} s for {STEPS} steps"
    )
    # Budget: storage change = P - ET - runoff over the year, every step to round-off.
    assert out["max_abs_residual_mm"] < 1e-9
    assert abs(out["storage_change_mm"] - (out["precip_mm"] - out["et_mm"] - out["runoff_mm"])) < 1e-6
    # Issue 3's targets.
    assert abs(ratio - 1.0) <= 0.25
    assert out["r_daily_mjjas"] >= 0.7
