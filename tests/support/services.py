"""Running a podrunner service under test: on threads of the test process, and waiting for it."""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field

import httpx

from shared import running

#: The reconciler API's bearer token in tests that run services (16 characters or more).
API_TOKEN = "test-api-token-0123456789abcdef"
#: The headers of a write to the API of such a service.
API_HEADERS = {"Authorization": f"Bearer {API_TOKEN}", "Content-Type": "application/json"}


@dataclass
class InProcess:
    """A service started on a thread of the test process (its signals stay the test's)."""

    service: running.Service
    port: int
    thread: threading.Thread = field(init=False)
    exit_codes: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.thread = threading.Thread(
            target=lambda: self.exit_codes.append(self.service.run()), name=self.service.name
        )

    def start(self) -> InProcess:
        self.thread.start()
        wait_ready(self.port)
        return self

    def stop(self) -> int:
        self.service.stop.set()
        self.thread.join(30)
        assert not self.thread.is_alive(), f"the {self.service.name} did not stop"
        return self.exit_codes[0]


def wait_ready(port: int, timeout_s: float = 30) -> None:
    """Wait until the health app on `port` says ready."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return
        time.sleep(0.05)
    raise AssertionError(f"the service on port {port} never became ready")
