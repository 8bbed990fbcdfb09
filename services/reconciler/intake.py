"""Job intake: the row first (the outbox), then the job on its queue.

A job is accepted only if its task has no row for the same or a later try; the answer to a
repeat is a conflict carrying the current state, never a second run. The row is written as
`queued` with the whole job before the job is published, so a job lost between the two (a crash,
a broker outage) is still known and the stuck-queued sweep publishes it again.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects import postgresql

from shared import admission
from shared.db.keys import KEY_NAMES, TABLE, RowKey, is_row_of
from shared.db.models import TaskState
from shared.messages import Job
from shared.messaging.jobqueue import JobQueue

#: Row fields reset when a new try of a task starts: everything the last try's pod left.
_FRESH = {
    "pod_name": None,
    "pod_uid": None,
    "launched_at": None,
    "started_at": None,
    "ended_at": None,
    "pod_phase": None,
    "resource_version": None,
    "exit_code": None,
    "failure_reason": None,
    "log_tail": None,
    "relaunch_count": 0,
    "republish_count": 0,
}


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


def submit(
    engine: Engine,
    jobs: JobQueue,
    job: Job,
    *,
    default_namespace: str,
    served: Collection[str] | None = None,
    template_dir: Path | None = None,
) -> Submitted:
    """Record `job` as queued, then publish it. `served` are the namespaces launchers take jobs
    for (`PODRUNNER_NAMESPACES`); as in the settings, the default namespace alone when not given.
    `template_dir` is `PODRUNNER_POD_TEMPLATE_DIR`: without it a job may not name a template.

    Raises:
        Refused: the job's row could not hold it (`Unfit`), no launcher serves its namespace
            (`Unserved`), or it names a template it may not.
        AlreadySubmitted: the task has a row for this try or a later one.
        MessagingError: the broker refused the job; its row stays queued (the outbox).
    """
    admission.check_fits(job)
    admission.check_template_name(job.pod_template_file, template_dir=template_dir)
    namespace = admission.served_namespace(
        job, default=default_namespace, served=served or (default_namespace,)
    )
    with engine.begin() as connection:
        _record(connection, job, namespace)
    jobs.publish([(job, namespace)])
    return Submitted(job, namespace)


def _record(connection: Connection, job: Job, namespace: str) -> None:
    current = _current(connection, job)
    if current is not None and current["try_number"] >= job.try_number:
        raise AlreadySubmitted(current)
    values = queued_row(job, namespace, at=datetime.now(UTC))
    statement = postgresql.insert(TABLE).values(values)
    upsert = statement.on_conflict_do_update(
        index_elements=list(KEY_NAMES),
        set_={name: statement.excluded[name] for name in values if name not in KEY_NAMES},
        where=TABLE.c.try_number < job.try_number,
    )
    connection.execute(upsert)


def queued_row(job: Job, namespace: str, *, at: datetime) -> dict[str, Any]:
    """The row a job is recorded as: `queued`, holding the job, nothing of an earlier try."""
    return {
        "dag_id": job.dag_id,
        "task_id": job.task_id,
        "run_id": job.run_id,
        "map_index": job.map_index,
        "try_number": job.try_number,
        "state": TaskState.QUEUED,
        "namespace": namespace,
        "job": job.to_dict(),
        "priority": job.priority,
        "queued_at": at,
        "updated_at": at,
        **_FRESH,
    }


def _current(connection: Connection, job: Job) -> dict[str, Any] | None:
    query = (
        select(TABLE.c.try_number, TABLE.c.state, TABLE.c.pod_name, TABLE.c.failure_reason)
        .where(is_row_of(RowKey.of(job.key)))
        .with_for_update()
    )
    row = connection.execute(query).mappings().first()
    return dict(row) if row is not None else None
