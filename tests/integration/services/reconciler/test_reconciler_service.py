"""The reconciler as a service: ready with its dependencies, one sweeper among replicas,
every pod-event stream found, and its figures on /metrics and /status."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import redis

from shared.messages import SCHEMA_VERSION, PodEvent, PodPhase
from shared.messaging import streams
from shared.messaging.keys import RedisKeys
from tests.support import builders
from tests.support.services import API_HEADERS, InProcess
from tests.support.waiting import wait_until

pytestmark = pytest.mark.timeout(60)


def status(port: int) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"http://127.0.0.1:{port}/status", timeout=5).json()
    return body


def test_of_two_replicas_exactly_one_sweeps_and_the_other_takes_over(
    reconciler: Callable[[], InProcess],
) -> None:
    first, second = reconciler(), reconciler()
    wait_until(
        lambda: (
            [status(first.port)["sweep_leader"], status(second.port)["sweep_leader"]].count(True)
            == 1
        ),
        timeout_s=20,
        what="one sweep leader of the two",
    )
    leader, standby = (first, second) if status(first.port)["sweep_leader"] else (second, first)
    assert leader.stop() == 0
    wait_until(
        lambda: status(standby.port)["sweep_leader"] is True,
        timeout_s=10,
        what='status(standby.port)["sweep_leader"] is True',
    )


def test_pod_event_streams_of_other_namespaces_are_found(
    reconciler: Callable[[], InProcess], redis_client: redis.Redis, keys: RedisKeys
) -> None:
    elsewhere = keys.pod_events("elsewhere")
    streams.publish(redis_client, elsewhere, [b"{}"], maxlen=1000)
    running = reconciler()
    wait_until(
        lambda: elsewhere in status(running.port)["streams"],
        timeout_s=20,
        what='elsewhere in status(running.port)["streams"]',
    )


def test_metrics_show_applied_events_backlog_dead_letters_and_tasks_by_state(
    reconciler: Callable[[], InProcess],
    redis_client: redis.Redis,
    keys: RedisKeys,
    namespace: str,
) -> None:
    running = reconciler()
    job = builders.job(namespace=namespace)
    # the event's task has a row, so it is applied at once (not held for its launch event)
    submitted = httpx.post(
        f"http://127.0.0.1:{running.port}/api/v1/jobs", json=job.to_dict(), headers=API_HEADERS
    )
    assert submitted.status_code == 201
    event = PodEvent(
        version=SCHEMA_VERSION,
        key=job.key,
        try_number=1,
        namespace=namespace,
        pod="p",
        phase=PodPhase.RUNNING,
        resource_version="1",
        observed_at=datetime.now(UTC),
    )
    stream = keys.pod_events(namespace)
    streams.publish(redis_client, stream, [event.encode(), b"not json"], maxlen=1000)

    def scraped() -> str:
        return httpx.get(f"http://127.0.0.1:{running.port}/metrics", timeout=5).text

    wait_until(
        lambda: "podrunner_reconciler_events_applied_total 2.0" in scraped(),
        timeout_s=20,
        what='"podrunner_reconciler_events_applied_total 2.0" in scraped()',
    )
    text = scraped()
    assert "podrunner_reconciler_dead_letters 1.0" in text
    assert f'podrunner_reconciler_stream_pending{{stream="{stream}"}} 0.0' in text
    assert "podrunner_reconciler_apply_latency_seconds_count 1.0" in text
    assert "podrunner_tasks" in text
    assert "podrunner_reconciler_sweep_leader 1.0" in text


def test_the_api_is_served_beside_the_health_endpoints_behind_the_token(
    reconciler: Callable[[], InProcess], monkeypatch: pytest.MonkeyPatch, namespace: str
) -> None:
    monkeypatch.setenv("PODRUNNER_API_TOKEN", "s3cret-s3cret-s3cret")
    base = f"http://127.0.0.1:{reconciler().port}"
    job = builders.job_dict(namespace=namespace)
    assert httpx.post(f"{base}/api/v1/jobs", json=job).status_code == 401
    auth = {"Authorization": "Bearer s3cret-s3cret-s3cret"}
    assert httpx.post(f"{base}/api/v1/jobs", json=job, headers=auth).status_code == 201
    path = f"{job['dag_id']}/{job['task_id']}/{job['run_id']}/-1"
    task = httpx.get(f"{base}/api/v1/tasks/{path}", headers=auth).json()
    assert task["state"] == "queued"
    assert httpx.get(f"{base}/healthz").status_code == 200, "probes need no token"
    assert httpx.get(f"{base}/docs").status_code == 200
