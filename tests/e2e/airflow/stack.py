"""Starting the whole Airflow end-to-end stack: kubesim, podrunner, then Airflow, all processes.

kubesim runs in process mode, so a pod's command (the Airflow task) really runs here. Airflow's
metadata database is migrated by `airflow db migrate` itself while kubesim and podrunner's three
services start; then Airflow's API server, DAG processor and scheduler start together. The stack
is ready when the API server answers and the DAG processor has stored the test's DAG.
"""

from __future__ import annotations

import os
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy.engine import URL

from tests.e2e.airflow import home as airflow_home
from tests.e2e.airflow.processes import Processes
from tests.support.kubesim import free_port
from tests.support.services import API_TOKEN

#: The namespace the task pods run in.
NAMESPACE = "airflow"
#: Seconds each part gets to start on a loaded CI machine.
MIGRATE_TIMEOUT_S = 120.0
START_TIMEOUT_S = 90.0
PODRUNNER_SERVICES = ("launcher", "watcher", "reconciler")


@dataclass(frozen=True)
class Stack:
    processes: Processes
    home: airflow_home.AirflowHome
    kubesim_url: str
    reconciler_url: str


@dataclass(frozen=True)
class Databases:
    """podrunner's (migrated) and Airflow's (empty, migrated by Airflow) databases, and Redis."""

    podrunner: URL
    airflow: URL
    redis_url: str


def start(
    processes: Processes, directory: Path, *, databases: Databases, executor: str, dag_id: str
) -> Stack:
    """Start everything; on return every process is up and the DAG `dag_id` is stored."""
    home = airflow_home.create(
        directory / "airflow",
        database_url=databases.airflow,
        api_port=free_port(),
        executor=executor,
    )
    processes.log_directories.append(home.path / "logs")
    migrate = [sys.executable, "-m", "airflow", "db", "migrate"]
    migrating = processes.start(
        "airflow-db-migrate", migrate, env=home.env(os.environ), lasting=False
    )
    kubeconfig, kubesim_url = _start_kubesim(processes, directory)
    env = _podrunner_env(databases, kubeconfig=kubeconfig, pod_template=home.pod_template)
    reconciler_url = _start_podrunner(processes, env)
    processes.finish(migrating, timeout_s=MIGRATE_TIMEOUT_S)
    _start_airflow(processes, home, home.env(env))
    processes.wait_until(
        lambda: _dag_stored(home, dag_id),
        timeout_s=START_TIMEOUT_S,
        what=f"the DAG processor storing {dag_id}",
    )
    return Stack(processes, home, kubesim_url, reconciler_url)


def _start_kubesim(processes: Processes, directory: Path) -> tuple[Path, str]:
    port = free_port()
    kubeconfig = directory / "kubeconfig"
    argv = [sys.executable, "-m", "services.cli", "kubesim", "--mode", "process"]
    argv += ["--port", str(port), "--namespace", NAMESPACE, "--kubeconfig-out", str(kubeconfig)]
    processes.start("kubesim", argv, env=os.environ)
    url = f"http://127.0.0.1:{port}"
    processes.wait_http(f"{url}/healthz", timeout_s=START_TIMEOUT_S, what="kubesim answering")
    return kubeconfig, url


def _podrunner_env(databases: Databases, *, kubeconfig: Path, pod_template: Path) -> dict[str, str]:
    return {
        **os.environ,
        "KUBECONFIG": str(kubeconfig),
        "PODRUNNER_REDIS_URL": databases.redis_url,
        "PODRUNNER_DATABASE_URL": databases.podrunner.render_as_string(hide_password=False),
        "PODRUNNER_INSTANCE": f"af{uuid.uuid4().hex[:8]}",
        "PODRUNNER_NAMESPACE": NAMESPACE,
        "PODRUNNER_POD_TEMPLATE_FILE": str(pod_template),
        "PODRUNNER_HEALTH_HOST": "127.0.0.1",
        "PODRUNNER_API_TOKEN": API_TOKEN,
        "PODRUNNER_LOG_FORMAT": "console",
        "PODRUNNER_SWEEP_INTERVAL_S": "1",
    }


def _start_podrunner(processes: Processes, env: dict[str, str]) -> str:
    """The three services, started together; the reconciler's URL once all are ready."""
    ports = {name: free_port() for name in PODRUNNER_SERVICES}
    for name, port in ports.items():
        argv = [sys.executable, "-m", "services.cli", name]
        processes.start(name, argv, env={**env, "PODRUNNER_HEALTH_PORT": str(port)})
    for name, port in ports.items():
        url = f"http://127.0.0.1:{port}/readyz"
        processes.wait_http(url, timeout_s=START_TIMEOUT_S, what=f"the {name} being ready")
    return f"http://127.0.0.1:{ports['reconciler']}"


def _start_airflow(
    processes: Processes, home: airflow_home.AirflowHome, env: dict[str, str]
) -> None:
    port = home.api_url.rsplit(":", 1)[1]
    airflow = [sys.executable, "-m", "airflow"]
    api = [*airflow, "api-server", "--host", "127.0.0.1", "--port", port, "--workers", "1"]
    processes.start("airflow-api-server", api, env=env)
    processes.start("airflow-dag-processor", [*airflow, "dag-processor"], env=env)
    processes.start("airflow-scheduler", [*airflow, "scheduler"], env=env)
    processes.wait_http(
        f"{home.api_url}/api/v2/monitor/health",
        timeout_s=START_TIMEOUT_S,
        what="Airflow's API server answering",
    )


def _dag_stored(home: airflow_home.AirflowHome, dag_id: str) -> bool:
    """True once the DAG processor has stored `dag_id` and the API server can see it."""
    response = httpx.get(f"{home.api_url}/api/v2/dags/{dag_id}", timeout=10)
    return response.status_code == 200
