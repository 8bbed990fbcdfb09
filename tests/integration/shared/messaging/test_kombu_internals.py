"""The kombu internals the Redis job rounds rely on are still what they were when tested (kombu is
pinned to that version): a failure here names the internal that a kombu upgrade changed."""

from __future__ import annotations

import inspect
import json
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kombu
import pytest
import redis
from kombu.connection import Connection
from kombu.transport import redis as kombu_redis
from kombu.transport import virtual

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
    channel: Any = stock.default_channel
    assert channel.sep == "\x06\x16", "kombu's Redis channel separates names differently"
    name = job_queue("ns")
    queue.publish([(builders.job(task_id="urgent", priority=MAX_PRIORITY), "ns")])
    queue.publish([(builders.job(task_id="later", priority=0), "ns")])
    assert redis_client.llen(name) == 1, "kombu files the most urgent priority elsewhere"
    least_urgent = f"{name}{channel.sep}{channel.priority(MAX_PRIORITY)}"
    assert redis_client.llen(least_urgent) == 1, "kombu files lower priorities elsewhere"


#: What the rounds call or override beyond kombu's public API, with the parameters they pass.
RELIED_ON: list[tuple[type, str, list[str]]] = [
    (kombu_redis.Channel, "priority", ["self", "n"]),
    (virtual.Channel, "queue_bind", ["self", "queue", "exchange", "routing_key", "arguments"]),
    (virtual.BrokerState, "binding_delete", ["self", "queue", "exchange", "routing_key"]),
    (kombu_redis.Channel, "conn_or_acquire", ["self", "client"]),
    (kombu_redis.Channel, "get_table", ["self", "exchange"]),
    (kombu_redis.Channel, "typeof", ["self", "exchange", "default"]),
    (kombu_redis.Channel, "message_to_python", ["self", "raw_message"]),
    (kombu_redis.QoS, "restore_visible", ["self", "start", "num", "interval"]),
    (kombu_redis.QoS, "ack", ["self", "delivery_tag"]),
    (virtual.QoS, "append", ["self", "message", "delivery_tag"]),
    (virtual.QoS, "ack", ["self", "delivery_tag"]),
    (virtual.QoS, "can_consume_max_estimate", ["self"]),
]


@pytest.mark.parametrize(
    ("owner", "name", "parameters"), RELIED_ON, ids=[f"{o.__name__}.{n}" for o, n, _ in RELIED_ON]
)
def test_each_kombu_method_the_rounds_rely_on_keeps_its_parameters(
    owner: type, name: str, parameters: list[str]
) -> None:
    method = getattr(owner, name, None)
    assert method is not None, f"kombu's {owner.__name__}.{name} is gone"
    found = list(inspect.signature(method).parameters)
    assert found[: len(parameters)] == parameters, (
        f"kombu's {owner.__name__}.{name} now takes {found}, the rounds pass {parameters}"
    )


def test_each_kombu_attribute_the_rounds_read_is_still_there(stock: Connection) -> None:
    channel = stock.default_channel
    for name in ("Client", "pool", "state", "priority_steps", "unacked_restore_limit"):
        assert hasattr(channel, name), f"kombu's redis Channel.{name} is gone"
    assert hasattr(channel, "unacked_restore_throttle"), "Channel.unacked_restore_throttle is gone"
    assert isinstance(channel.state.bindings, dict), "kombu's BrokerState.bindings is no dict"
    for name in ("unacked_key", "unacked_index_key"):
        assert isinstance(getattr(channel.qos, name, None), str), f"kombu's QoS.{name} is gone"


def test_kombu_is_pinned_to_the_version_these_checks_were_made_on() -> None:
    project = tomllib.loads((Path(__file__).parents[4] / "pyproject.toml").read_text())
    pins = [d for d in project["project"]["dependencies"] if re.match(r"kombu\b", d)]
    assert pins == [f"kombu=={kombu.__version__}"], (
        "kombu must stay pinned to one version: the Redis job rounds rely on its internals "
        "(shared/messaging/redis_transport.py); upgrade by re-running these checks on the new one"
    )
