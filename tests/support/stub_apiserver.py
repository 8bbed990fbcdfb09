"""A tiny HTTP server answering every request with a canned status, body and headers.

Only for checking how the official client's errors are translated: each path maps to one answer,
so a test can make the real `kubernetes` client meet any status over real HTTP.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@contextmanager
def serving(answers: dict[str, Answer]) -> Iterator[str]:
    """Serve `answers` (path → answer) on a loopback port; yield the base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            answer = answers.get(self.path.split("?", 1)[0], Answer(404, b""))
            time.sleep(answer.delay_s)
            self.send_response(answer.status)
            content_type = "application/json" if answer.body.startswith(b"{") else "text/plain"
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(answer.body)

        def log_message(self, fmt: str, *args: object) -> None:
            """Quiet: the tests assert on answers, not on access logs."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="stub-apiserver")
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
