"""The sweep heals active-pod slots from the pods that exist: slots leaked by a job delivered
again, by a reconciler killed between its commit and its follow-ups, or by a pod adopted by the
sweep are freed; a live pod without a slot gets one; a slot being created is left alone."""

from __future__ import annotations

import pytest

from shared.messaging.slots import CREATED, SlotPool
from tests.integration.services.reconciler.conftest import Kit, finished
from tests.support import builders

pytestmark = pytest.mark.timeout(60)


def created(slots: SlotPool, namespace: str, pod: str) -> None:
    """The slot a launcher takes and marks once the pod exists."""
    assert slots.acquire(namespace, pod, limit=100)
    slots.mark_created(namespace, pod)


def test_a_slot_taken_again_after_the_task_ended_and_its_pod_went_is_freed(
    kit: Kit, launcher: SlotPool
) -> None:
    # Given a task whose end is recorded and whose pod is gone
    job = builders.job(task_id="redelivered", namespace=kit.namespace)
    kit.submit(job)
    kit.set_row(job, state="success")
    pod = kit.pod_name(job)
    # and a slot taken again for it by a job delivered again
    created(launcher, kit.namespace, pod)
    # When the sweep runs two rounds
    kit.sweep()
    kit.sweep()
    # Expect the slot freed: no pod is unfinished
    assert launcher.count(kit.namespace) == 0


def test_a_slot_left_by_a_reconciler_killed_between_commit_and_follow_ups_is_freed(
    kit: Kit, launcher: SlotPool
) -> None:
    # Given a task whose end was committed, with none of the follow-ups done
    job = builders.job(task_id="interrupted", namespace=kit.namespace)
    kit.submit(job)
    pod = kit.create_pod(job)
    created(launcher, kit.namespace, pod)
    kit.wait_for_pod(pod, finished)
    kit.set_row(job, state="success")
    # When the sweep runs
    assert kit.sweep() == ["finalizer-leak"]
    # Expect the pod let go and its slot freed
    kit.wait_gone(pod)
    assert launcher.count(kit.namespace) == 0


def test_the_slot_of_a_pod_adopted_by_the_sweep_is_freed_once_its_end_is_recorded(
    kit: Kit, launcher: SlotPool
) -> None:
    # Given a finished pod with no row, holding a slot
    job = builders.job(task_id="adopted", namespace=kit.namespace)
    pod = kit.create_pod(job)
    created(launcher, kit.namespace, pod)
    kit.wait_for_pod(pod, finished)
    # When the sweep adopts it
    assert kit.sweep() == ["orphan-pod"]
    # Expect its end recorded, the pod let go and its slot freed
    assert kit.row(job).state == "success"
    kit.wait_gone(pod)
    assert launcher.count(kit.namespace) == 0


def test_an_unfinished_pod_of_a_live_row_without_a_slot_gets_one(
    kit: Kit, launcher: SlotPool
) -> None:
    # Given a running task whose slot Redis forgot
    job = builders.job(
        task_id="running",
        namespace=kit.namespace,
        annotations={"kubesim.podrunner.io/run-seconds": "30"},
    )
    kit.submit(job)
    pod = kit.create_pod(job)
    kit.wait_for_pod(pod, lambda p: p["status"].get("phase") == "Running")
    # When the sweep runs
    kit.sweep()
    # Expect the pod counted again
    assert launcher.held(kit.namespace) == {pod: CREATED}


def test_a_slot_a_live_launcher_is_creating_is_never_freed(kit: Kit, launcher: SlotPool) -> None:
    assert launcher.acquire(kit.namespace, "being-created", limit=10)
    for _ in range(3):
        kit.sweep()
    assert launcher.held(kit.namespace) == {"being-created": "launcher"}
