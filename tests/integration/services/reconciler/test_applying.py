"""Events from the streams become rows in Postgres: once in effect, whatever the delivery."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
import sqlalchemy

from services.reconciler.applying import Applier
from services.reconciler.ledger import FollowUp, Rules
from shared.db.models import TaskState
from shared.messages import SCHEMA_VERSION, LaunchEvent, LaunchOutcome, PodEvent, PodPhase
from shared.messaging import streams
from shared.messaging.keys import RedisKeys
from shared.messaging.streams import GroupSettings, StreamConsumer
from tests.support import builders

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def consumer(client: redis.Redis, keys: RedisKeys) -> StreamConsumer:
    return StreamConsumer(
        client,
        keys=keys,
        streams=[keys.launches, keys.pod_events("jobs")],
        settings=GroupSettings(group="reconciler", consumer="r1", batch_size=1000),
    )


def lifecycle(task_id: str, *, exit_code: int) -> tuple[LaunchEvent, list[PodEvent]]:
    job = builders.job(task_id=task_id, namespace="jobs")
    launch = LaunchEvent(
        version=SCHEMA_VERSION,
        key=job.key,
        try_number=1,
        namespace="jobs",
        pod=f"pod-{task_id}",
        outcome=LaunchOutcome.CREATED,
        job=job,
        at=T0,
    )
    common: dict[str, Any] = {
        "version": SCHEMA_VERSION,
        "key": job.key,
        "try_number": 1,
        "namespace": "jobs",
        "pod": f"pod-{task_id}",
    }
    started = T0 + timedelta(seconds=1)
    end_phase = PodPhase.SUCCEEDED if exit_code == 0 else PodPhase.FAILED
    pods = [
        PodEvent(**common, phase=PodPhase.PENDING, resource_version="1", observed_at=T0),
        PodEvent(
            **common,
            phase=PodPhase.RUNNING,
            started_at=started,
            resource_version="2",
            observed_at=started,
        ),
        PodEvent(
            **common,
            phase=end_phase,
            started_at=started,
            terminated_reason="Completed" if exit_code == 0 else "Error",
            exit_code=exit_code,
            finished_at=T0 + timedelta(seconds=3),
            resource_version="3",
            observed_at=T0 + timedelta(seconds=3),
        ),
    ]
    return launch, pods


def publish(
    client: redis.Redis, keys: RedisKeys, launches: list[LaunchEvent], pods: list[PodEvent]
) -> None:
    streams.publish(client, keys.launches, [e.encode() for e in launches], maxlen=10**6)
    streams.publish(client, keys.pod_events("jobs"), [e.encode() for e in pods], maxlen=10**6)


def drain(applier: Applier, reader: StreamConsumer) -> list[Any]:
    outcomes = []
    while entries := reader.read(block_ms=50):
        outcomes += applier.apply(entries)
    return outcomes


def rows(db: sqlalchemy.Engine) -> dict[str, dict[str, Any]]:
    with db.connect() as connection:
        result = connection.execute(sqlalchemy.text("SELECT * FROM task_instance")).mappings()
        return {row["task_id"]: dict(row) for row in result}


def test_launch_and_pod_events_make_rows_with_their_final_states(
    db: sqlalchemy.Engine, redis_client: redis.Redis, keys: RedisKeys
) -> None:
    reader = consumer(redis_client, keys)
    applier = Applier(db, reader, launches_stream=keys.launches, rules=Rules())
    ok_launch, ok_pods = lifecycle("ok", exit_code=0)
    bad_launch, bad_pods = lifecycle("bad", exit_code=3)
    publish(redis_client, keys, [ok_launch, bad_launch], ok_pods + bad_pods)
    outcomes = drain(applier, reader)
    table = rows(db)
    assert (table["ok"]["state"], table["ok"]["exit_code"], table["ok"]["failure_reason"]) == (
        TaskState.SUCCESS.value,
        0,
        None,
    )
    assert (table["bad"]["state"], table["bad"]["failure_reason"]) == (
        TaskState.FAILED.value,
        "Error (exit 3)",
    )
    assert table["ok"]["pod_name"] == "pod-ok"
    assert table["ok"]["job"]["command"] == ok_launch.job.command  # type: ignore[union-attr]
    follow_ups = {o.key.task_id: o.decision.follow_ups for o in outcomes}
    assert FollowUp.CAPTURE_LOG in follow_ups["bad"]
    assert redis_client.xpending(keys.launches, "reconciler")["pending"] == 0


def test_events_twice_and_out_of_order_end_in_the_same_rows(
    db: sqlalchemy.Engine, redis_client: redis.Redis, keys: RedisKeys
) -> None:
    reader = consumer(redis_client, keys)
    applier = Applier(db, reader, launches_stream=keys.launches, rules=Rules())
    launches, pods = [], []
    for n in range(20):
        launch, lives = lifecycle(f"t{n}", exit_code=n % 2)
        launches.append(launch)
        pods += lives
    shuffled = pods * 2
    random.Random(7).shuffle(shuffled)
    publish(redis_client, keys, launches, [])
    drain(applier, reader)
    publish(redis_client, keys, launches, shuffled)
    drain(applier, reader)
    table = rows(db)
    assert len(table) == 20
    for n in range(20):
        expected = TaskState.SUCCESS if n % 2 == 0 else TaskState.FAILED
        assert table[f"t{n}"]["state"] == expected.value


def test_an_undecodable_entry_is_dead_lettered_and_the_rest_applied(
    db: sqlalchemy.Engine, redis_client: redis.Redis, keys: RedisKeys
) -> None:
    reader = consumer(redis_client, keys)
    applier = Applier(db, reader, launches_stream=keys.launches, rules=Rules())
    launch, lives = lifecycle("ok", exit_code=0)
    streams.publish(redis_client, keys.pod_events("jobs"), [b"garbage"], maxlen=1000)
    publish(redis_client, keys, [launch], lives)
    drain(applier, reader)
    assert rows(db)["ok"]["state"] == TaskState.SUCCESS.value
    dead: Any = redis_client.xrange(keys.dead_letters)
    assert dead[0][1][b"error"].startswith(b"invalid PodEvent: (body)")
