"""`podrunner cleanup-pods`: remove finished pods an operator no longer needs.

The counterpart of `airflow kubernetes cleanup-pods`, with one difference that matters: a pod
still holding the result finalizer may carry a result nobody has recorded yet, so it is removed
only when its row says the result is safe (the row is terminal, belongs to a later try, or does
not exist). Anything else is left for the reconciler and reported as such. Pods kept by policy
(`podrunner.io/done`) and pods that finished on their own are removed once old enough.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shared.db import reads
from shared.db.engines import Engine
from shared.db.keys import KEY_NAMES
from shared.db.models import TaskState
from shared.k8s import errors, naming, snapshots
from shared.k8s.pods import PodApi
from shared.messages import EventSource, PodPhase, TaskKey

_FINISHED = (PodPhase.SUCCEEDED.value, PodPhase.FAILED.value)


@dataclass(frozen=True)
class Candidate:
    name: str
    phase: str
    age: timedelta
    key: TaskKey
    try_number: int
    holds_result: bool


@dataclass(frozen=True)
class Verdict:
    candidate: Candidate
    remove: bool
    why: str


def cleanup(
    pods: PodApi,
    engine: Engine | None,
    *,
    namespace: str,
    selector: str,
    min_age: timedelta,
    dry_run: bool,
) -> list[Verdict]:
    """Judge every finished pod of the instance in `namespace`; remove those safe to remove."""
    now = datetime.now(UTC)
    candidates = [c for c in _finished(pods, namespace, selector, now) if c.age >= min_age]
    settled = _settled_tries(engine, candidates)
    verdicts = [_judge(c, settled, has_database=engine is not None) for c in candidates]
    if not dry_run:
        for verdict in verdicts:
            if verdict.remove:
                _remove(pods, namespace, verdict.candidate.name)
    return verdicts


def _finished(pods: PodApi, namespace: str, selector: str, now: datetime) -> Iterator[Candidate]:
    token = ""
    while True:
        page = snapshots.LIST_DECODER.decode(
            pods.list_page(namespace, label_selector=selector, limit=500, continue_token=token)
        )
        for pod in page.items:
            event = snapshots.to_event(
                pod, deleted=False, observed_at=now, source=EventSource.SWEEP
            )
            if isinstance(event, snapshots.Foreign) or event.phase not in _FINISHED:
                continue
            metadata = pod.metadata or snapshots.Metadata()
            since = event.finished_at or metadata.creationTimestamp or now
            yield Candidate(
                name=event.pod,
                phase=event.phase,
                age=now - since,
                key=event.key,
                try_number=event.try_number,
                holds_result=naming.RESULT_FINALIZER in (metadata.finalizers or []),
            )
        token = str(page.metadata.get("continue") or "")
        if not token:
            return


def _settled_tries(engine: Engine | None, candidates: list[Candidate]) -> dict[TaskKey, int]:
    """Per key with a row, the highest try whose result is recorded (a terminal row's try, or
    the one before a live row's try)."""
    keys = list({c.key for c in candidates if c.holds_result})
    if engine is None or not keys:
        return {}
    settled: dict[TaskKey, int] = {}
    for row in reads.rows_of(engine, keys, (*KEY_NAMES, "try_number", "state")):
        key = TaskKey(row["dag_id"], row["task_id"], row["run_id"], row["map_index"])
        terminal = TaskState(row["state"]).is_terminal
        settled[key] = row["try_number"] if terminal else row["try_number"] - 1
    return settled


def _judge(candidate: Candidate, settled: dict[TaskKey, int], *, has_database: bool) -> Verdict:
    if not candidate.holds_result:
        return Verdict(candidate, remove=True, why=candidate.phase)
    if not has_database:
        return Verdict(
            candidate, remove=False, why="holds its result; PODRUNNER_DATABASE_URL is not set"
        )
    recorded = settled.get(candidate.key)
    if recorded is None:
        return Verdict(candidate, remove=True, why=f"{candidate.phase}, no row")
    if candidate.try_number <= recorded:
        return Verdict(candidate, remove=True, why=f"{candidate.phase}, result recorded")
    return Verdict(candidate, remove=False, why="result not recorded yet (the reconciler will)")


def _remove(pods: PodApi, namespace: str, name: str) -> None:
    try:
        pods.remove_finalizer(namespace, name, naming.RESULT_FINALIZER)
        pods.delete(namespace, name)
    except errors.NotFound:
        return
