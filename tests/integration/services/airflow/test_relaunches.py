"""A pod lost before its task started is relaunched by podrunner for the same try: Airflow sees
no failure and no try is spent, until podrunner gives up."""

from __future__ import annotations

import pytest
import sqlalchemy
from airflow.utils.state import TaskInstanceState

from services.airflow.executor import PodrunnerExecutor
from tests.integration.services.airflow.conftest import Tasks, queue, row
from tests.support.waiting import wait_until

pytestmark = pytest.mark.timeout(90)


def test_relaunches_are_not_reported_and_spend_no_try(
    executor: PodrunnerExecutor, tasks: Tasks, podrunner_db: sqlalchemy.Engine
) -> None:
    # Given a task whose pods are evicted before they start (PODRUNNER_MAX_RELAUNCHES=2)
    task = tasks.task("evicted", behaviour={"evict": "before-start"})
    queue(executor, task)

    # While podrunner relaunches it, every sync reports nothing
    def relaunched_or_reported() -> bool:
        executor.sync()
        found = row(podrunner_db, task)
        relaunching = found is not None and found["relaunch_count"] > 0
        return relaunching or bool(executor.event_buffer)

    wait_until(relaunched_or_reported, timeout_s=45, what="a relaunch", every_s=0.1)
    assert not executor.event_buffer, "a relaunch was reported to Airflow"
    assert task.ti.key in executor.running

    # Expect one failure, for the same try, once podrunner gives up
    def reported() -> bool:
        executor.sync()
        return bool(executor.event_buffer)

    wait_until(reported, timeout_s=60, what="the end reported", every_s=0.2)
    state, info = executor.get_event_buffer()[task.ti.key]
    assert state == TaskInstanceState.FAILED
    assert info.startswith("gave up after 2 relaunches")
    final = row(podrunner_db, task)
    assert final is not None
    assert (final["try_number"], final["relaunch_count"]) == (1, 2)
