"""Jobs from the queue that no row could hold are refused like malformed ones: a rejection with
the reason (without the job) when their key fits a row, else only a dead letter; either way the
job is dead-lettered, and the jobs beside them still run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import redis

from shared.messages import LaunchOutcome
from shared.messaging.jobqueue import JobQueue
from shared.messaging.keys import RedisKeys
from tests.integration.services.launcher.conftest import publish, wait_for_events
from tests.support import builders
from tests.support.cluster import Cluster

INT_RANGE = "must be between -2147483648 and 2147483647"


def dead_letters(client: redis.Redis, keys: RedisKeys, count: int) -> list[str]:
    records: Any = client.xrange(keys.dead_letters)
    assert len(records) == count, records
    return sorted(fields[b"error"].decode() for _, fields in records)


def test_jobs_no_row_can_hold_are_rejected_and_dead_lettered_and_good_ones_still_run(
    cluster: Cluster,
    namespace: str,
    jobs: JobQueue,
    run_launcher: Callable[..., Any],
    redis_client: redis.Redis,
    keys: RedisKeys,
) -> None:
    run_launcher()
    publish(
        jobs,
        namespace,
        builders.job(task_id="nul-command", command=["echo", "a\x00b"]),
        builders.job(task_id="big-priority", priority=2**31),
        builders.job(task_id="nul\x00key"),
        builders.job(task_id="big-index", map_index=2**31),
        builders.job(task_id="big-try", try_number=2**31),
        builders.job(task_id="good"),
    )

    events = {e.key.task_id: e for e in wait_for_events(redis_client, keys, 3)}
    assert set(events) == {"nul-command", "big-priority", "good"}, "only keys a row can hold"
    assert events["good"].outcome is LaunchOutcome.CREATED
    for task in ("nul-command", "big-priority"):
        assert (events[task].outcome, events[task].job) == (LaunchOutcome.REJECTED, None)
    assert events["nul-command"].reason == (
        "invalid job: command.1: text cannot contain NUL characters"
    )
    assert events["big-priority"].reason == f"invalid job: priority: {INT_RANGE}"
    assert dead_letters(redis_client, keys, 5) == [
        "invalid job: command.1: text cannot contain NUL characters",
        f"invalid job: map_index: {INT_RANGE}",
        f"invalid job: priority: {INT_RANGE}",
        "invalid job: task_id: text cannot contain NUL characters",
        f"invalid job: try_number: {INT_RANGE}",
    ]
    assert [p["metadata"]["name"] for p in cluster.pods(namespace)] == [events["good"].pod]
    assert jobs.depth(namespace) == 0
