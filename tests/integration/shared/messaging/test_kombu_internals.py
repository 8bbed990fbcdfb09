"""The kombu internals the Redis job rounds rely on are still what they were when tested (kombu is
pinned to that version): a failure here names the internal that a kombu upgrade changed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from kombu.connection import Connection

from shared.messaging.jobqueue import MAX_PRIORITY, JobQueue
from shared.messaging.keys import job_queue
from tests.support import builders


@pytest.fixture
def stock(redis_url: str) -> Iterator[Connection]:
    """A connection on kombu's own Redis transport, with no visibility timeout to wait out."""
    options = {"priority_steps": list(range(MAX_PRIORITY + 1)), "visibility_timeout": 0}
    with Connection(redis_url, transport_options=options) as connection:
        yield connection


def records(redis_client: redis.Redis) -> dict[str, list[Any]]:
    """kombu's records of taken jobs: delivery tag -> [envelope, exchange, routing key]."""
    entries = redis_client.hgetall("unacked")
    assert redis_client.zcard("unacked_index") == len(entries), (
        "kombu's unacked_index sorted set changed name"
    )
    return {_text(tag): json.loads(entry) for tag, entry in entries.items()}


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


@pytest.mark.timeout(30)
def test_kombu_records_a_taken_job_as_the_take_script_does(
    queue: JobQueue, stock: Connection, redis_client: redis.Redis
) -> None:
    queue.publish([(builders.job(task_id="stock"), "ns")])
    message = queue.queue("ns")(stock.default_channel).get(no_ack=False)
    assert message is not None
    kombus = records(redis_client)
    assert list(kombus) == [message.delivery_tag], "kombu's unacked hash changed name or key"
    payload, exchange, routing_key = kombus[message.delivery_tag]
    properties = payload["properties"]
    assert properties["delivery_tag"] == message.delivery_tag, "envelope's delivery_tag moved"
    assert (exchange, routing_key) == (
        properties["delivery_info"]["exchange"],
        properties["delivery_info"]["routing_key"],
    ), "kombu's unacked entry is no longer [envelope, exchange, routing_key]"
    message.ack()
    queue.publish([(builders.job(task_id="ours"), "ns")])
    with queue.consumer(["ns"], prefetch=1) as consumer:
        ours = consumer.poll(timeout_s=5)
        assert [type(entry) for entry in records(redis_client).values()] == [list]
        (entry,) = records(redis_client).values()
        assert [type(part) for part in entry] == [
            type(part) for part in kombus[message.delivery_tag]
        ]
        with consumer.settling():
            ours[0].ack()


@pytest.mark.timeout(30)
def test_kombu_restores_a_job_the_take_script_recorded(
    queue: JobQueue, stock: Connection, redis_client: redis.Redis
) -> None:
    queue.publish([(builders.job(task_id="held"), "ns")])
    with queue.consumer(["ns"], prefetch=1) as consumer:
        assert consumer.poll(timeout_s=5)
        assert len(records(redis_client)) == 1
        stock.default_channel.qos.restore_visible(num=10, interval=1)
        assert records(redis_client) == {}, "kombu's restore_visible no longer reads our record"
        assert queue.depth("ns") == 1


def test_kombu_names_a_queues_priority_lists_as_the_rounds_expect(
    queue: JobQueue, stock: Connection, redis_client: redis.Redis
) -> None:
    channel = stock.default_channel
    assert hasattr(channel, "_q_for_pri"), "kombu's Channel._q_for_pri is gone"
    name = job_queue("ns")
    assert [channel._q_for_pri(name, step) for step in (0, 3)] == [name, f"{name}\x06\x163"]
    queue.publish([(builders.job(task_id="urgent", priority=MAX_PRIORITY), "ns")])
    assert redis_client.llen(channel._q_for_pri(name, 0)) == 1, "kombu files priorities elsewhere"
