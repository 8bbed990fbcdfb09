"""Redis streams: publish in batches, consume through a group, acknowledge, trim."""

from __future__ import annotations

from typing import Any

import redis

from shared.messaging import streams
from shared.messaging.keys import EVENT_FIELD, RedisKeys
from shared.messaging.streams import GroupSettings, StreamConsumer


def consumer(client: redis.Redis, keys: RedisKeys, name: str, **settings: int) -> StreamConsumer:
    return StreamConsumer(
        client,
        keys=keys,
        streams=[keys.launches],
        settings=GroupSettings(group="g", consumer=name, **settings),
    )


def test_published_entries_are_read_in_order_with_their_payloads(
    redis_client: redis.Redis, keys: RedisKeys
) -> None:
    reader = consumer(redis_client, keys, "c1")
    ids = streams.publish(redis_client, keys.launches, [b"one", b"two", b"three"], maxlen=1000)
    entries = reader.read(block_ms=100)
    assert [e.data for e in entries] == [b"one", b"two", b"three"]
    assert [e.id for e in entries] == ids
    assert all(e.stream == keys.launches and e.deliveries == 1 for e in entries)


def test_a_publish_bigger_than_one_script_call_keeps_every_entry_in_order(
    redis_client: redis.Redis, keys: RedisKeys
) -> None:
    payloads = [str(n).encode() for n in range(2 * streams.PUBLISH_CHUNK + 5)]
    ids = streams.publish(redis_client, keys.launches, payloads, maxlen=10_000)
    records: Any = redis_client.xrange(keys.launches)
    assert [entry_id.decode() for entry_id, _ in records] == ids
    assert [fields[EVENT_FIELD] for _, fields in records] == payloads


def test_each_entry_has_exactly_one_field_named_event(
    redis_client: redis.Redis, keys: RedisKeys
) -> None:
    streams.publish(redis_client, keys.launches, [b'{"x":1}'], maxlen=1000)
    records: Any = redis_client.xrange(keys.launches)
    [(_, fields)] = records
    assert fields == {EVENT_FIELD: b'{"x":1}'}


def test_an_entry_another_program_wrote_with_more_fields_is_read_by_its_event_field(
    redis_client: redis.Redis, keys: RedisKeys
) -> None:
    reader = consumer(redis_client, keys, "c1")
    redis_client.xadd(keys.launches, {b"source": b"elsewhere", EVENT_FIELD: b"payload"})
    redis_client.xadd(keys.launches, {b"source": b"no event at all"})
    [first, second] = reader.read(block_ms=100)
    assert (first.data, second.data) == (b"payload", b"")


def test_acknowledged_entries_are_not_delivered_again(
    redis_client: redis.Redis, keys: RedisKeys
) -> None:
    reader = consumer(redis_client, keys, "c1", claim_idle_ms=1)
    streams.publish(redis_client, keys.launches, [b"a"], maxlen=1000)
    reader.ack(reader.read(block_ms=100))
    assert reader.read(block_ms=50) == []
    assert redis_client.xpending(keys.launches, "g")["pending"] == 0


def test_two_consumers_in_a_group_share_the_entries(
    redis_client: redis.Redis, keys: RedisKeys
) -> None:
    first = consumer(redis_client, keys, "c1", batch_size=2)
    second = consumer(redis_client, keys, "c2", batch_size=2)
    streams.publish(redis_client, keys.launches, [b"1", b"2", b"3", b"4"], maxlen=1000)
    seen = [e.data for e in first.read(block_ms=50)] + [e.data for e in second.read(block_ms=50)]
    assert sorted(seen) == [b"1", b"2", b"3", b"4"]


def test_a_read_with_nothing_new_returns_an_empty_batch_after_blocking(
    redis_client: redis.Redis, keys: RedisKeys
) -> None:
    assert consumer(redis_client, keys, "c1").read(block_ms=50) == []


def test_streams_are_trimmed_to_about_maxlen(redis_client: redis.Redis, keys: RedisKeys) -> None:
    for _ in range(10):
        streams.publish(redis_client, keys.launches, [b"x"] * 500, maxlen=1000)
    assert 1000 <= redis_client.xlen(keys.launches) < 2000


def test_a_consumer_can_start_reading_more_streams(
    redis_client: redis.Redis, keys: RedisKeys
) -> None:
    reader = consumer(redis_client, keys, "c1")
    reader.add_streams([keys.pod_events("team-a")])
    streams.publish(redis_client, keys.pod_events("team-a"), [b"pod"], maxlen=1000)
    [entry] = reader.read(block_ms=100)
    assert (entry.stream, entry.data) == (keys.pod_events("team-a"), b"pod")
