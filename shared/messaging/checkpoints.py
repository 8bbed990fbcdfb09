"""Watch checkpoints: the last resourceVersion whose events are all published, per scope.

Read by a watcher when it becomes the leader, written only through the lease's fenced write, so
a watcher that lost its lease can never move the checkpoint of the one that replaced it.
"""

from __future__ import annotations

import redis

from shared.messaging.connections import MessagingError
from shared.messaging.keys import RedisKeys
from shared.messaging.leases import Holding, Lease


class Checkpoints:
    def __init__(self, client: redis.Redis, *, keys: RedisKeys) -> None:
        self._client = client
        self._keys = keys

    def load(self, scope: str) -> str | None:
        try:
            value = self._client.get(self._keys.watch_checkpoint(scope))
        except redis.RedisError as error:
            raise MessagingError(f"reading the watch checkpoint failed: {error}") from error
        if value is None:
            return None
        return value.decode() if isinstance(value, bytes) else str(value)

    def save(self, lease: Lease, holding: Holding, scope: str, resource_version: str) -> bool:
        """Record `resource_version`; False when `holding` is no longer the lease (stale)."""
        return lease.fenced_set(holding, self._keys.watch_checkpoint(scope), resource_version)
