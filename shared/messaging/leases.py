"""Leases in Redis, for roles only one replica may play at a time (a namespace's watcher, sweeps).

A lease is a key holding `<holder>|<token>` with a time-to-live. Acquiring it hands out a fencing
token, one more than any token before; the holder renews well within the TTL, and a replica that
cannot renew has lost the lease and must stop acting. Because a paused process may not know yet
that it lost, writes that must come from the current holder go through `fenced_set`, which Redis
refuses unless the lease is still held with the writer's token: a stale holder's write loses.
All checks run as Lua scripts, so each is atomic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis
from redis.commands.core import Script

from shared.messaging.connections import MessagingError
from shared.messaging.keys import RedisKeys

_ACQUIRE = """
local current = redis.call('GET', KEYS[1])
if current then
  local holder, token = string.match(current, '^(.*)|(%d+)$')
  if holder == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return tonumber(token)
  end
  return false
end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. token, 'PX', ARGV[2])
return token
"""

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

_FENCED_SET = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[2], ARGV[2])
return 1
"""


@dataclass(frozen=True)
class Holding:
    """Proof of holding a lease: who holds it and with which fencing token."""

    holder: str
    token: int

    @property
    def value(self) -> str:
        return f"{self.holder}|{self.token}"


class Lease:
    """One single-active role (`name`), contended for by replicas identified by `holder`."""

    def __init__(
        self, client: redis.Redis, *, keys: RedisKeys, name: str, holder: str, ttl_s: float
    ) -> None:
        if "|" in holder:
            raise ValueError(f"lease holder {holder!r} may not contain '|'")
        self.name = name
        self.holder = holder
        self.ttl_s = ttl_s
        self._client = client
        self._key = keys.lease(name)
        self._fence = keys.fence(name)
        self._ttl_ms = max(1, int(ttl_s * 1000))
        self._acquire = client.register_script(_ACQUIRE)
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)
        self._fenced_set = client.register_script(_FENCED_SET)

    def acquire(self) -> Holding | None:
        """Take the lease if free (or extend it if already ours); None while another holds it."""
        token = self._run(self._acquire, [self._key, self._fence], [self.holder, self._ttl_ms])
        return None if token is None else Holding(self.holder, int(token))

    def renew(self, holding: Holding) -> bool:
        """Extend the lease; False means it was lost (expired, or taken by another)."""
        return bool(self._run(self._renew, [self._key], [holding.value, self._ttl_ms]))

    def release(self, holding: Holding) -> None:
        """Give the lease up at once (on shutdown), so a standby takes over without waiting."""
        self._run(self._release, [self._key], [holding.value])

    def current_holder(self) -> str | None:
        """Who holds the lease now, or None when nobody does."""
        try:
            value = self._client.get(self._key)
        except redis.RedisError as error:
            raise MessagingError(f"reading lease {self.name} failed: {error}") from error
        if value is None:
            return None
        text = value.decode() if isinstance(value, bytes) else str(value)
        return text.rpartition("|")[0]

    def fenced_set(self, holding: Holding, key: str, value: str) -> bool:
        """Set `key` to `value` only while `holding` is still the current lease; False if stale."""
        return bool(self._run(self._fenced_set, [self._key, key], [holding.value, value]))

    def _run(self, script: Script, keys: list[str], args: list[str | int]) -> Any:
        try:
            return script(keys=keys, args=args)
        except redis.RedisError as error:
            raise MessagingError(f"lease {self.name}: {error}") from error
