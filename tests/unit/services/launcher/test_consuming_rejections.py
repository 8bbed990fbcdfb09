"""A job refused (unreadable, or by the API server) is dead-lettered and acknowledged, once."""

from __future__ import annotations

from shared.k8s import errors
from shared.messages import LaunchOutcome
from tests.support import builders
from tests.unit.services.launcher.rig import NS, Rig, pod_of


def test_an_unreadable_job_is_dead_lettered_without_a_create() -> None:
    rig = Rig()
    rig.jobs.put(NS, b"{not json")
    with rig.running():
        rig.jobs.join(NS)
    assert rig.created() == []
    [(namespace, body, _reason)] = rig.dead_letters
    assert (namespace, body) == (NS, b"{not json")


def test_a_pod_the_api_server_refuses_is_a_rejected_launch_and_frees_its_slot() -> None:
    rig = Rig()
    rig.pods.fail_next("create", errors.Invalid("spec.containers: Required value", status=422))
    job = builders.job()
    rig.jobs.publish([(job, NS)])
    with rig.running():
        rig.jobs.join(NS)
    [event] = rig.events
    assert (event.pod, event.outcome) == (pod_of(job), LaunchOutcome.REJECTED)
    assert "spec.containers: Required value" in event.reason
    assert [reason for _, _, reason in rig.dead_letters] == [event.reason]
    assert rig.slots.slots[NS] == {}


def test_a_stranger_pod_of_the_same_name_is_a_rejection_not_an_adoption() -> None:
    rig = Rig()
    job = builders.job()
    rig.pods.create(NS, {"metadata": {"name": pod_of(job), "labels": {}}})
    rig.jobs.publish([(job, NS)])
    with rig.running():
        rig.jobs.join(NS)
    [event] = rig.events
    assert event.outcome is LaunchOutcome.REJECTED
    assert "is not this task's pod" in event.reason
