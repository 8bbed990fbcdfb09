"""Deadlines for the clients of podrunner's HTTP apps, so a slow one cannot hold a connection.

uvicorn closes an idle keep-alive connection, and h11 caps how much of a request's head it
buffers, but nothing bounds how long a client may take to send that head or the body after it:
a client dribbling one byte every few seconds (slowloris) keeps its connection, and a few hundred
of them starve the health endpoints kubelet probes. `guarded_protocol` returns uvicorn's h11
protocol with two deadlines of its own, both per request:

* the head (request line and headers) must arrive within `header_timeout_s` of the first byte of
  the request (of the connection, for the first request); otherwise the server answers
  `408 Request Timeout` and closes the connection;
* the body must arrive within `body_timeout_s` of the head; otherwise the connection is closed
  (the app then sees the client disconnect, as when a client goes away).

Between requests uvicorn's own keep-alive timeout applies. Time the app takes to answer is not
limited here. The h11 protocol is used rather than httptools for h11's cap on a head still
incomplete (`MAX_HEAD_BYTES`): a head growing past it is answered 400. Bodies are capped by the
routes that read them (`POST /api/v1/jobs`: 1 MiB, then 413).
"""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

if TYPE_CHECKING:
    from shared.settings import Settings

#: Most of an incomplete request head (request line and headers) buffered before a 400, in bytes.
MAX_HEAD_BYTES = 16 * 1024
#: What a client too slow with its request head is told before the connection closes.
_TIMEOUT_ANSWER = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain\r\ncontent-length: 24\r\n"
    b"connection: close\r\n\r\nrequest sent too slowly\n"
)


@dataclass(frozen=True)
class HttpLimits:
    """How long a client may take, in seconds (`PODRUNNER_HTTP_*`)."""

    header_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    keepalive_s: float = 5.0

    @classmethod
    def of(cls, settings: Settings) -> HttpLimits:
        return cls(
            header_timeout_s=settings.http_header_timeout_s,
            body_timeout_s=settings.http_body_timeout_s,
            keepalive_s=settings.http_keepalive_s,
        )


class _Phase(enum.Enum):
    """What the server waits for from the client of a connection."""

    HEAD = "head"
    BODY = "body"
    NOTHING = "nothing"


class DeadlineProtocol(H11Protocol):
    """uvicorn's h11 protocol, cutting a client that sends a request's head or body too slowly."""

    limits = HttpLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._phase = _Phase.NOTHING
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._follow()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._follow()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.conn.their_state is not h11.IDLE:  # a pipelined request was already read
            self._follow()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _follow(self) -> None:
        """Arm the deadline of what the client is sending now, if that changed."""
        phase = _phase_of(self.conn.their_state)
        if phase is self._phase:
            return
        self._disarm()
        self._phase = phase
        if phase is _Phase.HEAD:
            self._deadline = self.loop.call_later(self.limits.header_timeout_s, self._head_late)
        elif phase is _Phase.BODY:
            self._deadline = self.loop.call_later(self.limits.body_timeout_s, self._body_late)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _head_late(self) -> None:
        if not self.transport.is_closing():
            self.logger.info("request head not received in time; closing the connection")
            self.transport.write(_TIMEOUT_ANSWER)
            self.transport.close()

    def _body_late(self) -> None:
        if not self.transport.is_closing():
            self.logger.info("request body not received in time; closing the connection")
            self.transport.close()


def _phase_of(state: object) -> _Phase:
    if state is h11.IDLE:
        return _Phase.HEAD
    if state is h11.SEND_BODY:
        return _Phase.BODY
    return _Phase.NOTHING


def guarded_protocol(chosen: HttpLimits) -> type[DeadlineProtocol]:
    """The protocol class to give uvicorn's `Config(http=...)`, with the `chosen` limits."""

    class GuardedH11Protocol(DeadlineProtocol):
        limits = chosen

    return GuardedH11Protocol


def uvicorn_options(limits: HttpLimits) -> dict[str, Any]:
    """The `uvicorn.Config` keyword arguments that apply `limits`."""
    return {
        "http": guarded_protocol(limits),
        "timeout_keep_alive": limits.keepalive_s,
        "h11_max_incomplete_event_size": MAX_HEAD_BYTES,
    }
