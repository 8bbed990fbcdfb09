"""A job put straight on the queue that the launcher rejects is never dropped in silence: its task
gets a `failed` row saying why, and its message is dead-lettered with the same reason."""

from __future__ import annotations

import time
from typing import Any

import pytest
import redis
import sqlalchemy

from shared.messaging.keys import RedisKeys
from tests.e2e import tasks
from tests.e2e.conftest import Stack
from tests.e2e.tasks import publish_raw

pytestmark = pytest.mark.timeout(120)


def body(task_id: str, field: str) -> bytes:
    return (
        b'{"version": 1, "dag_id": "e2e", "task_id": "%s", "run_id": "r1", "try_number": 1, '
        b'"command": ["true"], %s}' % (task_id.encode(), field.encode())
    )


def test_jobs_with_a_bad_field_get_a_failed_row_and_a_dead_letter_with_the_reason(
    services: Stack, db: sqlalchemy.Engine, redis_url: str, stack_env: dict[str, str]
) -> None:
    services("reconciler", "launcher")
    publish_raw(redis_url, body("bad-priority", '"priority": "x"'))
    publish_raw(redis_url, body("empty-command", '"map_index": 2, "command": []'))

    rows = tasks.wait_terminal(db, 2, timeout_s=60)
    reasons = {task: row.failure_reason for task, row in rows.items()}
    assert {task: row.state for task, row in rows.items()} == {
        "bad-priority": "failed",
        "empty-command": "failed",
    }
    assert reasons["bad-priority"].startswith("rejected: invalid Job: priority: ")
    assert reasons["empty-command"].startswith("rejected: invalid Job: command: ")
    assert (rows["empty-command"].map_index, rows["empty-command"].job["task_id"]) == (
        2,
        "empty-command",
    )
    client = redis.Redis.from_url(redis_url)
    keys = RedisKeys(stack_env["PODRUNNER_INSTANCE"])
    deadline = time.monotonic() + 10
    while client.xlen(keys.dead_letters) < 2:
        assert time.monotonic() < deadline, "the rejected jobs were not dead-lettered"
        time.sleep(0.1)
    records: Any = client.xrange(keys.dead_letters)
    errors = sorted(f"rejected: {fields[b'error'].decode()}" for _, fields in records)
    assert errors == sorted(reasons.values())
    client.close()
