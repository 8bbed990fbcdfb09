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
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from sqlalchemy.engine import URL

# Airflow reads its configuration once, at import: give it a home of its own first.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="podrunner-airflow-"))
pytest.importorskip("airflow", reason="the Airflow executor needs `podrunner[airflow]`")

from airflow.executors.workloads import BundleInfo, ExecuteTask, TaskInstanceDTO

from services.airflow.executor import PodrunnerExecutor
from shared.db import engines
from tests.e2e.conftest import Stack
from tests.support.kubesim import KubesimProcess, start_kubesim
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
        "PODRUNNER_LOG_FORMAT": "console",
        "PODRUNNER_API_TOKEN": API_TOKEN,
    }


@pytest.fixture(scope="package")
def stack(podrunner_env: dict[str, str]) -> Iterator[Stack]:
    """podrunner's three services, running for the whole package."""
    services = Stack({**os.environ, **podrunner_env})
    services("launcher", "watcher", "reconciler")
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
    stack: Stack, podrunner_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[PodrunnerExecutor]:
    """A started executor configured through Airflow's `[podrunner]` section."""
    del stack  # running, that is all
    for name, value in podrunner_env.items():
        if name.startswith("PODRUNNER_"):
            airflow_name = f"AIRFLOW__PODRUNNER__{name.removeprefix('PODRUNNER_')}"
            monkeypatch.setenv(airflow_name, value)
    started = PodrunnerExecutor()
    started.start()
    yield started
    started.terminate()


@dataclass(frozen=True)
class Tasks:
    """Airflow `ExecuteTask` workloads of one DAG run, as the scheduler builds them."""

    dag_id: str
    run_id: str = "manual__2026-12-04T00:00:00+00:00"

    def workload(
        self,
        task_id: str,
        *,
        try_number: int = 1,
        map_index: int = -1,
        behaviour: dict[str, str] | None = None,
        executor_config: dict[str, Any] | None = None,
        queue: str = "default",
        priority_weight: int = 1,
    ) -> ExecuteTask:
        config = dict(executor_config or {})
        if behaviour:
            notes = {f"kubesim.podrunner.io/{k}": v for k, v in behaviour.items()}
            config.setdefault("pod_override", {"metadata": {"annotations": notes}})
        ti = TaskInstanceDTO(
            id=uuid.uuid4(),
            dag_version_id=uuid.uuid4(),
            task_id=task_id,
            dag_id=self.dag_id,
            run_id=self.run_id,
            try_number=try_number,
            map_index=map_index,
            pool_slots=1,
            queue=queue,
            priority_weight=priority_weight,
            executor_config=config or None,
        )
        return ExecuteTask(
            ti=ti,
            dag_rel_path=Path("dags/example.py"),
            token="not-a-real-token",
            bundle_info=BundleInfo(name="dags"),
            log_path=None,
        )


@pytest.fixture
def tasks(dag_id: str) -> Tasks:
    return Tasks(dag_id)
