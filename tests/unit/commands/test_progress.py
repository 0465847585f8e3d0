"""Progress lines: a redrawn line every 5 % on a terminal, nothing when disabled or when stderr
is redirected, and never run into the log line that follows (issue 14)."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys

import pytest

from landia.commands.progress import ProgressBar
from landia.log import configure_logging, get_logger, show_progress
from tests.unit.commands.test_column import PREFIX, SITE


@pytest.fixture
def terminal(monkeypatch):
    """A function that puts sys.stderr on a real pseudo-terminal (called in the test itself:
    pytest's capture resets sys.stderr after the fixtures) and returns a reader of what it got."""
    master, slave = pty.openpty()
    stream = os.fdopen(slave, "w", buffering=1)

    def read() -> str:
        stream.flush()
        chunks = []
        while True:
            ready, _, _ = select.select([master], [], [], 0.2)
            if not ready:
                break
            chunks.append(os.read(master, 65536))
        return b"".join(chunks).decode().replace("\r\n", "\n")  # the tty's newline mapping

    def on_terminal():
        monkeypatch.setattr(sys, "stderr", stream)
        return read

    yield on_terminal
    stream.close()
    os.close(master)


def test_redrawn_every_5_percent_and_ended_by_a_newline(terminal):
    read = terminal()
    bar = ProgressBar("column")
    for k in range(1, 201):
        bar(k, 200)
    err = read()
    lines = err.split("\r")[1:]
    assert len(lines) == 21  # after the first step (0 %), then 5 %, 10 %, ..., 100 %
    assert lines[0].startswith("column [....................]   0% step 1/200 ")
    assert lines[1].startswith("column [#...................]   5% step 10/200 ")
    assert lines[-1].startswith("column [####################] 100% step 200/200 ")
    assert err.endswith("\n") and err.count("\n") == 1
    assert "eta" in lines[0]


def test_disabled_prints_nothing(terminal):
    read = terminal()
    bar = ProgressBar("column", enabled=False)
    for k in range(1, 11):
        bar(k, 10)
    assert read() == ""


def test_a_redirected_stderr_gets_no_progress_line(capsys):
    bar = ProgressBar("column")
    for k in range(1, 11):
        bar(k, 10)
    show_progress("cycle 1/3")
    assert capsys.readouterr().err == ""


def test_a_log_line_after_a_progress_line_starts_on_its_own_line(terminal):
    read = terminal()
    configure_logging("json", "info")
    show_progress("cycle 1/3 2016-05-01T06 eta    1.0 s")
    get_logger("landia").info("cycle_done", cycle=1)
    lines = read().split("\n")
    assert lines[0] == "\rcycle 1/3 2016-05-01T06 eta    1.0 s"
    assert json.loads(lines[1])["event"] == "cycle_done"


@pytest.mark.shared_data
def test_column_json_log_redirected_to_a_file_is_clean_json_lines(shared_data, tmp_path):
    """Issue 14: ``landia column`` wrote its progress bar into a redirected stderr."""
    met, site = (shared_data / SITE / f"{PREFIX}{kind}.nc" for kind in ("Met", "site"))
    if not met.exists():
        pytest.skip(f"{met} is absent")
    with open(tmp_path / "log.jsonl", "w") as err:
        status = subprocess.run(
            [sys.executable, "-m", "landia", "column", "--forcing", str(met), "--site",
             str(site), "--start", "2008-05-01", "--end", "2008-05-02", "--output",
             str(tmp_path / "col.nc"), "--log-format", "json"],
            stderr=err, stdout=subprocess.DEVNULL, timeout=300).returncode
    assert status == 0
    text = (tmp_path / "log.jsonl").read_text()
    assert "\r" not in text
    events = [json.loads(line)["event"] for line in text.splitlines()]
    assert "column_done" in events
