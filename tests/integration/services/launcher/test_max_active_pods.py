"""The active-pod cap holds however many jobs wait, and waiting jobs start in priority order.

The test plays the reconciler's part: when a pod finishes, it frees the pod's slot.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import redis

from shared.messaging.jobqueue import JobQueue
from shared.messaging.keys import RedisKeys
from shared.messaging.slots import SlotPool
from tests.integration.services.launcher.conftest import launch_events, publish, wait_for_events
from tests.support import builders
from tests.support.cluster import Cluster


def free_slots_of_finished_pods(
    cluster: Cluster, namespace: str, slots: SlotPool, stop: threading.Event, peak: list[int]
) -> None:
    released: set[str] = set()
    while not stop.is_set():
        pods = cluster.pods(namespace)
        unfinished = [p for p in pods if p["status"].get("phase") not in ("Succeeded", "Failed")]
        peak.append(len(unfinished))
        for pod in pods:
            name = pod["metadata"]["name"]
            if name not in released and pod["status"].get("phase") == "Succeeded":
                slots.release(namespace, name)
                released.add(name)
        time.sleep(0.02)


def test_the_cap_holds_under_200_queued_jobs(
    cluster: Cluster,
    namespace: str,
    jobs: JobQueue,
    run_launcher: Callable[..., Any],
    redis_client: redis.Redis,
    keys: RedisKeys,
) -> None:
    publish(jobs, namespace, *[builders.job(task_id=f"t{n}") for n in range(200)])
    run_launcher(max_active_pods=5)
    stop, peak = threading.Event(), [0]
    reconciler = threading.Thread(
        target=free_slots_of_finished_pods,
        args=(cluster, namespace, SlotPool(redis_client, keys=keys, holder="test"), stop, peak),
    )
    reconciler.start()
    try:
        events = wait_for_events(redis_client, keys, 200, timeout_s=90)
    finally:
        stop.set()
        reconciler.join()
    assert len({e.pod for e in events}) == 200
    assert max(peak) <= 5
    assert max(peak) >= 3, "the cap was reached, not merely respected"


def test_waiting_jobs_are_launched_in_priority_order(
    cluster: Cluster,
    namespace: str,
    jobs: JobQueue,
    run_launcher: Callable[..., Any],
    redis_client: redis.Redis,
    keys: RedisKeys,
) -> None:
    priorities = [1, 5, 9, 3, 7]
    publish(jobs, namespace, *[builders.job(task_id=f"p{p}", priority=p) for p in priorities])
    run_launcher(max_active_pods=1, launch_concurrency=1)
    slots = SlotPool(redis_client, keys=keys, holder="test")
    for count in range(1, len(priorities) + 1):
        [*_, latest] = wait_for_events(redis_client, keys, count)
        slots.release(namespace, latest.pod)
    order = [e.job.priority for e in launch_events(redis_client, keys) if e.job is not None]
    assert order == sorted(priorities, reverse=True)
