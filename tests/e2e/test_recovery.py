"""Crashes and losses: the ledger still ends every task right, once."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy

from shared.k8s.rendering import RenderSettings, render_pod
from shared.k8s.template_files import Templates
from tests.e2e import tasks
from tests.e2e.conftest import Stack
from tests.support.kubesim import KubesimProcess
from tests.support.waiting import wait_until

pytestmark = pytest.mark.timeout(180)


def pod_url(kubesim: KubesimProcess, name: str) -> str:
    return f"{kubesim.url}/api/v1/namespaces/jobs/pods/{name}"


def test_killing_the_reconciler_mid_batch_loses_nothing_and_applies_nothing_twice(
    services: Stack, db: sqlalchemy.Engine, redis_url: str
) -> None:
    services("reconciler", "watcher", "launcher")
    jobs = [tasks.job(f"ok-{n}") for n in range(150)]
    jobs += [tasks.job(f"bad-{n}", {"exit-code": "3"}) for n in range(50)]
    tasks.submit(db, redis_url, jobs)
    wait_until(
        lambda: any(r.state in tasks.TERMINAL for r in tasks.rows(db).values()),
        timeout_s=60,
        what="a result",
    )
    services.kill("reconciler")
    services.start("reconciler")
    rows = tasks.wait_terminal(db, len(jobs), timeout_s=120)
    for task_id, row in rows.items():
        expected = "success" if task_id.startswith("ok-") else "failed"
        assert (row.state, row.relaunch_count, row.try_number) == (expected, 0, 1), task_id
        if expected == "failed":
            assert row.failure_reason == "Error (exit 3)"


def test_a_pod_deleted_while_watcher_and_reconciler_are_down_is_still_recorded(
    services: Stack, db: sqlalchemy.Engine, redis_url: str, kubesim: KubesimProcess
) -> None:
    services("reconciler", "watcher", "launcher")
    tasks.submit(db, redis_url, [tasks.job("long", {"run-seconds": "60"})])
    wait_until(
        lambda: tasks.rows(db)["long"].state == "running", timeout_s=60, what="the task running"
    )
    services.stop("watcher")
    services.stop("reconciler")
    name = tasks.rows(db)["long"].pod_name
    httpx.delete(pod_url(kubesim, name), timeout=10)
    held = httpx.get(pod_url(kubesim, name), timeout=10).json()
    assert "podrunner.io/result" in held["metadata"]["finalizers"], "the finalizer holds it"
    services("watcher", "reconciler")
    row = tasks.wait_terminal(db, 1, timeout_s=60)["long"]
    assert row.state == "failed"
    assert row.failure_reason.startswith("pod deleted externally")
    wait_until(
        lambda: httpx.get(pod_url(kubesim, name)).status_code == 404,
        timeout_s=60,
        what="the pod's removal",
    )


def test_a_job_lost_from_redis_is_republished_by_the_sweep_and_completes(
    services: Stack, db: sqlalchemy.Engine, redis_url: str, stack_env: dict[str, str]
) -> None:
    tasks.submit(db, redis_url, [tasks.job("lost")])
    tasks.lose_queued_jobs(redis_url, "jobs")
    services("launcher", "watcher", "reconciler")  # the sweep's first republish finds a taker
    row = tasks.wait_terminal(db, 1, timeout_s=60)["lost"]
    assert (row.state, row.republish_count) == ("success", 1)


def test_a_pod_with_no_row_is_cleaned_up(
    services: Stack, kubesim: KubesimProcess, stack_env: dict[str, str]
) -> None:
    services("reconciler", "watcher")
    settings = RenderSettings(stack_env["PODRUNNER_INSTANCE"], "jobs", "busybox:1.37")
    stray = render_pod(tasks.job("stray"), settings=settings, templates=Templates())
    name = stray["metadata"]["name"]
    created = httpx.post(f"{kubesim.url}/api/v1/namespaces/jobs/pods", json=stray, timeout=10)
    assert created.status_code == 201
    wait_until(
        lambda: httpx.get(pod_url(kubesim, name)).status_code == 404,
        timeout_s=60,
        what="the stray's removal",
    )


def test_a_row_whose_pod_vanished_without_a_trace_is_relaunched_and_completes(
    services: Stack, db: sqlalchemy.Engine, redis_url: str, kubesim: KubesimProcess
) -> None:
    services("reconciler", "launcher")  # no watcher: nobody sees the pod go
    tasks.submit(db, redis_url, [tasks.job("vanishing", {"run-seconds": "1"})])
    wait_until(
        lambda: tasks.rows(db)["vanishing"].launched_at is not None, timeout_s=60, what="the launch"
    )
    name = tasks.rows(db)["vanishing"].pod_name
    unheld = {"metadata": {"finalizers": None}}
    headers = {"Content-Type": "application/merge-patch+json"}
    httpx.patch(pod_url(kubesim, name), json=unheld, headers=headers, timeout=10)
    httpx.delete(pod_url(kubesim, name), params={"gracePeriodSeconds": "0"}, timeout=10)
    services.start("watcher")
    row = tasks.wait_terminal(db, 1, timeout_s=60)["vanishing"]
    assert (row.state, row.relaunch_count) == ("success", 1)
    assert row.failure_reason == "pod vanished without a trace"
