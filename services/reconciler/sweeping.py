"""The sweeps: one replica at a time compares the pods that exist with the rows, and repairs.

Events are the fast path; the sweeps are the safety net for whatever events could not say: a
pod removed by force, a stream trimmed while the reconciler was down, a job lost between its row
and its queue, a pod that will never be scheduled, a pod whose row never came (adopted, see
`adopting`). One replica runs them (a Redis lease, taken per round and renewed while a round
lasts), every `PODRUNNER_SWEEP_INTERVAL_S`. Each round lists a namespace's pods page by page,
reading each page's rows, then streams its live rows, lets `drift` name what disagrees, and acts
on each finding through the same ledger rules and follow-ups as events do, re-reading the row
under lock first: a finding that went stale meanwhile changes nothing. Memory stays bounded by a
page, plus the keys of rows with a pod. The same pages heal the namespace's active-pod slots
(`slot_healing`); a pod a launcher is creating right now is never deleted.
"""

from __future__ import annotations

import collections
import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog

from services.reconciler import adopting, drift, ledger
from services.reconciler.applying import Applier, Outcome, revise
from services.reconciler.drift import Finding, Known, Observed, Verdict
from services.reconciler.following import FollowUps
from services.reconciler.ledger import Decision, FollowUp, Rules
from services.reconciler.metrics import ReconcilerMetrics
from services.reconciler.slot_healing import HealingRound, SlotHealer
from shared.db import reads
from shared.db.engines import Engine
from shared.db.keys import KEY_NAMES
from shared.db.ledger_rows import Row
from shared.db.models import TaskState
from shared.k8s import errors, naming, snapshots
from shared.k8s.pods import PodApi
from shared.messages import EventSource, TaskKey
from shared.messaging.slots import SlotPool

log = structlog.get_logger()

_KNOWN_COLUMNS = (
    *KEY_NAMES,
    "namespace",
    "try_number",
    "state",
    "pod_uid",
    "launched_at",
    "updated_at",
    "republish_count",
)
_CHUNK = 1000


@dataclass(frozen=True)
class SweepSettings:
    selector: str
    limits: drift.Limits = field(default_factory=drift.Limits)
    rules: Rules = field(default_factory=Rules)
    max_republishes: int = 3
    page_size: int = 500


class Sweeper:
    def __init__(
        self,
        *,
        engine: Engine,
        pods: PodApi,
        applier: Applier,
        follow_ups: FollowUps,
        slots: SlotPool,
        settings: SweepSettings,
        metrics: ReconcilerMetrics,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """`clock` (aware UTC) dates each round: tests move it past a timeout, not sleep through."""
        self._clock = clock
        self._slots = slots
        self._healer = SlotHealer(slots)
        self._engine = engine
        self._pods = pods
        self._applier = applier
        self._follow_ups = follow_ups
        self._settings = settings
        self._metrics = metrics

    def sweep(
        self, namespace: str, *, keep_going: Callable[[], bool] = lambda: True
    ) -> list[Verdict]:
        """One namespace's round: find the drift and repair it; return what was found."""
        with self._metrics.sweep_seconds.time():
            now = self._clock()
            healing = self._healer.begin(namespace)
            verdicts, with_pod = self._scan_pods(namespace, now, healing)
            verdicts += self._scan_rows(namespace, with_pod, now)
            for verdict in verdicts:
                if not keep_going():
                    break
                self._act(verdict, now)
                self._metrics.findings.labels(kind=verdict.finding.value).inc()
            if keep_going():  # a lost lease: another replica's round counts now
                self._healer.finish(healing)
        if verdicts:
            found = collections.Counter(v.finding.value for v in verdicts)
            log.info("drift_repaired", namespace=namespace, **found)
        return verdicts

    def _scan_pods(
        self, namespace: str, now: datetime, healing: HealingRound
    ) -> tuple[list[Verdict], set[TaskKey]]:
        """The pods' findings, page by page (each page with its keys' rows, also shown to the
        slot healing), and the keys of rows that have their pod: only those keys are kept,
        however many pods there are."""
        verdicts: list[Verdict] = []
        with_pod: set[TaskKey] = set()
        for page in self._pages(namespace, now):
            rows = self._rows_of({pod.event.key for pod in page})
            found, having = drift.scan_pods(
                page, rows, now=now, limits=self._settings.limits, deletes=self._follow_ups.deletes
            )
            healing.observe(page, rows)
            verdicts += found
            with_pod |= having
        return verdicts, with_pod

    def _scan_rows(self, namespace: str, with_pod: set[TaskKey], now: datetime) -> list[Verdict]:
        """The findings of live rows with no pod listed, the rows streamed in chunks."""
        records = reads.live_rows(self._engine, namespace, _KNOWN_COLUMNS, chunk=_CHUNK)
        return drift.scan_rows(
            map(_known, records), with_pod, now=now, limits=self._settings.limits
        )

    def _rows_of(self, keys: set[TaskKey]) -> dict[TaskKey, Known]:
        """The rows (in any state) of `keys`."""
        records = reads.rows_of(self._engine, keys, _KNOWN_COLUMNS)
        return {row.key: row for row in map(_known, records)}

    def _pages(self, namespace: str, now: datetime) -> Iterator[list[Observed]]:
        token = ""
        while True:
            raw = self._pods.list_page(
                namespace,
                label_selector=self._settings.selector,
                limit=self._settings.page_size,
                continue_token=token,
            )
            page = snapshots.LIST_DECODER.decode(raw)
            yield [observed for pod in page.items if (observed := _observed(pod, now)) is not None]
            token = str(page.metadata.get("continue") or "")
            if not token:
                return

    def _act(self, verdict: Verdict, now: datetime) -> None:
        finding = verdict.finding
        if finding is Finding.ORPHAN_POD and verdict.event is not None:
            self._follow_ups.run(adopting.adopt(self._engine, self._applier, verdict.event))
        elif finding is Finding.STALE_POD:
            self._discard(verdict)
        elif finding is Finding.FINALIZER_LEAK:
            self._release(verdict)
        elif finding is Finding.UNDELETED_POD:
            self._delete(verdict)
        elif finding is Finding.MISSED_END and verdict.event is not None:
            self._follow_ups.run(self._applier.apply_events([verdict.event]))
        else:
            self._revise(verdict, now)

    def _revise(self, verdict: Verdict, now: datetime) -> None:
        judge = _JUDGES[verdict.finding]
        decide = functools.partial(judge, verdict=verdict, settings=self._settings, now=now)
        self._follow_ups.run(revise(self._engine, {verdict.key: decide}))

    def _discard(self, verdict: Verdict) -> None:
        if self._being_created(verdict):
            return
        try:
            self._pods.remove_finalizer(verdict.namespace, verdict.pod, naming.RESULT_FINALIZER)
            self._pods.delete(verdict.namespace, verdict.pod)
        except errors.KubeError as error:
            log.warning("discard_failed", pod=verdict.pod, error=str(error))

    def _delete(self, verdict: Verdict) -> None:
        if self._being_created(verdict):
            return
        try:
            self._follow_ups.delete(verdict.namespace, verdict.pod)
        except errors.KubeError as error:
            log.warning("delete_failed", pod=verdict.pod, error=str(error))

    def _being_created(self, verdict: Verdict) -> bool:
        """A job delivered again is being created by a live launcher: deleted now, the pod
        would come back; a later round deletes it."""
        if not self._slots.creating(verdict.namespace, verdict.pod):
            return False
        log.info("pod_deletion_deferred", pod=verdict.pod, namespace=verdict.namespace)
        return True

    def _release(self, verdict: Verdict) -> None:
        assert verdict.row is not None
        row = Row(try_number=verdict.row.try_number, state=verdict.row.state, pod_name=verdict.pod)
        owed = {FollowUp.RELEASE_POD}
        if verdict.event is not None and verdict.event.phase in drift.UNFINISHED:
            owed.add(FollowUp.DELETE_POD)  # its task ended while it runs: it goes whatever
        decision = Decision(row, frozenset(owed))
        self._follow_ups.run([Outcome(verdict.key, verdict.namespace, decision)])


def _abandon(row: Row, verdict: Verdict, settings: SweepSettings, now: datetime) -> Decision:
    del settings
    if _moved_on(row, verdict):
        return Decision(row)
    return ledger.apply_abandoned(row, verdict.why, at=now)


def _vanish(row: Row, verdict: Verdict, settings: SweepSettings, now: datetime) -> Decision:
    if _moved_on(row, verdict):
        return Decision(row)
    return ledger.apply_vanished(row, settings.rules, at=now)


def _republish(row: Row, verdict: Verdict, settings: SweepSettings, now: datetime) -> Decision:
    if _moved_on(row, verdict):
        return Decision(row)
    waited = float(verdict.why or 0)
    return ledger.apply_stuck(
        row, max_republishes=settings.max_republishes, waited_s=waited, at=now
    )


def _moved_on(row: Row, verdict: Verdict) -> bool:
    """The row changed since the scan read it: the finding no longer holds."""
    known = verdict.row
    assert known is not None
    then = (known.try_number, known.launched_at, known.pod_uid, known.republish_count)
    return (row.try_number, row.launched_at, row.pod_uid, row.republish_count) != then


_JUDGES = {
    Finding.PENDING_TIMEOUT: _abandon,
    Finding.IMAGE_PULL_BACKOFF: _abandon,
    Finding.CONFIG_ERROR: _abandon,
    Finding.VANISHED_POD: _vanish,
    Finding.STUCK_QUEUED: _republish,
}


def _observed(pod: snapshots.Pod, now: datetime) -> Observed | None:
    event = snapshots.to_event(pod, deleted=False, observed_at=now, source=EventSource.SWEEP)
    if isinstance(event, snapshots.Foreign):
        return None
    metadata = pod.metadata or snapshots.Metadata()
    holds_result = naming.RESULT_FINALIZER in (metadata.finalizers or [])
    return Observed(
        event=event,
        created_at=metadata.creationTimestamp,
        holds_result=holds_result,
        pending_why=snapshots.pending_reason(pod),
        # labels are read only of pods let go, the few a sweep may have to delete
        kept=not holds_result and snapshots.label(pod, naming.DONE_LABEL) is not None,
    )


def _known(record: Mapping[str, Any]) -> Known:
    return Known(
        key=TaskKey(record["dag_id"], record["task_id"], record["run_id"], record["map_index"]),
        namespace=record["namespace"],
        try_number=record["try_number"],
        state=TaskState(record["state"]),
        pod_uid=record["pod_uid"],
        launched_at=record["launched_at"],
        updated_at=record["updated_at"],
        republish_count=record["republish_count"],
    )
