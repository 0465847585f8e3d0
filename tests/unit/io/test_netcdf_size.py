"""Sizes of netCDF inputs: declared against found (netCDF-3 classic, 64-bit offset, CDF-5,
netCDF-4/HDF5), files that are not regular files, variables too large for memory."""

from __future__ import annotations

import os
import subprocess
import sys

import h5py
import netCDF4
import numpy as np
import pytest

from landia.errors import InputError
from landia.io.netcdf import check_signature, open_netcdf, read_values
from landia.io.netcdf_size import (check_complete, check_fits_in_memory, check_regular,
                                   declared_size, memory_bytes)
from tests.unit.io.netcdf_files import absurd_field, cut

ALL_FORMATS = ("NETCDF3_CLASSIC", "NETCDF3_64BIT_OFFSET", "NETCDF3_64BIT_DATA", "NETCDF4",
               "NETCDF4_CLASSIC")


def write(path, fmt, records=0):
    """Fixed-size variables of several types and ``records`` record variables (4 records)."""
    with netCDF4.Dataset(path, "w", format=fmt) as ds:
        ds.title = "sizes"
        ds.createDimension("layer", 3)
        ds.createDimension("lat", 5)
        ds.createDimension("lon", 7)
        ds.createVariable("lat", "f8", ("lat",))[:] = np.arange(5.0)
        ds.createVariable("soil_moisture", "f4", ("layer", "lat", "lon"))[:] = 0.25
        ds.createVariable("flag", "i1", ("lon",))[:] = 1
        if records:
            ds.createDimension("time", None)
            for k in range(records):
                v = ds.createVariable(f"r{k}", "i2" if k == 0 else "i1", ("time", "lat"))
                v[0:4] = k
    return path


@pytest.mark.parametrize("records", [0, 1, 2])
@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_declared_size_of_complete_files(tmp_path, fmt, records):
    path = write(tmp_path / "f.nc", fmt, records)
    found = path.stat().st_size
    declared = declared_size(path)
    assert declared is not None and found - 4 < declared <= found  # netCDF-3 pads to 4 bytes
    assert check_complete(path, "observation") == path
    with open_netcdf(path, "observation") as ds:
        assert read_values(ds, path, "soil_moisture").shape == (3, 5, 7)


@pytest.mark.parametrize("records", [0, 2])
@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_files_cut_short_are_refused_with_both_sizes(tmp_path, fmt, records):
    good = write(tmp_path / "good.nc", fmt, records)
    declared = declared_size(good)
    for keep in (declared - 1, int(good.stat().st_size * 0.6)):
        bad = tmp_path / "bad.nc"
        bad.write_bytes(good.read_bytes()[:keep])
        message = rf"bad\.nc: observation file is truncated or still being written: its " \
                  rf"header declares {declared} bytes, the file has {keep} "
        with pytest.raises(InputError, match=message):
            check_complete(bad, "observation")
        with pytest.raises(InputError, match=message):
            open_netcdf(bad, "observation")


@pytest.mark.parametrize("fmt", ["NETCDF3_CLASSIC", "NETCDF3_64BIT_DATA", "NETCDF4"])
def test_a_file_ending_inside_its_header(tmp_path, fmt):
    good = write(tmp_path / "good.nc", fmt)
    for keep in (5, 30):
        bad = tmp_path / "head.nc"
        bad.write_bytes(good.read_bytes()[:keep])
        with pytest.raises(InputError, match=rf"head\.nc: .*truncated or still being written: "
                                             rf"the file ends inside its header \({keep} bytes"):
            open_netcdf(bad, "forcing")


def test_netcdf3_truncated_was_read_as_zeros_and_is_refused_now(tmp_path):
    """The issue's case: the library opens a netCDF-3 file cut at 60 % and reads the missing
    values as 0 (checked here with netCDF4 directly); landia refuses it."""
    good = write(tmp_path / "good.nc", "NETCDF3_CLASSIC", records=1)
    bad = cut(good, tmp_path / "bad.nc", 0.6)
    with netCDF4.Dataset(bad) as ds:
        assert float(np.ma.filled(ds["r0"][...], 0).min()) == 0.0  # silently short
    with pytest.raises(InputError, match="truncated or still being written"):
        open_netcdf(bad, "observation")


def test_hdf5_superblock_after_a_user_block(tmp_path):
    path = tmp_path / "ub.h5"
    with h5py.File(path, "w", userblock_size=1024) as f:
        f["x"] = np.arange(1000.0)
    assert declared_size(path) == path.stat().st_size
    cut(path, tmp_path / "ub_cut.h5", 0.8)
    with pytest.raises(InputError, match=r"declares \d+ bytes, the file has \d+"):
        check_complete(tmp_path / "ub_cut.h5", "product")


def test_files_landia_cannot_judge_are_left_to_the_library(tmp_path):
    text = tmp_path / "notes.nc"
    text.write_text("not netCDF at all\n" * 40)
    assert declared_size(text) is None and check_complete(text, "field") == text
    with pytest.raises(InputError, match=r"notes\.nc: cannot open field file as netCDF"):
        open_netcdf(text, "field")


def test_folders_and_fifos_are_refused_by_name(tmp_path):
    (tmp_path / "sub").mkdir()
    with pytest.raises(InputError, match=r"sub: background file is a directory, not a "
                                         r"regular file"):
        check_regular(tmp_path / "sub", "background")
    fifo = tmp_path / "obs_20160501T0600.nc"
    os.mkfifo(fifo)
    for check in (check_regular, check_complete, check_signature):  # open_netcdf: below
        with pytest.raises(InputError, match=r"obs_20160501T0600\.nc: observation file is a FIFO "
                                             r"\(named pipe\), not a regular file"):
            check(fifo, "observation")
    with pytest.raises(InputError, match="not found"):
        check_complete(tmp_path / "absent.nc", "observation")


def test_opening_a_fifo_does_not_block(tmp_path):
    """In a child process with a time limit: opening a FIFO with no writer blocks for ever."""
    fifo = tmp_path / "obs.nc"
    os.mkfifo(fifo)
    code = ("import sys; from landia.io.netcdf import open_netcdf\n"
            "from landia.errors import InputError\n"
            "try:\n    open_netcdf(sys.argv[1], 'observation')\n"
            "except InputError as e:\n    print(e)\n")
    done = subprocess.run([sys.executable, "-c", code, str(fifo)], capture_output=True,
                          text=True, timeout=60)
    assert "is a FIFO (named pipe), not a regular file" in done.stdout, done.stderr


def test_variables_larger_than_memory_are_refused_before_reading(tmp_path):
    path = absurd_field(tmp_path / "huge.nc")
    with netCDF4.Dataset(path) as ds:
        check_fits_in_memory(ds, path, ["lat", "lon", "absent"])  # small enough, or absent
        with pytest.raises(InputError, match=r"huge\.nc: variable 'soil_moisture' has "
                                             r"dimensions \(layer=10, lat=2000000, "
                                             r"lon=2000000\): 4e\+13 values, .* GiB to read, "
                                             r"more than this machine's memory"):
            check_fits_in_memory(ds, path)
    assert 2**26 < memory_bytes() < 2**60


def test_a_long_netcdf3_header_is_read_in_pieces(tmp_path):
    path = tmp_path / "long.nc"
    with netCDF4.Dataset(path, "w", format="NETCDF3_64BIT_OFFSET") as ds:
        ds.history = "x" * 100_000  # a header of 100 kB, more than the first piece read
        ds.createDimension("n", 1000)
        ds.createVariable("v", "f8", ("n",))[:] = np.arange(1000.0)
    declared = declared_size(path)
    assert 108_000 <= declared <= path.stat().st_size
    bad = tmp_path / "long_cut.nc"
    bad.write_bytes(path.read_bytes()[:declared - 4000])
    with pytest.raises(InputError, match=rf"declares {declared} bytes, the file has "
                                         rf"{declared - 4000}"):
        check_complete(bad, "forcing")
    bad.write_bytes(path.read_bytes()[:50_000])
    with pytest.raises(InputError, match=r"ends inside its header \(50000 bytes\)"):
        check_complete(bad, "forcing")
