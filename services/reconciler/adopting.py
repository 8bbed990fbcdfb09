"""Pods of ours that have no row: adopted, never deleted.

A pod carrying this instance's labels was created by one of its launchers, so a job was taken for
it. Its row is missing only when that job came straight to the queue and its launch event, which
makes the row, is late (a launcher killed between the create and the event: the job is delivered
again only after the broker's visibility timeout) or was lost with Redis. Deleting such a pod
would lose its result, and the job delivered again would then find no trace of it and run the
task a second time. So the sweep makes the row from the pod instead (the key and try come from
its annotations; the job is known only by those parts, as for a job the launcher could not read)
and applies the pod's state through the ledger's rules, as for any missed event. From then on
the pod is an ordinary task's: its end is recorded, the pod let go, and a delivery of the job
that comes later finds it launched or finished.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import structlog

from services.reconciler.applying import Applier, Outcome
from shared.db import batches
from shared.db.engines import Engine
from shared.db.models import TaskState
from shared.messages import PodEvent

log = structlog.get_logger()


def adopt(engine: Engine, applier: Applier, event: PodEvent) -> list[Outcome]:
    """Make the row of the pod `event` describes, unless one appeared meanwhile, then apply
    the event; returns the follow-ups owed."""
    with engine.begin() as connection:
        made = batches.insert_missing(connection, [adopted_row(event)])
    if made:
        log.warning("pod_adopted", pod=event.pod, namespace=event.namespace, phase=event.phase)
    return applier.apply_events([event])


def adopted_row(event: PodEvent, at: datetime | None = None) -> dict[str, Any]:
    """The values of a row made from a pod: queued at the try the pod runs, its job known only
    by the parts the pod names."""
    key = event.key
    parts = {
        "dag_id": key.dag_id,
        "task_id": key.task_id,
        "run_id": key.run_id,
        "map_index": key.map_index,
        "try_number": event.try_number,
        "namespace": event.namespace,
    }
    return {
        **parts,
        "state": TaskState.QUEUED,
        "job": parts,
        "priority": 0,
        "queued_at": at or datetime.now(UTC),
    }
