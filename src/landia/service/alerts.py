"""Alerts: one JSON object per line in ``alerts.jsonl``, appended and fsynced.

Kinds: ``missing_feed``, ``late_feed``, ``duplicate_feed``, ``unexpected_file``,
``corrupt_file``, ``launch_failed`` (docs/serve.md, "State, status, alerts").
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path


def alert_record(kind: str, analysis_time: str | None, file: str, message: str,
                 at: str | None) -> dict:
    """One alert: its kind, analysis time, file and message, the scheduler clock's time
    ``at`` and the real UTC time."""
    return {"alert": kind, "analysis_time": analysis_time, "file": file, "message": message,
            "at": at, "wall_clock": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def append_alert(path: Path, record: dict) -> None:
    """Append ``record`` as one line of ``path`` and fsync it (monitoring tails the file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
