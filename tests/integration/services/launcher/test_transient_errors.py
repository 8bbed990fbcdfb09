"""Transient API failures are retried politely: every job launched once, Retry-After honoured."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import redis

from shared.messages import LaunchOutcome
from shared.messaging.jobqueue import JobQueue
from shared.messaging.keys import RedisKeys
from tests.integration.services.launcher.conftest import publish, wait_for_events
from tests.support import builders
from tests.support.cluster import Cluster
from tests.support.waiting import wait_until


@pytest.mark.parametrize("error", ["500", "503", "429", "429-text", "quota", "409"])
def test_every_job_is_launched_once_through_a_burst_of_errors(
    cluster: Cluster,
    namespace: str,
    jobs: JobQueue,
    run_launcher: Callable[..., Any],
    redis_client: redis.Redis,
    keys: RedisKeys,
    error: str,
) -> None:
    cluster.admin(
        "POST", "faults", {"verb": "create", "error": error, "count": 4, "retry_after": 1}
    )
    run_launcher()
    batch = [builders.job(task_id=f"t{n}") for n in range(5)]
    publish(jobs, namespace, *batch)
    events = wait_for_events(redis_client, keys, 5, timeout_s=40)
    assert [e.outcome for e in events] == [LaunchOutcome.CREATED] * 5
    assert sorted(p["metadata"]["name"] for p in cluster.pods(namespace)) == sorted(
        e.pod for e in events
    )


def test_no_create_is_attempted_before_retry_after_expires(
    cluster: Cluster,
    namespace: str,
    jobs: JobQueue,
    run_launcher: Callable[..., Any],
    redis_client: redis.Redis,
    keys: RedisKeys,
) -> None:
    started = cluster.clock()
    cluster.admin(
        "POST", "faults", {"verb": "create", "error": "429", "count": 1, "retry_after": 2}
    )
    run_launcher()
    publish(jobs, namespace, *[builders.job(task_id=f"t{n}") for n in range(3)])
    wait_for_events(redis_client, keys, 3, timeout_s=30)
    creates = cluster.requests_since(started, "create")
    throttled_at = next(at for at, status in creates if status == 429)
    # creates sent before the 429 reached the launcher may arrive just after it; none may follow
    in_flight_s = 0.1
    early = [at - throttled_at for at, _ in creates if in_flight_s < at - throttled_at < 1.95]
    assert early == []
    assert any(at - throttled_at >= 1.95 for at, _ in creates)


def test_a_persistent_failure_is_retried_with_backoff_not_in_a_busy_loop(
    cluster: Cluster,
    namespace: str,
    jobs: JobQueue,
    run_launcher: Callable[..., Any],
    redis_client: redis.Redis,
    keys: RedisKeys,
) -> None:
    started = cluster.clock()
    cluster.admin("POST", "faults", {"verb": "create", "error": "503", "rate": 1.0})
    run_launcher()
    publish(jobs, namespace, builders.job())

    def four_attempts() -> list[tuple[float, int]]:
        creates = cluster.requests_since(started, "create")
        return creates if len(creates) >= 4 else []

    attempts = wait_until(
        four_attempts, timeout_s=10, what="four create attempts against an API that keeps failing"
    )
    # backing off from 0.1-0.2 s, doubling: three waits take 0.7 s at least; a busy loop, ms
    first, fourth = attempts[0][0], attempts[3][0]
    assert fourth - first >= 0.6, f"four create attempts in {fourth - first:.3f} s"
    cluster.admin("DELETE", "faults")
    events = wait_for_events(redis_client, keys, 1, timeout_s=30)
    # should the broker redeliver the job while it is still being retried, the second delivery
    # finds the pod and says so: there is still one pod
    assert events[0].outcome is LaunchOutcome.CREATED
    assert all(e.outcome is LaunchOutcome.EXISTS for e in events[1:])
    assert len(cluster.pods(namespace)) == 1
