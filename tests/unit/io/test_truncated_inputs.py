"""Every kind of netCDF input landia reads, written whole in netCDF-3 classic, 64-bit offset and
netCDF-4, reads; cut at 60 % (``head -c``, a copy still running) it is refused with an
InputError naming the file, where netCDF-3 used to be read with zeros for the missing data."""

from __future__ import annotations

import netCDF4
import numpy as np
import pytest

from landia.analysis import run_analysis
from landia.config import settings_from_dict
from landia.errors import InputError
from landia.forcing.alma import read_alma
from landia.forcing.gridded import GriddedFiles
from landia.io.analysis_file import read_analysis, write_analysis
from landia.io.climatology_file import read_climatology, write_climatology
from landia.io.column_output import ColumnOutput, read_column_output, write_column_output
from landia.io.column_state import read_column_state, write_column_state
from landia.io.fields import SoilMoistureField, read_field, write_field
from landia.io.site import read_site
from landia.observations.products import read_product
from landia.observations.rescaling import climatology_statistics
from tests.conftest import make_case
from tests.unit.forcing.forcing_files import hours, write_grid
from tests.unit.forcing.test_alma import write_alma
from tests.unit.io.netcdf_files import FORMATS, convert, cut
from tests.unit.io.test_site import _write as write_site_file

LAT, LON = np.linspace(40.5, 44.5, 9), np.linspace(110.5, 116.5, 12)
RNG = np.random.default_rng(5)


def _field(role):
    values = 0.1 + 0.3 * RNG.random((3, LAT.size, LON.size))
    variance = None if role == "field" else np.full(values.shape, 4e-4)
    return SoilMoistureField(lat=LAT, lon=LON, depth=np.array([0.0071, 0.0279, 0.0623]),
                             values=values, error_variance=variance,
                             porosity=np.full(values.shape, 0.45),
                             valid_time=np.datetime64("2016-05-01T06:00", "s"))


def _write_field(role):
    return lambda p: write_field(p, _field(role), role)


def _write_climatology(p):
    model = 0.1 + 0.3 * RNG.random((20, 2, 4, 5))
    clim = climatology_statistics(model, model + 0.02, 5, lat=LAT[:4], lon=LON[:5],
                                  depth=[0.0071, 0.0279], start="2016-05-01T06:00",
                                  end="2016-05-05T12:00")
    write_climatology(p, clim)


def _write_column_output(p):
    nt = 48
    write_column_output(p, ColumnOutput(
        time=np.datetime64("2008-01-01T01:00:00") + np.arange(nt) * np.timedelta64(3600, "s"),
        soil_moisture=RNG.uniform(0.1, 0.4, (nt, 10)),
        soil_temperature=RNG.uniform(260, 290, (nt, 10)),
        evapotranspiration=RNG.uniform(0, 1e-4, nt), runoff=RNG.uniform(0, 1e-5, nt),
        drainage=RNG.uniform(0, 1e-6, nt), water_budget_residual=RNG.normal(0, 1e-12, nt),
        latitude=44.59, longitude=123.51, attributes={"site": "CN-Cng"}))


def _write_gridded(p):
    write_grid(p, LAT, LON, hours("2016-05-01", 24),
               {"x": (280 + RNG.random((24, LAT.size, LON.size)), {"units": "K"})})


def _read_gridded(p):
    files = GriddedFiles([p])
    return files.read(["x"], files.locate([42.0], [113.0]))["x"]


def _write_era5_soil_moisture(p):
    with netCDF4.Dataset(p, "w") as ds:
        ds.createDimension("time", 4)
        ds.createDimension("latitude", LAT.size)
        ds.createDimension("longitude", LON.size)
        t = ds.createVariable("time", "f8", ("time",))
        t.units, t.calendar = "hours since 1900-01-01 00:00:00", "gregorian"
        t[:] = 1016832 + 6 * np.arange(4)
        for name, c in (("latitude", LAT[::-1]), ("longitude", LON)):
            v = ds.createVariable(name, "f8", (name,))
            v[:] = c
        v = ds.createVariable("swvl1", "f4", ("time", "latitude", "longitude"))
        v.units = "m**3 m**-3"
        v[:] = 0.1 + 0.3 * RNG.random((4, LAT.size, LON.size))
        ds.createVariable("lsm", "f4", ("latitude", "longitude"))[:] = 1.0


@pytest.fixture(scope="module")
def analysis():
    bg, obs = make_case(shape=(12, 14), layers=2)
    settings = settings_from_dict({"analysis": {"terms": ["background", "point", "image"],
                                                "upper_bound": 0.5, "layers": 2}})
    return run_analysis(bg, obs, settings), settings


#: kind -> (write a valid netCDF-4 file, read it)
KINDS = {
    "observation": (_write_field("observation"), lambda p: read_field(p, "observation")),
    "background": (_write_field("background"), lambda p: read_field(p, "background")),
    "model state": (_write_field("field"), read_field),
    "initial state": (lambda p: write_column_state(p, np.full(10, 0.3), np.full(10, 285.0)),
                      read_column_state),
    "climatology": (_write_climatology, read_climatology),
    "forcing (ALMA)": (lambda p: write_alma(p, n=96), lambda p: read_alma(p, utc_offset_hours=0)),
    "forcing (gridded)": (_write_gridded, _read_gridded),
    "site": (write_site_file, read_site),
    "product (ERA5 soil moisture)": (_write_era5_soil_moisture, read_product),
    "column output": (_write_column_output, read_column_output),
}


def _check(tmp_path, write, read, fmt):
    written = tmp_path / "written.nc"
    write(written)
    whole = convert(written, tmp_path / "whole.nc", fmt) if fmt != "NETCDF4" else written
    read(whole)  # the whole file reads
    bad = cut(whole, tmp_path / "half_written.nc", 0.6)
    with pytest.raises(InputError, match=r"half_written\.nc: .*truncated or still being "
                                         r"written: (its header declares|the file ends)"):
        read(bad)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", list(KINDS))
def test_every_input_kind_cut_short_is_refused(tmp_path, kind, fmt):
    write, read = KINDS[kind]
    _check(tmp_path, write, read, fmt)


def test_analysis_file_cut_short_is_refused(tmp_path, analysis):
    """netCDF-4 only: an analysis file has types netCDF-3 cannot hold (landia writes it)."""
    result, settings = analysis
    _check(tmp_path, lambda p: write_analysis(p, result, settings), read_analysis, "NETCDF4")


def test_netcdf3_observation_cut_short_no_longer_reads_as_zeros(tmp_path):
    """The issue's repro at the reader: layer 3 of a netCDF-3 observation cut at 60 % read as
    0.0 everywhere."""
    write_field(tmp_path / "obs.nc", _field("observation"), "observation")
    whole = convert(tmp_path / "obs.nc", tmp_path / "obs3.nc", "NETCDF3_CLASSIC")
    assert np.nanmin(read_field(whole, "observation").values[2]) > 0.09
    with pytest.raises(InputError, match="truncated or still being written"):
        read_field(cut(whole, tmp_path / "obs_cut.nc", 0.6), "observation")
