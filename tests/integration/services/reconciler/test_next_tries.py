"""A task's next try, reported by the launcher after the last try ended, moves the row on: its
pod's events apply, the row ends on the new try's outcome, and holds the new try's job."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
import sqlalchemy

from services.reconciler.applying import Applier
from services.reconciler.ledger import Rules
from shared.messages import SCHEMA_VERSION, LaunchEvent, LaunchOutcome, PodEvent, PodPhase
from shared.messaging import streams
from shared.messaging.keys import RedisKeys
from shared.messaging.streams import GroupSettings, StreamConsumer
from tests.support import builders

pytestmark = pytest.mark.timeout(60)

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def events(try_number: int, *, exit_code: int) -> tuple[LaunchEvent, list[PodEvent]]:
    job = builders.job(
        task_id="retried", namespace="jobs", try_number=try_number, priority=try_number
    )
    pod = f"retried-{try_number}"
    launch = LaunchEvent(
        version=SCHEMA_VERSION,
        key=job.key,
        try_number=try_number,
        namespace="jobs",
        pod=pod,
        outcome=LaunchOutcome.CREATED,
        job=job,
        at=T0,
    )
    at = T0 + timedelta(minutes=try_number)
    common: dict[str, Any] = {
        "version": SCHEMA_VERSION,
        "key": job.key,
        "try_number": try_number,
        "namespace": "jobs",
        "pod": pod,
        "pod_uid": f"uid-{try_number}",
        "started_at": at,
        "observed_at": at,
    }
    ending = PodPhase.SUCCEEDED if exit_code == 0 else PodPhase.FAILED
    return launch, [
        PodEvent(**common, phase=PodPhase.RUNNING, resource_version=f"{try_number}1"),
        PodEvent(
            **common,
            phase=ending,
            terminated_reason="Completed" if exit_code == 0 else "Error",
            exit_code=exit_code,
            finished_at=at,
            resource_version=f"{try_number}2",
        ),
    ]


@pytest.fixture
def reader(redis_client: redis.Redis, keys: RedisKeys) -> StreamConsumer:
    return StreamConsumer(
        redis_client,
        keys=keys,
        streams=[keys.launches, keys.pod_events("jobs")],
        settings=GroupSettings(group="reconciler", consumer="r1"),
    )


@pytest.fixture
def apply(
    db: sqlalchemy.Engine, reader: StreamConsumer, redis_client: redis.Redis, keys: RedisKeys
) -> Callable[[list[LaunchEvent], list[PodEvent]], None]:
    """Publish launch and pod events, then apply everything the reader gets."""
    applier = Applier(db, reader, launches_stream=keys.launches, rules=Rules())

    def publish_and_apply(launches: list[LaunchEvent], pods: list[PodEvent]) -> None:
        streams.publish(redis_client, keys.launches, [e.encode() for e in launches], maxlen=1000)
        streams.publish(
            redis_client, keys.pod_events("jobs"), [e.encode() for e in pods], maxlen=1000
        )
        while entries := reader.read(block_ms=50):
            applier.apply(entries)

    return publish_and_apply


def row(db: sqlalchemy.Engine) -> Any:
    with db.connect() as connection:
        query = sqlalchemy.text("SELECT * FROM task_instance WHERE task_id = 'retried'")
        return connection.execute(query).mappings().one()


@pytest.mark.parametrize("launch_first", [True, False], ids=["launch-first", "pods-first"])
def test_a_next_try_from_the_queue_ends_on_its_own_outcome_with_its_own_job(
    apply: Callable[[list[LaunchEvent], list[PodEvent]], None],
    db: sqlalchemy.Engine,
    launch_first: bool,
) -> None:
    first_launch, first_pods = events(1, exit_code=1)
    apply([first_launch], first_pods)
    assert (row(db)["state"], row(db)["pod_uid"]) == ("failed", "uid-1")

    second_launch, second_pods = events(2, exit_code=0)
    if launch_first:
        apply([second_launch], second_pods)
    else:
        apply([], second_pods)
        apply([second_launch], [])

    ended = row(db)
    assert (ended["try_number"], ended["state"], ended["failure_reason"]) == (2, "success", None)
    assert (ended["pod_name"], ended["pod_uid"]) == ("retried-2", "uid-2")
    assert (ended["job"]["try_number"], ended["priority"]) == (2, 2)
