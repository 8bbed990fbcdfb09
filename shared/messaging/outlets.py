"""Where the services' records go: launch outcomes, pod events, and jobs that failed for good.

The launcher and the reconciler's sweep of jobs in unserved namespaces both report what became of
a job through `LaunchOutlet`, so the reconciler reads the two alike; the watcher publishes pod
events through `PodEventOutlet`, each to the stream of its pod's namespace.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import redis

from shared.messages import LaunchEvent, PodEvent
from shared.messaging import connections, keys, streams


@dataclass(frozen=True)
class LaunchOutlet:
    """Publishes launch events (the stream trimmed to `maxlen`) and dead-letters job bodies."""

    client: redis.Redis
    keys: keys.RedisKeys
    maxlen: int

    @classmethod
    def connect(cls, redis_url: str, *, instance: str, maxlen: int) -> LaunchOutlet:
        """An outlet on a connection of its own, for a client of podrunner such as the Airflow
        executor revoking a task (`close` it when done)."""
        return cls(connections.connect_redis(redis_url), keys.RedisKeys(instance), maxlen)

    def close(self) -> None:
        self.client.close()

    def publish(self, events: Sequence[LaunchEvent]) -> None:
        payloads = [event.encode() for event in events]
        streams.publish(self.client, self.keys.launches, payloads, maxlen=self.maxlen)

    def dead_letter(self, namespace: str, body: bytes, reason: str) -> None:
        """Keep a job that failed for good, and why, under its queue's name."""
        source = keys.job_queue(namespace)
        streams.dead_letter_raw(self.client, self.keys, source=source, data=body, error=reason)


@dataclass(frozen=True)
class PodEventOutlet:
    """Publishes pod events to the `pod-events` stream of each pod's namespace."""

    client: redis.Redis
    keys: keys.RedisKeys
    maxlen: int

    def publish(self, events: Sequence[PodEvent]) -> None:
        by_namespace: dict[str, list[bytes]] = defaultdict(list)
        for event in events:
            by_namespace[event.namespace].append(event.encode())
        for namespace, payloads in by_namespace.items():
            stream = self.keys.pod_events(namespace)
            streams.publish(self.client, stream, payloads, maxlen=self.maxlen)
