"""The Airflow executor against real podrunner: kubesim (simulate mode), the launcher, watcher and
reconciler as processes, the machine's Redis and Postgres, and Airflow's own workload objects.

One stack serves the whole package (starting it takes seconds): each test works in a DAG of its
own, so tests never see each other's rows. Skipped where Airflow is not installed.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy
from sqlalchemy.engine import URL

# Airflow reads its configuration once, at import: give it a home of its own first.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="podrunner-airflow-"))
pytest.importorskip("airflow", reason="the Airflow executor needs `podrunner[airflow]`")

from airflow.executors.workloads import BundleInfo, ExecuteTask, TaskInstanceDTO
from airflow.models.taskinstance import TaskInstance
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG
from airflow.serialization.serialized_objects import DagSerialization

from services.airflow.executor import PodrunnerExecutor
from shared.db import engines
from tests.e2e.conftest import Stack
from tests.support.kubesim import KubesimProcess, free_port, start_kubesim
from tests.support.services import API_TOKEN

NAMESPACE = "airflow-tasks"


@pytest.fixture(scope="package")
def kubesim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubesimProcess]:
    sim = start_kubesim(tmp_path_factory.mktemp("kubesim"), "--namespace", NAMESPACE)
    yield sim
    sim.stop()


@pytest.fixture(scope="package")
def podrunner_env(
    kubesim: KubesimProcess, redis_server_url: str, database_url: URL
) -> dict[str, str]:
    """The settings the services and the executor share (the executor's through `[podrunner]`
    or the environment, as a test chooses)."""
    return {
        "KUBECONFIG": str(kubesim.kubeconfig),
        "PODRUNNER_REDIS_URL": redis_server_url,
        "PODRUNNER_DATABASE_URL": database_url.render_as_string(hide_password=False),
        "PODRUNNER_INSTANCE": f"af{uuid.uuid4().hex[:8]}",
        "PODRUNNER_NAMESPACE": NAMESPACE,
        "PODRUNNER_NAMESPACES": NAMESPACE,
        "PODRUNNER_HEALTH_HOST": "127.0.0.1",
        "PODRUNNER_LEASE_TTL_S": "3",
        "PODRUNNER_SWEEP_INTERVAL_S": "1",
        "PODRUNNER_MAX_RELAUNCHES": "2",
        "PODRUNNER_CLAIM_IDLE_S": "2",
        "PODRUNNER_LAUNCH_QPS": "2000",
        "PODRUNNER_LOG_FORMAT": "console",
        "PODRUNNER_API_TOKEN": API_TOKEN,
    }


@pytest.fixture(scope="package")
def reconciler_port() -> int:
    return free_port()


@pytest.fixture(scope="package")
def stack(podrunner_env: dict[str, str], reconciler_port: int) -> Iterator[Stack]:
    """podrunner's three services, running for the whole package."""
    services = Stack({**os.environ, **podrunner_env})
    services("launcher", "watcher")
    services.start("reconciler", PODRUNNER_HEALTH_PORT=str(reconciler_port))
    yield services
    services.stop_all()


@pytest.fixture
def podrunner_db(database_url: URL) -> Iterator[sqlalchemy.Engine]:
    """podrunner's database, for a test to read rows (never emptied: tests use DAGs of their
    own while the stack runs)."""
    engine = engines.make_engine(database_url, pool_size=1)
    yield engine
    engine.dispose()


@pytest.fixture
def dag_id() -> str:
    return f"dag_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def executor(
    stack: Stack,
    podrunner_env: dict[str, str],
    reconciler_port: int,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[PodrunnerExecutor]:
    """A started executor configured through Airflow's `[podrunner]` section, reading live
    logs through the reconciler's API."""
    del stack  # running, that is all
    for name, value in podrunner_env.items():
        if name.startswith("PODRUNNER_"):
            monkeypatch.setenv(f"AIRFLOW__PODRUNNER__{name.removeprefix('PODRUNNER_')}", value)
    monkeypatch.setenv("AIRFLOW__PODRUNNER__API_URL", f"http://127.0.0.1:{reconciler_port}")
    started = PodrunnerExecutor()
    started.start()
    yield started
    started.terminate()


@dataclass(frozen=True)
class Task:
    """One task instance as Airflow's scheduler holds it (the ORM row, `ti`) and the workload it
    hands the executor for it."""

    ti: TaskInstance
    workload: ExecuteTask


@dataclass(frozen=True)
class Tasks:
    """Task instances of one DAG run, built as the scheduler builds them (no metadata database:
    the executor reads nothing from it)."""

    dag_id: str
    run_id: str = "manual__2026-12-04T00:00:00+00:00"

    def task(
        self,
        task_id: str,
        *,
        try_number: int = 1,
        map_index: int = -1,
        behaviour: dict[str, str] | None = None,
        executor_config: dict[str, Any] | None = None,
        queue: str = "default",
        priority_weight: int = 1,
    ) -> Task:
        config = dict(executor_config or {})
        if behaviour:
            notes = {f"kubesim.podrunner.io/{k}": v for k, v in behaviour.items()}
            config.setdefault("pod_override", {"metadata": {"annotations": notes}})
        with DAG(self.dag_id, schedule=None, start_date=datetime(2026, 12, 1, tzinfo=UTC)) as dag:
            EmptyOperator(task_id=task_id, queue=queue, priority_weight=priority_weight)
        operator = DagSerialization.from_dict(DagSerialization.to_dict(dag)).get_task(task_id)
        ti = TaskInstance(
            operator, run_id=self.run_id, map_index=map_index, dag_version_id=uuid.uuid4()
        )
        ti.try_number = try_number
        ti.executor_config = config
        workload = ExecuteTask(
            ti=TaskInstanceDTO.model_validate(ti, from_attributes=True),
            dag_rel_path=Path("dags/example.py"),
            token="not-a-real-token",
            bundle_info=BundleInfo(name="dags"),
            log_path=None,
        )
        return Task(ti, workload)


@pytest.fixture
def tasks(dag_id: str) -> Tasks:
    return Tasks(dag_id)


def queue(executor: PodrunnerExecutor, *tasks: Task) -> None:
    """Queue the tasks' workloads as the scheduler does, then heartbeat once (which submits
    them)."""
    for task in tasks:
        executor.queue_workload(task.workload, session=None)  # type: ignore[arg-type]
    executor.heartbeat()


def row(db: sqlalchemy.Engine, task: Task) -> sqlalchemy.RowMapping | None:
    """podrunner's row of the task."""
    ti = task.ti
    query = sqlalchemy.text(
        "SELECT * FROM task_instance WHERE dag_id = :dag_id AND task_id = :task_id"
        " AND run_id = :run_id AND map_index = :map_index"
    )
    values = {"dag_id": ti.dag_id, "task_id": ti.task_id, "run_id": ti.run_id}
    with db.connect() as connection:
        return connection.execute(query, {**values, "map_index": ti.map_index}).mappings().first()


def pods(kubesim: KubesimProcess, task: Task) -> list[dict[str, Any]]:
    """The pods of the task in kubesim."""
    response = httpx.get(f"{kubesim.url}/api/v1/namespaces/{NAMESPACE}/pods", timeout=10)
    items: list[dict[str, Any]] = response.json()["items"]
    ti = task.ti
    return [
        pod
        for pod in items
        if pod["metadata"]["annotations"].get("podrunner.io/dag-id") == ti.dag_id
        and pod["metadata"]["annotations"].get("podrunner.io/task-id") == ti.task_id
    ]
