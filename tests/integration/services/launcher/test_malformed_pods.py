"""A job whose pod cannot be rendered (an override of the wrong shape, a template file that is a
binary) is rejected with a one-line reason, and the launcher goes on with the jobs around it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import redis

from shared.messages import LaunchOutcome
from shared.messaging.jobqueue import JobQueue
from shared.messaging.keys import RedisKeys
from tests.integration.services.launcher.conftest import publish, publish_raw, wait_for_events
from tests.support import builders
from tests.support.cluster import Cluster

OVERRIDES = {
    "spec-text": ({"spec": "x"}, "pod_override.spec: must be an object"),
    "labels-text": ({"metadata": {"labels": "x"}}, "pod_override.metadata.labels: must be"),
    "finalizers-number": ({"metadata": {"finalizers": 5}}, "pod_override.metadata.finalizers"),
    "containers-text": ({"spec": {"containers": "x"}}, "pod_override.spec.containers: must be"),
}


@pytest.mark.timeout(60)
def test_jobs_whose_pods_cannot_be_rendered_are_rejected_and_the_others_run(
    cluster: Cluster,
    namespace: str,
    jobs: JobQueue,
    run_launcher: Callable[..., Any],
    redis_client: redis.Redis,
    keys: RedisKeys,
    redis_url: str,
) -> None:
    # Given jobs published straight to the queue, as any kombu producer could, around a good one
    launcher = run_launcher(pod_template_dir="/bin")
    for task_id, (override, _) in OVERRIDES.items():
        body = builders.job_dict(task_id=task_id, pod_override=override)
        publish_raw(redis_url, namespace, json.dumps(body).encode())
    publish(jobs, namespace, builders.job(task_id="binary", pod_template_file="sh"))
    publish(jobs, namespace, builders.job(task_id="good"))
    # Expect each bad one rejected with its reason, the good one created, the launcher alive
    events = {e.key.task_id: e for e in wait_for_events(redis_client, keys, len(OVERRIDES) + 2)}
    assert events["good"].outcome is LaunchOutcome.CREATED
    for task_id, (_, reason) in OVERRIDES.items():
        assert events[task_id].outcome is LaunchOutcome.REJECTED
        assert reason in events[task_id].reason
    assert events["binary"].outcome is LaunchOutcome.REJECTED
    assert events["binary"].reason == "pod_template_file 'sh': not UTF-8 text"
    assert [p["metadata"]["name"] for p in cluster.pods(namespace)] == [events["good"].pod]
    assert launcher.thread.is_alive()
    assert jobs.depth(namespace) == 0
