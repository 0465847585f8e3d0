"""Checkpoint files: bit-for-bit round trip, corruption detection, recovery and pruning."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from landia.checkpoint import (CheckpointError, ConfigMismatchError, checkpoint_name,
                               keep_last, latest_valid, list_checkpoints, load_checkpoint,
                               remove_temporaries, write_checkpoint)
from landia.checkpoint import store
from landia.columns.model import STATE_FIELDS
from tests.unit.exchange.test_decomposition import random_state

HASH = "cfg-0123abcd"
TIMES = ["2016-05-01T00:00", "2016-05-01T06:00", "2016-05-01T12:00", "2016-05-01T18:00"]


def write(d: Path, i: int, config_hash: str = HASH, **kw) -> Path:
    return write_checkpoint(d, random_state(20, seed=i), TIMES[i], i + 1, config_hash, **kw)


def same_bits(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def test_round_trip_is_bit_for_bit(tmp_path):
    state = random_state(37, nl=10, seed=3)
    # Values that a lossy path would alter: subnormal, exact halves, large.
    state.columns.w_liq[0, 0] = 5e-324
    state.columns.w_ice[1, 1] = 0.1 + 0.2
    rng = np.random.default_rng(9)
    extra = {"rng_state": np.arange(4, dtype=np.uint64) * np.uint64(2**61),
             "forcing_cursor": np.int64(1234), "mask": np.array([True, False]),
             "weights": rng.standard_normal((3, 2)).astype(">f4")}
    meta = {"cycle": 5, "mode": "DA", "ranks": 2, "nested": {"a": [1, 2.5, None]}}
    path = write_checkpoint(tmp_path, state, np.datetime64("2016-05-01T06:00"), 5, HASH,
                            metadata=meta, extra=extra)
    assert path == tmp_path / "checkpoint-20160501T0600.h5"
    cp = load_checkpoint(path, HASH)
    for n in STATE_FIELDS:
        assert same_bits(cp.state.arrays()[n], state.arrays()[n]), n
    assert cp.valid_time == np.datetime64("2016-05-01T06:00:00", "s")
    assert cp.next_cycle == 5 and cp.config_hash == HASH and cp.metadata == meta
    assert sorted(cp.extra) == sorted(extra)
    for k, v in extra.items():
        want = np.asarray(v).astype(np.asarray(v).dtype.newbyteorder("<"))
        assert same_bits(cp.extra[k], want), k
    assert cp.checksum.startswith("sha256:") and len(cp.checksum) == 7 + 64
    with h5py.File(path) as f:
        assert f.attrs["checksum"] == cp.checksum
        assert json.loads(f.attrs["run_metadata"]) == meta
        assert f["state/t_soil"].attrs["units"] == "K"


def test_names_and_listing(tmp_path):
    assert checkpoint_name("2016-05-01T06:00") == "checkpoint-20160501T0600.h5"
    assert checkpoint_name("2016-05-01T06:00:30") == "checkpoint-20160501T060030.h5"
    for i in (0, 2, 1):
        write(tmp_path, i)
    (tmp_path / ".checkpoint-20160501T1800.h5.abc123.tmp").write_bytes(b"partial")
    (tmp_path / "checkpoint-notes.txt").write_text("x")
    (tmp_path / "checkpoint-20160501T1800.h5.bak").write_text("x")
    assert [p.name for p in list_checkpoints(tmp_path)] == [
        "checkpoint-20160501T1200.h5", "checkpoint-20160501T0600.h5",
        "checkpoint-20160501T0000.h5"]
    assert list_checkpoints(tmp_path / "absent") == []
    assert latest_valid(tmp_path / "absent", HASH) is None
    assert latest_valid(tmp_path, HASH).next_cycle == 3
    assert remove_temporaries(tmp_path) == [tmp_path / ".checkpoint-20160501T1800.h5.abc123.tmp"]
    assert not list(tmp_path.glob(".*.tmp"))


def test_truncated_file_is_refused_and_previous_used(tmp_path):
    write(tmp_path, 0)
    p = write(tmp_path, 1)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_checkpoint(p, HASH)
    cp = latest_valid(tmp_path, HASH)
    assert cp.path.name == "checkpoint-20160501T0000.h5" and cp.next_cycle == 1


def test_flipped_payload_bytes_fail_the_checksum(tmp_path):
    write(tmp_path, 0)
    p = write(tmp_path, 1)
    with h5py.File(p) as f:
        offset = f["state/w_liq"].id.get_offset()
    raw = bytearray(p.read_bytes())
    raw[offset + 17] ^= 0x01  # one bit of one float64
    p.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="checksum mismatch"):
        load_checkpoint(p, HASH)
    assert latest_valid(tmp_path, HASH).path.name == "checkpoint-20160501T0000.h5"


def test_changed_attribute_fails_the_checksum(tmp_path):
    p = write(tmp_path, 0)
    with h5py.File(p, "a") as f:
        f.attrs["next_cycle"] = np.int64(99)
    with pytest.raises(CheckpointError, match="checksum mismatch"):
        load_checkpoint(p)


def test_file_of_zeros_and_empty_file(tmp_path):
    write(tmp_path, 0)
    p = tmp_path / checkpoint_name(TIMES[1])
    p.write_bytes(bytes(4096))
    with pytest.raises(CheckpointError):
        load_checkpoint(p)
    (tmp_path / checkpoint_name(TIMES[2])).write_bytes(b"")
    assert latest_valid(tmp_path, HASH).path.name == "checkpoint-20160501T0000.h5"


def test_missing_variable_and_wrong_dtype(tmp_path):
    p = write(tmp_path, 0)
    with h5py.File(p, "a") as f:
        del f["state/snow"]
    with pytest.raises(CheckpointError, match="'state/snow' is missing"):
        load_checkpoint(p)
    p = write(tmp_path, 1)
    with h5py.File(p, "a") as f:
        data = f["state/pond"][()]
        del f["state/pond"]
        f["state"].create_dataset("pond", data=data.astype(np.float32))
    with pytest.raises(CheckpointError, match="expected float64"):
        load_checkpoint(p)


def test_wrong_config_hash_is_refused_and_previous_used(tmp_path, capsys):
    write(tmp_path, 0)
    write(tmp_path, 1)
    write(tmp_path, 2, config_hash="other-hash")
    with pytest.raises(ConfigMismatchError, match="'other-hash'.*'cfg-0123abcd'"):
        load_checkpoint(tmp_path / checkpoint_name(TIMES[2]), HASH)
    cp = latest_valid(tmp_path, HASH)
    assert cp.path.name == "checkpoint-20160501T0600.h5"
    captured = capsys.readouterr()
    assert "checkpoint skipped" in captured.out + captured.err
    allowed = latest_valid(tmp_path, HASH, allow_config_change=True)
    assert allowed.config_hash == "other-hash"
    assert latest_valid(tmp_path, None).config_hash == "other-hash"
    assert latest_valid(tmp_path, "nothing-matches") is None


def test_keep_last_prunes_to_k(tmp_path):
    for i in range(4):
        write(tmp_path, i)
    removed = keep_last(tmp_path, 2, HASH)
    assert [p.name for p in removed] == ["checkpoint-20160501T0600.h5",
                                         "checkpoint-20160501T0000.h5"]
    assert [p.name for p in list_checkpoints(tmp_path)] == [
        "checkpoint-20160501T1800.h5", "checkpoint-20160501T1200.h5"]
    assert keep_last(tmp_path, 2, HASH) == []
    with pytest.raises(ValueError, match="k: expected an integer >= 1"):
        keep_last(tmp_path, 0)


def test_keep_last_never_removes_the_newest_valid(tmp_path):
    for i in range(4):
        write(tmp_path, i)
    for i in (2, 3):  # the two newest are corrupt
        (tmp_path / checkpoint_name(TIMES[i])).write_bytes(bytes(100))
    keep_last(tmp_path, 1, HASH)
    assert [p.name for p in list_checkpoints(tmp_path)] == [
        "checkpoint-20160501T1800.h5", "checkpoint-20160501T0600.h5"]
    assert latest_valid(tmp_path, HASH).path.name == "checkpoint-20160501T0600.h5"


def test_crash_during_write_leaves_nothing_visible(tmp_path, monkeypatch):
    write(tmp_path, 0)
    real = store._write_hdf5

    def crash(path, *args):
        real(path, *args)  # a complete file in the temporary...
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])  # ...then only half of it, and the crash
        raise KeyboardInterrupt("killed during the checkpoint write")

    monkeypatch.setattr(store, "_write_hdf5", crash)
    with pytest.raises(KeyboardInterrupt):
        write(tmp_path, 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-20160501T0000.h5"]
    assert latest_valid(tmp_path, HASH).next_cycle == 1


def test_crash_while_replacing_keeps_the_old_file(tmp_path, monkeypatch):
    p = write(tmp_path, 0)
    before = p.read_bytes()

    def crash(path, *args):
        path.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(50))
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "_write_hdf5", crash)
    with pytest.raises(RuntimeError):
        write_checkpoint(tmp_path, random_state(20, seed=7), TIMES[0], 1, HASH)
    assert p.read_bytes() == before
    assert [q.name for q in tmp_path.iterdir()] == [p.name]


@pytest.mark.parametrize("kw,match", [
    ({"valid_time": "not a time"}, "valid_time: expected a date-time"),
    ({"valid_time": np.datetime64("NaT")}, "valid_time"),
    ({"next_cycle": -1}, "next_cycle: expected an integer >= 0"),
    ({"next_cycle": 1.0}, "next_cycle"),
    ({"config_hash": ""}, "config_hash: expected a non-empty str"),
    ({"metadata": {"x": float("nan")}}, "metadata: expected a JSON-serialisable"),
    ({"metadata": {"x": object()}}, "metadata"),
    ({"extra": {"a/b": np.zeros(2)}}, "extra: expected names"),
    ({"extra": {"s": np.array(["x"])}}, "numeric or boolean"),
])
def test_invalid_arguments_write_nothing(tmp_path, kw, match):
    args = {"state": random_state(4), "valid_time": TIMES[0], "next_cycle": 0,
            "config_hash": HASH, **kw}
    with pytest.raises(ValueError, match=match):
        write_checkpoint(tmp_path, **args)
    assert list(tmp_path.iterdir()) == []


def test_missing_directory_and_file(tmp_path):
    from landia.errors import InputError

    with pytest.raises(InputError, match="does not exist"):
        write(tmp_path / "absent", 0)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "checkpoint-20160501T0000.h5")
