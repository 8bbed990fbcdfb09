"""A task the scheduler queues becomes a podrunner job, field by field."""

from __future__ import annotations

import json

import pytest
import sqlalchemy
from kubernetes.client import models as k8s

from services.airflow.executor import PodrunnerExecutor
from services.airflow.translating import WORKLOAD_MODULE
from tests.integration.services.airflow.conftest import Tasks

pytestmark = pytest.mark.timeout(60)


def rows(db: sqlalchemy.Engine, dag_id: str) -> dict[tuple[str, int], sqlalchemy.RowMapping]:
    query = sqlalchemy.text("SELECT * FROM task_instance WHERE dag_id = :dag_id")
    with db.connect() as connection:
        found = connection.execute(query, {"dag_id": dag_id}).mappings().all()
    return {(row["task_id"], row["map_index"]): row for row in found}


def test_a_queued_workload_is_recorded_with_its_key_try_command_and_priority(
    executor: PodrunnerExecutor, tasks: Tasks, podrunner_db: sqlalchemy.Engine
) -> None:
    # Given a mapped task instance on its third try, in a weighty queue
    task = tasks.task("extract", try_number=3, map_index=2, priority_weight=4)

    # When the scheduler queues it and the executor heartbeats
    executor.queue_workload(task.workload, session=None)  # type: ignore[arg-type]
    executor.heartbeat()

    # Expect one queued row with the same key and try, running the task's command
    row = rows(podrunner_db, tasks.dag_id)[("extract", 2)]
    assert (row["run_id"], row["try_number"]) == (tasks.run_id, 3)
    assert row["priority"] == 4
    command = row["job"]["command"]
    assert command[:4] == ["python", "-m", WORKLOAD_MODULE, "--json-string"]
    assert json.loads(command[4])["ti"]["id"] == str(task.workload.ti.id)
    assert task.ti.key in executor.running
    assert not executor.queued_tasks


def test_a_v1pod_override_becomes_the_jobs_pod_override_in_the_apis_spelling(
    executor: PodrunnerExecutor, tasks: Tasks, podrunner_db: sqlalchemy.Engine
) -> None:
    # Given an executor_config with a V1Pod override, as DAG authors write it
    override = k8s.V1Pod(
        metadata=k8s.V1ObjectMeta(annotations={"team": "data"}),
        spec=k8s.V1PodSpec(
            containers=[
                k8s.V1Container(
                    name="base",
                    resources=k8s.V1ResourceRequirements(requests={"memory": "64Mi"}),
                )
            ],
            service_account_name=None,
        ),
    )
    task = tasks.task("load", executor_config={"pod_override": override})

    # When it is queued
    executor.queue_workload(task.workload, session=None)  # type: ignore[arg-type]
    executor.heartbeat()

    # Expect the override as the API server would read it (camelCase, unset fields left out)
    job = rows(podrunner_db, tasks.dag_id)[("load", -1)]["job"]
    assert job["pod_override"] == {
        "metadata": {"annotations": {"team": "data"}},
        "spec": {"containers": [{"name": "base", "resources": {"requests": {"memory": "64Mi"}}}]},
    }


def test_a_batch_of_workloads_is_recorded_together(
    executor: PodrunnerExecutor, tasks: Tasks, podrunner_db: sqlalchemy.Engine
) -> None:
    for index in range(20):
        executor.queue_workload(tasks.task("mapped", map_index=index).workload, session=None)  # type: ignore[arg-type]
    executor.heartbeat()
    assert len(rows(podrunner_db, tasks.dag_id)) == 20
    assert len(executor.running) == 20
