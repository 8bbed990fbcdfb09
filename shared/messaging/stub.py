"""In-memory job queues and slots for unit tests, in the manner of dramatiq's `StubBroker`.

`StubJobQueue` satisfies `jobqueue.Jobs` and `StubSlotPool` satisfies `slots.Slots`, so a
launcher's consumer can be built on them exactly as on Redis, and its logic (slots, retries,
draining, rounds of polling) tested in milliseconds without a broker. The queue keeps the
contract that matters to a consumer: higher priorities are delivered first, then in publishing
order; a consumer holds at most `prefetch` unsettled jobs; a requeued job goes back in its place;
`join` waits until a namespace's jobs are all settled. `fail_consumers` makes the next
connections fail as a broker outage does. They live in the package, beside the adapters they stand
in for, so mypy checks them against the same Protocols.
"""

from __future__ import annotations

import heapq
import itertools
import json
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from shared.messages import Job
from shared.messaging.connections import MessagingError
from shared.messaging.jobqueue import MAX_PRIORITY, Delivery, JobConsumer
from shared.messaging.slots import CREATED, Claim


@dataclass(order=True)
class _Message:
    urgency: int
    sequence: int
    namespace: str = field(compare=False)
    body: bytes = field(compare=False)


class StubJobQueue:
    """Job queues per namespace, in memory; thread-safe."""

    def __init__(self) -> None:
        self._ready: dict[str, list[_Message]] = defaultdict(list)
        self._unsettled: dict[int, _Message] = {}
        self._sequence = itertools.count()
        self._changed = threading.Condition()
        self._failing_connections = 0
        self._closed = False
        self.down = False

    def put(self, namespace: str, body: bytes, *, priority: int = 0) -> None:
        """Queue a raw body (what `publish` does with a job, and a way to send a malformed one)."""
        level = max(0, min(MAX_PRIORITY, priority))
        with self._changed:
            message = _Message(-level, next(self._sequence), namespace, body)
            heapq.heappush(self._ready[namespace], message)
            self._changed.notify_all()

    def publish(self, jobs: Iterable[tuple[Job, str]]) -> int:
        count = 0
        for job, namespace in jobs:
            self.put(namespace, json.dumps(job.to_dict()).encode(), priority=job.priority)
            count += 1
        return count

    def close(self) -> None:
        """End the waits of consumers' polls at once (their polls return empty from now on), so
        a consumer being stopped does not sit out its poll's timeout."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def ping(self) -> None:
        if self.down:
            raise MessagingError("the stub broker is down")

    def depth(self, namespace: str) -> int:
        with self._changed:
            return len(self._ready[namespace])

    def depths(self, namespaces: Iterable[str]) -> dict[str, int]:
        return {namespace: self.depth(namespace) for namespace in namespaces}

    def unsettled(self, namespace: str) -> int:
        """Jobs of `namespace` delivered and not yet acknowledged, requeued or rejected."""
        with self._changed:
            return sum(1 for m in self._unsettled.values() if m.namespace == namespace)

    def queued_namespaces(self) -> set[str]:
        with self._changed:
            return {namespace for namespace, ready in self._ready.items() if ready}

    def fail_consumers(self, times: int = 1) -> None:
        """The next `times` calls of `consumer` raise `MessagingError`, as an outage does."""
        with self._changed:
            self._failing_connections += times

    def join(self, namespace: str, *, timeout_s: float = 2.0) -> None:
        """Wait until every job of `namespace` was taken and settled; TimeoutError if not."""
        with self._changed:
            settled = self._changed.wait_for(
                lambda: (
                    not self._ready[namespace]
                    and all(m.namespace != namespace for m in self._unsettled.values())
                ),
                timeout=timeout_s,
            )
        if not settled:
            raise TimeoutError(f"jobs of {namespace} still unsettled after {timeout_s} s")

    @contextmanager
    def consumer(self, namespaces: Iterable[str], *, prefetch: int) -> Iterator[JobConsumer]:
        with self._changed:
            if self._failing_connections:
                self._failing_connections -= 1
                raise MessagingError("consuming jobs failed: the stub broker is down")
        yield _StubConsumer(self, list(namespaces), prefetch)

    def _take(self, namespaces: list[str], most: int, timeout_s: float) -> list[_Message]:
        with self._changed:
            self._changed.wait_for(
                lambda: self._closed or any(self._ready[ns] for ns in namespaces), timeout_s
            )
            taken: list[_Message] = []
            while len(taken) < most and not self._closed:
                heads = [(self._ready[ns][0], ns) for ns in namespaces if self._ready[ns]]
                if not heads:
                    break
                message = heapq.heappop(self._ready[min(heads)[1]])
                self._unsettled[message.sequence] = message
                taken.append(message)
            return taken

    def _settle(self, message: _Message, *, back: bool) -> None:
        with self._changed:
            if self._unsettled.pop(message.sequence, None) is None:
                raise RuntimeError(f"a job of {message.namespace} was settled twice")
            if back:
                heapq.heappush(self._ready[message.namespace], message)
            self._changed.notify_all()


class _Settling:
    """Settles one delivered stub message (the part of a kombu message a Delivery uses)."""

    def __init__(self, queue: StubJobQueue, message: _Message, held: set[int]) -> None:
        self._queue, self._message, self._held = queue, message, held

    def ack(self) -> None:
        self._done(back=False)

    def requeue(self) -> None:
        self._done(back=True)

    def reject(self, requeue: bool = False) -> None:
        self._done(back=requeue)

    def _done(self, *, back: bool) -> None:
        self._queue._settle(self._message, back=back)
        self._held.discard(self._message.sequence)


class _StubConsumer:
    def __init__(self, queue: StubJobQueue, namespaces: list[str], prefetch: int) -> None:
        self._queue, self._namespaces, self._prefetch = queue, namespaces, prefetch
        self._held: set[int] = set()

    def poll(self, *, timeout_s: float = 1.0, most: int = 1) -> list[Delivery]:
        room = min(most, self._prefetch - len(self._held))
        if room <= 0:
            return []
        taken = self._queue._take(self._namespaces, room, timeout_s)
        self._held.update(message.sequence for message in taken)
        return [Delivery(m.namespace, m.body, _Settling(self._queue, m, self._held)) for m in taken]

    @contextmanager
    def settling(self) -> Iterator[None]:
        yield


class StubSlotPool:
    """Active-pod slots in memory: a pod name holds a slot as being created by `holder`, then
    as `CREATED`; a finished pod is refused a slot, as `SlotPool` does."""

    def __init__(self, holder: str = "stub-launcher") -> None:
        self.holder = holder
        self.slots: dict[str, dict[str, str]] = defaultdict(dict)
        self.finished: dict[str, set[str]] = defaultdict(set)
        self._lock = threading.Lock()

    def acquire_many(self, namespace: str, pods: list[str], *, limit: int) -> list[Claim]:
        claims: list[Claim] = []
        with self._lock:
            held = self.slots[namespace]
            for pod in pods:
                if pod in self.finished[namespace]:
                    claims.append(Claim.FINISHED)
                elif pod in held or len(held) < limit:
                    held.setdefault(pod, self.holder)
                    claims.append(Claim.TAKEN)
                else:
                    break
        return claims

    def mark_created(self, namespace: str, *pods: str) -> None:
        with self._lock:
            for pod in pods:
                if pod in self.finished[namespace]:
                    self.slots[namespace].pop(pod, None)
                elif pod in self.slots[namespace]:
                    self.slots[namespace][pod] = CREATED

    def give_back(self, namespace: str, *pods: str) -> None:
        with self._lock:
            for pod in pods:
                if self.slots[namespace].get(pod) == self.holder:
                    del self.slots[namespace][pod]

    def finish(self, namespace: str, *pods: str) -> frozenset[str]:
        with self._lock:
            self.finished[namespace].update(pods)
            creating = {pod for pod in pods if self.slots[namespace].get(pod) == self.holder}
            for pod in set(pods) - creating:
                self.slots[namespace].pop(pod, None)
        return frozenset(creating)
