"""Each pod's events are kept in order, capped and expiring; writing them never fails the caller,
even with Redis gone."""

from __future__ import annotations

import threading

import pytest
import redis

from shared.messaging.keys import RedisKeys
from shared.messaging.pod_history import PodHistory
from tests.support.kubesim import free_port
from tests.support.waiting import wait_until

pytestmark = pytest.mark.timeout(30)


def test_events_are_kept_per_pod_in_order_capped_and_expiring(
    redis_client: redis.Redis, keys: RedisKeys
) -> None:
    history = PodHistory(redis_client, keys, max_events=3, keep_s=600)

    history.record([("jobs", "a", b"1"), ("jobs", "b", b"x"), ("jobs", "a", b"2")])
    history.record([("jobs", "a", b"3"), ("jobs", "a", b"4")])
    history.flush()

    assert history.read("jobs", "a") == [b"2", b"3", b"4"]
    assert history.read("jobs", "b") == [b"x"]
    assert history.read("other", "a") == []
    assert 0 < redis_client.ttl(keys.pod_history("jobs", "a")) <= 600


def test_the_writer_loop_writes_what_is_queued_and_the_rest_when_stopped(
    redis_client: redis.Redis, keys: RedisKeys
) -> None:
    history = PodHistory(redis_client, keys)
    stop = threading.Event()
    writer = threading.Thread(target=history.run, args=(stop,))
    writer.start()
    try:
        history.record([("jobs", "a", b"1")])
        wait_until(lambda: history.read("jobs", "a"), timeout_s=5, what="the event written")
        history.record([("jobs", "a", b"2")])
    finally:
        stop.set()
        writer.join(5)

    assert history.read("jobs", "a") == [b"1", b"2"]


def test_with_redis_gone_recording_is_dropped_and_logged_not_raised(keys: RedisKeys) -> None:
    client = redis.Redis(port=free_port(), socket_connect_timeout=1)
    history = PodHistory(client, keys, max_pending=2)

    history.record([("jobs", "a", b"1"), ("jobs", "a", b"2"), ("jobs", "a", b"3")])
    history.flush()

    client.close()
