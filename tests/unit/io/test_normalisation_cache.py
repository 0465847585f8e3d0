"""The correlated B's normalisation on disk: round trip to the bit, and every unusable file
(truncated, garbage, another key, another length, a changed value) logged and not trusted."""

from __future__ import annotations

import numpy as np
import pytest
from structlog.testing import capture_logs

from landia.io.normalisation_cache import (load_normalisation, normalisation_path,
                                           store_normalisation)

KEY = "a" * 64


def _variance(n=257, seed=0):
    return np.random.default_rng(seed).random(n) + 0.1


def test_stored_variances_come_back_to_the_bit(tmp_path):
    v = _variance()
    path = store_normalisation(tmp_path / "cache", KEY, v)
    assert path == normalisation_path(tmp_path / "cache", KEY) and path.is_file()
    back = load_normalisation(tmp_path / "cache", KEY, v.size)
    assert back.dtype == np.float64 and np.array_equal(back.view(np.int64), v.view(np.int64))
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [path.name]  # no temporaries


def test_a_missing_file_is_none_without_a_warning(tmp_path):
    with capture_logs() as logs:
        assert load_normalisation(tmp_path, KEY, 10) is None
    assert logs == []


def _truncated(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _garbage(path):
    path.write_bytes(b"not a zip file at all" * 10)


def _flipped(path):
    """One byte of the variances changed (the zip's CRC catches it)."""
    raw = bytearray(path.read_bytes())
    v = _variance()
    at = bytes(raw).find(v[100:101].tobytes())
    raw[at] ^= 0x01
    path.write_bytes(bytes(raw))


def _rewritten(path):
    """A consistent zip whose variances are not those its checksum names."""
    with np.load(path) as data:
        key, sha = data["key"], data["sha256"]
    with open(path, "wb") as fh:
        np.savez(fh, key=key, variance=_variance() * 2.0, sha256=sha)


@pytest.mark.parametrize("spoil, reason", [(_truncated, "unreadable"), (_garbage, "unreadable"),
                                           (_flipped, "CRC"), (_rewritten, "sha256")])
def test_a_spoiled_file_is_logged_and_not_trusted(tmp_path, spoil, reason):
    path = store_normalisation(tmp_path, KEY, _variance())
    spoil(path)
    with capture_logs() as logs:
        assert load_normalisation(tmp_path, KEY, 257) is None
    [event] = [e for e in logs if e["event"] == "normalisation_cache_rejected"]
    assert event["file"] == str(path) and reason in event["reason"]


def test_another_key_or_length_inside_is_refused(tmp_path):
    path = store_normalisation(tmp_path, "b" * 64, _variance())
    path.rename(normalisation_path(tmp_path, KEY))      # a file under the wrong name
    with capture_logs() as logs:
        assert load_normalisation(tmp_path, KEY, 257) is None
    assert "holds key" in logs[0]["reason"]
    store_normalisation(tmp_path, KEY, _variance())
    with capture_logs() as logs:
        assert load_normalisation(tmp_path, KEY, 300) is None
    assert "expected float64 (300,)" in logs[0]["reason"]


def test_a_non_positive_variance_is_refused(tmp_path):
    v = _variance()
    v[3] = 0.0
    store_normalisation(tmp_path, KEY, v)
    with capture_logs() as logs:
        assert load_normalisation(tmp_path, KEY, v.size) is None
    assert "finite and > 0" in logs[0]["reason"]
