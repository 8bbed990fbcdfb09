"""Entries no row can hold, or that fail in the database, are dead-lettered with the reason, one
task at a time: their batch-mates are applied, and applying goes on."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import redis
import sqlalchemy

from services.reconciler import service
from services.reconciler.applying import Applier
from services.reconciler.ledger import Rules
from shared.messages import SCHEMA_VERSION, Job, LaunchEvent, LaunchOutcome, PodEvent, PodPhase
from shared.messaging import streams
from shared.messaging.keys import RedisKeys
from shared.messaging.streams import GroupSettings, StreamConsumer
from shared.settings import Settings
from tests.support import builders
from tests.support.services import InProcess
from tests.support.waiting import wait_until

pytestmark = pytest.mark.timeout(60)

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def launch(of: Job, outcome: LaunchOutcome = LaunchOutcome.CREATED, **changes: Any) -> LaunchEvent:
    values: dict[str, Any] = {
        "version": SCHEMA_VERSION,
        "key": of.key,
        "try_number": of.try_number,
        "namespace": "jobs",
        "pod": f"pod-{of.task_id}",
        "outcome": outcome,
        "job": of,
        "at": T0,
        **changes,
    }
    return LaunchEvent(**values)


def ended(job: Job, *, exit_code: int) -> PodEvent:
    return PodEvent(
        version=SCHEMA_VERSION,
        key=job.key,
        try_number=job.try_number,
        namespace="jobs",
        pod=f"pod-{job.task_id}",
        pod_uid=f"uid-{job.task_id}",
        phase=PodPhase.FAILED,
        started_at=T0,
        finished_at=T0,
        terminated_reason="Error",
        exit_code=exit_code,
        resource_version="9",
        observed_at=T0,
    )


@pytest.fixture
def reader(redis_client: redis.Redis, keys: RedisKeys) -> StreamConsumer:
    return StreamConsumer(
        redis_client,
        keys=keys,
        streams=[keys.launches, keys.pod_events("jobs")],
        settings=GroupSettings(group="reconciler", consumer="r1"),
    )


@pytest.fixture
def applier(db: sqlalchemy.Engine, reader: StreamConsumer, keys: RedisKeys) -> Applier:
    return Applier(db, reader, launches_stream=keys.launches, rules=Rules())


def apply(
    applier: Applier,
    reader: StreamConsumer,
    client: redis.Redis,
    keys: RedisKeys,
    *,
    launches: list[LaunchEvent] = (),  # type: ignore[assignment]
    pods: list[PodEvent] = (),  # type: ignore[assignment]
) -> None:
    if launches:
        streams.publish(client, keys.launches, [e.encode() for e in launches], maxlen=1000)
    if pods:
        streams.publish(client, keys.pod_events("jobs"), [e.encode() for e in pods], maxlen=1000)
    while entries := reader.read(block_ms=50):
        applier.apply(entries)


def rows(db: sqlalchemy.Engine) -> dict[str, Any]:
    with db.connect() as connection:
        result = connection.execute(sqlalchemy.text("SELECT * FROM task_instance")).mappings()
        return {row["task_id"]: row for row in result}


def dead_letters(client: redis.Redis, keys: RedisKeys) -> list[str]:
    records: Any = client.xrange(keys.dead_letters)
    return [fields[b"error"].decode() for _, fields in records]


def test_launch_events_no_row_can_hold_are_dead_lettered_and_their_batch_mates_applied(
    applier: Applier,
    reader: StreamConsumer,
    redis_client: redis.Redis,
    keys: RedisKeys,
    db: sqlalchemy.Engine,
) -> None:
    good = builders.job(task_id="good", namespace="jobs")
    poison = [
        launch(builders.job(task_id="nul", namespace="jobs", command=["echo", "a\x00b"])),
        launch(builders.job(task_id="big-index", namespace="jobs", map_index=2**31)),
        launch(builders.job(task_id="big-try", namespace="jobs", try_number=2**31)),
        launch(builders.job(task_id="big-priority", namespace="jobs", priority=2**31)),
        launch(builders.job(task_id="nul-reason", namespace="jobs"), reason="bad\x00"),
    ]

    apply(applier, reader, redis_client, keys, launches=[poison[0], launch(good), *poison[1:]])

    assert list(rows(db)) == ["good"]
    assert sorted(dead_letters(redis_client, keys)) == [
        "invalid job: command.1: text cannot contain NUL characters",
        "invalid job: map_index: must be between -2147483648 and 2147483647",
        "invalid job: priority: must be between -2147483648 and 2147483647",
        "invalid job: reason: text cannot contain NUL characters",
        "invalid job: try_number: must be between -2147483648 and 2147483647",
    ]
    assert redis_client.xpending(keys.launches, "reconciler")["pending"] == 0


def test_a_task_whose_events_fail_in_the_database_is_dead_lettered_alone(
    applier: Applier,
    reader: StreamConsumer,
    redis_client: redis.Redis,
    keys: RedisKeys,
    db: sqlalchemy.Engine,
) -> None:
    jobs = [builders.job(task_id=f"t{n}", namespace="jobs") for n in range(5)]
    apply(applier, reader, redis_client, keys, launches=[launch(job) for job in jobs])
    # an exit code past 32 bits passes every check but the integer column's
    events = [ended(job, exit_code=2**31 if job.task_id == "t3" else 1) for job in jobs]

    apply(applier, reader, redis_client, keys, pods=events)

    table = rows(db)
    assert {task: table[task]["state"] for task in table} == {
        "t0": "failed",
        "t1": "failed",
        "t2": "failed",
        "t3": "queued",
        "t4": "failed",
    }
    [reason] = dead_letters(redis_client, keys)
    assert reason == 'DataError: value "2147483648" is out of range for type integer'
    assert redis_client.xpending(keys.pod_events("jobs"), "reconciler")["pending"] == 0


def test_a_rejected_launch_of_a_task_without_a_row_records_it_failed_with_the_reason(
    applier: Applier,
    reader: StreamConsumer,
    redis_client: redis.Redis,
    keys: RedisKeys,
    db: sqlalchemy.Engine,
) -> None:
    unreadable = builders.job(task_id="unreadable", namespace="jobs", try_number=2)
    refused = builders.job(task_id="refused", namespace="jobs")
    rejections = [
        launch(unreadable, LaunchOutcome.REJECTED, job=None, reason="invalid Job: command: …"),
        launch(refused, LaunchOutcome.REJECTED, reason="hostPath volumes are not allowed"),
    ]

    apply(applier, reader, redis_client, keys, launches=rejections)

    table = rows(db)
    assert (table["unreadable"]["state"], table["unreadable"]["failure_reason"]) == (
        "failed",
        "rejected: invalid Job: command: …",
    )
    assert table["unreadable"]["try_number"] == 2
    assert table["unreadable"]["job"] == {
        "dag_id": "etl",
        "task_id": "unreadable",
        "run_id": unreadable.run_id,
        "map_index": -1,
        "try_number": 2,
        "namespace": "jobs",
    }
    assert (table["refused"]["state"], table["refused"]["failure_reason"]) == (
        "failed",
        "rejected: hostPath volumes are not allowed",
    )
    assert table["refused"]["job"] == refused.to_dict()
    assert not applier.holding


@pytest.fixture
def reconciler(
    service_env: dict[str, str],
    database_url: Any,
    db: sqlalchemy.Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[InProcess]:
    """A reconciler on a thread of this process (`db`: the rows it writes are truncated after)."""
    monkeypatch.setenv("PODRUNNER_DATABASE_URL", database_url.render_as_string(hide_password=False))
    running = InProcess(service.build(Settings()), int(service_env["PODRUNNER_HEALTH_PORT"]))
    yield running.start()
    assert running.stop() == 0


def test_the_reconciler_keeps_applying_after_poison_entries(
    reconciler: InProcess,
    redis_client: redis.Redis,
    keys: RedisKeys,
    db: sqlalchemy.Engine,
    namespace: str,
) -> None:
    def job(task_id: str, **changes: Any) -> Job:
        return builders.job(task_id=task_id, namespace=namespace, **changes)

    poison = [job("nul", command=["a\x00"]), job("big", map_index=2**31)]
    first = [launch(each, namespace=namespace) for each in [job("a"), *poison, job("b")]]
    streams.publish(redis_client, keys.launches, [e.encode() for e in first], maxlen=1000)
    wait_until(
        lambda: set(rows(db)) == {"a", "b"} and len(dead_letters(redis_client, keys)) == 2,
        timeout_s=20,
        what='set(rows(db)) == {"a", "b"} and len(dead_letters(redis_client, keys)) == 2',
    )

    later = launch(job("c"), namespace=namespace)
    streams.publish(redis_client, keys.launches, [later.encode()], maxlen=1000)
    wait_until(lambda: "c" in rows(db), timeout_s=20, what='"c" in rows(db)')
    assert reconciler.thread.is_alive()
    health = httpx.get(f"http://127.0.0.1:{reconciler.port}/healthz", timeout=5)
    assert health.status_code == 200
