"""The progress bar of ``landia column``: a redrawn line every 5 %, nothing when disabled."""

from __future__ import annotations

from landia.commands.progress import ProgressBar


def test_redrawn_every_5_percent_and_ended_by_a_newline(capsys):
    bar = ProgressBar("column")
    for k in range(1, 201):
        bar(k, 200)
    err = capsys.readouterr().err
    lines = err.split("\r")[1:]
    assert len(lines) == 21  # after the first step (0 %), then 5 %, 10 %, ..., 100 %
    assert lines[0].startswith("column [....................]   0% step 1/200 ")
    assert lines[1].startswith("column [#...................]   5% step 10/200 ")
    assert lines[-1].startswith("column [####################] 100% step 200/200 ")
    assert err.endswith("\n") and err.count("\n") == 1
    assert "eta" in lines[0]


def test_disabled_prints_nothing(capsys):
    bar = ProgressBar("column", enabled=False)
    for k in range(1, 11):
        bar(k, 10)
    assert capsys.readouterr().err == ""
