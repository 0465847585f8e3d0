"""``landia column``: one CoLM-style soil column at a site, hourly CF netCDF output."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from landia.columns.run import initial_model_state, lai_series, run_steps
from landia.commands.exit_status import root_only
from landia.commands.outputs import check_output
from landia.commands.progress import ProgressBar
from landia.errors import InputError
from landia.forcing.alma import read_alma
from landia.forcing.interpolate import interpolate_forcing
from landia.io.column_output import ColumnOutput, hourly_means, write_column_output
from landia.io.column_state import read_column_state
from landia.io.site import column_parameters, read_reference_height, read_site
from landia.log import get_logger

#: Model step, s (CoLM's half hour; the output is hourly means).
DT = 1800.0


def add_parser(subparsers):
    """Add ``column`` to ``landia``'s sub-parsers; returns its parser."""
    c = subparsers.add_parser("column", help="run one soil column at a site over a period",
                              description="Run one CoLM-style soil column with ALMA/PLUMBER2 "
                                          "site forcing (dt = 1800 s) and write hourly CF "
                                          "netCDF output. --start/--end are ISO dates or "
                                          "date-times in UTC (e.g. 2008-01-01 or "
                                          "2008-01-01T00:00); the run covers [start, end).")
    c.add_argument("--forcing", required=True, help="ALMA/PLUMBER2 forcing file (netCDF)")
    c.add_argument("--site", required=True, help="CoLM/PLUMBER2 site file (netCDF)")
    c.add_argument("--initial-state", default=None,
                   help="initial soil_moisture(layer) [m3 m-3] and optional "
                        "soil_temperature(layer) [K] (default: half saturated, 283.15 K)")
    c.add_argument("--start", required=True, help="first instant, ISO date/time, UTC")
    c.add_argument("--end", required=True, help="end instant (exclusive), ISO date/time, UTC")
    c.add_argument("--output", required=True, help="hourly output file to write (netCDF)")
    c.add_argument("--utc-offset", type=float, default=None,
                   help="hours local minus UTC of the forcing clock when its time units carry "
                        "no zone (default: from the longitude, PLUMBER2 local standard time)")
    c.add_argument("--no-progress", action="store_true", help="no progress line on stderr")
    return c


def run(args, settings, comm) -> int:
    """One column: the root runs it; the other ranks wait for its status."""
    return root_only(comm, lambda: column(args))


def column(args) -> int:
    """Check the options and files, build the column, run it, write the hourly output."""
    log = get_logger("landia")
    start = parse_utc("--start", args.start)
    end = parse_utc("--end", args.end)
    if end <= start:
        raise InputError(f"--end {args.end}: must be after --start {args.start}")
    if (end - start).astype(np.int64) % 3600:
        raise InputError(f"--start {args.start} / --end {args.end}: the period must be a whole "
                         "number of hours (the output is hourly)")
    out_path = check_output(args.output, {"--forcing": args.forcing, "--site": args.site,
                                          "--initial-state": args.initial_state})
    for option, path in (("--forcing", args.forcing), ("--site", args.site),
                         ("--initial-state", args.initial_state)):
        if path is not None and not Path(path).exists():
            raise InputError(f"{option} {path}: file not found")
    site = read_site(args.site)
    init = None
    if args.initial_state is not None:
        init = read_column_state(args.initial_state, porosity=site.soil.porosity[0])
    forcing = read_alma(args.forcing, utc_offset_hours=args.utc_offset)
    model = interpolate_forcing(forcing, start, end, DT)
    params = column_parameters(site)
    state = initial_model_state(site.soil, None if init is None else init.soil_moisture,
                                None if init is None else init.soil_temperature)
    z_ref = read_reference_height(args.site)
    lai = lai_series(lambda y: site.lai_for_year(y)[0], model.times, forcing.utc_offset_hours)
    log.info("column_start", forcing=str(args.forcing), site=str(args.site),
             start=str(start), end=str(end), steps=len(model.times), land_cover=site.land_cover,
             hydraulics=site.hydraulics, initial_state=str(args.initial_state or "default"))
    result = run_steps(state, params, model, lai, DT, z_ref=z_ref, keep_layers=True,
                    progress=ProgressBar("column", enabled=not args.no_progress))
    step_end = np.asarray(model.times).astype("datetime64[s]") + np.timedelta64(int(DT), "s")
    hour_end, rec = hourly_means(
        step_end, DT,
        states={"soil_moisture": result.soil_moisture,
                "soil_temperature": result.soil_temperature},
        fluxes={"evapotranspiration": result.evapotranspiration, "runoff": result.runoff,
                "drainage": result.drainage},
        sums={"water_budget_residual": result.residual})
    out = ColumnOutput(time=hour_end, latitude=site.latitude, longitude=site.longitude,
                       attributes={"forcing_file": str(args.forcing), "site_file": str(args.site),
                                   "initial_state": str(args.initial_state or "default"),
                                   "land_cover": site.land_cover, "model_step_seconds": DT},
                       **rec)
    write_column_output(out_path, out)
    water_end = float(result.state.columns.total_water()[0])
    log.info("column_done", output=str(out_path), hours=len(hour_end),
             et_mm=round(float(result.evapotranspiration.sum() * DT), 2),
             precip_mm=round(float(result.precipitation.sum() * DT), 2),
             runoff_mm=round(float(result.runoff.sum() * DT), 2),
             drainage_mm=round(float(result.drainage.sum() * DT), 2),
             storage_change_mm=round(water_end - result.start_water, 2),
             max_abs_residual_mm=float(np.abs(result.residual).max()),
             runtime_s=round(result.runtime_s, 2))
    return 0


def parse_utc(option: str, text: str) -> np.datetime64:
    """``text`` as a numpy datetime64[s] in UTC; InputError naming ``option`` otherwise."""
    t = text.strip()
    if t.endswith("Z"):
        t = t[:-1]
    try:
        value = np.datetime64(t.replace(" ", "T"), "s")
    except ValueError:
        raise InputError(f"{option} {text!r}: expected an ISO date or date-time in UTC, e.g. "
                         "2008-01-01 or 2008-01-01T00:00") from None
    if np.isnat(value):
        raise InputError(f"{option} {text!r}: expected an ISO date or date-time in UTC")
    return value
