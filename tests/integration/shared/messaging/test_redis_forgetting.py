"""Redis forgetting what podrunner kept there (a restart without persistence, a failover to a
replica that lagged): consumer groups and queue bindings are put back by whoever uses them."""

from __future__ import annotations

import pytest
import redis

from shared.messaging import streams
from shared.messaging.jobqueue import JobQueue
from shared.messaging.keys import RedisKeys
from shared.messaging.streams import GroupSettings, StreamConsumer
from tests.integration.shared.messaging.conftest import take
from tests.support import builders

pytestmark = pytest.mark.timeout(30)


def test_a_consumer_whose_group_redis_forgot_creates_it_again_and_reads_what_came_since(
    redis_client: redis.Redis, keys: RedisKeys
) -> None:
    reader = StreamConsumer(
        redis_client,
        keys=keys,
        streams=[keys.launches, keys.pod_events("ns")],
        settings=GroupSettings(group="g", consumer="c1"),
    )
    streams.publish(redis_client, keys.launches, [b"before"], maxlen=1000)
    assert [e.data for e in reader.read(block_ms=100)] == [b"before"]
    redis_client.flushdb()
    streams.publish(redis_client, keys.pod_events("ns"), [b"after"], maxlen=1000)
    assert [e.data for e in reader.read(block_ms=100)] == [b"after"]
    assert reader.groups_recreated == 1
    assert reader.read(block_ms=100) == []


def test_a_job_published_after_redis_forgot_its_queues_binding_still_reaches_the_queue(
    queue: JobQueue, redis_client: redis.Redis
) -> None:
    queue.publish([(builders.job(task_id="before"), "ns")])
    assert [job.task_id for job in take(queue, ["ns"], 1)] == ["before"]
    redis_client.flushdb()
    queue.publish([(builders.job(task_id="after"), "ns")])
    assert queue.depth("ns") == 1
