"""A consumer takes jobs in rounds bounded by its prefetch, the most urgent first."""

from __future__ import annotations

from tests.support import builders
from tests.unit.services.launcher.rig import NS, Rig, pod_of


def test_urgent_jobs_are_launched_before_jobs_published_earlier() -> None:
    rig = Rig(prefetch=1)
    low, high = builders.job(task_id="low"), builders.job(task_id="high", priority=9)
    rig.jobs.publish([(low, NS), (high, NS)])
    with rig.running():
        rig.jobs.join(NS)
    assert rig.created() == [pod_of(high), pod_of(low)]
