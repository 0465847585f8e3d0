"""``landia serve``'s incoming folder given a half-written netCDF-3 file, a file declaring
absurd dimensions and a FIFO: never delivered to the cycle. A half-written file is waited for
(``stable``) or refused (``rename``); the others are set aside with a ``corrupt_file`` alert."""

from __future__ import annotations

import os
import time

import pytest

from landia.io.fields import write_field
from landia.service import Scheduler
from landia.service.incoming import is_complete, netcdf_validator
from tests.conftest import make_case
from tests.unit.io.netcdf_files import absurd_field, convert, cut
from tests.unit.service.serve_case import (TIMES, FakeClock, FakeCycle, alerts, incoming,
                                           settings_for)


def _age(path, seconds=600):
    os.utime(path, (time.time() - seconds, time.time() - seconds), follow_symlinks=False)


def netcdf3(tmp_path):
    """A complete netCDF-3 observation file and its first 60 %."""
    write_field(tmp_path / "obs4.nc", make_case()[1], "observation")
    whole = convert(tmp_path / "obs4.nc", tmp_path / "whole.nc", "NETCDF3_CLASSIC")
    return whole, cut(whole, tmp_path / "half.nc", 0.6)


def test_stable_a_half_written_file_is_waited_for_then_delivered_whole(site, tmp_path):
    s = settings_for(site, 'completion = "stable"\nstable_seconds = 120\n')
    whole, half = netcdf3(tmp_path)
    (site / "incoming").mkdir()
    path = incoming(site, 0)
    path.write_bytes(half.read_bytes())
    _age(path)  # unchanged for 10 minutes: the writer is slow, or stalled
    assert not is_complete(path, "stable", 120)
    clock = FakeClock("2016-05-01T06:00")
    cycle = FakeCycle()
    Scheduler(s, clock=clock, launcher=cycle).run(once=True)
    assert cycle.calls == [] and path.exists() and alerts(site) == []
    path.write_bytes(whole.read_bytes())  # the writer finishes
    _age(path)
    Scheduler(s, clock=clock, launcher=cycle).run(once=True)
    assert cycle.ends() == TIMES[:1]
    assert (site / "run" / "obs" / "obs_20160501T0600.nc").read_bytes() == whole.read_bytes()


def test_rename_a_half_written_file_is_rejected(site, tmp_path):
    s = settings_for(site, "")
    _, half = netcdf3(tmp_path)
    (site / "incoming").mkdir()
    incoming(site, 0).write_bytes(half.read_bytes())
    cycle = FakeCycle()
    Scheduler(s, clock=FakeClock("2016-05-01T06:00"), launcher=cycle).run(once=True)
    assert cycle.calls == [] and not (site / "run" / "obs" / "obs_20160501T0600.nc").exists()
    (alert,) = alerts(site)
    assert alert["alert"] == "corrupt_file" and "rejected" in alert["file"]
    assert "truncated or still being written: its header declares" in alert["message"]


def test_a_file_with_absurd_dimensions_is_rejected(site):
    s = settings_for(site, "")
    (site / "incoming").mkdir()
    absurd_field(incoming(site, 0))
    assert "more than this machine's memory" in netcdf_validator(incoming(site, 0))
    cycle = FakeCycle()
    Scheduler(s, clock=FakeClock("2016-05-01T06:00"), launcher=cycle).run(once=True)
    assert cycle.calls == []
    (alert,) = alerts(site)
    assert alert["alert"] == "corrupt_file" and "variable 'soil_moisture'" in alert["message"]


@pytest.mark.timeout(120, method="thread")  # opening a FIFO would block the scheduler
@pytest.mark.parametrize("completion", ["rename", "marker", "stable"])
def test_a_fifo_is_set_aside_unopened(site, completion):
    s = settings_for(site, f'completion = "{completion}"\nstable_seconds = 120\n')
    (site / "incoming").mkdir()
    fifo = incoming(site, 0)
    os.mkfifo(fifo)
    _age(fifo)
    assert is_complete(fifo, completion, 120)
    cycle = FakeCycle()
    Scheduler(s, clock=FakeClock("2016-05-01T06:00"), launcher=cycle).run(once=True)
    assert cycle.calls == [] and not fifo.exists()
    (alert,) = alerts(site)
    assert alert["alert"] == "corrupt_file"
    assert "is a FIFO (named pipe), not a regular file" in alert["message"]
    assert not (site / "run" / "obs" / "obs_20160501T0600.nc").exists()
