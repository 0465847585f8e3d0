"""Checkpoint/restart of cycling runs: verified, atomically written HDF5 files.

See :mod:`landia.checkpoint.store` and ``docs/checkpoint.md``.
"""

from __future__ import annotations

from landia.checkpoint.store import (Checkpoint, CheckpointError, ConfigMismatchError,
                                     checkpoint_name, keep_last, latest_valid,
                                     list_checkpoints, load_checkpoint, payload_checksum,
                                     remove_temporaries, write_checkpoint)

__all__ = ["Checkpoint", "CheckpointError", "ConfigMismatchError", "checkpoint_name",
           "keep_last", "latest_valid", "list_checkpoints", "load_checkpoint",
           "payload_checksum", "remove_temporaries", "write_checkpoint"]
