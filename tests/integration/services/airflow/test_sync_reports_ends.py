"""`sync` reports each try's end through the event buffer, with podrunner's reason, and asks
Postgres once per call however many tasks it follows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy
from airflow.utils.state import TaskInstanceState

from services.airflow.executor import PodrunnerExecutor
from tests.integration.services.airflow.conftest import Tasks
from tests.support.waiting import wait_until

pytestmark = pytest.mark.timeout(90)


def events(executor: PodrunnerExecutor, count: int) -> dict[Any, tuple[Any, Any]]:
    """Heartbeat until `count` events are buffered; take them."""

    def buffered() -> bool:
        executor.sync()
        return len(executor.event_buffer) >= count

    wait_until(buffered, timeout_s=45, what=f"{count} executor events", every_s=0.2)
    return executor.get_event_buffer()


def test_successes_and_failures_are_reported_with_the_failure_reason(
    executor: PodrunnerExecutor, tasks: Tasks
) -> None:
    ok = tasks.task("ok")
    exits = tasks.task("exits", behaviour={"exit-code": "3"})
    oom = tasks.task("oom", behaviour={"oom": "true"})
    for task in (ok, exits, oom):
        executor.queue_workload(task.workload, session=None)  # type: ignore[arg-type]
    executor.heartbeat()

    reported = events(executor, 3)

    assert reported[ok.ti.key] == (TaskInstanceState.SUCCESS, None)
    assert reported[exits.ti.key] == (TaskInstanceState.FAILED, "Error (exit 3)")
    assert reported[oom.ti.key] == (TaskInstanceState.FAILED, "OOMKilled (exit 137)")
    assert not executor.running


@pytest.fixture
def statements(executor: PodrunnerExecutor) -> Iterator[list[str]]:
    """Every SQL statement the executor's engine sends from now on."""
    engine = executor._connected().engine
    sent: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    sqlalchemy.event.listen(engine, "before_cursor_execute", count)
    yield sent
    sqlalchemy.event.remove(engine, "before_cursor_execute", count)


def test_one_sync_asks_one_query_for_all_its_tasks(
    executor: PodrunnerExecutor, tasks: Tasks, statements: list[str]
) -> None:
    # Given 10 tasks running for a while, and 10 quick ones
    for index in range(10):
        slow = tasks.task("slow", map_index=index, behaviour={"run-seconds": "30"})
        executor.queue_workload(slow.workload, session=None)  # type: ignore[arg-type]
        quick = tasks.task("quick", map_index=index)
        executor.queue_workload(quick.workload, session=None)  # type: ignore[arg-type]
    executor.heartbeat()
    statements.clear()

    # When sync runs until the quick ones are reported
    calls = 0

    def quick_ones_reported() -> bool:
        nonlocal calls
        calls += 1
        executor.sync()
        return len(executor.event_buffer) >= 10

    wait_until(quick_ones_reported, timeout_s=45, what="10 successes", every_s=0.2)

    # Expect exactly one statement per call, and the slow ones still running
    assert len(statements) == calls
    assert len(executor.running) == 10
