"""Each pod's events as the watcher published them, kept a while for the dashboard.

The reconciler folds a task's events into its row and keeps only where the task ended up; the
stream entries are trimmed by count across all pods, so neither tells an operator how one pod got
there (Pending, Running, a wait on an image, Failed). So the reconciler keeps, for each pod, a
short list in Redis of its events' JSON as received: capped (`MAX_EVENTS`) and expiring
(`KEEP_S`), so memory follows the pods of the last day rather than the table, and nothing is
written to the database for it. Redis forgetting it loses only this view.

It stays off the apply loop's path: `record` only queues a batch's events (bounded by
`MAX_PENDING`; past that the oldest are dropped, and said so), and the `run` loop writes what is
queued with one Lua script call at a time (a pipeline of three commands per pod took 100 ms for
5,000 pods on this machine, the script about 35 ms). The script names the keys in its arguments:
one Redis, not a cluster, as for the slot scripts. Writing is best effort: a failed write is
logged and dropped, never retried.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence

import redis
import structlog

from shared.messaging.connections import MessagingError
from shared.messaging.keys import RedisKeys

log = structlog.get_logger()

#: ARGV: the cap, the TTL, then (list key, event) pairs: each event appended to its list, then
#: each list touched cut to its latest events and given the TTL again.
_APPEND = """
local cap, ttl, touched = tonumber(ARGV[1]), tonumber(ARGV[2]), {}
for i = 3, #ARGV, 2 do
  redis.call('RPUSH', ARGV[i], ARGV[i + 1])
  touched[ARGV[i]] = true
end
for key in pairs(touched) do
  redis.call('LTRIM', key, -cap, -1)
  redis.call('EXPIRE', key, ttl)
end
return 0
"""

#: Events kept per pod: the latest ones (a pod has a handful from creation to deletion).
MAX_EVENTS = 50
#: Seconds a pod's events are kept after its latest one.
KEEP_S = 86_400
#: Events queued and not yet written, at most (a few batches; past it the oldest are dropped).
MAX_PENDING = 100_000
#: Events written by one script call, at most (Redis runs nothing else meanwhile).
WRITE_AT_MOST = 5_000
#: Seconds the writer waits for events before it looks at `stop` again.
FLUSH_EVERY_S = 0.5


class PodHistory:
    def __init__(
        self,
        client: redis.Redis,
        keys: RedisKeys,
        *,
        max_events: int = MAX_EVENTS,
        keep_s: int = KEEP_S,
        max_pending: int = MAX_PENDING,
    ) -> None:
        self._client = client
        self._keys = keys
        self._max_events = max_events
        self._keep_s = keep_s
        self._max_pending = max_pending
        self._pending: deque[tuple[str, str, bytes]] = deque(maxlen=max_pending)
        self._lock = threading.Lock()
        self._queued = threading.Event()

    def record(self, events: Sequence[tuple[str, str, bytes]]) -> None:
        """Queue each (namespace, pod, event JSON) to be appended to its pod's list, in order."""
        if not events:
            return
        with self._lock:
            dropped = len(self._pending) + len(events) - self._max_pending
            self._pending.extend(events)
        if dropped > 0:
            log.warning("pod_history_dropped", events=dropped)
        self._queued.set()

    def run(self, stop: threading.Event) -> None:
        """Write what is queued as it comes, until `stop` is set; then write the rest."""
        while not stop.is_set():
            self._queued.wait(FLUSH_EVERY_S)
            self.flush()
        self.flush()

    def flush(self) -> None:
        """Write every queued event now."""
        with self._lock:
            events = list(self._pending)
            self._pending.clear()
            self._queued.clear()
        for start in range(0, len(events), WRITE_AT_MOST):
            self._write(events[start : start + WRITE_AT_MOST])

    def _write(self, events: list[tuple[str, str, bytes]]) -> None:
        arguments: list[str | bytes | int] = [self._max_events, self._keep_s]
        for namespace, pod, data in events:
            arguments += [self._keys.pod_history(namespace, pod), data]
        try:
            self._client.eval(_APPEND, 0, *arguments)
        except redis.RedisError as error:
            log.info("pod_history_not_recorded", events=len(events), error=str(error))

    def read(self, namespace: str, pod: str) -> list[bytes]:
        """The pod's recorded events, oldest first.

        Raises:
            MessagingError: Redis failed.
        """
        try:
            found: list[bytes] = self._client.lrange(self._keys.pod_history(namespace, pod), 0, -1)  # type: ignore[assignment]
        except redis.RedisError as error:
            raise MessagingError(f"reading the pod's events failed: {error}") from error
        return found
