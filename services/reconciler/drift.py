"""The drift scan's judgement: what is wrong between the pods that exist and the rows. Pure.

Events can be missed: a reconciler down while its stream was trimmed, a pod removed by force,
a job lost between its row and its queue. The sweep lists every pod of the instance page by
page with the rows of each page's keys, then reads the live rows that had no pod listed, and this
module names each disagreement (a `Finding`); the sweep then acts on each, re-reading the row
under lock first. Ages are measured against a grace period so that work in flight (a pod
created a moment before its launch event is applied) is never taken for drift.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.db.models import TaskState
from shared.messages import PodEvent, PodPhase, TaskKey

#: Phases of a pod whose containers have not finished: such a pod of an ended task goes.
UNFINISHED = frozenset({PodPhase.PENDING, PodPhase.RUNNING})
#: A pod whose image will not come alternates between these two while the kubelet backs off.
_IMAGE_PULL_REASONS = frozenset({"ImagePullBackOff", "ErrImagePull"})
#: A container waiting for a Secret or ConfigMap that does not exist (yet).
_CONFIG_REASONS = frozenset({"CreateContainerConfigError"})


class Finding(enum.StrEnum):
    ORPHAN_POD = "orphan-pod"
    """A pod of ours with no row at all: adopted (its row made from it, see `adopting`)."""
    STALE_POD = "stale-pod"
    """A pod of an older try than its row's: deleted."""
    FINALIZER_LEAK = "finalizer-leak"
    """A pod whose result is recorded still holds the result finalizer: released."""
    UNDELETED_POD = "undeleted-pod"
    """A pod whose result is recorded, released but not deleted though policy deletes it (the
    delete failed, or the reconciler died before sending it): deleted."""
    MISSED_END = "missed-end"
    """A finished or deleted pod whose row is still live: its state is applied now."""
    PENDING_TIMEOUT = "pending-timeout"
    """A pod Pending past the pending timeout: the task fails with what held it."""
    IMAGE_PULL_BACKOFF = "image-pull-backoff"
    """A pod stuck in ImagePullBackOff past its grace: the task fails."""
    CONFIG_ERROR = "create-container-config-error"
    """A pod waiting for a missing Secret or ConfigMap past its grace: the task fails, with the
    kubelet's message naming the object."""
    VANISHED_POD = "vanished-pod"
    """A launched row whose pod is gone without a trace: relaunched, or failed if it ran."""
    STUCK_QUEUED = "stuck-queued"
    """A row no launcher took in time: its job is published again (the row is the outbox)."""


@dataclass(frozen=True)
class Observed:
    """One listed pod of ours, as the scan needs it."""

    event: PodEvent
    created_at: datetime | None
    holds_result: bool
    """The pod still carries the result finalizer."""
    pending_why: str
    kept: bool = False
    """The pod was let go and kept by policy (labelled `podrunner.io/done`)."""


@dataclass(frozen=True)
class Known:
    """One row, as the scan needs it."""

    key: TaskKey
    namespace: str
    try_number: int
    state: TaskState
    pod_uid: str | None
    launched_at: datetime | None
    updated_at: datetime
    republish_count: int


@dataclass(frozen=True)
class Limits:
    grace_s: float = 60.0
    pending_timeout_s: float = 300.0
    image_pull_grace_s: float = 120.0
    queued_timeout_s: float = 600.0
    config_error_grace_s: float = 120.0


@dataclass(frozen=True)
class Verdict:
    finding: Finding
    key: TaskKey
    namespace: str
    pod: str = ""
    why: str = ""
    event: PodEvent | None = None
    row: Known | None = None


#: Whether policy deletes the pod of a task that ended in this state, once its result is recorded.
Deletes = Callable[[TaskState], bool]


def scan_pods(
    pods: Iterable[Observed],
    rows: Mapping[TaskKey, Known],
    *,
    now: datetime,
    limits: Limits,
    deletes: Deletes,
) -> tuple[list[Verdict], set[TaskKey]]:
    """Every disagreement of listed `pods` (one namespace, one page) with `rows` (the rows of
    their keys, in any state, read after the listing); and the keys whose row has its pod."""
    verdicts: list[Verdict] = []
    with_pod: set[TaskKey] = set()
    for pod in pods:
        key = pod.event.key
        row = rows.get(key)
        if row is not None and pod.event.try_number >= row.try_number:
            with_pod.add(key)
        verdict = _judge_pod(pod, row, now=now, limits=limits, deletes=deletes)
        if verdict is not None:
            verdicts.append(verdict)
    return verdicts, with_pod


def scan_rows(
    rows: Iterable[Known], with_pod: Container[TaskKey], *, now: datetime, limits: Limits
) -> list[Verdict]:
    """Every disagreement of live `rows` (read after the listing started at `now`) whose key is
    not `with_pod`: a row launched before `now` minus the grace should have had a pod listed."""
    verdicts: list[Verdict] = []
    for row in rows:
        if row.key not in with_pod:
            verdict = _judge_podless(row, now=now, limits=limits)
            if verdict is not None:
                verdicts.append(verdict)
    return verdicts


def _judge_pod(
    pod: Observed, row: Known | None, *, now: datetime, limits: Limits, deletes: Deletes
) -> Verdict | None:
    event = pod.event
    old = _older_than(pod.created_at, limits.grace_s, now)
    if row is None:
        return _verdict(Finding.ORPHAN_POD, pod, event=pod.event) if old else None
    if event.try_number < row.try_number:
        return _verdict(Finding.STALE_POD, pod)
    if event.try_number > row.try_number:
        return None  # a newer try than the row knows: its launch event is on its way
    if row.state.is_terminal:
        return _judge_ended(pod, row, deletes=deletes)
    return _judge_live(pod, row, now=now, limits=limits)


def _judge_ended(pod: Observed, row: Known, *, deletes: Deletes) -> Verdict | None:
    """A pod whose result is recorded: it must have been let go, and deleted unless kept.

    A pod that never ran (a bad image, a pending timeout), or that still runs though its task
    ended (its try was revoked), is deleted whatever the policy: the verdict carries its event,
    so that letting it go deletes it too."""
    if pod.holds_result:
        return _verdict(Finding.FINALIZER_LEAK, pod, row=row, event=pod.event)
    if pod.event.deletion_requested:
        return None
    if pod.event.phase in UNFINISHED or (deletes(row.state) and not pod.kept):
        return _verdict(Finding.UNDELETED_POD, pod, row=row)
    return None


def _judge_live(pod: Observed, row: Known, *, now: datetime, limits: Limits) -> Verdict | None:
    event = pod.event
    if event.phase in (PodPhase.SUCCEEDED, PodPhase.FAILED) or event.deletion_requested:
        # the watcher's event is usually on its way: only an end older than the grace is missed
        ended = event.finished_at or pod.created_at
        if _older_than(ended, limits.grace_s, now):
            return _verdict(Finding.MISSED_END, pod, row=row, event=event)
        return None
    if event.phase is not PodPhase.PENDING or event.started_at is not None:
        return None
    held = _held_past_grace(pod, limits=limits, now=now)
    if held is not None:
        finding, grace_s = held
        why = f"{pod.pending_why} (for more than {grace_s:g}s)"
        return _verdict(finding, pod, row=row, why=why)
    if _older_than(pod.created_at, limits.pending_timeout_s, now):
        why = f"pending timeout after {limits.pending_timeout_s:g}s: {pod.pending_why}"
        return _verdict(Finding.PENDING_TIMEOUT, pod, row=row, why=why)
    return None


def _held_past_grace(
    pod: Observed, *, limits: Limits, now: datetime
) -> tuple[Finding, float] | None:
    """A waiting reason that may still resolve (an image pull, a missing Secret or ConfigMap),
    held longer than its grace: the finding and the grace."""
    reason = pod.event.waiting_reason
    graced = (
        (Finding.IMAGE_PULL_BACKOFF, limits.image_pull_grace_s)
        if reason in _IMAGE_PULL_REASONS
        else (Finding.CONFIG_ERROR, limits.config_error_grace_s)
        if reason in _CONFIG_REASONS
        else None
    )
    if graced is None or not _older_than(pod.created_at, graced[1], now):
        return None
    return graced


def _judge_podless(row: Known, *, now: datetime, limits: Limits) -> Verdict | None:
    if row.state.is_terminal:
        return None
    quiet_since = max(row.updated_at, row.launched_at or row.updated_at)
    if row.launched_at is not None:
        if _older_than(quiet_since, limits.grace_s, now):
            return Verdict(Finding.VANISHED_POD, row.key, row.namespace, row=row)
        return None
    if _older_than(row.updated_at, limits.queued_timeout_s, now):
        waited = (now - row.updated_at).total_seconds()
        return Verdict(Finding.STUCK_QUEUED, row.key, row.namespace, why=f"{waited:.0f}", row=row)
    return None


def _verdict(
    finding: Finding,
    pod: Observed,
    *,
    row: Known | None = None,
    why: str = "",
    event: PodEvent | None = None,
) -> Verdict:
    return Verdict(
        finding,
        pod.event.key,
        pod.event.namespace,
        pod.event.pod,
        why,
        event=event,
        row=row,
    )


def _older_than(moment: datetime | None, seconds: float, now: datetime) -> bool:
    return moment is not None and now - moment >= timedelta(seconds=seconds)
