"""Rank-aware structured logging with structlog.

Every event carries ``rank`` and ``size`` of the communicator the run was
started on. Rank 0 logs at the requested level; other ranks only log warnings
and errors, so that a 512-rank job does not print 512 copies of each line.

Two renderers: a human-readable console (default) and JSON lines
(``--log-format json``) for log shippers. :func:`log_to_file` also copies every event that
passes the level filter, as a JSON line, into a file (``landia cycle`` keeps one per rank in
its run directory, ``logs/events.rank<r>.jsonl``).

Progress lines (:func:`show_progress`: a line redrawn in place) go to a terminal only, never
into a redirected stderr, so that ``--log-format json`` output stays one JSON object per line;
a log line that follows one starts on a line of its own.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import structlog

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


def configure_logging(
    fmt: str = "console",
    level: str = "info",
    rank: int = 0,
    size: int = 1,
    stream: Any = None,
) -> None:
    """Configure structlog for this process.

    Parameters
    ----------
    fmt : {"console", "json"}
        Human-readable key=value console lines, or one JSON object per line.
    level : {"debug", "info", "warning", "error"}
        Threshold on rank 0; ranks > 0 use ``max(level, "warning")``.
    rank, size : int
        Position of this process in the run's communicator, bound to every event.
    stream : file-like, optional
        Where to write (default ``sys.stderr``).
    """
    if fmt not in ("console", "json"):
        raise ValueError(f"log format must be 'console' or 'json', got {fmt!r}")
    if level not in _LEVELS:
        raise ValueError(f"log level must be one of {sorted(_LEVELS)}, got {level!r}")
    threshold = _LEVELS[level] if rank == 0 else max(_LEVELS[level], logging.WARNING)
    renderer: Any
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=False, pad_event_to=32)
    structlog.reset_defaults()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _bind_rank(rank, size),
            structlog.processors.format_exc_info,
            _tee,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(threshold),
        logger_factory=structlog.PrintLoggerFactory(stream or _CurrentStderr()),
        cache_logger_on_first_use=False,
    )


_FILE: Any = None


def log_to_file(path: str | Path | None) -> None:
    """Also append every logged event as a JSON line to ``path`` (None: stop)."""
    global _FILE
    if _FILE is not None:
        _FILE.close()
        _FILE = None
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        _FILE = open(path, "a", encoding="utf-8", buffering=1)


def _tee(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    if _FILE is not None:
        _FILE.write(json.dumps(event, default=str, sort_keys=True) + "\n")
    return event


#: True while a progress line without its newline is on the terminal.
_PROGRESS_OPEN = False


def show_progress(text: str) -> None:
    """Draw ``text`` as the progress line on stderr, in place of the previous one, when stderr
    is a terminal; nothing otherwise (a redirected stderr gets log lines only).

    The line stays open (no newline): the next log line, or :func:`end_progress`, ends it.
    """
    global _PROGRESS_OPEN
    if sys.stderr.isatty():
        sys.stderr.write(f"\r{text}")
        sys.stderr.flush()
        _PROGRESS_OPEN = True


def end_progress() -> None:
    """End an open progress line with its newline (nothing when none is open)."""
    global _PROGRESS_OPEN
    if _PROGRESS_OPEN:
        _PROGRESS_OPEN = False
        sys.stderr.write("\n")
        sys.stderr.flush()


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is at write time (it may be redirected later); a log
    line after an open progress line starts on a new line."""

    def write(self, text: str) -> int:
        end_progress()
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def _bind_rank(rank: int, size: int):
    def processor(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
        event.setdefault("rank", rank)
        event.setdefault("size", size)
        return event

    return processor


def get_logger(name: str | None = None, **bound: Any) -> Any:
    """Return a structlog logger, optionally with context bound (e.g. ``cycle=...``)."""
    log = structlog.get_logger(name) if name else structlog.get_logger()
    return log.bind(**bound) if bound else log
