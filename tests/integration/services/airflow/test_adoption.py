"""A scheduler restarted with a new executor adopts the tries podrunner still has: rows and
pods outlive any scheduler."""

from __future__ import annotations

import pytest
from airflow.utils.state import TaskInstanceState

from services.airflow.executor import PodrunnerExecutor
from tests.integration.services.airflow.conftest import Tasks, queue
from tests.support.waiting import wait_until

pytestmark = pytest.mark.timeout(60)


def test_tries_podrunner_has_are_adopted_and_reported_by_the_new_executor(
    executor: PodrunnerExecutor, tasks: Tasks
) -> None:
    # Given a scheduler that submitted two tasks, then died before they ended
    first = tasks.task("first", behaviour={"run-seconds": "2"})
    second = tasks.task("second", behaviour={"run-seconds": "2", "exit-code": "1"})
    queue(executor, first, second)
    executor.terminate()

    # When a new scheduler's executor is offered them, and one task podrunner never saw
    unknown = tasks.task("unknown")
    successor = PodrunnerExecutor()
    successor.start()
    try:
        offered = [first.ti, second.ti, unknown.ti]
        not_adopted = successor.try_adopt_task_instances(offered)

        # Expect the two adopted, the unknown one handed back, and the ends reported
        assert list(not_adopted) == [unknown.ti]
        assert successor.running == {first.ti.key, second.ti.key}

        def both_reported() -> bool:
            successor.sync()
            return len(successor.event_buffer) == 2

        wait_until(both_reported, timeout_s=30, what="both ends reported", every_s=0.2)
        events = successor.get_event_buffer()
        assert events[first.ti.key][0] == TaskInstanceState.SUCCESS
        assert events[second.ti.key] == (TaskInstanceState.FAILED, "Error (exit 1)")
    finally:
        successor.terminate()
