"""Leases: one holder at a time, takeover after expiry, and stale holders fenced off."""

from __future__ import annotations

import time

import redis

from shared.messaging.keys import RedisKeys
from shared.messaging.leases import Holding, Lease

TTL_S = 0.3


def lease(client: redis.Redis, keys: RedisKeys, holder: str) -> Lease:
    return Lease(client, keys=keys, name="watcher:ns", holder=holder, ttl_s=TTL_S)


def wait_for_expiry(client: redis.Redis, keys: RedisKeys) -> None:
    deadline = time.monotonic() + 5
    while client.exists(keys.lease("watcher:ns")) and time.monotonic() < deadline:
        time.sleep(0.02)


def test_of_two_contenders_exactly_one_holds_the_lease(
    redis_client: redis.Redis, keys: RedisKeys
) -> None:
    a, b = lease(redis_client, keys, "a"), lease(redis_client, keys, "b")
    held = [a.acquire(), b.acquire()]
    assert held[0] == Holding("a", 1)
    assert held[1] is None
    assert a.current_holder() == b.current_holder() == "a"


def test_the_holder_renews_and_keeps_the_lease(redis_client: redis.Redis, keys: RedisKeys) -> None:
    a, b = lease(redis_client, keys, "a"), lease(redis_client, keys, "b")
    holding = a.acquire()
    assert holding is not None
    for _ in range(4):
        time.sleep(TTL_S / 3)
        assert a.renew(holding)
    assert b.acquire() is None


def test_another_contender_takes_over_after_expiry_with_a_higher_token(
    redis_client: redis.Redis, keys: RedisKeys
) -> None:
    a, b = lease(redis_client, keys, "a"), lease(redis_client, keys, "b")
    first = a.acquire()
    wait_for_expiry(redis_client, keys)
    second = b.acquire()
    assert first is not None
    assert second is not None
    assert second.token > first.token
    assert not a.renew(first), "the old holder learns it lost the lease"


def test_a_stale_holders_fenced_write_loses(redis_client: redis.Redis, keys: RedisKeys) -> None:
    a, b = lease(redis_client, keys, "a"), lease(redis_client, keys, "b")
    stale = a.acquire()
    assert stale is not None
    assert a.fenced_set(stale, keys.watch_checkpoint("ns"), "100")
    wait_for_expiry(redis_client, keys)
    current = b.acquire()
    assert current is not None
    assert b.fenced_set(current, keys.watch_checkpoint("ns"), "200")
    assert not a.fenced_set(stale, keys.watch_checkpoint("ns"), "150")
    assert redis_client.get(keys.watch_checkpoint("ns")) == b"200"


def test_an_expired_holding_cannot_write_even_when_nobody_took_over(
    redis_client: redis.Redis, keys: RedisKeys
) -> None:
    a = lease(redis_client, keys, "a")
    holding = a.acquire()
    assert holding is not None
    wait_for_expiry(redis_client, keys)
    assert not a.fenced_set(holding, keys.watch_checkpoint("ns"), "1")


def test_releasing_lets_a_standby_take_over_at_once(
    redis_client: redis.Redis, keys: RedisKeys
) -> None:
    a, b = lease(redis_client, keys, "a"), lease(redis_client, keys, "b")
    holding = a.acquire()
    assert holding is not None
    a.release(holding)
    assert b.acquire() is not None


def test_acquiring_again_while_holding_extends_with_the_same_token(
    redis_client: redis.Redis, keys: RedisKeys
) -> None:
    a = lease(redis_client, keys, "a")
    assert a.acquire() == a.acquire() == Holding("a", 1)
