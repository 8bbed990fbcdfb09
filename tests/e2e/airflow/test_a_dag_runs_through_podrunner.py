"""A real Airflow runs a DAG through podrunner: states and tries come from the tasks themselves.

Airflow's scheduler (with `PodrunnerExecutor`), DAG processor and API server run from the installed
package; each task instance becomes a podrunner job, then a pod in kubesim, whose command runs the
task on this machine against Airflow's execution API. Airflow's database must end with the states
and try numbers the DAG's tasks call for, and podrunner's rows must agree.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import httpx
import pytest
import sqlalchemy

from tests.e2e.airflow.home import DAG_ID
from tests.e2e.airflow.stack import Stack

pytestmark = [
    # Not `pytest.importorskip`: importing Airflow creates its home directory as a side effect.
    pytest.mark.skipif(
        importlib.util.find_spec("airflow") is None,
        reason="Apache Airflow is not installed (the `airflow` extra)",
    ),
    pytest.mark.slow,
    pytest.mark.timeout(360),
]

RUN_ID = "e2e"
#: (task_id, map_index) → (state, try number)
Tries = dict[tuple[str, int], tuple[str, int]]
#: Seconds the DAG run gets, from its trigger to its end, on a loaded CI machine.
RUN_TIMEOUT_S = 200.0
#: The final states and tries, in Airflow's database and in podrunner's.
EXPECTED: Tries = {
    ("succeeds", -1): ("success", 1),
    ("fails_once", -1): ("success", 2),
    ("squares", 0): ("success", 1),
    ("squares", 1): ("success", 1),
    ("squares", 2): ("success", 1),
    ("overridden", -1): ("success", 1),
}
FINAL = ("success", "failed")
#: The variable the `overridden` task's pod override sets, and its value (as in e2e_dag.py).
MARK = "PODRUNNER_E2E_MARK"
MARK_VALUE = "set by pod_override"


def test_a_dag_run_ends_with_the_states_and_tries_its_tasks_call_for(
    airflow_stack: Stack, airflow_db: sqlalchemy.Engine, db: sqlalchemy.Engine
) -> None:
    processes = airflow_stack.processes
    with processes.explained():
        # Given the stack, with the DAG stored; when a run is triggered through Airflow's API
        trigger(airflow_stack)
        # Expect the run to end, successfully, every task at its expected try
        state = processes.wait_until(
            lambda: run_state(airflow_db), timeout_s=RUN_TIMEOUT_S, what="the DAG run ending"
        )
        airflow = airflow_tries(airflow_db)
        assert (state, airflow) == ("success", EXPECTED)
        # the first try of `fails_once` failed by itself, in its pod, as its own log says
        assert failed_tries(airflow_db, "fails_once") == [1]
        assert "the first try fails on purpose" in task_log(airflow_stack, "fails_once", 1)
        # the override reached the container: the task returned the variable it set
        assert returned(airflow_db, "overridden") == MARK_VALUE
        # and podrunner's rows agree, once it has recorded the end of each last try's pod
        processes.wait_until(
            lambda: caught_up(podrunner_tries(db), airflow),
            timeout_s=30,
            what=lambda: f"podrunner recording each last try (its rows: {podrunner_tries(db)})",
        )
        assert podrunner_tries(db) == airflow
        assert MARK in override_env(db, "overridden")


def trigger(stack: Stack) -> None:
    response = httpx.post(
        f"{stack.home.api_url}/api/v2/dags/{DAG_ID}/dagRuns",
        json={"dag_run_id": RUN_ID, "logical_date": None},
        timeout=30,
    )
    assert response.status_code == 200, response.text


def run_state(airflow_db: sqlalchemy.Engine) -> str | None:
    """The run's state once it has ended, else None."""
    query = "SELECT state FROM dag_run WHERE dag_id = :dag AND run_id = :run"
    with airflow_db.connect() as connection:
        state = connection.execute(sqlalchemy.text(query), {"dag": DAG_ID, "run": RUN_ID}).scalar()
    return state if state in FINAL else None


def airflow_tries(airflow_db: sqlalchemy.Engine) -> Tries:
    query = (
        "SELECT task_id, map_index, state, try_number FROM task_instance"
        " WHERE dag_id = :dag AND run_id = :run"
    )
    with airflow_db.connect() as connection:
        rows = connection.execute(sqlalchemy.text(query), {"dag": DAG_ID, "run": RUN_ID})
        return {(r.task_id, r.map_index): (r.state, r.try_number) for r in rows}


def podrunner_tries(db: sqlalchemy.Engine) -> Tries:
    query = (
        "SELECT task_id, map_index, state, try_number FROM task_instance"
        " WHERE dag_id = :dag AND run_id = :run"
    )
    with db.connect() as connection:
        rows = connection.execute(sqlalchemy.text(query), {"dag": DAG_ID, "run": RUN_ID})
        return {(r.task_id, r.map_index): (r.state, r.try_number) for r in rows}


def caught_up(rows: Tries, airflow: Tries) -> bool:
    """True when podrunner has a final state for each task instance's last try in Airflow."""
    return rows.keys() == airflow.keys() and all(
        state in FINAL and try_number == airflow[key][1]
        for key, (state, try_number) in rows.items()
    )


def failed_tries(airflow_db: sqlalchemy.Engine, task_id: str) -> list[int]:
    """The earlier tries of `task_id` that Airflow keeps as failed in its history."""
    query = (
        "SELECT try_number FROM task_instance_history WHERE dag_id = :dag AND run_id = :run"
        " AND task_id = :task AND state = 'failed' ORDER BY try_number"
    )
    with airflow_db.connect() as connection:
        parameters = {"dag": DAG_ID, "run": RUN_ID, "task": task_id}
        return list(connection.execute(sqlalchemy.text(query), parameters).scalars())


def task_log(stack: Stack, task_id: str, try_number: int) -> str:
    """What the task wrote to its log in that try (Airflow's default log file layout)."""
    path = (
        stack.home.path
        / "logs"
        / f"dag_id={DAG_ID}"
        / f"run_id={RUN_ID}"
        / f"task_id={task_id}"
        / f"attempt={try_number}.log"
    )
    return path.read_text(errors="replace")


def returned(airflow_db: sqlalchemy.Engine, task_id: str) -> Any:
    """The value `task_id` returned (its XCom), as Airflow stored it."""
    query = (
        "SELECT value FROM xcom WHERE dag_id = :dag AND run_id = :run"
        " AND task_id = :task AND key = 'return_value'"
    )
    with airflow_db.connect() as connection:
        parameters = {"dag": DAG_ID, "run": RUN_ID, "task": task_id}
        return connection.execute(sqlalchemy.text(query), parameters).scalar()


def override_env(db: sqlalchemy.Engine, task_id: str) -> set[str]:
    """Names of the variables the job's pod override gives its `base` container."""
    query = (
        "SELECT job FROM task_instance WHERE dag_id = :dag AND run_id = :run AND task_id = :task"
    )
    with db.connect() as connection:
        parameters = {"dag": DAG_ID, "run": RUN_ID, "task": task_id}
        job: dict[str, Any] = connection.execute(sqlalchemy.text(query), parameters).scalar_one()
    containers = (job.get("pod_override") or {}).get("spec", {}).get("containers", [])
    return {e["name"] for c in containers if c.get("name") == "base" for e in c.get("env") or []}
