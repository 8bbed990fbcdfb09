"""At-least-once: unacknowledged entries come back, and repeated failures are dead-lettered."""

from __future__ import annotations

import time
from typing import Any

import redis

from shared.messaging import streams
from shared.messaging.keys import RedisKeys
from shared.messaging.streams import GroupSettings, StreamConsumer

IDLE_MS = 200


def consumer(client: redis.Redis, keys: RedisKeys, name: str, **settings: int) -> StreamConsumer:
    return StreamConsumer(
        client,
        keys=keys,
        streams=[keys.launches],
        settings=GroupSettings(group="g", consumer=name, claim_idle_ms=IDLE_MS, **settings),
    )


def read_until(reader: StreamConsumer, *, timeout_s: float = 5.0) -> list[streams.Entry]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if entries := reader.read(block_ms=50):
            return entries
    return []


def test_an_entry_whose_consumer_died_goes_to_another_after_the_idle_time(
    redis_url: str, keys: RedisKeys
) -> None:
    # Given a consumer that read an entry and then vanished without acknowledging it
    dying_client = redis.Redis.from_url(redis_url)
    dying = consumer(dying_client, keys, "dying")
    streams.publish(dying_client, keys.launches, [b"job"], maxlen=1000)
    [taken] = dying.read(block_ms=100)
    dying_client.close()
    # When another consumer reads, before and after the idle time
    survivor_client = redis.Redis.from_url(redis_url)
    survivor = consumer(survivor_client, keys, "survivor")
    assert survivor.read(block_ms=10) == []
    [claimed] = read_until(survivor)
    # Expect it to get the same entry, marked as a second delivery
    assert (claimed.id, claimed.data, claimed.deliveries) == (taken.id, b"job", 2)
    survivor_client.close()


def test_a_failed_entry_is_retried_then_dead_lettered_with_its_error(
    redis_client: redis.Redis, keys: RedisKeys
) -> None:
    reader = consumer(redis_client, keys, "c1", max_deliveries=3)
    [entry_id] = streams.publish(redis_client, keys.launches, [b"poison"], maxlen=1000)
    deliveries = []
    for attempt in range(3):
        [entry] = read_until(reader)
        deliveries.append(entry.deliveries)
        reader.fail(entry, f"database said no ({attempt})")
    # the fourth delivery would exceed the limit: nothing is returned, the entry is dead-lettered
    deadline = time.monotonic() + 5
    while not redis_client.xlen(keys.dead_letters) and time.monotonic() < deadline:
        assert reader.read(block_ms=50) == []
    assert deliveries == [1, 2, 3]
    records: Any = redis_client.xrange(keys.dead_letters)
    [(_, dead)] = records
    assert dead[b"id"].decode() == entry_id
    assert dead[b"event"] == b"poison"
    assert dead[b"stream"].decode() == keys.launches
    assert b"database said no (2)" in dead[b"error"]
    assert redis_client.xpending(keys.launches, "g")["pending"] == 0


def test_an_undecodable_entry_is_dead_lettered_at_once(
    redis_client: redis.Redis, keys: RedisKeys
) -> None:
    reader = consumer(redis_client, keys, "c1")
    streams.publish(redis_client, keys.launches, [b"\x00garbage"], maxlen=1000)
    [entry] = reader.read(block_ms=100)
    reader.dead_letter(entry, "invalid LaunchEvent: (body): not JSON")
    records: Any = redis_client.xrange(keys.dead_letters)
    [(_, dead)] = records
    assert dead[b"error"] == b"invalid LaunchEvent: (body): not JSON"
    assert redis_client.xpending(keys.launches, "g")["pending"] == 0
    assert read_until(reader, timeout_s=0.5) == []


def test_an_entry_trimmed_away_while_pending_is_dropped_not_redelivered(
    redis_client: redis.Redis, keys: RedisKeys
) -> None:
    reader = consumer(redis_client, keys, "c1")
    streams.publish(redis_client, keys.launches, [b"old"], maxlen=1000)
    reader.read(block_ms=100)
    redis_client.xtrim(keys.launches, maxlen=0)
    time.sleep(IDLE_MS / 1000 + 0.05)
    assert reader.read(block_ms=10) == []
    assert redis_client.xpending(keys.launches, "g")["pending"] == 0


def test_an_entry_acknowledged_after_a_failure_leaves_no_failure_on_record(
    redis_client: redis.Redis, keys: RedisKeys
) -> None:
    reader = consumer(redis_client, keys, "c1")
    streams.publish(redis_client, keys.launches, [b"flaky", b"fine"], maxlen=1000)
    first, fine = read_until(reader)
    reader.fail(first, "database said no")
    reader.ack([fine])
    [again] = read_until(reader)
    assert (again.id, again.deliveries) == (first.id, 2)
    reader.ack([again])
    assert redis_client.hlen(keys.entry_errors(keys.launches)) == 0
    assert redis_client.xpending(keys.launches, "g")["pending"] == 0
