"""SIGTERM loses nothing: every job is either launched (and announced) or back on its queue."""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any

import redis

from shared.messaging.jobqueue import JobQueue
from shared.messaging.keys import RedisKeys
from tests.integration.services.launcher.conftest import launch_events, publish, wait_for_events
from tests.support import builders
from tests.support.cluster import Cluster


def test_sigterm_finishes_creates_in_flight_and_requeues_the_rest(
    cluster: Cluster,
    namespace: str,
    jobs: JobQueue,
    launcher_process: Callable[..., Any],
    redis_client: redis.Redis,
    keys: RedisKeys,
) -> None:
    # Given a launcher busy with slow creates and more jobs waiting for slots
    cluster.admin("PUT", "latency", {"verb": "create", "ms": 300})
    launcher = launcher_process(PODRUNNER_LAUNCH_CONCURRENCY="4", PODRUNNER_MAX_ACTIVE_PODS="6")
    publish(jobs, namespace, *[builders.job(task_id=f"t{n}") for n in range(20)])
    wait_for_events(redis_client, keys, 2)
    # When it is told to stop
    launcher.signal(signal.SIGTERM)
    assert launcher.wait(timeout_s=30) == 0
    # Expect each job launched and announced, or waiting in the queue again: none lost
    events = launch_events(redis_client, keys)
    pods = {p["metadata"]["name"] for p in cluster.pods(namespace)}
    assert pods == {e.pod for e in events}
    assert len(events) + jobs.depth(namespace) == 20
