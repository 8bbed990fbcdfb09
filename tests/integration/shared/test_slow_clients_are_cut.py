"""A client of a service's HTTP app that sends its request head or body too slowly is cut, with
a real uvicorn on a loopback port and raw sockets dribbling bytes; a normal client is served all
the while."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi import APIRouter, Request
from prometheus_client import CollectorRegistry

from shared.health import HealthServer, Readiness, make_health_app
from shared.http_limits import MAX_HEAD_BYTES, HttpLimits

LIMITS = HttpLimits(header_timeout_s=1.0, body_timeout_s=1.0, keepalive_s=1.0)
pytestmark = pytest.mark.timeout(30)


def echo_router() -> APIRouter:
    router = APIRouter()

    @router.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    return router


@pytest.fixture
def port() -> Iterator[int]:
    readiness = Readiness({})
    app = make_health_app(
        service="test",
        heartbeats=[],
        readiness=readiness,
        registry=CollectorRegistry(),
        status=dict,
        routers=[echo_router()],
    )
    server = HealthServer(app, host="127.0.0.1", port=0, limits=LIMITS)
    server.start()
    yield server.port
    server.stop()
    readiness.close()


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=10)


class Dribbler:
    """A raw connection sending `payload` one byte at a time, `every_s` apart, until cut."""

    def __init__(self, sock: socket.socket, payload: bytes, *, every_s: float = 0.1) -> None:
        self.sock = sock
        self.payload = payload
        self.every_s = every_s
        self.answer = b""
        self.cut_after_s: float | None = None

    def run(self) -> Dribbler:
        started = time.monotonic()
        try:
            for byte in self.payload:
                self.sock.sendall(bytes([byte]))
                time.sleep(self.every_s)
            self.answer = self.sock.recv(4096)
        except (ConnectionResetError, BrokenPipeError):
            pass
        self.answer += self._rest()
        self.cut_after_s = time.monotonic() - started
        self.sock.close()
        return self

    def _rest(self) -> bytes:
        try:
            self.sock.settimeout(5)
            return self.sock.recv(4096)
        except (OSError, TimeoutError):
            return b""


def test_a_client_dribbling_its_headers_gets_a_408_and_is_cut(port: int) -> None:
    # Given a client sending a never-ending head, a byte every 0.1 s (the deadline is 1 s)
    head = b"GET /healthz HTTP/1.1\r\nhost: x\r\n" + b"x-slow: " + b"a" * 200

    dribbler = Dribbler(connect(port), head).run()

    assert dribbler.cut_after_s is not None
    assert dribbler.cut_after_s < 5, "the server waited as long as the client kept sending"
    assert dribbler.answer.startswith(b"HTTP/1.1 408 ")


def test_a_client_that_connects_and_says_nothing_is_cut(port: int) -> None:
    with connect(port) as sock:
        started = time.monotonic()
        answer = sock.recv(4096)
        assert sock.recv(4096) == b""
        took = time.monotonic() - started

    assert answer.startswith(b"HTTP/1.1 408 ")
    assert took < 5


def test_a_client_dribbling_its_body_is_cut(port: int) -> None:
    head = b"POST /echo HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
    body = b"{" + b" " * 200 + b"}"
    request = head + f"content-length: {len(body)}\r\n\r\n".encode()
    sock = connect(port)
    sock.sendall(request)  # the head at once

    dribbler = Dribbler(sock, body).run()

    assert dribbler.cut_after_s is not None
    assert dribbler.cut_after_s < 5
    assert b'"bytes"' not in dribbler.answer, "the app never got the whole body"


def test_a_head_growing_past_the_cap_is_a_400(port: int) -> None:
    with connect(port) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: ")
        for _ in range(MAX_HEAD_BYTES // 4096 + 1):
            time.sleep(0.05)  # in pieces, as a head too big for one read arrives
            sock.sendall(b"a" * 4096)
        answer = sock.recv(4096)

    assert answer.startswith(b"HTTP/1.1 400 ")


def test_an_idle_keep_alive_connection_is_closed(port: int) -> None:
    with connect(port) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 200 ")
        started = time.monotonic()
        assert sock.recv(4096) == b""

    assert time.monotonic() - started < 5


def test_normal_clients_are_served_while_slow_ones_hang_on(port: int) -> None:
    # Given twenty slow clients holding connections
    slow = [Dribbler(connect(port), b"GET /healthz HTTP/1.1\r\n" + b"x" * 100) for _ in range(20)]
    threads = [threading.Thread(target=each.run) for each in slow]
    for thread in threads:
        thread.start()
    # When a normal client asks, several times on one keep-alive connection
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
        answers = [client.get("/healthz").status_code for _ in range(3)]
        posted = client.post("/echo", content=b"x" * 100_000)
    for thread in threads:
        thread.join(10)

    # Expect it served at once, the slow ones all cut
    assert answers == [200, 200, 200]
    assert posted.json() == {"bytes": 100_000}
    assert all(each.answer.startswith(b"HTTP/1.1 408 ") for each in slow)
