"""A job delivered twice, or again after its launcher died mid-launch, still makes one pod."""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any

import httpx
import redis

from shared.messages import LaunchOutcome
from shared.messaging.jobqueue import JobQueue
from shared.messaging.keys import RedisKeys
from tests.integration.services.launcher.conftest import publish, wait_for_events
from tests.support import builders
from tests.support.cluster import Cluster
from tests.support.waiting import wait_until


def test_the_same_job_twice_makes_one_pod_and_says_it_exists(
    cluster: Cluster,
    namespace: str,
    jobs: JobQueue,
    run_launcher: Callable[..., Any],
    redis_client: redis.Redis,
    keys: RedisKeys,
) -> None:
    run_launcher()
    job = builders.job()
    publish(jobs, namespace, job, job)
    events = wait_for_events(redis_client, keys, 2)
    assert sorted(e.outcome for e in events) == [LaunchOutcome.CREATED, LaunchOutcome.EXISTS]
    assert len(cluster.pods(namespace)) == 1


def test_a_launcher_killed_after_create_before_ack_leaves_one_pod(
    cluster: Cluster,
    namespace: str,
    jobs: JobQueue,
    launcher_process: Callable[..., Any],
    redis_client: redis.Redis,
    keys: RedisKeys,
) -> None:
    # Given a launcher whose create answer is slow: the pod exists before it hears back
    cluster.admin("PUT", "latency", {"verb": "create", "ms": 5000, "after": True})
    first = launcher_process()
    job = builders.job()
    publish(jobs, namespace, job)
    cluster.wait_for_pods(namespace, 1)
    # When it is killed before it could acknowledge the job, and another launcher starts
    first.signal(signal.SIGKILL)
    first.wait()
    cluster.admin("DELETE", "faults")
    second = launcher_process(PODRUNNER_BROKER_VISIBILITY_TIMEOUT_S="2")
    # Expect the job redelivered, recognised as launched, and still exactly one pod
    [event] = wait_for_events(redis_client, keys, 1, timeout_s=30)
    assert (event.outcome, event.pod) == (
        LaunchOutcome.EXISTS,
        cluster.pods(namespace)[0]["metadata"]["name"],
    )
    wait_until(
        lambda: jobs.depth(namespace) == 0 and in_hand(second.port, namespace) == 0,
        timeout_s=10,
        what="the job settled: neither queued nor in the second launcher's hands",
    )
    assert len(cluster.pods(namespace)) == 1


def in_hand(port: int, namespace: str) -> int:
    """Jobs of `namespace` the launcher serving health on `port` holds, as its `/status` says."""
    status = httpx.get(f"http://127.0.0.1:{port}/status", timeout=5).json()
    return int(status["in_flight"][namespace])
