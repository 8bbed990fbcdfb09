"""Stopping a consumer puts the jobs waiting for a slot back and settles the creates in flight."""

from __future__ import annotations

from tests.support import builders
from tests.support.waiting import wait_until
from tests.unit.services.launcher.rig import NS, Rig, pod_of


def test_stopping_requeues_jobs_waiting_for_a_slot_and_acknowledges_created_ones() -> None:
    # Given one slot and three jobs
    rig = Rig(max_active=1)
    jobs = [builders.job(task_id=f"t{n}") for n in range(3)]
    rig.jobs.publish([(job, NS) for job in jobs])
    # When the consumer is stopped once the first pod exists
    with rig.running() as consumer:
        wait_until(
            lambda: consumer.in_hand == 2 and rig.created() != [],
            timeout_s=2.0,
            what="two jobs wait",
        )
    # Expect the first launched and acknowledged, the other two back on the queue, none held
    assert rig.created() == [pod_of(jobs[0])]
    assert [event.pod for event in rig.events] == [pod_of(jobs[0])]
    assert (rig.jobs.depth(NS), rig.jobs.unsettled(NS)) == (2, 0)
