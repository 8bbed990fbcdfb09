"""A job published straight to the queue gets its row from its launch event; its pod's first
events can arrive in an earlier batch. They are held back, not dropped, until the row exists."""

from __future__ import annotations

import redis
import sqlalchemy

from services.reconciler.applying import Applier
from services.reconciler.ledger import Rules
from shared.db.models import TaskState
from shared.messaging.keys import RedisKeys
from tests.integration.services.reconciler.test_applying import (
    consumer,
    lifecycle,
    publish,
    rows,
)


def pending(client: redis.Redis, keys: RedisKeys) -> int:
    return int(client.xpending(keys.pod_events("jobs"), "reconciler")["pending"])


def test_pod_events_before_the_launch_event_are_applied_once_the_row_exists(
    db: sqlalchemy.Engine, redis_client: redis.Redis, keys: RedisKeys
) -> None:
    reader = consumer(redis_client, keys)
    applier = Applier(db, reader, launches_stream=keys.launches, rules=Rules())
    launch, pods = lifecycle("early", exit_code=0)
    publish(redis_client, keys, [], pods)
    applier.apply(reader.read(block_ms=50))
    assert rows(db) == {}
    assert applier.holding
    assert pending(redis_client, keys) == len(pods)  # held, not acknowledged
    publish(redis_client, keys, [launch], [])
    applier.apply(reader.read(block_ms=50))
    row = rows(db)["early"]
    assert (row["state"], row["exit_code"], row["pod_name"]) == (
        TaskState.SUCCESS.value,
        0,
        "pod-early",
    )
    assert row["launched_at"] is not None
    assert not applier.holding
    assert pending(redis_client, keys) == 0


def test_events_of_a_pod_without_a_row_are_let_go_after_the_wait(
    db: sqlalchemy.Engine, redis_client: redis.Redis, keys: RedisKeys
) -> None:
    reader = consumer(redis_client, keys)
    applier = Applier(db, reader, launches_stream=keys.launches, rules=Rules(), early_wait_s=0.0)
    _, pods = lifecycle("stray", exit_code=0)
    publish(redis_client, keys, [], pods)
    applier.apply(reader.read(block_ms=50))
    assert applier.holding
    applier.apply([])
    assert not applier.holding
    assert pending(redis_client, keys) == 0  # left to the drift sweep
    assert rows(db) == {}
