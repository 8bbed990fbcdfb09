"""A task podrunner refuses fails at once: its reason in the event buffer and the task's log."""

from __future__ import annotations

import pytest
from airflow.utils.state import TaskInstanceState

from services.airflow.executor import PodrunnerExecutor
from tests.integration.services.airflow.conftest import Tasks, queue
from tests.support.waiting import wait_until

pytestmark = pytest.mark.timeout(60)


def test_an_override_that_is_no_pod_is_refused_with_the_reason(
    executor: PodrunnerExecutor, tasks: Tasks
) -> None:
    task = tasks.task("bad", executor_config={"pod_override": {"spec": "not a spec"}})
    executor.queue_workload(task.workload, session=None)  # type: ignore[arg-type]
    executor.heartbeat()

    state, info = executor.get_event_buffer()[task.ti.key]
    assert state == TaskInstanceState.FAILED
    assert info.startswith("podrunner refused the task: invalid Job: pod_override.spec")
    assert task.ti.key not in executor.running


def test_a_namespace_not_served_is_refused_and_the_rest_of_the_batch_goes_on(
    executor: PodrunnerExecutor, tasks: Tasks
) -> None:
    elsewhere = {"pod_override": {"metadata": {"namespace": "kube-system"}}}
    refused = tasks.task("elsewhere", executor_config=elsewhere)
    fine = tasks.task("fine")
    for task in (refused, fine):
        executor.queue_workload(task.workload, session=None)  # type: ignore[arg-type]
    executor.heartbeat()

    state, info = executor.get_event_buffer()[refused.ti.key]
    assert state == TaskInstanceState.FAILED
    assert "'kube-system' is not served here" in info
    assert fine.ti.key in executor.running


def test_a_try_already_submitted_is_refused(executor: PodrunnerExecutor, tasks: Tasks) -> None:
    first = tasks.task("twice", behaviour={"run-seconds": "30"})
    executor.queue_workload(first.workload, session=None)  # type: ignore[arg-type]
    executor.heartbeat()
    executor.running.discard(first.ti.key)  # as if another scheduler had submitted it

    again = tasks.task("twice")
    executor.queue_workload(again.workload, session=None)  # type: ignore[arg-type]
    executor.heartbeat()

    state, info = executor.get_event_buffer()[again.ti.key]
    assert state == TaskInstanceState.FAILED
    assert "task already has try 1 in state" in info


def test_a_try_asked_for_again_after_it_ran_is_refused_naming_why(
    executor: PodrunnerExecutor, tasks: Tasks
) -> None:
    # Given a try that ran to its end
    first = tasks.task("sensor")
    queue(executor, first)

    def reported() -> bool:
        executor.sync()
        return bool(executor.event_buffer)

    wait_until(reported, timeout_s=30, what="the first run reported", every_s=0.2)
    executor.get_event_buffer()

    # When Airflow asks for the same try again (a sensor in reschedule mode would)
    again = tasks.task("sensor")
    queue(executor, again)

    # Expect a refusal that says what podrunner does not support
    state, info = executor.get_event_buffer()[again.ti.key]
    assert state == TaskInstanceState.FAILED
    assert "try 1 already ran to success in podrunner, which runs each try once" in info


def test_a_pod_the_policy_forbids_fails_at_a_following_sync_naming_the_rule(
    executor: PodrunnerExecutor, tasks: Tasks
) -> None:
    privileged = {"securityContext": {"privileged": True}}
    override = {"spec": {"containers": [{"name": "base", **privileged}]}}
    task = tasks.task("privileged", executor_config={"pod_override": override})
    queue(executor, task)

    def reported() -> bool:
        executor.sync()
        return bool(executor.event_buffer)

    wait_until(reported, timeout_s=30, what="the refusal reported", every_s=0.2)
    state, info = executor.get_event_buffer()[task.ti.key]
    assert state == TaskInstanceState.FAILED
    assert info.startswith("rejected: ")
    assert "privileged" in info
