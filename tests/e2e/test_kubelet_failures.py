"""The kubelet's failure modes, end to end: what the task's row says and the reason users see.

A missing Secret fails the task after PODRUNNER_CONFIG_ERROR_GRACE_S (and runs it if the Secret
comes in time), an image reference that does not parse fails it at once, an active deadline
that runs out fails it, and a pod override asking for restarts still ends failed, not looping.
Jobs may only reference allowed Secrets and images, so the stack allows the ones used here.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
import sqlalchemy

from tests.e2e import tasks
from tests.e2e.conftest import Stack
from tests.support.kubesim import KubesimProcess

pytestmark = pytest.mark.timeout(90)

BAD_IMAGE = "Worker:1"
DEADLINE = "Pod was active on the node longer than the specified deadline"


def reading_secret(task_id: str) -> Any:
    env = [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "token"}}}]
    override = {"spec": {"containers": [{"name": "base", "env": env}]}}
    return tasks.job(task_id, {"run-seconds": "0.1"}, pod_override=override)


def start(services: Stack, **env: str) -> None:
    extra = {
        "PODRUNNER_JOB_SECRETS": "creds",
        "PODRUNNER_JOB_IMAGES": f"{BAD_IMAGE},python:*",
        "PODRUNNER_PENDING_TIMEOUT_S": "60",
        **env,
    }
    for name in ("reconciler", "launcher", "watcher"):
        services.start(name, **extra)


def wait_for_waiting_reason(kubesim: KubesimProcess, reason: str, *, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for pod in tasks.pods(kubesim.url):
            statuses = pod["status"].get("containerStatuses") or []
            if any((s["state"].get("waiting") or {}).get("reason") == reason for s in statuses):
                return
        time.sleep(0.1)
    raise AssertionError(f"no pod waited with {reason} within {timeout_s}s")


def test_a_task_reading_a_missing_secret_fails_after_the_grace_naming_the_secret(
    services: Stack, db: sqlalchemy.Engine, redis_url: str
) -> None:
    start(services, PODRUNNER_CONFIG_ERROR_GRACE_S="2")
    tasks.submit(db, redis_url, [reading_secret("no-secret")])
    row = tasks.wait_terminal(db, 1, timeout_s=60)["no-secret"]
    assert row.state == "failed"
    assert row.failure_reason == (
        'CreateContainerConfigError: secret "creds" not found (for more than 2s)'
    )


def test_a_task_whose_secret_comes_within_the_grace_runs(
    services: Stack, db: sqlalchemy.Engine, redis_url: str, kubesim: KubesimProcess
) -> None:
    start(services, PODRUNNER_CONFIG_ERROR_GRACE_S="60")
    tasks.submit(db, redis_url, [reading_secret("late-secret")])
    wait_for_waiting_reason(kubesim, "CreateContainerConfigError", timeout_s=30)
    secret = {"metadata": {"name": "creds"}, "stringData": {"token": "t"}}
    created = httpx.post(f"{kubesim.url}/api/v1/namespaces/jobs/secrets", json=secret)
    assert created.status_code == 201, created.text
    row = tasks.wait_terminal(db, 1, timeout_s=60)["late-secret"]
    assert (row.state, row.failure_reason) == ("success", None)


def test_a_task_with_an_unparsable_image_fails_at_once_naming_the_image(
    services: Stack, db: sqlalchemy.Engine, redis_url: str
) -> None:
    start(services)
    tasks.submit(db, redis_url, [tasks.job("bad-image", image=BAD_IMAGE)])
    row = tasks.wait_terminal(db, 1, timeout_s=30)["bad-image"]
    assert row.state == "failed"
    assert row.failure_reason == (
        f'InvalidImageName: Failed to apply default image tag "{BAD_IMAGE}": couldn\'t parse '
        f'image reference "{BAD_IMAGE}": invalid reference format: repository name must be '
        "lowercase"
    )


def test_a_task_past_its_active_deadline_fails_with_deadline_exceeded(
    services: Stack, db: sqlalchemy.Engine, redis_url: str
) -> None:
    start(services)
    override = {"spec": {"activeDeadlineSeconds": 1}}
    job = tasks.job("too-slow", {"run-seconds": "60"}, pod_override=override)
    tasks.submit(db, redis_url, [job])
    row = tasks.wait_terminal(db, 1, timeout_s=30)["too-slow"]
    assert (row.state, row.failure_reason) == ("failed", f"DeadlineExceeded: {DEADLINE}")


@pytest.mark.parametrize("policy", [pytest.param(p, id=p) for p in ("OnFailure", "Always")])
def test_an_override_asking_for_restarts_still_fails_the_task_once(
    services: Stack, db: sqlalchemy.Engine, redis_url: str, kubesim: KubesimProcess, policy: str
) -> None:
    start(services)
    override = {"spec": {"restartPolicy": policy}}
    job = tasks.job("crashing", {"run-seconds": "0.1", "exit-code": "3"}, pod_override=override)
    tasks.submit(db, redis_url, [job])
    row = tasks.wait_terminal(db, 1, timeout_s=30)["crashing"]
    assert (row.state, row.failure_reason, row.exit_code) == ("failed", "Error (exit 3)", 3)
    for pod in tasks.pods(kubesim.url):
        assert pod["spec"]["restartPolicy"] == "Never"
        assert pod["status"]["containerStatuses"][0]["restartCount"] == 0
