"""Every replica reports itself to one Redis hash: readers see each one with the age of its
report, a replica that stopped reporting as silent, and one long gone not at all."""

from __future__ import annotations

import threading
import time

import orjson
import pytest
import redis

from shared.messaging import replicas
from shared.messaging.keys import RedisKeys
from tests.support.waiting import wait_until

pytestmark = pytest.mark.timeout(30)


def test_a_running_replica_is_read_with_its_health_and_withdrawn_when_it_stops(
    redis_client: redis.Redis, keys: RedisKeys
) -> None:
    reporter = replicas.Reporter(redis_client, keys, "host-1-42", every_s=0.05)
    stop = threading.Event()
    health = {"stalled": [], "failing": {"postgres": "error: refused"}, "port": 8083}
    thread = threading.Thread(
        target=reporter.run,
        args=(stop,),
        kwargs={"service": "reconciler", "describe": lambda: health},
    )
    thread.start()
    try:
        [report] = wait_until(
            lambda: replicas.read(redis_client, keys), timeout_s=5, what="a report"
        )
    finally:
        stop.set()
        thread.join(5)

    assert report["service"] == "reconciler"
    assert report["holder"] == "host-1-42"
    assert report["failing"] == {"postgres": "error: refused"}
    assert report["silent"] is False
    assert replicas.read(redis_client, keys) == [], "a clean stop withdraws the report"


def test_a_replica_that_stopped_reporting_is_silent_then_forgotten(
    redis_client: redis.Redis, keys: RedisKeys
) -> None:
    now = time.time()
    for holder, age in (("fresh", 1.0), ("quiet", replicas.SILENT_AFTER_S + 1), ("gone", 3600.0)):
        report = {"service": "launcher", "holder": holder, "reported_at": now - age}
        redis_client.hset(keys.replicas, f"launcher/{holder}", orjson.dumps(report))
    redis_client.hset(keys.replicas, "launcher/garbled", b"not json")

    read = {report.get("holder"): report for report in replicas.read(redis_client, keys, now=now)}

    assert read["fresh"]["silent"] is False
    assert read["quiet"]["silent"] is True
    assert "gone" not in read
    assert not redis_client.hexists(keys.replicas, "launcher/gone"), "pruned by the reader"
