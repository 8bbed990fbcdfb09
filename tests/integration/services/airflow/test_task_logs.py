"""The task's log in Airflow: the pod's, live, while it runs; the stored tail and podrunner's
reason once it failed; podrunner's refusal for a task it never ran."""

from __future__ import annotations

import pytest
import sqlalchemy

from services.airflow.executor import PodrunnerExecutor
from tests.integration.services.airflow.conftest import Tasks, queue, row
from tests.support.waiting import wait_until

pytestmark = pytest.mark.timeout(60)


def test_a_running_tasks_log_is_read_live_from_its_pod(
    executor: PodrunnerExecutor, tasks: Tasks, podrunner_db: sqlalchemy.Engine
) -> None:
    task = tasks.task("talks", behaviour={"run-seconds": "30", "log": "hello\nworld"})
    queue(executor, task)
    wait_until(
        lambda: (found := row(podrunner_db, task)) is not None and found["state"] == "running",
        timeout_s=30,
        what="the task running",
    )

    def live_log() -> tuple[list[str], list[str]] | None:
        sources, lines = executor.get_task_log(task.ti, 1)
        return (sources, lines) if "hello" in lines else None

    found = wait_until(live_log, timeout_s=20, what="the first line in the live log")
    assert found is not None
    assert found[0] == ["podrunner: the pod's log, live"]


def test_a_failed_tasks_log_is_the_stored_tail_and_the_reason(
    executor: PodrunnerExecutor, tasks: Tasks, podrunner_db: sqlalchemy.Engine
) -> None:
    task = tasks.task("fails", behaviour={"exit-code": "2", "log": "boom"})
    queue(executor, task)
    wait_until(
        lambda: (found := row(podrunner_db, task)) is not None and found["log_tail"],
        timeout_s=30,
        what="the log tail stored",
    )

    sources, lines = executor.get_task_log(task.ti, 1)

    assert lines == ["boom", "podrunner: the task failed: Error (exit 2)"]
    assert sources[-1] in ("podrunner: the stored log tail", "podrunner: the pod's log, live")


def test_a_refused_tasks_log_says_why(executor: PodrunnerExecutor, tasks: Tasks) -> None:
    task = tasks.task("refused", executor_config={"pod_override": "not a pod"})
    queue(executor, task)

    _, lines = executor.get_task_log(task.ti, 1)

    assert lines[0].startswith("podrunner refused the task: executor_config.pod_override")
