"""A job becomes exactly one pod, with the contract's name, labels, annotations and finalizer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import redis

from shared.k8s import naming
from shared.messages import LaunchOutcome
from shared.messaging.jobqueue import JobQueue
from shared.messaging.keys import RedisKeys
from tests.integration.services.launcher.conftest import publish, template, wait_for_events
from tests.support import builders
from tests.support.cluster import Cluster


def test_a_job_becomes_one_pod_with_the_contract_metadata(
    cluster: Cluster,
    namespace: str,
    jobs: JobQueue,
    run_launcher: Callable[..., Any],
    redis_client: redis.Redis,
    keys: RedisKeys,
    instance: str,
    tmp_path: Path,
) -> None:
    # Given a launcher with a pod template, and a job with an override
    run_launcher(pod_template_file=str(template(tmp_path)))
    override = {
        "spec": {"containers": [{"name": "base", "env": [{"name": "EXTRA", "value": "1"}]}]}
    }
    job = builders.job(pod_override=override, command=["python", "-m", "etl.load"])
    # When the job is published
    publish(jobs, namespace, job)
    # Expect one pod, and one launch event saying it was created
    [event] = wait_for_events(redis_client, keys, 1)
    [pod] = cluster.wait_for_pods(namespace, 1)
    metadata = pod["metadata"]
    assert metadata["name"] == naming.pod_name(job.key, job.try_number) == event.pod
    assert metadata["labels"][naming.INSTANCE_LABEL] == instance
    assert metadata["labels"][naming.MANAGED_BY_LABEL] == "podrunner"
    assert metadata["labels"]["team"] == "data"
    assert metadata["annotations"][naming.RUN_ID] == job.run_id
    assert metadata["finalizers"] == [naming.RESULT_FINALIZER]
    containers = pod["spec"]["containers"]
    assert [c["name"] for c in containers] == ["proxy", "base"]
    assert containers[1]["command"] == ["python", "-m", "etl.load"]
    assert containers[1]["env"] == [{"name": "MODE", "value": "t"}, {"name": "EXTRA", "value": "1"}]
    assert pod["spec"]["serviceAccountName"] == "worker"
    assert (event.outcome, event.job) == (LaunchOutcome.CREATED, job)
    assert jobs.depth(namespace) == 0


def test_the_health_app_reports_ready_metrics_and_status(
    namespace: str,
    jobs: JobQueue,
    run_launcher: Callable[..., Any],
    redis_client: redis.Redis,
    keys: RedisKeys,
) -> None:
    launched = run_launcher()
    publish(jobs, namespace, builders.job())
    wait_for_events(redis_client, keys, 1)
    base = f"http://127.0.0.1:{launched.port}"
    ready = httpx.get(f"{base}/readyz").json()
    assert ready["checks"] == {"redis": "ok", "broker": "ok", "kubernetes": "ok", "work": "ok"}
    metrics = httpx.get(f"{base}/metrics").text
    assert f'podrunner_launcher_pods_created_total{{namespace="{namespace}"}} 1.0' in metrics
    assert "podrunner_launcher_create_seconds_bucket" in metrics
    status = httpx.get(f"{base}/status").json()
    assert status["namespaces"] == [namespace]
    assert status["settings"]["redis_url"].startswith(("redis://", "unix://"))
    assert httpx.get(f"{base}/healthz").status_code == 200
