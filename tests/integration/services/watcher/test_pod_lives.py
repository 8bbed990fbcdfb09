"""Each kind of pod life yields its documented sequence of published events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import redis

from shared.messages import PodEvent, PodPhase
from shared.messaging.keys import RedisKeys
from tests.integration.services.watcher.conftest import create_pod, events_of, pod_events
from tests.support.cluster import Cluster
from tests.support.waiting import wait_until


def life(events: list[PodEvent]) -> list[tuple[str, str, str, int | None, bool, bool]]:
    return [
        (
            e.phase.value,
            e.reason or e.waiting_reason,
            e.terminated_reason,
            e.exit_code,
            e.deletion_requested,
            e.deleted,
        )
        for e in events
    ]


def release_finalizer(cluster: Cluster, namespace: str, pod: str) -> None:
    """What the reconciler does once the result is recorded."""
    response = cluster.http.patch(
        f"/api/v1/namespaces/{namespace}/pods/{pod}",
        json=[{"op": "remove", "path": "/metadata/finalizers"}],
        headers={"Content-Type": "application/json-patch+json"},
    )
    assert response.status_code == 200, response.text


@pytest.fixture
def watched(run_watcher: Callable[..., Any]) -> None:
    run_watcher()


def finished(
    client: redis.Redis, keys: RedisKeys, namespace: str, pod: str, last: Callable[[PodEvent], bool]
) -> list[PodEvent]:
    return wait_until(
        lambda: (
            (found := events_of(pod_events(client, keys, namespace), pod))
            and last(found[-1])
            and found
        ),
        timeout_s=20,
        what=f"the last event of pod {pod}",
    )


@pytest.mark.usefixtures("watched")
@pytest.mark.parametrize(
    ("behaviour", "expected_end"),
    [
        pytest.param({}, ("Succeeded", "", "Completed", 0, False, False), id="success"),
        pytest.param({"exit_code": "3"}, ("Failed", "", "Error", 3, False, False), id="exit-code"),
        pytest.param(
            {"oom": "true"}, ("Failed", "", "OOMKilled", 137, False, False), id="oom-killed"
        ),
        pytest.param(
            {"evict": "true", "run_seconds": "0.2"},
            ("Failed", "Evicted", "ContainerStatusUnknown", 137, False, False),
            id="evicted",
        ),
    ],
)
def test_a_pod_that_runs_to_its_end(
    cluster: Cluster,
    namespace: str,
    instance: str,
    redis_client: redis.Redis,
    keys: RedisKeys,
    behaviour: dict[str, str],
    expected_end: tuple[object, ...],
) -> None:
    pod = create_pod(cluster, namespace, instance, "t", **behaviour)
    events = finished(
        redis_client,
        keys,
        namespace,
        pod,
        lambda e: e.phase in (PodPhase.SUCCEEDED, PodPhase.FAILED),
    )
    steps = life(events)
    assert steps[0][:2] == ("Pending", "")
    assert ("Pending", "ContainerCreating", "", None, False, False) in steps
    assert ("Running", "", "", None, False, False) in steps
    assert steps[-1] == expected_end
    assert events[-1].started_at is not None
    resource_versions = [int(e.resource_version) for e in events]
    assert resource_versions == sorted(resource_versions)


@pytest.mark.usefixtures("watched")
def test_an_image_that_cannot_be_pulled_shows_err_image_pull_then_back_off(
    cluster: Cluster, namespace: str, instance: str, redis_client: redis.Redis, keys: RedisKeys
) -> None:
    pod = create_pod(cluster, namespace, instance, "pull", pull="fail")

    def both() -> bool:
        reasons = {
            e.waiting_reason for e in events_of(pod_events(redis_client, keys, namespace), pod)
        }
        return {"ErrImagePull", "ImagePullBackOff"} <= reasons

    wait_until(both, timeout_s=20, what="ErrImagePull and ImagePullBackOff both published")
    assert all(
        e.phase is PodPhase.PENDING
        for e in events_of(pod_events(redis_client, keys, namespace), pod)
    )


@pytest.mark.usefixtures("watched")
def test_a_pod_deleted_while_pending_ends_with_a_deleted_event(
    cluster: Cluster, namespace: str, instance: str, redis_client: redis.Redis, keys: RedisKeys
) -> None:
    pod = create_pod(
        cluster, namespace, instance, "pending", unschedulable="true", run_seconds="60"
    )
    wait_until(
        lambda: events_of(pod_events(redis_client, keys, namespace), pod),
        timeout_s=20,
        what="events_of(pod_events(redis_client, keys, namespace), pod)",
    )
    cluster.http.delete(f"/api/v1/namespaces/{namespace}/pods/{pod}")
    marked = finished(redis_client, keys, namespace, pod, lambda e: e.deletion_requested)
    assert (marked[-1].phase, marked[-1].deleted) == (PodPhase.PENDING, False)
    release_finalizer(cluster, namespace, pod)
    events = finished(redis_client, keys, namespace, pod, lambda e: e.deleted)
    assert events[-1].phase is PodPhase.PENDING


@pytest.mark.usefixtures("watched")
def test_a_finalizer_held_deletion_reports_the_terminal_state_then_the_removal(
    cluster: Cluster, namespace: str, instance: str, redis_client: redis.Redis, keys: RedisKeys
) -> None:
    pod = create_pod(cluster, namespace, instance, "held", run_seconds="60", on_sigterm="exit0")
    finished(redis_client, keys, namespace, pod, lambda e: e.phase is PodPhase.RUNNING)
    cluster.http.delete(f"/api/v1/namespaces/{namespace}/pods/{pod}")
    held = finished(redis_client, keys, namespace, pod, lambda e: e.phase is PodPhase.SUCCEEDED)
    assert held[-1].deletion_requested
    assert not held[-1].deleted, "the result finalizer keeps the pod"
    release_finalizer(cluster, namespace, pod)
    gone = finished(redis_client, keys, namespace, pod, lambda e: e.deleted)
    assert gone[-1].phase is PodPhase.SUCCEEDED
