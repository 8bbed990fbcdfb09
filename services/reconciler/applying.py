"""Applying a batch of stream entries to `task_instance`: one transaction, then the acks.

A batch is decoded (entries that do not decode, or that no row could hold, are dead-lettered at
once), grouped by task key in stream order, and folded through the ledger's rules against the
rows, read `FOR UPDATE` so reconcilers sharing the streams serialise per task. Changed rows are
written with one UPDATE, rows that a launch event knows and the table does not (a job published
straight to the queue, or rejected before it had a row) are inserted from the event, and the
transaction commits before any entry is acknowledged: a crash between the two replays the batch,
and the rules make the replay a no-op. A transaction that fails for one task's fault is retried
in parts until only that task's entries fail (`isolating`): they are dead-lettered with the
reason. The statements themselves are in `shared.db.batches`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec
import structlog

from services.reconciler import isolating, ledger
from services.reconciler.ledger import Decision, FollowUp, Rules
from shared import admission
from shared.db import batches
from shared.db.engines import Connection, Engine
from shared.db.keys import key_values
from shared.db.ledger_rows import Row
from shared.db.models import TaskState
from shared.messages import DecodeError, LaunchEvent, LaunchOutcome, PodEvent, TaskKey
from shared.messaging.pod_history import PodHistory
from shared.messaging.streams import Entry, StreamConsumer

log = structlog.get_logger()

Event = LaunchEvent | PodEvent
Judge = Callable[[Row], Decision]


#: How long entries of a task with no row are held back, unacknowledged, and folded again with
#: the next batches: a job published straight to the queue gets its row from its launch event,
#: which can come in a later batch than its pod's first events (another stream, another apply
#: worker). Past this, they are acknowledged and the drift sweep records what the pod did.
EARLY_WAIT_S = 10.0


class _Held(msgspec.Struct, frozen=True):
    entry: Entry
    event: LaunchEvent | PodEvent
    since: float


class Outcome(msgspec.Struct, frozen=True):
    """What one task's events decided, for the follow-ups after the commit."""

    task: TaskKey
    namespace: str
    decision: Decision

    @property
    def key(self) -> TaskKey:
        """The task's key as a record (built when a follow-up needs it, not for every row)."""
        return self.task


class Applier:
    def __init__(
        self,
        engine: Engine,
        consumer: StreamConsumer,
        *,
        launches_stream: str,
        rules: Rules,
        early_wait_s: float = EARLY_WAIT_S,
        history: PodHistory | None = None,
    ) -> None:
        self._engine = engine
        self._consumer = consumer
        self._launches = launches_stream
        self._rules = rules
        self._early_wait_s = early_wait_s
        self._held: list[_Held] = []
        self._history = history

    @property
    def holding(self) -> bool:
        """Whether entries are held back, waiting for their task's row (see `EARLY_WAIT_S`)."""
        return bool(self._held)

    def apply(self, entries: Sequence[Entry]) -> list[Outcome]:
        """Apply `entries` (and those held back before) and acknowledge them; return the
        decisions that changed something.

        Entries of a task that has no row, with no launch event to make one, are held back
        unacknowledged and folded again with the next batches, for up to `EARLY_WAIT_S`."""
        now = time.monotonic()
        held = [h for h in self._held if now - h.since <= self._early_wait_s]
        given_up = [h.entry for h in self._held if now - h.since > self._early_wait_s]
        pairs = [(h.entry, h.event) for h in held] + self._decode(entries)
        since = {h.entry.id: h.since for h in held}
        outcomes, rowless, failed = self._apply(event for _, event in pairs)
        self._held = [
            _Held(entry, event, since.get(entry.id, now))
            for entry, event in pairs
            if event.key in rowless
        ]
        not_done = rowless | failed.keys()
        done = [entry for entry, event in pairs if event.key not in not_done]
        if failed:
            self._dead_letter_failed(pairs, failed)
        if given_up:
            log.info("events_without_row_left_to_the_sweeps", entries=len(given_up))
        self._consumer.ack([*done, *given_up])
        if self._history is not None:
            self._history.record(_pod_events(pairs, not_done))
        return outcomes

    def _dead_letter_failed(
        self, pairs: list[tuple[Entry, Event]], failed: dict[TaskKey, str]
    ) -> None:
        for entry, event in pairs:
            if (reason := failed.get(event.key)) is not None:
                self._consumer.dead_letter(entry, reason)

    def apply_events(self, events: Iterable[Event]) -> list[Outcome]:
        """Apply `events` in one transaction (also for events the sweeps rebuild from pods); a
        task whose events fail on their own is left out (see `isolating`)."""
        outcomes, _, _ = self._apply(events)
        return outcomes

    def _apply(
        self, events: Iterable[Event]
    ) -> tuple[list[Outcome], set[TaskKey], dict[TaskKey, str]]:
        """Apply `events` in one transaction; if it fails for one task's fault, in parts, so
        that only that task's events fail (with the reason)."""
        grouped: dict[TaskKey, list[Event]] = {}
        for event in events:
            grouped.setdefault(event.key, []).append(event)
        isolated = isolating.apply_isolating(grouped, self._transaction)
        outcomes = [outcome for result in isolated.results for outcome in result[0]]
        rowless = {key for result in isolated.results for key in result[1]}
        return outcomes, rowless, isolated.failed

    def _transaction(
        self, grouped: Mapping[TaskKey, list[Event]]
    ) -> tuple[list[Outcome], set[TaskKey]]:
        with self._engine.begin() as connection:
            return self._apply_grouped(connection, grouped)

    def _decode(self, entries: Iterable[Entry]) -> list[tuple[Entry, Event]]:
        """The entries' events; an entry that does not decode is dead-lettered (and so
        acknowledged) at once."""
        decoded: list[tuple[Entry, Event]] = []
        for entry in entries:
            record: type[LaunchEvent] | type[PodEvent] = (
                LaunchEvent if entry.stream == self._launches else PodEvent
            )
            try:
                event = record.decode(entry.data)
                _check_fits(event)
            except (DecodeError, admission.Unfit) as error:
                self._consumer.dead_letter(entry, str(error))
                continue
            decoded.append((entry, event))
        return decoded

    def _apply_grouped(
        self, connection: Connection, grouped: Mapping[TaskKey, list[Event]]
    ) -> tuple[list[Outcome], set[TaskKey]]:
        rows = batches.lock_rows(connection, list(grouped))
        rowless: set[TaskKey] = set()
        inserts: list[dict[str, Any]] = []
        renewals: list[tuple[TaskKey, LaunchEvent]] = []
        updates: list[tuple[TaskKey, Row]] = []
        outcomes: list[Outcome] = []
        for key, events in grouped.items():
            locked = rows.get(key)
            current = locked.row if locked is not None else None
            if current is None:
                launch = _launch_making_row(events)
                if launch is None:
                    rowless.add(key)  # its launch event may come later; else the sweeps
                    continue
                current = Row(try_number=launch.try_number, state=TaskState.QUEUED)
                inserts.append(_insert_values(key, launch, current))
            elif (newer := _newer_job(current, events)) is not None:
                renewals.append((key, newer))
            decision = self._fold(current, events)
            if decision.row != current or decision.follow_ups:
                updates.append((key, decision.row))
                outcomes.append(Outcome(key, events[-1].namespace, decision))
        batches.insert_missing(connection, inserts)
        batches.renew_jobs(connection, renewals)
        batches.write_rows(connection, updates, datetime.now(UTC))
        return outcomes, rowless

    def _fold(self, row: Row, events: list[Event]) -> Decision:
        if len(events) == 1:
            return self._decide(row, events[0])
        follow_ups: set[FollowUp] = set()
        # a pod is created before it is seen: its launch goes first, whichever came first
        for event in sorted(events, key=lambda e: not isinstance(e, LaunchEvent)):
            decision = self._decide(row, event)
            row = decision.row
            follow_ups |= decision.follow_ups
        return Decision(row, frozenset(follow_ups))

    def _decide(self, row: Row, event: Event) -> Decision:
        if isinstance(event, LaunchEvent):
            return ledger.apply_launch(row, event)
        return ledger.apply_pod_event(row, event, self._rules)


def revise(engine: Engine, judgements: Mapping[TaskKey, Judge]) -> list[Outcome]:
    """Re-read the rows of `judgements` under lock, let each judge decide, write what changed.

    The sweeps find candidates with plain queries; the rows may have moved on since, so every
    judge sees the row as it is now, in the transaction that writes its decision."""
    outcomes: list[Outcome] = []
    with engine.begin() as connection:
        for key, locked in batches.lock_rows(connection, list(judgements)).items():
            decision = judgements[key](locked.row)
            if decision.row != locked.row or decision.follow_ups:
                outcomes.append(Outcome(key, locked.namespace, decision))
        changes = [(outcome.task, outcome.decision.row) for outcome in outcomes]
        batches.write_rows(connection, changes, datetime.now(UTC))
    return outcomes


def _pod_events(
    pairs: list[tuple[Entry, Event]], not_done: set[TaskKey]
) -> list[tuple[str, str, bytes]]:
    """The applied pod events, as the pod history keeps them (held ones come again later)."""
    return [
        (event.namespace, event.pod, entry.data)
        for entry, event in pairs
        if isinstance(event, PodEvent) and event.key not in not_done
    ]


def _check_fits(event: Event) -> None:
    """Raises `admission.Unfit` for an event whose key, reason or job its row cannot hold."""
    admission.check_key_fits(event.key, event.try_number)
    if isinstance(event, LaunchEvent):
        admission.check_text("reason", event.reason)
        if event.job is not None:
            admission.check_fits(event.job)


def _launch_making_row(events: list[Event]) -> LaunchEvent | None:
    """The launch event that lets a task known only from it get its row: one with the job (a
    job published straight to the queue), else a rejection, so that the submitter of a job the
    launcher could not read finds its task `failed` with the reason."""
    launches = [e for e in events if isinstance(e, LaunchEvent)]
    with_job = next((e for e in launches if e.job is not None), None)
    rejected = (e for e in launches if e.outcome is LaunchOutcome.REJECTED)
    return with_job or next(rejected, None)


def _newer_job(row: Row, events: list[Event]) -> LaunchEvent | None:
    """A launch event bringing the job of a later try than the first, which may be newer than
    the row's job: a try published straight to the queue after an earlier one ended (its pod's
    events may have moved the row to that try already). The row's job must then be that one,
    since a relaunch republishes the row's job."""
    newer = (
        e
        for e in events
        if isinstance(e, LaunchEvent)
        and e.job is not None
        and e.try_number > 1
        and e.try_number >= row.try_number
    )
    return max(newer, key=lambda e: e.try_number, default=None)


def _insert_values(key: TaskKey, launch: LaunchEvent, row: Row) -> dict[str, Any]:
    dag_id, task_id, run_id, map_index = key_values(key)
    job = launch.job.to_dict() if launch.job is not None else _readable_parts(key, launch)
    priority = launch.job.priority if launch.job is not None else 0
    return {
        "dag_id": dag_id,
        "task_id": task_id,
        "run_id": run_id,
        "map_index": map_index,
        "try_number": row.try_number,
        "state": row.state,
        "namespace": launch.namespace,
        "job": job,
        "priority": priority,
        "queued_at": launch.at,
    }


def _readable_parts(key: TaskKey, launch: LaunchEvent) -> dict[str, Any]:
    """What is known of a job the launcher could not read, for a row's `job`."""
    dag_id, task_id, run_id, map_index = key_values(key)
    return {
        "dag_id": dag_id,
        "task_id": task_id,
        "run_id": run_id,
        "map_index": map_index,
        "try_number": launch.try_number,
        "namespace": launch.namespace,
    }
