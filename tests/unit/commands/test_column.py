"""``landia column``: a short CN-Cng run to a CF file, and failures that write nothing."""

from __future__ import annotations

import netCDF4
import numpy as np
import pytest

from landia.cli import main
from landia.io.column_output import OUTPUT_VARIABLES, read_column_output

SITE = "plumber2_CN-Cng"
PREFIX = "CN-Cng_2008-2009_FLUXNET2015_"


@pytest.fixture
def cng(shared_data):
    folder = shared_data / SITE
    if not (folder / f"{PREFIX}Met.nc").exists():
        pytest.skip(f"{folder} lacks the CN-Cng files")
    return folder / f"{PREFIX}Met.nc", folder / f"{PREFIX}site.nc"


def column_args(met, site, out, start="2008-05-01", end="2008-05-04", *extra):
    return ["column", "--forcing", str(met), "--site", str(site), "--start", start,
            "--end", end, "--output", str(out), "--no-progress", *map(str, extra)]


@pytest.mark.shared_data
def test_short_cn_cng_run_writes_a_cf_file(cng, tmp_path, capsys):
    met, site = cng
    out = tmp_path / "col.nc"
    assert main(column_args(met, site, out)) == 0
    err = capsys.readouterr().err
    assert "column_done" in err and "et_mm" in err
    with netCDF4.Dataset(out) as ds:
        assert ds.Conventions == "CF-1.8"
        assert ds["time"].units == "seconds since 2008-05-01 00:00:00"
        assert ds["time"].calendar == "standard"
        assert ds["soil_moisture"].dimensions == ("time", "layer")
        assert ds["soil_temperature"].dimensions == ("time", "layer")
        for name, (units, *_rest) in OUTPUT_VARIABLES.items():
            assert ds[name].units == units
        assert len(ds.dimensions["time"]) == 72 and len(ds.dimensions["layer"]) == 10
    col = read_column_output(out)
    assert col.time[0] == np.datetime64("2008-05-01T01:00:00")
    assert col.time[-1] == np.datetime64("2008-05-04T00:00:00")
    assert np.abs(col.water_budget_residual).max() < 1e-9
    assert np.all((col.soil_moisture > 0) & (col.soil_moisture < 0.6))
    assert np.all((col.soil_temperature > 250) & (col.soil_temperature < 320))
    assert col.evapotranspiration.sum() * 3600 > 0.5  # mm over three May days
    xr = pytest.importorskip("xarray")
    with xr.open_dataset(out) as ds:
        assert ds["time"].values[0] == np.datetime64("2008-05-01T01:00:00")
        assert ds["soil_moisture"].shape == (72, 10)


@pytest.mark.shared_data
def test_initial_state_file_is_used(cng, tmp_path):
    from landia.io.column_state import write_column_state

    met, site = cng
    write_column_state(tmp_path / "init.nc", np.full(10, 0.2), np.full(10, 285.0))
    out = tmp_path / "col.nc"
    assert main(column_args(met, site, out, "2008-05-01", "2008-05-01T02:00",
                            "--initial-state", tmp_path / "init.nc")) == 0
    col = read_column_output(out)
    assert np.allclose(col.soil_moisture[0, 3:], 0.2, atol=0.01)


def test_missing_forcing_file(tmp_path, capsys):
    out = tmp_path / "col.nc"
    status = main(column_args(tmp_path / "nope_Met.nc", tmp_path / "site.nc", out))
    assert status == 2
    err = capsys.readouterr().err
    assert "--forcing" in err and "nope_Met.nc" in err and "not found" in err
    assert not out.exists()


def test_end_before_start(tmp_path, capsys):
    out = tmp_path / "col.nc"
    status = main(column_args(tmp_path / "m.nc", tmp_path / "s.nc", out, "2008-05-04",
                              "2008-05-01"))
    assert status == 2
    err = capsys.readouterr().err
    assert "--end" in err and "--start" in err
    assert not out.exists()


def test_bad_date(tmp_path, capsys):
    out = tmp_path / "col.nc"
    assert main(column_args(tmp_path / "m.nc", tmp_path / "s.nc", out, "May 1st")) == 2
    assert "--start" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.shared_data
def test_period_outside_the_forcing(cng, tmp_path, capsys):
    met, site = cng
    out = tmp_path / "col.nc"
    status = main(column_args(met, site, out, "2015-01-01", "2015-01-02"))
    assert status == 2
    err = capsys.readouterr().err
    assert met.name in err
    assert not out.exists()
