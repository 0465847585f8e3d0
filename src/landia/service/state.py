"""What ``landia serve`` remembers across restarts: ``state.json``, written atomically."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from landia.errors import LandiaError
from landia.io.atomic import atomic_path

STATE_VERSION = 1
HISTORY_KEPT = 500
COUNT_KEYS = ("cycles_ok", "with_observations", "model_only", "launches", "launch_failures",
              "retries", "missing_feeds", "late_feeds", "duplicate_feeds", "corrupt_files",
              "unexpected_files")


@dataclass
class ServeState:
    """What survives a restart (``state.json``)."""

    version: int = STATE_VERSION
    position: str | None = None  # last analysis time finished (completed or given up)
    last_completed: str | None = None  # last analysis time whose launch succeeded
    pending: dict | None = None  # {"time", "obs": "delivered"|"model_only"} before launch
    last_error: str | None = None
    counts: dict = field(default_factory=lambda: {k: 0 for k in COUNT_KEYS})
    history: list = field(default_factory=list)  # recent outcomes, newest last

    @classmethod
    def load(cls, path: Path) -> "ServeState":
        if not path.exists():
            return cls()
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise LandiaError(f"{path}: serve state file unreadable ({exc}); it is written "
                              f"atomically, so this is not a crash of serve: inspect or "
                              f"remove it (serve then restarts from first_analysis and "
                              f"`landia cycle` skips what is done)") from None
        state = cls(**{k: raw[k] for k in asdict(cls()) if k in raw})
        state.counts = {**{k: 0 for k in COUNT_KEYS}, **state.counts}
        return state

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.history = self.history[-HISTORY_KEPT:]
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(asdict(self), indent=1) + "\n", encoding="utf-8")

    def outcome(self, t: str) -> dict | None:
        for h in reversed(self.history):
            if h["time"] == t:
                return h
        return None
