"""Job intake: the row first (the outbox), then the job on its queue.

Every way in shares this module: `POST /api/v1/jobs`, `podrunner submit` and the Airflow
executor. A job is accepted only if its task has no row for the same or a later try; the answer
to a repeat is a conflict carrying the current state, never a second run. The row is written as
`queued` with the whole job before the job is published, so a job lost between the two (a crash,
a broker outage) is still known and the stuck-queued sweep publishes it again.

`submit_many` takes a batch (what a scheduler hands over at once): each job is checked alone, a
refused one is answered with its reason and the rest go on; the accepted ones are recorded in
one transaction and published in one round.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shared import admission
from shared.db import queueing
from shared.db.engines import Engine
from shared.messages import Job, TaskKey
from shared.messaging.connections import MessagingError
from shared.messaging.jobqueue import Jobs


class AlreadySubmitted(Exception):
    """The task already has a row for this or a later try."""

    def __init__(self, current: dict[str, Any]) -> None:
        super().__init__(
            f"task already has try {current['try_number']} in state {current['state']}"
        )
        self.current = current


@dataclass(frozen=True)
class Submitted:
    job: Job
    namespace: str


@dataclass(frozen=True)
class Where:
    """Where intake may send jobs: the settings every way in reads the same.

    `served` are the namespaces launchers take jobs for (`PODRUNNER_NAMESPACES`); as in the
    settings, the default namespace alone when empty. `template_dir` is
    `PODRUNNER_POD_TEMPLATE_DIR`: without it a job may not name a template."""

    default_namespace: str
    served: Collection[str] = ()
    template_dir: Path | None = None

    def namespace_of(self, job: Job) -> str:
        """The namespace `job` goes to, if it may be taken at all.

        Raises:
            Refused: the job's row could not hold it (`Unfit`), no launcher serves its
                namespace (`Unserved`), or it names a template it may not.
        """
        admission.check_fits(job)
        admission.check_template_name(job.pod_template_file, template_dir=self.template_dir)
        served = self.served or (self.default_namespace,)
        return admission.served_namespace(job, default=self.default_namespace, served=served)


@dataclass(frozen=True)
class Answer:
    """Intake's word on one job of a batch: `submitted`, or `refused` with why."""

    job: Job
    submitted: Submitted | None = None
    refused: admission.Refused | AlreadySubmitted | None = None


@dataclass(frozen=True)
class Batch:
    """What `submit_many` did: one answer per job, in order, and whether the accepted jobs
    reached the broker (when not, their rows are the outbox: published later)."""

    answers: list[Answer]
    publish_error: MessagingError | None = None


def submit(
    engine: Engine,
    jobs: Jobs,
    job: Job,
    *,
    default_namespace: str,
    served: Collection[str] | None = None,
    template_dir: Path | None = None,
) -> Submitted:
    """Record `job` as queued, then publish it.

    Raises:
        Refused: the job's row could not hold it (`Unfit`), no launcher serves its namespace
            (`Unserved`), or it names a template it may not.
        AlreadySubmitted: the task has a row for this try or a later one.
        DatabaseUnavailable: Postgres could not be reached; nothing was recorded.
        MessagingError: the broker refused the job; its row stays queued (the outbox).
    """
    where = Where(default_namespace, served or (), template_dir)
    namespace = where.namespace_of(job)
    entry = queueing.Queued(job, namespace)
    conflicts = queueing.record(engine, [entry], at=datetime.now(UTC))
    if conflicts:
        raise AlreadySubmitted(next(iter(conflicts.values())))
    jobs.publish([(job, namespace)])
    return Submitted(job, namespace)


def submit_many(engine: Engine, jobs: Jobs, batch: Sequence[Job], *, where: Where) -> Batch:
    """Record every acceptable job of `batch` in one transaction, then publish them in one
    round. A job is refused alone (its reason in its answer) for what `submit` raises; a
    second job of the same task in the batch is refused as a repeat. A broker failure is
    returned, not raised: the jobs are recorded and will be published by the sweep.

    Raises:
        DatabaseUnavailable: Postgres could not be reached; nothing was recorded or published.
    """
    answers: dict[int, Answer] = {}
    accepted: dict[TaskKey, tuple[int, queueing.Queued]] = {}
    for index, job in enumerate(batch):
        try:
            namespace = where.namespace_of(job)
        except admission.Refused as refused:
            answers[index] = Answer(job, refused=refused)
            continue
        key = job.key
        if key in accepted:
            current = {"try_number": accepted[key][1].job.try_number, "state": "queued"}
            answers[index] = Answer(job, refused=AlreadySubmitted(current))
            continue
        accepted[key] = (index, queueing.Queued(job, namespace))
    conflicts = queueing.record(
        engine, [entry for _, entry in accepted.values()], at=datetime.now(UTC)
    )
    publish: list[tuple[Job, str]] = []
    for key, (index, entry) in accepted.items():
        if key in conflicts:
            answers[index] = Answer(entry.job, refused=AlreadySubmitted(conflicts[key]))
        else:
            answers[index] = Answer(entry.job, submitted=Submitted(entry.job, entry.namespace))
            publish.append((entry.job, entry.namespace))
    error = _published(jobs, publish)
    return Batch([answers[index] for index in range(len(batch))], error)


def _published(jobs: Jobs, publish: list[tuple[Job, str]]) -> MessagingError | None:
    if not publish:
        return None
    try:
        jobs.publish(publish)
    except MessagingError as error:
        return error
    return None
