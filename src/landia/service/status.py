"""Serve's status: ``status.json`` (rewritten atomically) and a tiny HTTP endpoint for it."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable

from landia.io.atomic import atomic_path


def write_status(path: Path, status: dict) -> None:
    """Write ``status`` as the JSON file ``path``, atomically (readers never see a part)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(status, indent=1) + "\n", encoding="utf-8")


class StatusServer:
    """A tiny HTTP endpoint in a daemon thread: ``GET /`` or ``/status`` returns the status
    JSON of ``source()``; anything else is 404."""

    def __init__(self, source: Callable[[], dict], host: str = "127.0.0.1", port: int = 0):
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                if self.path.split("?")[0] not in ("/", "/status"):
                    self.send_error(404, "try /status")
                    return
                body = (json.dumps(source(), indent=1) + "\n").encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):  # quiet
                pass

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self.address = self.httpd.server_address
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True,
                                        name="landia-serve-status")

    def start(self) -> "StatusServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
