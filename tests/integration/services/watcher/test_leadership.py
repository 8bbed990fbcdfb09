"""One active watcher per namespace: a standby takes over within the lease time, missing nothing."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import redis

from shared.messages import PodPhase
from shared.messaging.keys import RedisKeys
from tests.integration.services.watcher.conftest import create_pod, events_of, pod_events
from tests.support.cluster import Cluster
from tests.support.waiting import wait_until

LEASE_TTL_S = 2.0


def role(port: int, namespace: str) -> str:
    return str(httpx.get(f"http://127.0.0.1:{port}/status").json()["scopes"][namespace]["role"])


def test_of_two_watchers_one_publishes_and_the_other_takes_over_when_it_dies(
    cluster: Cluster,
    namespace: str,
    instance: str,
    watcher_process: Callable[[], Any],
    redis_client: redis.Redis,
    keys: RedisKeys,
) -> None:
    first, second = watcher_process(), watcher_process()
    wait_until(
        lambda: (
            {role(first.port, namespace), role(second.port, namespace)} == {"leader", "standby"}
        ),
        timeout_s=20,
        what='{role(first.port, namespace), role(second.port, namespace)} == {"leader", "standby"}',
    )
    leader, standby = (
        (first, second) if role(first.port, namespace) == "leader" else (second, first)
    )
    before = create_pod(cluster, namespace, instance, "before", run_seconds="0.3")
    wait_until(
        lambda: any(
            e.phase is PodPhase.SUCCEEDED
            for e in events_of(pod_events(redis_client, keys, namespace), before)
        ),
        timeout_s=20,
        what="the success of the pod before",
    )
    assert (
        len(
            [
                e
                for e in pod_events(redis_client, keys, namespace)
                if e.pod == before and e.phase is PodPhase.SUCCEEDED
            ]
        )
        == 1
    )

    leader.kill()
    killed_at = time.monotonic()
    during = create_pod(cluster, namespace, instance, "during", run_seconds="0.3")
    wait_until(
        lambda: role(standby.port, namespace) == "leader",
        timeout_s=10,
        what='role(standby.port, namespace) == "leader"',
    )
    assert time.monotonic() - killed_at <= LEASE_TTL_S + 1.5
    wait_until(
        lambda: any(
            e.phase is PodPhase.SUCCEEDED
            for e in events_of(pod_events(redis_client, keys, namespace), during)
        ),
        timeout_s=20,
        what="the success of the pod during the takeover",
    )
