"""The object store: the one write path, the cluster-wide resourceVersion, and the event history.

Every mutation — from the HTTP API, the simulated kubelet, the scheduler or the garbage collector —
goes through `Store.put` or `Store.remove`. Each real write takes the next revision of a single
counter (started well above 1, as on a real cluster, so "RV 1" is always too old), is appended to
the history, and is offered to every open watch. A write that changes nothing is not a write: no
new revision, no event. That is the whole resourceVersion model of the API server, in one place.

Objects are stored serialised (compact JSON, the list-item form without kind/apiVersion) next to
the few values selectors need, so 100k pods cost little memory and a watch event is encoded once,
not once per watcher. The history is bounded by count and age; anything older is "compacted", and a
watch or an exact list from before `history_start` gets 410 Expired. Past states for continue
tokens and exact lists are rebuilt by undoing the retained history, so no snapshots are kept.
"""

from __future__ import annotations

import bisect
import collections
import heapq
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from services.kubesim import selectors

Key = tuple[str, str]

#: Prefix turning a stored item into a full object (single GETs and watch events carry these).
_FULL_PREFIX = b'{"kind":"Pod","apiVersion":"v1",'


@dataclass(frozen=True, slots=True)
class Stored:
    """One version of a pod: its JSON (item form), revision, and what selectors look at."""

    data: bytes
    rv: int
    namespace: str
    name: str
    labels: dict[str, str]
    fields: tuple[str, ...]

    @classmethod
    def of(cls, obj: dict[str, Any], rv: int) -> Stored:
        metadata = obj["metadata"]
        return cls(
            data=_exact(orjson.dumps(obj)),
            rv=rv,
            namespace=metadata.get("namespace", ""),
            name=metadata["name"],
            labels=dict(metadata.get("labels") or {}),
            fields=selectors.pod_fields(obj),
        )

    @property
    def key(self) -> Key:
        return (self.namespace, self.name)

    def obj(self) -> dict[str, Any]:
        """A fresh, mutable copy of the object."""
        parsed: dict[str, Any] = orjson.loads(self.data)
        return parsed

    def full(self) -> bytes:
        """The object with kind and apiVersion, as single GETs and watch events send it."""
        return _FULL_PREFIX + self.data[1:]

    def at_revision(self, rv: int) -> Stored:
        """The same content with another resourceVersion (a DELETED event carries the delete's)."""
        obj = self.obj()
        obj["metadata"]["resourceVersion"] = str(rv)
        data = _exact(orjson.dumps(obj))
        return Stored(data, rv, self.namespace, self.name, self.labels, self.fields)


@dataclass(frozen=True, slots=True)
class Event:
    """One storage write: `old` is None on create, `new` is None on delete."""

    rv: int
    key: Key
    old: Stored | None
    new: Stored | None
    at: float


class Subscriber(Protocol):
    def offer(self, event: Event) -> None: ...


class TooOld(Exception):
    """A requested revision is older than the retained history."""

    def __init__(self, requested: int, oldest: int) -> None:
        super().__init__(f"too old resource version: {requested} ({oldest})")
        self.requested = requested
        self.oldest = oldest


class Store:
    """All pods, their history, and the watches listening to it (used from one event loop)."""

    def __init__(
        self,
        *,
        start_rv: int = 10_000,
        history_limit: int = 100_000,
        history_age_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rv = start_rv
        self.history_start = start_rv
        self._objects: dict[Key, Stored] = {}
        self._sorted: list[Key] = []
        self._history: collections.deque[Event] = collections.deque()
        self._history_limit = history_limit
        self._history_age_s = history_age_s
        self._clock = clock
        self._subscribers: set[Subscriber] = set()
        self._active: collections.Counter[str] = collections.Counter()

    def __len__(self) -> int:
        return len(self._objects)

    def active_count(self, namespace: str) -> int:
        """Pods of `namespace` not in a terminal phase (what a pod-count quota counts)."""
        return self._active[namespace]

    def get(self, key: Key) -> Stored | None:
        return self._objects.get(key)

    def put(self, obj: dict[str, Any]) -> Stored:
        """Store `obj` (create or update); a no-op write returns the stored version unchanged."""
        metadata = obj["metadata"]
        key = (metadata.get("namespace", ""), metadata["name"])
        old = self._objects.get(key)
        if old is not None:
            metadata["resourceVersion"] = str(old.rv)
            if obj == old.obj():
                return old
        rv = self._next_rv()
        metadata["resourceVersion"] = str(rv)
        new = Stored.of(obj, rv)
        if old is None:
            bisect.insort(self._sorted, key)
        self._objects[key] = new
        self._active[key[0]] += _active(new) - _active(old)
        self._record(Event(rv, key, old, new, self._clock()))
        return new

    def remove(self, key: Key) -> Stored:
        """Remove the object; return its last state stamped with the delete's revision."""
        old = self._objects.pop(key)
        del self._sorted[bisect.bisect_left(self._sorted, key)]
        self._active[key[0]] -= _active(old)
        rv = self._next_rv()
        self._record(Event(rv, key, old, None, self._clock()))
        return old.at_revision(rv)

    def advance(self, count: int = 1) -> None:
        """Let the revision move without pod writes, as other kinds' writes do on a cluster."""
        self.rv += count

    def compact(self) -> None:
        """Forget all history now: any older revision becomes too old."""
        self._history.clear()
        self.history_start = self.rv

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.add(subscriber)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)

    @property
    def subscribers(self) -> frozenset[Subscriber]:
        return frozenset(self._subscribers)

    def events_after(self, rv: int) -> list[Event]:
        """Every event with a revision above `rv`, in order.

        Raises:
            TooOld: `rv` is older than the retained history.
        """
        self._trim()
        if rv < self.history_start:
            raise TooOld(rv, self.history_start)
        if not self._history or rv >= self._history[-1].rv:
            return []
        start = bisect.bisect_right([event.rv for event in self._history], rv)
        return list(self._history)[start:]

    def keys_from(self, start: Key | None, *, at_rv: int | None = None) -> Iterator[Stored]:
        """Objects in key order from `start` (inclusive), as they were at revision `at_rv`.

        Raises:
            TooOld: `at_rv` is older than the retained history.
        """
        changed = self._changes_since(at_rv) if at_rv is not None and at_rv < self.rv else {}
        position = bisect.bisect_left(self._sorted, start) if start else 0
        extra = sorted(key for key in changed if start is None or key >= start)
        previous: Key | None = None
        for key in heapq.merge(self._sorted[position:], extra):
            if key == previous:
                continue
            previous = key
            stored = changed[key] if key in changed else self._objects.get(key)
            if stored is not None:
                yield stored

    def _changes_since(self, rv: int) -> dict[Key, Stored | None]:
        """For each key written after `rv`: its state at `rv` (None if it did not exist)."""
        changed: dict[Key, Stored | None] = {}
        for event in reversed(self.events_after(rv)):
            changed[event.key] = event.old
        return changed

    def _next_rv(self) -> int:
        self.rv += 1
        return self.rv

    def _record(self, event: Event) -> None:
        self._history.append(event)
        self._trim()
        for subscriber in list(self._subscribers):
            subscriber.offer(event)

    def _trim(self) -> None:
        cutoff = self._clock() - self._history_age_s
        history = self._history
        while history and (len(history) > self._history_limit or history[0].at < cutoff):
            self.history_start = history.popleft().rv


def _active(stored: Stored | None) -> int:
    if stored is None:
        return 0
    phase = stored.fields[selectors.FIELD_INDEX["status.phase"]]
    return 0 if phase in ("Succeeded", "Failed") else 1


def _exact(encoded: bytes) -> bytes:
    """A copy of exactly the encoded length: orjson's result keeps a buffer of several KiB, which
    would cost 100k stored pods hundreds of megabytes."""
    return bytes(memoryview(encoded))
