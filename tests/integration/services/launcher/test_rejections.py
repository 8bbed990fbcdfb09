"""Jobs that can never run are rejected with the reason, once, while other jobs keep flowing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import redis

from shared.messages import LaunchOutcome
from shared.messaging.jobqueue import JobQueue
from shared.messaging.keys import RedisKeys, job_queue
from tests.integration.services.launcher.conftest import (
    launch_events,
    publish,
    publish_raw,
    wait_for_events,
)
from tests.support import builders
from tests.support.cluster import Cluster


def test_bad_jobs_are_rejected_with_their_reasons_and_good_ones_still_run(
    cluster: Cluster,
    namespace: str,
    jobs: JobQueue,
    run_launcher: Callable[..., Any],
    redis_client: redis.Redis,
    keys: RedisKeys,
    redis_url: str,
) -> None:
    run_launcher()
    hardened = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
    bad_name = {"name": "Bad_Name", "image": "python:3.11-slim", "securityContext": hardened}
    invalid_name = {"spec": {"containers": [bad_name]}}
    privileged = {
        "spec": {"containers": [{"name": "base", "securityContext": {"privileged": True}}]}
    }
    publish(jobs, namespace, builders.job(task_id="invalid", pod_override=invalid_name))
    publish(jobs, namespace, builders.job(task_id="privileged", pod_override=privileged))
    empty_command = (
        b'{"version": 1, "dag_id": "etl", "task_id": "empty", "run_id": "r", '
        b'"try_number": 1, "command": []}'
    )
    publish_raw(redis_url, namespace, empty_command)
    publish_raw(redis_url, namespace, b"this is not json")
    publish(jobs, namespace, builders.job(task_id="good"))

    events = {e.key.task_id: e for e in wait_for_events(redis_client, keys, 4)}
    assert events["good"].outcome is LaunchOutcome.CREATED
    invalid = events["invalid"]
    assert invalid.outcome is LaunchOutcome.REJECTED
    assert invalid.reason.startswith("422 Invalid: Pod ")
    assert "spec.containers[2].name" in invalid.reason or "spec.containers" in invalid.reason
    assert events["privileged"].reason == (
        'pod security "restricted": privileged: '
        "spec.containers[0].securityContext.privileged must be false"
    )
    assert events["empty"].outcome is LaunchOutcome.REJECTED
    assert events["empty"].reason.startswith("invalid Job: command: ")
    dead: Any = redis_client.xrange(keys.dead_letters)
    errors = {fields[b"event"]: fields[b"error"].decode() for _, fields in dead}
    assert len(dead) == 4, "every rejected job is dead-lettered, with its reason"
    assert errors[b"this is not json"].startswith("invalid Job: (body): ")
    assert errors[empty_command] == events["empty"].reason
    assert events["privileged"].reason in errors.values()
    assert events["invalid"].reason in errors.values()
    assert [p["metadata"]["name"] for p in cluster.pods(namespace)] == [events["good"].pod]
    assert jobs.depth(namespace) == 0
    assert len(launch_events(redis_client, keys)) == 4, "each job settled exactly once"


def test_a_message_that_is_not_kombus_is_dead_lettered_and_the_launcher_keeps_going(
    namespace: str,
    jobs: JobQueue,
    run_launcher: Callable[..., Any],
    redis_client: redis.Redis,
    keys: RedisKeys,
) -> None:
    # Given something pushed straight into the queue's list, around two real jobs
    publish(jobs, namespace, builders.job(task_id="first"))
    redis_client.lpush(job_queue(namespace), b"pushed by hand")
    publish(jobs, namespace, builders.job(task_id="second"))
    # When the launcher takes them, expect both jobs launched and the stranger dead-lettered
    run_launcher()
    events = wait_for_events(redis_client, keys, 2)
    assert {e.key.task_id: e.outcome for e in events} == {
        "first": LaunchOutcome.CREATED,
        "second": LaunchOutcome.CREATED,
    }
    dead: Any = redis_client.xrange(keys.dead_letters)
    assert [fields[b"event"] for _, fields in dead] == [b"pushed by hand"]
    assert dead[0][1][b"stream"] == job_queue(namespace).encode()
    assert dead[0][1][b"error"].startswith(b"invalid Job: (body): ")
    assert jobs.depth(namespace) == 0
