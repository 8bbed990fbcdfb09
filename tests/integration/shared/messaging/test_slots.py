"""Active-pod slots: a cap per namespace, idempotent per pod, taken back from dead launchers."""

from __future__ import annotations

import redis

from shared.messaging.keys import RedisKeys
from shared.messaging.slots import Claim, SlotPool


def pool(
    client: redis.Redis, keys: RedisKeys, holder: str, *, reclaim_every_s: float = 0.0
) -> SlotPool:
    return SlotPool(client, keys=keys, holder=holder, reclaim_every_s=reclaim_every_s)


def test_slots_stop_at_the_limit_in_order(redis_client: redis.Redis, keys: RedisKeys) -> None:
    slots = pool(redis_client, keys, "a")
    slots.heartbeat(ttl_s=30)
    assert slots.acquire_many("ns", ["p1", "p2", "p3", "p4"], limit=3) == [Claim.TAKEN] * 3
    assert slots.count("ns") == 3
    assert not slots.acquire("ns", "p4", limit=3)


def test_a_pod_that_has_a_slot_keeps_it_when_asked_again(
    redis_client: redis.Redis, keys: RedisKeys
) -> None:
    slots = pool(redis_client, keys, "a")
    slots.heartbeat(ttl_s=30)
    assert slots.acquire("ns", "p1", limit=1)
    assert slots.acquire("ns", "p1", limit=1), "a redelivered job gets its own slot back"


def test_released_slots_can_be_taken_again(redis_client: redis.Redis, keys: RedisKeys) -> None:
    slots = pool(redis_client, keys, "a")
    slots.heartbeat(ttl_s=30)
    slots.acquire_many("ns", ["p1", "p2"], limit=2)
    slots.release("ns", "p1")
    assert slots.acquire("ns", "p3", limit=2)


def test_slots_of_a_dead_launcher_are_taken_back_when_the_namespace_is_full(
    redis_client: redis.Redis, keys: RedisKeys
) -> None:
    # Given a launcher that took a slot and died (its heartbeat never renewed)
    dead = pool(redis_client, keys, "dead")
    assert dead.acquire("ns", "orphan", limit=1)
    # When a live launcher finds the namespace full
    live = pool(redis_client, keys, "live")
    live.heartbeat(ttl_s=30)
    # Expect the orphaned slot freed and given to it
    assert live.acquire("ns", "p1", limit=1)
    assert redis_client.hkeys(keys.active_pods("ns")) == [b"p1"]


def test_a_full_namespace_is_searched_for_dead_launchers_slots_at_most_every_interval(
    redis_client: redis.Redis, keys: RedisKeys
) -> None:
    dead = pool(redis_client, keys, "dead")
    live = pool(redis_client, keys, "live", reclaim_every_s=60.0)
    live.heartbeat(ttl_s=30)
    assert dead.acquire("ns", "orphan-1", limit=1)
    assert live.acquire("ns", "p1", limit=2)
    assert live.acquire("ns", "p2", limit=2), "the first time full, the orphan's slot is freed"
    assert dead.acquire("ns", "orphan-2", limit=3)
    assert not live.acquire("ns", "p3", limit=3), "not searched again within the interval"
    assert live.reclaim("ns") == 1, "an explicit reclaim still frees it"


def test_slots_of_live_launchers_and_of_created_pods_are_kept(
    redis_client: redis.Redis, keys: RedisKeys
) -> None:
    alive = pool(redis_client, keys, "alive")
    alive.heartbeat(ttl_s=30)
    alive.acquire_many("ns", ["launching", "created"], limit=2)
    alive.mark_created("ns", "created")
    other = pool(redis_client, keys, "other")
    assert other.reclaim("ns") == 0
    assert not other.acquire("ns", "p9", limit=2)


def test_a_slot_freed_before_it_was_marked_created_stays_free(
    redis_client: redis.Redis, keys: RedisKeys
) -> None:
    slots = pool(redis_client, keys, "a")
    slots.acquire("ns", "quick", limit=5)
    slots.release("ns", "quick")
    slots.mark_created("ns", "quick")
    assert slots.count("ns") == 0, "a pod that already finished must not hold a slot forever"
