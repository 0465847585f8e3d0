"""Fixtures of the ``landia serve`` tests."""

from __future__ import annotations

import os

import pytest

from tests.unit.service.serve_case import CYCLE, SERVE


@pytest.fixture(autouse=True)
def _no_fsync(monkeypatch):
    """The fake clock polls hundreds of times; fsync of every status rewrite only slows the
    tests down (durability is not what they check)."""
    monkeypatch.setattr(os, "fsync", lambda fd: None)


@pytest.fixture
def site(tmp_path):
    (tmp_path / "cycle.toml").write_text(CYCLE)
    (tmp_path / "serve.toml").write_text(SERVE)
    return tmp_path
