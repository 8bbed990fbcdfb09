"""Active-pod slots: at most N unfinished pods per namespace, counted in Redis across launchers.

A slot is a field of the hash `active-pods:<namespace>`, named after the pod it is for, so taking
one twice for the same pod (a redelivered job) costs nothing. While a launcher is creating the pod
the slot holds the launcher's name; once the pod exists it holds `pod`, and the reconciler frees
it when it records the task's end. A launcher that dies between taking a slot and creating its pod
would leak it, so launchers keep a heartbeat key alive, and slots held by a launcher whose
heartbeat expired are taken back when a namespace runs out of slots: at most every few seconds
per namespace, since a full namespace is the normal state of a busy launcher and the search reads
every slot.

At most one pod runs per task, try and relaunch, whenever a process dies: a job delivered again
after its pod finished and was deleted would otherwise create the same pod anew. So the
reconciler records each ended pod in `finished-pods:<namespace>` before it deletes it, and taking
a slot refuses a recorded pod. The slot closes the remaining race (the launcher found no record,
then the pod ended and was deleted, then its create ran): taking a slot marks it as being created
by that launcher, and recording an end answers which pods a live launcher is creating right now,
so the reconciler leaves those in place until the launcher settles. Slots leaked past all this
(a process killed between two steps, Redis losing data) are healed by the sweep's census.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import redis

from shared.messaging import slot_scripts
from shared.messaging.connections import MessagingError
from shared.messaging.keys import RedisKeys

CREATED = "pod"
#: How often a launcher finding a namespace full looks for dead launchers' slots in it.
RECLAIM_EVERY_S = 5.0
#: How long a pod's end is remembered: far longer than a job can wait to be delivered again.
FINISHED_RETENTION_S = 86_400.0


class Claim(enum.Enum):
    """What taking a slot for one pod came to."""

    TAKEN = slot_scripts.TAKEN
    """The pod has a slot, marked as being created by this launcher: create it."""
    FINISHED = slot_scripts.FINISHED
    """The pod's task already ended (a job delivered again): nothing may be created."""


@runtime_checkable
class Slots(Protocol):
    """The slot calls of a launcher and of a task's end: `SlotPool` in Redis, and
    `shared.messaging.stub.StubSlotPool` in memory for unit tests."""

    def acquire_many(self, namespace: str, pods: list[str], *, limit: int) -> list[Claim]: ...

    def mark_created(self, namespace: str, *pods: str) -> None: ...

    def give_back(self, namespace: str, *pods: str) -> None: ...

    def finish(self, namespace: str, *pods: str) -> frozenset[str]: ...


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
        finished_retention_s: float = FINISHED_RETENTION_S,
    ) -> None:
        self._client = client
        self._keys = keys
        self.holder = holder
        self._reclaim_every_s = reclaim_every_s
        self._retention_s = finished_retention_s
        self._next_reclaim: dict[str, float] = {}
        self._alive_prefix = keys.launcher_alive("")
        self._acquire = client.register_script(slot_scripts.ACQUIRE)
        self._mark = client.register_script(slot_scripts.MARK_CREATED)
        self._give_back = client.register_script(slot_scripts.GIVE_BACK)
        self._finish = client.register_script(slot_scripts.FINISH)
        self._creating = client.register_script(slot_scripts.CREATING)
        self._census_page = client.register_script(slot_scripts.CENSUS_PAGE)
        self._census_end = client.register_script(slot_scripts.CENSUS_END)
        self._release_if = client.register_script(_RELEASE_IF)

    def acquire(self, namespace: str, pod: str, *, limit: int) -> bool:
        """Take a slot for `pod` (True if it has one now); frees dead launchers' slots if full."""
        return self.acquire_many(namespace, [pod], limit=limit) == [Claim.TAKEN]

    def acquire_many(self, namespace: str, pods: list[str], *, limit: int) -> list[Claim]:
        """Take slots for `pods` in order, in one round trip; return a claim for each pod of
        the prefix that could be settled (a finished pod is refused and takes no slot).

        When the namespace is full, slots of launchers that died are freed (if that was not
        tried in the last `reclaim_every_s`) and it tries again."""
        claims = self._claim(namespace, pods, limit)
        if len(claims) < len(pods) and self._reclaim_due(namespace) and self.reclaim(namespace):
            claims += self._claim(namespace, pods[len(claims) :], limit)
        return claims

    def mark_created(self, namespace: str, *pods: str) -> None:
        """The pods exist: their slots now last until the pods finish (one round trip). A pod
        whose end was recorded while it was being created gives its slot up instead."""
        if pods:
            self._run(self._mark, self._both(namespace), [self.holder, CREATED, *pods])

    def give_back(self, namespace: str, *pods: str) -> None:
        """The pods could not be created: free the slots this launcher still holds for them
        (one round trip), never one another launcher took since."""
        if pods:
            key = [self._keys.active_pods(namespace)]
            self._run(self._give_back, key, [self.holder, *pods])

    def finish(self, namespace: str, *pods: str) -> frozenset[str]:
        """Record that the pods' tasks ended and free their slots, in one round trip; return
        those a live launcher is creating right now, which must be left in place (their
        slots stay until that launcher settles)."""
        if not pods:
            return frozenset()
        now = time.time()
        args: list[str | float] = [now, now - self._retention_s, self._alive_prefix, CREATED]
        args += pods
        return _names(self._run(self._finish, self._both(namespace), args))

    def creating(self, namespace: str, *pods: str) -> frozenset[str]:
        """Those of `pods` a live launcher is creating right now (not to be deleted)."""
        if not pods:
            return frozenset()
        args = [self._alive_prefix, CREATED, *pods]
        return _names(self._run(self._creating, [self._keys.active_pods(namespace)], args))

    def census_begin(self, namespace: str) -> None:
        """Start a round of the sweep's census of `namespace`'s slots (see `census_page`)."""
        try:
            self._client.delete(self._keys.slot_census(namespace))
        except redis.RedisError as error:
            raise MessagingError(f"starting a slot census failed: {error}") from error

    def census_page(
        self, namespace: str, *, live: list[str], other: list[str], ended: list[str]
    ) -> tuple[int, int]:
        """One page of listed pods (one round trip): `live` ones (unfinished, their row live)
        get a slot if they have none; those and `other` unfinished ones count as listed;
        `ended` ones (their row has ended) give their slot up unless a live launcher is
        creating them. Returns (slots given, slots freed)."""
        if not (live or other or ended):
            return 0, 0
        args: list[str | int | float] = [CREATED, self._alive_prefix, time.time()]
        args += [len(live), len(other), *live, *other, *ended]
        keys = [*self._both(namespace), self._keys.slot_census(namespace)]
        adopted, freed = self._run(self._census_page, keys, args)
        return int(adopted), int(freed)

    def census_end(self, namespace: str) -> int:
        """End the round: free slots marked created whose pod was not listed unfinished in this
        round nor the one before; return how many."""
        keys = [
            self._keys.active_pods(namespace),
            self._keys.slot_census(namespace),
            self._keys.slots_missed(namespace),
        ]
        return int(self._run(self._census_end, keys, [CREATED]))

    def held(self, namespace: str) -> dict[str, str]:
        """Every slot of `namespace`: pod name → `CREATED` or the launcher creating it."""
        try:
            raw: dict[bytes, bytes] = self._client.hgetall(self._keys.active_pods(namespace))  # type: ignore[assignment]
        except redis.RedisError as error:
            raise MessagingError(f"reading slots failed: {error}") from error
        return {pod.decode(): value.decode() for pod, value in raw.items()}

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

    def _claim(self, namespace: str, pods: list[str], limit: int) -> list[Claim]:
        if not pods:
            return []
        codes = self._run(self._acquire, self._both(namespace), [self.holder, limit, *pods])
        return [Claim(int(code)) for code in codes]

    def _both(self, namespace: str) -> list[str]:
        return [self._keys.active_pods(namespace), self._keys.finished_pods(namespace)]

    def _reclaim_due(self, namespace: str) -> bool:
        now = time.monotonic()
        if now < self._next_reclaim.get(namespace, 0.0):
            return False
        self._next_reclaim[namespace] = now + self._reclaim_every_s
        return True

    def _run(self, script: Any, keys: list[str], args: Sequence[str | int | float]) -> Any:
        try:
            return script(keys=keys, args=args)
        except redis.RedisError as error:
            raise MessagingError(f"slot operation failed: {error}") from error


def _names(reply: Any) -> frozenset[str]:
    return frozenset(name.decode() for name in reply)
