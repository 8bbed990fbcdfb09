"""The reconciler serves its API with the `PODRUNNER_HTTP_*` deadlines: a client dribbling a job
is cut, while a normal client submits at once."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import httpx
import orjson
import pytest

from tests.support import builders
from tests.support.services import API_HEADERS, API_TOKEN, InProcess

pytestmark = pytest.mark.timeout(60)


def test_a_job_posted_too_slowly_is_cut_and_a_normal_post_still_works(
    reconciler: Callable[[], InProcess], monkeypatch: pytest.MonkeyPatch, namespace: str
) -> None:
    monkeypatch.setenv("PODRUNNER_HTTP_HEADER_TIMEOUT_S", "1")
    monkeypatch.setenv("PODRUNNER_HTTP_BODY_TIMEOUT_S", "1")
    port = reconciler().port
    body = orjson.dumps(builders.job_dict(task_id="slow", namespace=namespace))
    head = (
        f"POST /api/v1/jobs HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {API_TOKEN}\r\n"
        f"content-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
    ).encode()

    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        cut_after_s = dribble(sock, body)
    fast = builders.job_dict(task_id="fast", namespace=namespace)
    response = httpx.post(
        f"http://127.0.0.1:{port}/api/v1/jobs", json=fast, headers=API_HEADERS, timeout=10
    )

    assert cut_after_s is not None, "the slow client was never cut"
    assert cut_after_s < 10
    assert response.status_code == 201, response.text
    listed = httpx.get(f"http://127.0.0.1:{port}/api/v1/tasks", headers=API_HEADERS).json()
    assert [task["task_id"] for task in listed["items"]] == ["fast"]


def dribble(sock: socket.socket, data: bytes) -> float | None:
    """Send `data` a byte every 0.1 s; how long until the server cut us (None: it never did)."""
    started = time.monotonic()
    try:
        for byte in data:
            sock.sendall(bytes([byte]))
            time.sleep(0.1)
    except (BrokenPipeError, ConnectionResetError):
        return time.monotonic() - started
    return None
