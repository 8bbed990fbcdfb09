"""Watch streams: one subscriber per open watch, turning storage events into watch events.

Each storage event is judged against the watch's namespace and selectors on both the old and the
new object: matching both is MODIFIED, only the new one ADDED, only the old one DELETED —
a synthetic DELETED that carries the previous content with the event's revision. Lines are built
from the stored bytes, so a pod is serialised once whatever the number of watchers. A watch also
sends BOOKMARKs on its period and 2 s before its timeout, as the watch cache does: whenever the
revision moved past the one the watch started from (even if the watch's own events already carried
it), and not when less than 2 s were left at the start. A watch can be told to end: cleanly,
abruptly, or with an ERROR 410 Expired.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import orjson

from services.kubesim.selectors import FieldSelector, LabelSelector
from services.kubesim.statuses import ApiError
from services.kubesim.store import Event, Store, Stored

#: Events buffered for one slow watcher before it is cut off (a real server drops it too).
MAX_BACKLOG = 200_000
#: Bytes of queued events sent as one chunk at most.
MAX_CHUNK = 256 * 1024


class Ending(enum.Enum):
    """How the server ends a stream: a clean close, a dropped connection, or an ERROR event."""

    CLOSE = "close"
    DROP = "drop"


@dataclass(frozen=True)
class WatchOptions:
    namespace: str | None
    labels: LabelSelector
    fields: FieldSelector
    bookmarks: bool = False
    timeout_s: float | None = None
    bookmark_interval_s: float = 60.0
    #: What each event's object becomes (metadata only, for `as=PartialObjectMetadata`); None
    #: sends the stored bytes as they are.
    transform: Callable[[bytes], bytes] | None = None


def event_line(kind: str, obj: bytes) -> bytes:
    return b'{"type":"' + kind.encode() + b'","object":' + obj + b"}\n"


def bookmark_line(rv: int, *, initial_events_end: bool = False) -> bytes:
    metadata: dict[str, object] = {"resourceVersion": str(rv)}
    if initial_events_end:
        metadata["annotations"] = {"k8s.io/initial-events-end": "true"}
    obj = {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": metadata,
        "spec": {"containers": None},
        "status": {},
    }
    return event_line("BOOKMARK", orjson.dumps(obj))


def error_line(error: ApiError) -> bytes:
    return event_line("ERROR", orjson.dumps(error.status()))


@dataclass(eq=False)
class Watch:
    """An open watch: a subscriber of the store with its own queue of encoded lines."""

    store: Store
    options: WatchOptions
    sent_rv: int
    queue: asyncio.Queue[bytes | Ending | ApiError] = field(default_factory=asyncio.Queue)
    #: The revision the watch started from; a bookmark is sent only past it.
    start_rv: int = -1

    def __post_init__(self) -> None:
        if self.start_rv < 0:
            self.start_rv = self.sent_rv

    def matches(self, stored: Stored | None) -> bool:
        if stored is None:
            return False
        if self.options.namespace is not None and stored.namespace != self.options.namespace:
            return False
        return self.options.labels.matches(stored.labels) and self.options.fields.matches(
            stored.fields
        )

    def offer(self, event: Event) -> None:
        """Queue the watch event for a storage event, if this watch sees one."""
        line = self.line_for(event)
        if line is None:
            return
        if self.queue.qsize() >= MAX_BACKLOG:
            self.end(Ending.DROP)
            return
        self.sent_rv = event.rv
        self.queue.put_nowait(line)

    def line_for(self, event: Event) -> bytes | None:
        was, now = self.matches(event.old), self.matches(event.new)
        if now and event.new is not None:
            return event_line("MODIFIED" if was else "ADDED", self.shown(event.new.full()))
        if was and event.old is not None:
            return event_line("DELETED", self.shown(event.old.at_revision(event.rv).full()))
        return None

    def shown(self, obj: bytes) -> bytes:
        """An event's object as this watch sends it."""
        transform = self.options.transform
        return obj if transform is None else transform(obj)

    def bookmark(self, rv: int, *, initial_events_end: bool = False) -> bytes:
        if self.options.transform is None:
            return bookmark_line(rv, initial_events_end=initial_events_end)
        line = orjson.loads(bookmark_line(rv, initial_events_end=initial_events_end))
        return event_line("BOOKMARK", self.shown(orjson.dumps(line["object"])))

    def end(self, how: Ending | ApiError) -> None:
        """Make the stream finish after what is already queued."""
        self.queue.put_nowait(how)

    async def lines(self, first: list[bytes]) -> AsyncIterator[bytes]:
        """The stream's lines: `first` (initial events or a replay), then live events."""
        try:
            for line in first:
                yield line
            async for line in self._live():
                yield line
        finally:
            self.store.unsubscribe(self)

    def _more(self, first: bytes) -> tuple[bytes, Ending | ApiError | None]:
        """`first` and every line already queued behind it, as one chunk (the server flushes
        when its queue empties); also the end marker if one was reached."""
        lines = [first]
        size = len(first)
        while size < MAX_CHUNK and not self.queue.empty():
            item = self.queue.get_nowait()
            if not isinstance(item, bytes):
                return b"".join(lines), item
            lines.append(item)
            size += len(item)
        return b"".join(lines), None

    async def _live(self) -> AsyncIterator[bytes]:
        clock = _Clock(self.options)
        while True:
            lines, end = await self._next(clock)
            for line in lines:
                yield line
            if end is Ending.DROP:
                raise ConnectionAbortedError("watch dropped by kubesim")
            if end is Ending.CLOSE:
                return

    async def _next(self, clock: _Clock) -> tuple[list[bytes], Ending | None]:
        """The next lines to send, and whether (and how) the stream ends after them."""
        try:
            item = await asyncio.wait_for(self.queue.get(), timeout=clock.wait())
        except TimeoutError:
            line = self._bookmark(clock)
            return ([line] if line else []), (Ending.CLOSE if clock.expired() else None)
        lines: list[bytes] = []
        if isinstance(item, bytes):
            batch, end = self._more(item)
            if end is None:
                return [batch], None
            lines, item = [batch], end
        if isinstance(item, ApiError):
            return [*lines, error_line(item)], Ending.CLOSE
        return lines, item

    def _bookmark(self, clock: _Clock) -> bytes:
        """A bookmark line when one is due and the revision moved past the watch's start."""
        if clock.bookmark_due() and self.store.rv > self.start_rv:
            self.sent_rv = self.store.rv
            return self.bookmark(self.store.rv)
        return b""


class _Clock:
    """When a watch next has something to do on its own: a bookmark, or its timeout."""

    def __init__(self, options: WatchOptions) -> None:
        now = time.monotonic()
        self._bookmarks = options.bookmarks
        self._interval = options.bookmark_interval_s
        self._deadline = now + options.timeout_s if options.timeout_s else None
        self._next_bookmark = now + self._interval
        # too close to the deadline already: the watch cache schedules no pre-timeout bookmark
        self._final_bookmark_sent = self._deadline is not None and now > self._deadline - 2.0

    def wait(self) -> float:
        moments = [self._deadline] if self._deadline is not None else []
        if self._bookmarks:
            moments.append(self._next_bookmark)
            if self._deadline is not None and not self._final_bookmark_sent:
                moments.append(self._deadline - 2.0)
        if not moments:
            return 3600.0
        return max(0.0, min(moments) - time.monotonic())

    def bookmark_due(self) -> bool:
        """True (once per period, and once ~2 s before the timeout) when a bookmark is due;
        never in the last 2 s once that last one is sent."""
        if not self._bookmarks:
            return False
        now = time.monotonic()
        if self._deadline is not None and now >= self._deadline - 2.0:
            due = not self._final_bookmark_sent
            self._final_bookmark_sent = True
            return due
        if now >= self._next_bookmark:
            self._next_bookmark = now + self._interval
            return True
        return False

    def expired(self) -> bool:
        return self._deadline is not None and time.monotonic() >= self._deadline
