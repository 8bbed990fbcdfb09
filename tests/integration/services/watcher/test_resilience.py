"""The watcher survives restarts, compaction, dropped streams and API errors, missing nothing."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import redis

from shared.messages import PodEvent, PodPhase
from shared.messaging.keys import RedisKeys
from tests.integration.services.watcher.conftest import create_pod, events_of, pod_events
from tests.support.cluster import Cluster
from tests.support.waiting import wait_until

DONE = (PodPhase.SUCCEEDED, PodPhase.FAILED)


def all_finished(
    client: redis.Redis, keys: RedisKeys, namespace: str, pods: list[str]
) -> list[PodEvent]:
    """Wait until every pod's terminal state was published; return all events."""

    def check() -> list[PodEvent] | None:
        events = pod_events(client, keys, namespace)
        finished = all(any(e.phase in DONE for e in events_of(events, pod)) for pod in pods)
        return events if finished else None

    return wait_until(check, timeout_s=40, what="every pod's final state published")


def test_a_killed_watcher_restarted_misses_nothing(
    cluster: Cluster,
    namespace: str,
    instance: str,
    watcher_process: Callable[[], Any],
    redis_client: redis.Redis,
    keys: RedisKeys,
) -> None:
    first = watcher_process()
    pods = [create_pod(cluster, namespace, instance, f"a{n}", run_seconds="1.5") for n in range(5)]
    wait_until(
        lambda: len(pod_events(redis_client, keys, namespace)) >= 5,
        timeout_s=20,
        what="len(pod_events(redis_client, keys, namespace)) >= 5",
    )
    first.kill()
    pods += [create_pod(cluster, namespace, instance, f"b{n}", run_seconds="0.5") for n in range(5)]
    watcher_process()
    events = all_finished(redis_client, keys, namespace, pods)
    for pod in pods:
        phases = [e.phase for e in events_of(events, pod)]
        assert PodPhase.RUNNING in phases, f"{pod} lost its Running event"
    versions = [(e.pod, e.resource_version) for e in events]
    assert len(versions) - len(set(versions)) <= 10, "only the last unacknowledged batch repeats"


def test_history_compacted_while_down_and_mid_stream_leads_to_relists(
    cluster: Cluster,
    namespace: str,
    instance: str,
    watcher_process: Callable[[], Any],
    redis_client: redis.Redis,
    keys: RedisKeys,
) -> None:
    first = watcher_process()
    early = create_pod(cluster, namespace, instance, "early", run_seconds="60")
    wait_until(
        lambda: events_of(pod_events(redis_client, keys, namespace), early),
        timeout_s=20,
        what="events_of(pod_events(redis_client, keys, namespace), early)",
    )
    first.kill()
    done_while_down = create_pod(cluster, namespace, instance, "while-down", run_seconds="0.2")
    wait_until(
        lambda: phase_in_cluster(cluster, namespace, done_while_down) == "Succeeded",
        timeout_s=20,
        what='phase_in_cluster(cluster, namespace, done_while_down) == "Succeeded"',
    )
    cluster.admin("POST", "compact")
    second = watcher_process()
    wait_until(
        lambda: any(
            e.phase is PodPhase.SUCCEEDED
            for e in events_of(pod_events(redis_client, keys, namespace), done_while_down)
        ),
        timeout_s=20,
        what="the success of the pod done while Redis was down",
    )
    later = create_pod(cluster, namespace, instance, "later", run_seconds="1")
    wait_until(
        lambda: events_of(pod_events(redis_client, keys, namespace), later),
        timeout_s=20,
        what="events_of(pod_events(redis_client, keys, namespace), later)",
    )
    cluster.admin("POST", "compact")
    cluster.admin("POST", "watches/expire")
    all_finished(redis_client, keys, namespace, [later])
    metrics = httpx.get(f"http://127.0.0.1:{second.port}/metrics").text
    assert metric(metrics, "podrunner_watcher_gone_total") == 2, "on restart, and mid-stream"
    assert metric(metrics, "podrunner_watcher_relists_total") == 2
    assert second.process.poll() is None, "the watcher stays up"


def test_dropped_streams_and_server_errors_are_survived(
    cluster: Cluster,
    namespace: str,
    instance: str,
    run_watcher: Callable[..., Any],
    redis_client: redis.Redis,
    keys: RedisKeys,
) -> None:
    watched = run_watcher()
    pods = [create_pod(cluster, namespace, instance, f"p{n}", run_seconds="1") for n in range(3)]
    time.sleep(0.2)
    cluster.admin("POST", "faults", {"verb": "watch", "error": "500", "count": 3})
    cluster.admin("POST", "watches/drop", {"final_chunk": False})
    pods += [create_pod(cluster, namespace, instance, f"q{n}", run_seconds="0.3") for n in range(3)]
    cluster.admin("POST", "watches/drop", {"final_chunk": True})
    all_finished(redis_client, keys, namespace, pods)
    metrics = httpx.get(f"http://127.0.0.1:{watched.port}/metrics").text
    assert metric(metrics, "podrunner_watcher_reconnects_total") >= 3


def phase_in_cluster(cluster: Cluster, namespace: str, pod: str) -> str:
    response = cluster.http.get(f"/api/v1/namespaces/{namespace}/pods/{pod}")
    return str(response.json()["status"].get("phase", ""))


def metric(text: str, name: str) -> float:
    """The value of an unlabelled metric in Prometheus text format."""
    for line in text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not exported")
