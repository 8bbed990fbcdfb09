"""Applying a batch of stream entries to `task_instance`: one transaction, then the acks.

A batch is decoded (undecodable entries are dead-lettered at once), grouped by task key in stream
order, and folded through the ledger's rules against the rows, read `FOR UPDATE` so reconcilers
sharing the streams serialise per task. Changed rows are written with one UPDATE, rows that a
launch event knows and the table does not (a job published straight to the queue) are inserted
from the event's job, and the transaction commits before any entry is acknowledged: a crash
between the two replays the batch, and the rules make the replay a no-op.

The lock and the update each send the batch as one JSON parameter, read by `json_to_recordset`
into a table to join on by key: the statement is the same whatever the batch, so Postgres plans
it in a millisecond (a list of 500 keys, which it turns into 500 `OR`ed conditions, took about
160 ms to plan), and every changed row is written in one round trip instead of one statement
each. Rows are locked in key order and only the columns the rules read are fetched.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import msgspec
from msgspec import structs
from sqlalchemy import (
    JSON,
    Connection,
    Engine,
    Table,
    Text,
    and_,
    bindparam,
    column,
    func,
    select,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.selectable import TableValuedAlias

from services.reconciler import ledger
from services.reconciler.ledger import Decision, FollowUp, Row, Rules
from shared.db.models import TaskInstance, TaskState
from shared.messages import DecodeError, EventKey, LaunchEvent, PodEvent, TaskKey
from shared.messaging.streams import Entry, StreamConsumer

TABLE = cast(Table, TaskInstance.__table__)
KeyTuple = tuple[str, str, str, int]
Event = LaunchEvent | PodEvent
Judge = Callable[[Row], Decision]
_ROW_FIELDS = list(Row.__struct_fields__)
_KEY_COLUMNS = ["dag_id", "task_id", "run_id", "map_index"]


@dataclass(frozen=True)
class Outcome:
    """What one task's events decided, for the follow-ups after the commit."""

    task: KeyTuple
    namespace: str
    decision: Decision

    @functools.cached_property
    def key(self) -> TaskKey:
        """The task's key as a record (built when a follow-up needs it, not for every row)."""
        return task_key(self.task)


def key_of(key: TaskKey | EventKey) -> KeyTuple:
    return (key.dag_id, key.task_id, key.run_id, key.map_index)


class Applier:
    def __init__(
        self, engine: Engine, consumer: StreamConsumer, *, launches_stream: str, rules: Rules
    ) -> None:
        self._engine = engine
        self._consumer = consumer
        self._launches = launches_stream
        self._rules = rules

    def apply(self, entries: Sequence[Entry]) -> list[Outcome]:
        """Apply `entries` and acknowledge them; return the decisions that changed something."""
        outcomes = self.apply_events(self._decode(entries))
        self._consumer.ack(entries)
        return outcomes

    def apply_events(self, events: Iterable[Event]) -> list[Outcome]:
        """Apply `events` in one transaction (also for events the sweeps rebuild from pods)."""
        grouped: dict[KeyTuple, list[Event]] = {}
        for event in events:
            grouped.setdefault(key_of(event.key), []).append(event)
        with self._engine.begin() as connection:
            return self._apply_grouped(connection, grouped)

    def _decode(self, entries: Iterable[Entry]) -> list[Event]:
        events: list[Event] = []
        for entry in entries:
            record: type[LaunchEvent] | type[PodEvent] = (
                LaunchEvent if entry.stream == self._launches else PodEvent
            )
            try:
                events.append(record.decode(entry.data))
            except DecodeError as error:
                self._consumer.dead_letter(entry, str(error))
        return events

    def _apply_grouped(
        self, connection: Connection, grouped: dict[KeyTuple, list[Event]]
    ) -> list[Outcome]:
        rows = _lock_rows(connection, list(grouped))
        now = datetime.now(UTC)
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        outcomes: list[Outcome] = []
        for key, events in grouped.items():
            locked = rows.get(key)
            current = locked.row if locked is not None else None
            if current is None:
                launch = _launch_with_job(events)
                if launch is None:
                    continue  # a pod with no row: the drift scan deals with it
                current = Row(try_number=launch.try_number, state=TaskState.QUEUED)
                inserts.append(_insert_values(key, launch, current))
            decision = self._fold(current, events)
            if decision.row != current or decision.follow_ups:
                updates.append(_update_values(key, decision.row, at=now))
                outcomes.append(Outcome(key, events[-1].namespace, decision))
        if inserts:
            connection.execute(postgresql.insert(TABLE).on_conflict_do_nothing(), inserts)
        if updates:
            connection.execute(_UPDATE, _records(_CHANGES, updates))
        return outcomes

    def _fold(self, row: Row, events: list[Event]) -> Decision:
        if len(events) == 1:
            return self._decide(row, events[0])
        follow_ups: set[FollowUp] = set()
        for event in events:
            decision = self._decide(row, event)
            row = decision.row
            follow_ups |= decision.follow_ups
        return Decision(row, frozenset(follow_ups))

    def _decide(self, row: Row, event: Event) -> Decision:
        if isinstance(event, LaunchEvent):
            return ledger.apply_launch(row, event)
        return ledger.apply_pod_event(row, event, self._rules)


def revise(engine: Engine, judgements: Mapping[KeyTuple, Judge]) -> list[Outcome]:
    """Re-read the rows of `judgements` under lock, let each judge decide, write what changed.

    The sweeps find candidates with plain queries; the rows may have moved on since, so every
    judge sees the row as it is now, in the transaction that writes its decision."""
    outcomes: list[Outcome] = []
    with engine.begin() as connection:
        for key, locked in _lock_rows(connection, list(judgements)).items():
            decision = judgements[key](locked.row)
            if decision.row != locked.row or decision.follow_ups:
                outcomes.append(Outcome(key, locked.namespace, decision))
        now = datetime.now(UTC)
        updates = [_update_values(o.task, o.decision.row, at=now) for o in outcomes]
        if updates:
            connection.execute(_UPDATE, _records(_CHANGES, updates))
    return outcomes


@dataclass(frozen=True)
class _Locked:
    row: Row
    namespace: str


def _lock_rows(connection: Connection, keys: list[KeyTuple]) -> dict[KeyTuple, _Locked]:
    if not keys:
        return {}
    wanted = _records(_WANTED, [dict(zip(_KEY_COLUMNS, key, strict=True)) for key in keys])
    rows: dict[KeyTuple, _Locked] = {}
    for record in connection.execute(_LOCK, wanted):
        dag_id, task_id, run_id, map_index, namespace, *fields = record
        rows[(dag_id, task_id, run_id, map_index)] = _Locked(Row(*fields), namespace)
    return rows


def task_key(key: KeyTuple) -> TaskKey:
    dag_id, task_id, run_id, map_index = key
    return TaskKey(dag_id=dag_id, task_id=task_id, run_id=run_id, map_index=map_index)


def _launch_with_job(events: list[Event]) -> LaunchEvent | None:
    """The launch event that lets a task known only from it (a job published straight to the
    queue) get its row."""
    return next((e for e in events if isinstance(e, LaunchEvent) and e.job is not None), None)


def _insert_values(key: KeyTuple, launch: LaunchEvent, row: Row) -> dict[str, Any]:
    assert launch.job is not None
    dag_id, task_id, run_id, map_index = key
    return {
        "dag_id": dag_id,
        "task_id": task_id,
        "run_id": run_id,
        "map_index": map_index,
        "try_number": row.try_number,
        "state": row.state,
        "namespace": launch.namespace,
        "job": launch.job.to_dict(),
        "priority": launch.job.priority,
        "queued_at": launch.at,
    }


def _update_values(key: KeyTuple, row: Row, *, at: datetime) -> dict[str, Any]:
    dag_id, task_id, run_id, map_index = key
    return {
        "dag_id": dag_id,
        "task_id": task_id,
        "run_id": run_id,
        "map_index": map_index,
        **structs.asdict(row),  # the fields of `Row`, which are `_ROW_FIELDS`
        "updated_at": at,
    }


def _recordset(name: str, columns: Sequence[str]) -> TableValuedAlias:
    """`json_to_recordset(:name) AS name(a <type>, ...)`: rows sent as one JSON array of objects,
    typed as the table's columns, as a table to join on."""
    document = sql_cast(bindparam(name, type_=Text), JSON)
    derived = [column(c, TABLE.c[c].type) for c in columns]
    return (
        func.json_to_recordset(document)
        .table_valued(*derived)
        .render_derived(name=name, with_types=True)
    )


def _records(table: TableValuedAlias, rows: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """The parameter of `table` (a `_recordset`) holding `rows`; msgspec writes datetimes as
    RFC 3339 and enums as their values, which is how Postgres reads them."""
    return {table.name: _ENCODER.encode(rows).decode()}


def _same_key(table: TableValuedAlias) -> Any:
    return and_(*(TABLE.c[c] == table.c[c] for c in _KEY_COLUMNS))


_ENCODER = msgspec.json.Encoder()
_WANTED = _recordset("wanted", _KEY_COLUMNS)
#: Rows are locked in key order, so reconcilers locking overlapping batches cannot deadlock.
_LOCK = (
    select(*(TABLE.c[c] for c in [*_KEY_COLUMNS, "namespace", *_ROW_FIELDS]))
    .join(_WANTED, _same_key(_WANTED))
    .order_by(*(TABLE.c[c] for c in _KEY_COLUMNS))
    .with_for_update(of=TABLE)
)

_CHANGES = _recordset("changes", [*_KEY_COLUMNS, *_ROW_FIELDS, "updated_at"])
_UPDATE = (
    update(TABLE)
    .where(_same_key(_CHANGES))
    .values({c: _CHANGES.c[c] for c in [*_ROW_FIELDS, "updated_at"]})
)
