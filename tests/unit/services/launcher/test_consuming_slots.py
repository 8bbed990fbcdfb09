"""Jobs past the active-pod limit wait in hand, in order, until a slot frees."""

from __future__ import annotations

from tests.support import builders
from tests.support.waiting import wait_until
from tests.unit.services.launcher.rig import NS, Rig, pod_of


def test_jobs_past_the_active_pod_limit_wait_until_a_pod_finishes() -> None:
    rig = Rig(max_active=1)
    first, second = builders.job(task_id="first"), builders.job(task_id="second")
    rig.jobs.publish([(first, NS), (second, NS)])
    with rig.running() as consumer:
        wait_until(
            lambda: rig.created() == [pod_of(first)], timeout_s=2.0, what="the first pod is created"
        )
        wait_until(
            lambda: rig.jobs.unsettled(NS) == 1, timeout_s=2.0, what="the first job is acknowledged"
        )
        assert consumer.in_hand == 1, "the second job waits in hand for a slot"
        rig.slots.finish(NS, pod_of(first))
        wait_until(
            lambda: rig.jobs.unsettled(NS) == 0, timeout_s=2.0, what="the second job is launched"
        )
    assert rig.created() == [pod_of(first), pod_of(second)]
    assert rig.slots.slots[NS] == {pod_of(second): "pod"}


def test_a_job_whose_pod_already_finished_is_acknowledged_without_a_create() -> None:
    rig = Rig()
    job = builders.job()
    rig.slots.finish(NS, pod_of(job))
    rig.jobs.publish([(job, NS)])
    with rig.running():
        rig.jobs.join(NS)
    assert (rig.created(), rig.events) == ([], [])
