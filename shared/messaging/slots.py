"""Active-pod slots: at most N unfinished pods per namespace, counted in Redis across launchers.

A slot is a field of the hash `active-pods:<namespace>`, named after the pod it is for, so taking
one twice for the same pod (a redelivered job) costs nothing. While a launcher is creating the pod
the slot holds the launcher's name; once the pod exists it holds `pod`, and only the reconciler's
terminal event frees it. A launcher that dies between taking a slot and creating its pod would
leak it, so launchers keep a heartbeat key alive, and slots held by a launcher whose heartbeat
expired are taken back when a namespace runs out of slots: at most every few seconds per
namespace, since a full namespace is the normal state of a busy launcher and the search reads
every slot.
"""

from __future__ import annotations

import time
from typing import Any

import redis

from shared.messaging.connections import MessagingError
from shared.messaging.keys import RedisKeys

CREATED = "pod"
#: How often a launcher finding a namespace full looks for dead launchers' slots in it.
RECLAIM_EVERY_S = 5.0

_ACQUIRE = """
local limit = tonumber(ARGV[2])
local taken = 0
for i = 3, #ARGV do
  if redis.call('HEXISTS', KEYS[1], ARGV[i]) == 0 then
    if redis.call('HLEN', KEYS[1]) >= limit then return taken end
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[1])
  end
  taken = taken + 1
end
return taken
"""
_MARK_CREATED = """
for i = 2, #ARGV do
  if redis.call('HEXISTS', KEYS[1], ARGV[i]) == 1 then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[1])
  end
end
return 0
"""
_RELEASE_IF = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0
"""


class SlotPool:
    """The slots of one podrunner instance, for any namespace."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        keys: RedisKeys,
        holder: str,
        reclaim_every_s: float = RECLAIM_EVERY_S,
    ) -> None:
        self._client = client
        self._keys = keys
        self.holder = holder
        self._reclaim_every_s = reclaim_every_s
        self._next_reclaim: dict[str, float] = {}
        self._acquire = client.register_script(_ACQUIRE)
        self._mark = client.register_script(_MARK_CREATED)
        self._release_if = client.register_script(_RELEASE_IF)

    def acquire(self, namespace: str, pod: str, *, limit: int) -> bool:
        """Take a slot for `pod` (True if it has one now); frees dead launchers' slots if full."""
        return self.acquire_many(namespace, [pod], limit=limit) == 1

    def acquire_many(self, namespace: str, pods: list[str], *, limit: int) -> int:
        """Take slots for `pods` in order, in one round trip; return how many got one (a prefix).

        When the namespace is full, slots of launchers that died are freed (if that was not
        tried in the last `reclaim_every_s`) and it tries again."""
        if not pods:
            return 0
        key = self._keys.active_pods(namespace)
        taken = int(self._run(self._acquire, [key], [self.holder, limit, *pods]))
        if taken < len(pods) and self._reclaim_due(namespace) and self.reclaim(namespace):
            rest = pods[taken:]
            taken += int(self._run(self._acquire, [key], [self.holder, limit, *rest]))
        return taken

    def mark_created(self, namespace: str, *pods: str) -> None:
        """The pods exist: their slots now last until the pods finish (one round trip)."""
        if pods:
            self._run(self._mark, [self._keys.active_pods(namespace)], [CREATED, *pods])

    def release(self, namespace: str, *pods: str) -> None:
        if not pods:
            return
        try:
            self._client.hdel(self._keys.active_pods(namespace), *pods)
        except redis.RedisError as error:
            raise MessagingError(f"releasing a slot failed: {error}") from error

    def count(self, namespace: str) -> int:
        try:
            return int(self._client.hlen(self._keys.active_pods(namespace)))
        except redis.RedisError as error:
            raise MessagingError(f"counting slots failed: {error}") from error

    def heartbeat(self, *, ttl_s: float) -> None:
        """Say this launcher is alive for `ttl_s` more seconds (its slots are not to be taken)."""
        try:
            self._client.set(self._keys.launcher_alive(self.holder), "1", px=int(ttl_s * 1000))
        except redis.RedisError as error:
            raise MessagingError(f"launcher heartbeat failed: {error}") from error

    def reclaim(self, namespace: str) -> int:
        """Free the slots of launchers that died before creating their pods; return how many."""
        key = self._keys.active_pods(namespace)
        try:
            held: dict[bytes, bytes] = self._client.hgetall(key)  # type: ignore[assignment]
            holders = {v.decode() for v in held.values() if v.decode() != CREATED}
            alive = {h for h in holders if self._client.exists(self._keys.launcher_alive(h))}
            freed = 0
            for pod, value in held.items():
                holder = value.decode()
                if holder != CREATED and holder not in alive:
                    freed += int(self._release_if(keys=[key], args=[pod, holder]))
            return freed
        except redis.RedisError as error:
            raise MessagingError(f"reclaiming slots failed: {error}") from error

    def _reclaim_due(self, namespace: str) -> bool:
        now = time.monotonic()
        if now < self._next_reclaim.get(namespace, 0.0):
            return False
        self._next_reclaim[namespace] = now + self._reclaim_every_s
        return True

    def _run(self, script: Any, keys: list[str], args: list[str | int]) -> Any:
        try:
            return script(keys=keys, args=args)
        except redis.RedisError as error:
            raise MessagingError(f"slot operation failed: {error}") from error
