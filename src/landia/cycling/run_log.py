"""The run's JSON-lines records (``run_log.jsonl``, ``alerts.jsonl``), exactly once per cycle.

A cycle's run-log line is written after its checkpoint; a kill between the two would lose it.
So the line also travels inside the checkpoint (its metadata, :data:`CHECKPOINT_KEY`, as the
JSON text of the line less the checkpoint's own timing), and a resume puts it back when the log
lacks it (:meth:`JsonLines.resume`). Lines of cycles after the checkpoint a run resumes from
(written by a run that was killed before its next checkpoint) are dropped first. After any
sequence of kills every cycle is therefore logged exactly once, in order, with the content an
uninterrupted run writes (timings aside). Alert lines are written before the checkpoint of
their cycle, so dropping the later ones is enough for them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from landia.io.atomic import atomic_path

#: Key of the cycle's run-log line (JSON text) in the checkpoint's metadata.
CHECKPOINT_KEY = "run_log_line"


def record_line(record: dict) -> str:
    """A record as one JSON line (sorted keys; the text stored in the checkpoint)."""
    return json.dumps(record, sort_keys=True)


class JsonLines:
    """An append-only JSON-lines file kept on the root, one record per line, fsynced."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def lines(self) -> list[tuple[str, dict]]:
        """(text, record) of each complete line of the file (a line cut by a kill is
        skipped)."""
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by a kill
            if isinstance(record, dict):
                out.append((line, record))
        return out

    def truncate_to_cycles_before(self, next_cycle: int) -> None:
        """Drop the records of cycles >= next_cycle (written by a run that was killed)."""
        if not self.path.exists():
            self.path.touch()
            return
        keep = [line for line, r in self.lines() if r.get("cycle", -1) < next_cycle]
        with atomic_path(self.path) as tmp:
            tmp.write_text("".join(line + "\n" for line in keep))

    def resume(self, next_cycle: int, checkpoint_line: str | None) -> bool:
        """Keep the records of cycles < ``next_cycle``; add the line stored in the checkpoint
        being resumed from (its cycle is ``next_cycle - 1``) when it is missing. True when
        the line was added."""
        self.truncate_to_cycles_before(next_cycle)
        if not checkpoint_line:
            return False
        record = json.loads(checkpoint_line)
        if any(r.get("cycle") == record.get("cycle") for _, r in self.lines()):
            return False
        self.append(record)
        return True

    def append(self, record: dict) -> None:
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(record_line(record) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
