"""The Now, Flow and Failures views' figures: counts by namespace and state with slots and
queues, tasks per minute with latency percentiles, and failures grouped by reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy

from shared.messages import Job
from shared.messaging.jobqueue import JobQueue
from tests.integration.services.reconciler.dashboard.conftest import insert
from tests.support import builders
from tests.support.testclient import TestClient


def test_now_counts_each_namespace_by_state_with_its_slots_and_queue(
    client: TestClient, db: sqlalchemy.Engine, jobs: JobQueue
) -> None:
    insert(db, "a", state="success")
    insert(db, "b", state="failed")
    insert(db, "c", state="running", namespace="other")
    job: Job = builders.job(task_id="waiting")
    jobs.publish([(job, "jobs")])

    now = client.get("/ui/data/now").json()

    by_name = {ns["namespace"]: ns for ns in now["namespaces"]}
    assert sorted(by_name) == ["idle", "jobs", "other"], "served ones, and any with rows"
    assert by_name["jobs"]["states"] == {"success": 1, "failed": 1}
    assert by_name["jobs"]["queued_jobs"] == {"value": 1}
    assert by_name["jobs"]["active_pods"] == {"value": 0}
    assert by_name["jobs"]["max_active_pods"] == 5
    assert by_name["idle"]["states"] == {}
    assert now["dead_letters"] == {"value": 0}
    assert now["replicas"] == {"value": []}


def test_flow_counts_each_minute_of_the_hour_and_the_latencies(
    client: TestClient, db: sqlalchemy.Engine
) -> None:
    now = datetime.now(UTC)
    queued = now - timedelta(seconds=30)
    insert(
        db,
        "a",
        state="success",
        queued_at=queued,
        started_at=queued + timedelta(seconds=2),
        ended_at=queued + timedelta(seconds=10),
    )
    insert(db, "b", state="running", queued_at=queued, started_at=queued + timedelta(seconds=4))
    insert(
        db,
        "old",
        state="success",
        queued_at=now - timedelta(hours=3),
        started_at=now - timedelta(hours=3),
        ended_at=now - timedelta(hours=3),
    )

    flow = client.get("/ui/data/flow").json()

    assert len(flow["minutes"]) == 60
    assert sum(flow["submitted"]) == 2
    assert sum(flow["started"]) == 2
    assert sum(flow["finished"]) == 1
    assert flow["latency_s"]["start_p50"] == 3.0
    assert flow["latency_s"]["end_p99"] == 10.0


def test_failures_are_grouped_by_reason_over_the_hour_and_the_day(
    client: TestClient, db: sqlalchemy.Engine
) -> None:
    now = datetime.now(UTC)
    minutes_ago = [
        ("Error (exit 3)", 5),
        ("Error (exit 3)", 5 * 60),
        ("OOMKilled (exit 137)", 10),
        ("Error (exit 3)", 20 * 60),
        ("Error (exit 3)", 30 * 60),
    ]
    for n, (reason, ago) in enumerate(minutes_ago):
        ended = now - timedelta(minutes=ago)
        insert(db, f"t{n}", state="failed", failure_reason=reason, ended_at=ended)
    insert(db, "ok", state="success", ended_at=now)

    reasons = client.get("/ui/data/failures").json()["reasons"]

    assert [(r["reason"], r["last_hour"], r["last_day"]) for r in reasons] == [
        ("Error (exit 3)", 1, 3),
        ("OOMKilled (exit 137)", 1, 1),
    ]
