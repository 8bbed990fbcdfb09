"""A job queued for a namespace no launcher of this podrunner serves does not wait forever: the
sweeping reconciler takes it, dead-letters it with the reason, and fails its task's row."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import redis
import sqlalchemy

from shared.messaging.jobqueue import JobQueue
from shared.messaging.keys import RedisKeys, job_queue
from tests.support import builders
from tests.support.services import InProcess
from tests.support.waiting import wait_until

pytestmark = pytest.mark.timeout(60)


def row(db: sqlalchemy.Engine, task_id: str) -> Any:
    query = sqlalchemy.text("SELECT state, failure_reason FROM task_instance WHERE task_id = :t")
    with db.connect() as connection:
        return connection.execute(query, {"t": task_id}).mappings().one_or_none()


def test_a_job_for_a_namespace_nobody_serves_is_dead_lettered_and_its_row_failed(
    reconciler: Callable[[], InProcess],
    jobs: JobQueue,
    namespace: str,
    db: sqlalchemy.Engine,
    redis_client: redis.Redis,
    keys: RedisKeys,
) -> None:
    # Given a job put straight on the queue of a namespace not served, and one on a served queue
    stray = builders.job(task_id="stray", namespace="nobody")
    jobs.publish(
        [(stray, "nobody"), (builders.job(task_id="kept", namespace=namespace), namespace)]
    )
    redis_client.lpush(job_queue("nobody"), b"not a job at all")
    # When the reconciler sweeps
    reconciler()
    # Expect the stray job's row failed with the reason, and both stray messages dead-lettered
    reason = f"namespace 'nobody' is not served by this podrunner (serves: {namespace})"
    wait_until(
        lambda: row(db, "stray") is not None and row(db, "stray")["state"] == "failed",
        timeout_s=20,
        what='row(db, "stray") is not None and row(db, "stray")["state"] == "failed"',
    )
    assert row(db, "stray")["failure_reason"] == f"rejected: {reason}"
    dead: Any = redis_client.xrange(keys.dead_letters)
    assert sorted(fields[b"event"] != b"not a job at all" for _, fields in dead) == [False, True]
    assert {fields[b"error"].decode() for _, fields in dead} == {reason}
    assert {fields[b"stream"] for _, fields in dead} == {job_queue("nobody").encode()}
    assert jobs.depth("nobody") == 0
    assert jobs.depth(namespace) == 1, "a served namespace's jobs are left to its launchers"
