"""A job delivered again after its pod finished and was deleted makes no second pod: the task ran
once, and its slot is not taken again."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy

from services.reconciler import service as reconciler_service
from services.watcher import service as watcher_service
from shared import intake
from shared.messaging.jobqueue import JobQueue
from shared.messaging.keys import RedisKeys
from shared.messaging.slots import SlotPool
from shared.settings import Settings
from tests.support import builders
from tests.support.cluster import Cluster
from tests.support.kubesim import free_port
from tests.support.services import InProcess

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


@pytest.fixture
def watcher_and_reconciler(
    env: dict[str, str], database_url: Any, db: sqlalchemy.Engine, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[], None]]:
    """Start a watcher and a reconciler on threads of this process."""
    monkeypatch.setenv("PODRUNNER_DATABASE_URL", database_url.render_as_string(hide_password=False))
    monkeypatch.setenv("PODRUNNER_SWEEP_INTERVAL_S", "0.5")
    monkeypatch.setenv("PODRUNNER_LEASE_TTL_S", "2")
    started: list[InProcess] = []

    def start() -> None:
        watcher = Settings(health_port=free_port())
        built = watcher_service.build(watcher, [], all_namespaces=False)
        started.append(InProcess(built, watcher.health_port_for("watcher")).start())
        reconciler = Settings(health_port=free_port())
        built = reconciler_service.build(reconciler)
        started.append(InProcess(built, reconciler.health_port_for("reconciler")).start())

    yield start
    for each in reversed(started):
        each.stop()


def finished_outcomes(port: int, namespace: str) -> float:
    """The launcher's count of jobs settled as already finished."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    wanted = f'podrunner_launcher_outcomes_total{{namespace="{namespace}",outcome="finished"}}'
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(wanted))


def state_of(db: sqlalchemy.Engine, task_id: str) -> str | None:
    query = sqlalchemy.text("SELECT state FROM task_instance WHERE task_id = :t")
    with db.connect() as connection:
        return connection.execute(query, {"t": task_id}).scalar_one_or_none()


def wait_until(condition: Callable[[], bool], what: str, *, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout_s}s"
        time.sleep(0.1)


def test_a_job_delivered_again_after_its_pod_finished_and_was_deleted_makes_no_second_pod(
    cluster: Cluster,
    namespace: str,
    jobs: JobQueue,
    db: sqlalchemy.Engine,
    launcher_process: Callable[..., Any],
    watcher_and_reconciler: Callable[[], None],
    redis_client: Any,
    keys: RedisKeys,
) -> None:
    # Given a launcher whose create answer is slow: the pod exists and runs before it hears back
    cluster.admin("PUT", "latency", {"verb": "create", "ms": 20000, "after": True})
    first = launcher_process()
    job = builders.job(task_id="once", namespace=namespace)
    intake.submit(db, jobs, job, default_namespace=namespace)
    [pod] = cluster.wait_for_pods(namespace, 1)
    # When it is killed before it could acknowledge the job
    first.signal(signal.SIGKILL)
    first.wait()
    cluster.admin("DELETE", "faults")
    # and the task finishes, its end is recorded and its pod deleted (once the dead launcher's
    # heartbeat lapsed: until then the pod might still be being created)
    watcher_and_reconciler()
    wait_until(lambda: state_of(db, "once") == "success", "the task's end")
    wait_until(lambda: not cluster.pods(namespace), "the pod's deletion", timeout_s=60)
    since = cluster.clock()
    # and another launcher takes the job, delivered again
    second = launcher_process(PODRUNNER_BROKER_VISIBILITY_TIMEOUT_S="2")
    # Expect the job settled without a create: no second pod ever, and no slot held
    wait_until(
        lambda: finished_outcomes(second.port, namespace) == 1 or bool(cluster.pods(namespace)),
        "settling the job delivered again",
        timeout_s=30,
    )
    assert cluster.requests_since(since, "create") == []
    assert cluster.pods(namespace) == [], f"a second pod replaced {pod['metadata']['uid']}"
    assert SlotPool(redis_client, keys=keys, holder="test").count(namespace) == 0
