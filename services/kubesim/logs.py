"""Container logs for the `pods/log` subresource, kept per pod uid, container and run.

The simulated kubelet (or a real subprocess in `process` mode) appends lines as they are printed;
readers get the whole log, its tail, a byte-limited prefix, timestamps, or a follow stream that
ends when the container stops. Keeping the previous run lets `previous=true` answer after a
restart. Total size is bounded: the oldest pods' logs are dropped first.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

#: Bytes of log kept in all before the oldest pods' logs are dropped.
MAX_TOTAL_BYTES = 64 * 1024 * 1024

LogKey = tuple[str, str]


@dataclass
class Run:
    """One run of one container: its lines (with nanosecond timestamps) and whether it ended."""

    lines: list[tuple[int, bytes]] = field(default_factory=list)
    finished: bool = False
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def text(self, *, tail: int | None, timestamps: bool, limit_bytes: int | None) -> bytes:
        lines = self.lines if tail is None else self.lines[len(self.lines) - tail :] if tail else []
        body = b"".join(_render(at, line, timestamps) for at, line in lines)
        return body[:limit_bytes] if limit_bytes is not None else body


@dataclass
class LogStore:
    """All container logs: key (pod uid, container) → current run and previous run."""

    runs: dict[LogKey, Run] = field(default_factory=dict)
    previous: dict[LogKey, Run] = field(default_factory=dict)
    _order: collections.OrderedDict[LogKey, int] = field(default_factory=collections.OrderedDict)
    _total: int = 0

    def start(self, uid: str, container: str) -> Run:
        """Begin a new run (the old one becomes `previous`)."""
        key = (uid, container)
        if key in self.runs:
            self.previous[key] = self.runs[key]
        run = Run()
        self.runs[key] = run
        self._order.setdefault(key, 0)
        return run

    def append(self, uid: str, container: str, line: bytes) -> None:
        run = self.runs.get((uid, container)) or self.start(uid, container)
        if not line.endswith(b"\n"):
            line += b"\n"
        run.lines.append((time.time_ns(), line))
        run.changed.set()
        run.changed = asyncio.Event()
        self._account((uid, container), len(line))

    def finish(self, uid: str, container: str) -> None:
        run = self.runs.get((uid, container))
        if run is not None:
            run.finished = True
            run.changed.set()

    def forget(self, uid: str) -> None:
        """Drop every log of a pod that no longer exists."""
        for key in [k for k in self._order if k[0] == uid]:
            self._drop(key)

    def get(self, uid: str, container: str, *, previous: bool = False) -> Run | None:
        key = (uid, container)
        return self.previous.get(key) if previous else self.runs.get(key)

    async def follow(self, run: Run, *, timestamps: bool, start: int) -> AsyncIterator[bytes]:
        """Lines from index `start` on, waiting for new ones until the run finishes."""
        sent = start
        while True:
            for at, line in run.lines[sent:]:
                yield _render(at, line, timestamps)
            sent = len(run.lines)
            if run.finished:
                return
            await run.changed.wait()

    def _account(self, key: LogKey, size: int) -> None:
        self._order[key] = self._order.get(key, 0) + size
        self._total += size
        while self._total > MAX_TOTAL_BYTES and len(self._order) > 1:
            self._drop(next(iter(self._order)))

    def _drop(self, key: LogKey) -> None:
        self._total -= self._order.pop(key, 0)
        self.runs.pop(key, None)
        self.previous.pop(key, None)


def _render(at_ns: int, line: bytes, timestamps: bool) -> bytes:
    if not timestamps:
        return line
    seconds, nanos = divmod(at_ns, 1_000_000_000)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{nanos:09d}Z "
    return stamp.encode() + line
