"""Jobs queued for a namespace no launcher of this podrunner serves.

A job published straight to the queue of a namespace missing from `PODRUNNER_NAMESPACES` would
wait in Redis forever: no launcher consumes that queue. The sweeping replica looks for such queues
each round, takes their jobs, dead-letters each with the reason, and publishes a rejected launch
event for each job it can read, so its row fails (or is created failed) like any rejected job.
A job is acknowledged only after both are recorded; dying before that brings it back after the
visibility timeout, to be refused again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import structlog

from shared.k8s import naming
from shared.messages import SCHEMA_VERSION, DecodeError, Job, LaunchEvent, LaunchOutcome
from shared.messaging.jobqueue import Delivery, JobQueue

log = structlog.get_logger()

#: Jobs taken, refused and acknowledged together.
BATCH = 100

Publish = Callable[[list[LaunchEvent]], None]
DeadLetter = Callable[[str, bytes, str], None]


class StrayJobs:
    def __init__(
        self, *, jobs: JobQueue, served: frozenset[str], publish: Publish, dead_letter: DeadLetter
    ) -> None:
        self._jobs = jobs
        self._served = served
        self._publish = publish
        self._dead_letter = dead_letter

    def sweep(self) -> int:
        """Refuse every job queued for a namespace not served; return how many."""
        refused = 0
        for namespace in sorted(self._jobs.queued_namespaces() - self._served):
            refused += self._refuse_all(namespace)
        return refused

    def _refuse_all(self, namespace: str) -> int:
        served = ", ".join(sorted(self._served))
        reason = f"namespace {namespace!r} is not served by this podrunner (serves: {served})"
        refused = 0
        with self._jobs.consumer([namespace], prefetch=BATCH) as consumer:
            while deliveries := consumer.poll(timeout_s=0, most=BATCH):
                self._refuse(namespace, deliveries, reason)
                with consumer.settling():
                    for delivery in deliveries:
                        delivery.ack()
                refused += len(deliveries)
        log.warning("stray_jobs_refused", namespace=namespace, count=refused, reason=reason)
        return refused

    def _refuse(self, namespace: str, deliveries: list[Delivery], reason: str) -> None:
        events = []
        for delivery in deliveries:
            self._dead_letter(namespace, delivery.body, reason)
            job = _job(delivery.body)
            if job is not None:
                events.append(_rejected(job, namespace, reason))
        self._publish(events)


def _job(body: bytes) -> Job | None:
    try:
        return Job.decode(body)
    except DecodeError:
        return None


def _rejected(job: Job, namespace: str, reason: str) -> LaunchEvent:
    return LaunchEvent(
        version=SCHEMA_VERSION,
        key=job.key,
        try_number=job.try_number,
        namespace=namespace,
        pod=naming.pod_name(job.key, job.try_number),
        outcome=LaunchOutcome.REJECTED,
        reason=reason,
        job=job,
        at=datetime.now(UTC),
    )
