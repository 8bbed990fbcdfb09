"""Each pod's events as the watcher published them, kept a while for the dashboard.

The reconciler folds a task's events into its row and keeps only where the task ended up; the
stream entries are trimmed by count across all pods, so neither tells an operator how one pod got
there (Pending, Running, a wait on an image, Failed). After applying a batch, the reconciler
appends each pod event's JSON, as received, to a short list per pod in Redis: one pipelined call
per batch, no write on the database's hot path, and each list capped (`MAX_EVENTS`) and expiring
(`KEEP_S`), so memory follows the tasks of the last day rather than the table. Redis forgetting it
loses only this view. It is best effort: a failed write is logged, never retried, and never
holds up the batch.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import redis
import structlog

from shared.messaging.connections import MessagingError
from shared.messaging.keys import RedisKeys

log = structlog.get_logger()

#: Events kept per pod: the latest ones (a pod has a handful from creation to deletion).
MAX_EVENTS = 50
#: Seconds a pod's events are kept after its latest one.
KEEP_S = 86_400


@dataclass(frozen=True)
class PodHistory:
    client: redis.Redis
    keys: RedisKeys
    max_events: int = MAX_EVENTS
    keep_s: int = KEEP_S

    def record(self, events: Iterable[tuple[str, str, bytes]]) -> None:
        """Append each (namespace, pod, event JSON) to its pod's list, in order."""
        by_pod: dict[str, list[bytes]] = {}
        for namespace, pod, data in events:
            by_pod.setdefault(self.keys.pod_history(namespace, pod), []).append(data)
        if not by_pod:
            return
        pipeline = self.client.pipeline(transaction=False)
        for key, items in by_pod.items():
            pipeline.rpush(key, *items)
            pipeline.ltrim(key, -self.max_events, -1)
            pipeline.expire(key, self.keep_s)
        try:
            pipeline.execute()
        except redis.RedisError as error:
            log.info("pod_history_not_recorded", pods=len(by_pod), error=str(error))

    def read(self, namespace: str, pod: str) -> list[bytes]:
        """The pod's recorded events, oldest first.

        Raises:
            MessagingError: Redis failed.
        """
        try:
            found: list[bytes] = self.client.lrange(self.keys.pod_history(namespace, pod), 0, -1)  # type: ignore[assignment]
        except redis.RedisError as error:
            raise MessagingError(f"reading the pod's events failed: {error}") from error
        return found
