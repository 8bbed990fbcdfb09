"""Transient create failures are retried; past the last attempt the job goes back on its queue."""

from __future__ import annotations

from shared.k8s import errors
from shared.messages import LaunchOutcome
from tests.support import builders
from tests.unit.services.launcher.rig import NS, Rig, pod_of


def test_a_create_failing_transiently_is_retried_and_the_job_launched_once() -> None:
    rig = Rig(max_attempts=3)
    rig.pods.fail_next("create", errors.Unavailable("down"), errors.ServerError("oops", status=500))
    job = builders.job()
    rig.jobs.publish([(job, NS)])
    with rig.running():
        rig.jobs.join(NS)
    assert rig.created() == [pod_of(job)] * 3
    assert [event.outcome for event in rig.events] == [LaunchOutcome.CREATED]


def test_a_job_whose_creates_outlast_the_retries_is_requeued_then_launched() -> None:
    rig = Rig(max_attempts=1)
    rig.pods.fail_next("create", errors.Unavailable("down"))
    job = builders.job()
    rig.jobs.publish([(job, NS)])
    with rig.running():
        rig.jobs.join(NS)
    assert rig.created() == [pod_of(job)] * 2, "one attempt, requeued, delivered again"
    assert [event.outcome for event in rig.events] == [LaunchOutcome.CREATED]
    assert rig.slots.slots[NS] == {pod_of(job): "pod"}
