"""A task podrunner refuses fails at once: its reason in the event buffer and the task's log."""

from __future__ import annotations

import pytest
from airflow.utils.state import TaskInstanceState

from services.airflow.executor import PodrunnerExecutor
from tests.integration.services.airflow.conftest import Tasks

pytestmark = pytest.mark.timeout(60)


def test_an_override_that_is_no_pod_is_refused_with_the_reason(
    executor: PodrunnerExecutor, tasks: Tasks
) -> None:
    workload = tasks.workload("bad", executor_config={"pod_override": {"spec": "not a spec"}})
    executor.queue_workload(workload, session=None)  # type: ignore[arg-type]
    executor.heartbeat()

    state, info = executor.get_event_buffer()[workload.ti.key]
    assert state == TaskInstanceState.FAILED
    assert info.startswith("podrunner refused the task: invalid Job: pod_override.spec")
    assert workload.ti.key not in executor.running


def test_a_namespace_not_served_is_refused_and_the_rest_of_the_batch_goes_on(
    executor: PodrunnerExecutor, tasks: Tasks
) -> None:
    elsewhere = {"pod_override": {"metadata": {"namespace": "kube-system"}}}
    refused = tasks.workload("elsewhere", executor_config=elsewhere)
    fine = tasks.workload("fine")
    for workload in (refused, fine):
        executor.queue_workload(workload, session=None)  # type: ignore[arg-type]
    executor.heartbeat()

    state, info = executor.get_event_buffer()[refused.ti.key]
    assert state == TaskInstanceState.FAILED
    assert "'kube-system' is not served here" in info
    assert fine.ti.key in executor.running


def test_a_try_already_submitted_is_refused(executor: PodrunnerExecutor, tasks: Tasks) -> None:
    first = tasks.workload("twice", behaviour={"run-seconds": "30"})
    executor.queue_workload(first, session=None)  # type: ignore[arg-type]
    executor.heartbeat()
    executor.running.discard(first.ti.key)  # as if another scheduler had submitted it

    again = tasks.workload("twice")
    executor.queue_workload(again, session=None)  # type: ignore[arg-type]
    executor.heartbeat()

    state, info = executor.get_event_buffer()[again.ti.key]
    assert state == TaskInstanceState.FAILED
    assert "task already has try 1 in state" in info
