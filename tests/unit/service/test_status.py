"""``landia serve``'s status endpoint serves what the status file holds."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from landia.service import Scheduler, StatusServer, load_serve_settings
from tests.unit.service.serve_case import FakeClock, FakeCycle, status


def test_status_endpoint(site):
    s = load_serve_settings(site / "serve.toml")
    sched = Scheduler(s, clock=FakeClock("2016-05-02T03:00"), launcher=FakeCycle())
    sched.run()
    server = StatusServer(lambda: sched.status, port=0).start()
    try:
        host, port = server.address[:2]
        with urllib.request.urlopen(f"http://{host}:{port}/status", timeout=10) as r:
            body = json.loads(r.read())
        assert body == status(site)
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"http://{host}:{port}/other", timeout=10)
    finally:
        server.stop()
