"""The ledger's rules: what a launch or pod event does to a task's row. Pure: no I/O.

The reconciler reads events in batches, collapses them per task, and applies them with these
rules; the database write is elsewhere. The rules make the result independent of how events
arrive:

* states only move forward by rank (`queued`/`up_for_reschedule` < `running` < `success`/`failed`);
  a terminal row never changes again, so a late or repeated event is a no-op;
* an event for an older try changes nothing; an event for a newer try starts that try;
* a revoked try fails with the revoker's reason, and its pod is deleted whatever the policy;
* a pod lost before its task started (deleted while Pending, evicted before Running, its
  containers never started) is `up_for_reschedule`: the same try gets a new pod, up to
  `max_relaunches` times, then the task fails with the history in its reason;
* a failure always says why: the terminated reason and exit code, the waiting reason that can
  never resolve (ErrImagePull, InvalidImageName with the image, ...), the pod's reason
  (DeadlineExceeded, Evicted) with the kubelet's message, or the deletion. A container waiting
  for a missing Secret or ConfigMap (CreateContainerConfigError) is not failed here: the sweeps
  give it a grace period, as they give ImagePullBackOff;
* pods never restart: rendering forces `restartPolicy: Never` (see `shared.k8s.rendering`), so
  the first exit of the task's container is the task's outcome.

Each decision also names the follow-ups owed once it is committed: capture the log tail, release
the result finalizer, delete the pod, free the active-pod slot, relaunch.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

import msgspec
from msgspec import structs

from shared.db.ledger_rows import Row
from shared.db.models import STATE_RANK, TaskState
from shared.messages import LaunchEvent, LaunchOutcome, PodEvent, PodPhase

#: Waiting reasons no retry can fix: the task fails at once. (ImagePullBackOff and
#: CreateContainerConfigError are given a grace period by the sweeps instead: a registry may come
#: back, a missing Secret or ConfigMap may be created, and the kubelet then starts the container.)
FAST_FAIL_REASONS = frozenset(
    {
        "ErrImagePull",
        "InvalidImageName",
        "CreateContainerError",
        "ErrImageNeverPull",
    }
)
#: The pod-level reason of a pod the kubelet killed for its `activeDeadlineSeconds`: the task's
#: own limit ran out, so it is a failure even when its container never started.
DEADLINE_EXCEEDED = "DeadlineExceeded"


class FollowUp(enum.Enum):
    CAPTURE_LOG = "capture-log"
    RELEASE_POD = "release-pod"
    DELETE_POD = "delete-pod"
    FREE_SLOT = "free-slot"
    RELAUNCH = "relaunch"


class Decision(msgspec.Struct, frozen=True):
    """What the rules decided for one row: its new fields, and what is owed once committed."""

    row: Row
    follow_ups: frozenset[FollowUp] = frozenset()


@dataclass(frozen=True)
class Rules:
    max_relaunches: int = 3


def apply_launch(row: Row, event: LaunchEvent) -> Decision:
    """A launcher's outcome for this row's try (or a newer one)."""
    current = _for_try(row, event.try_number)
    if current is None:
        return Decision(row)
    row = current
    if event.outcome is LaunchOutcome.REJECTED:
        failed = _fail(row, f"rejected: {event.reason}", at=event.at)
        return Decision(failed, frozenset({FollowUp.FREE_SLOT}))
    if event.outcome is LaunchOutcome.REVOKED:
        # the pod goes whatever the policy: a revoked task must stop running
        revoked = _fail(row, f"revoked: {event.reason}", at=event.at)
        return Decision(revoked, _FINISHED | {FollowUp.DELETE_POD})
    launched = structs.replace(row, pod_name=event.pod, launched_at=row.launched_at or event.at)
    return Decision(launched)


def apply_pod_event(row: Row, event: PodEvent, rules: Rules) -> Decision:
    """One observed state of this row's pod."""
    current = _for_try(row, event.try_number)
    if current is not None:
        current = _for_pod(current, event.pod_uid)
    if current is None:
        return Decision(row)
    row = current
    observed = structs.replace(
        row,
        pod_name=event.pod,
        pod_phase=event.phase.value,
        resource_version=event.resource_version,
        started_at=row.started_at or event.started_at,
    )
    return _judge(observed, event, rules)


def _for_try(row: Row, try_number: int) -> Row | None:
    """The row an event of `try_number` applies to; None when it must change nothing: an older
    try, or a try whose outcome is already recorded."""
    if try_number > row.try_number:
        return Row(try_number=try_number, state=TaskState.QUEUED)
    if try_number < row.try_number or _terminal(row):
        return None
    return row


def _for_pod(row: Row, uid: str) -> Row | None:
    """The row an event of the pod `uid` applies to; None for a pod the row no longer follows.

    A relaunched pod has the same name as the pod it replaces, so the uid tells them apart: the
    lost pod's late word changes nothing, and the first word of the new pod makes the row follow
    it (back to `queued`, so a later word of the lost pod cannot be taken for a new pod again).
    An event without a uid (an older watcher) is taken as it comes."""
    if not uid or uid == row.pod_uid:
        lost = row.state is TaskState.UP_FOR_RESCHEDULE and uid != ""
        return None if lost else row
    if row.state is TaskState.UP_FOR_RESCHEDULE:
        return structs.replace(row, pod_uid=uid, state=TaskState.QUEUED)
    if row.pod_uid is None:
        return structs.replace(row, pod_uid=uid)
    return None


def _judge(row: Row, event: PodEvent, rules: Rules) -> Decision:
    ended = event.finished_at or event.observed_at
    if event.phase is PodPhase.SUCCEEDED:
        done = structs.replace(
            row, state=TaskState.SUCCESS, ended_at=ended, exit_code=event.exit_code
        )
        return Decision(done, _FINISHED)
    if _lost_before_start(row, event):
        return _reschedule(row, _loss_reason(event), rules, at=ended)
    reason = failure_reason(event)
    if reason is not None:
        failed = structs.replace(_fail(row, reason, at=ended), exit_code=event.exit_code)
        if _fast_failed(event):
            return Decision(failed, _FINISHED | {FollowUp.DELETE_POD})
        return Decision(failed, _FINISHED | {FollowUp.CAPTURE_LOG})
    if event.phase is PodPhase.RUNNING:
        return Decision(_forward(row, TaskState.RUNNING))
    return Decision(row)


def failure_reason(event: PodEvent) -> str | None:
    """Why the task failed, in words; None while nothing says it has."""
    if event.waiting_reason in FAST_FAIL_REASONS and event.phase is PodPhase.PENDING:
        return _with_message(event.waiting_reason, event.waiting_message)
    if (event.deletion_requested or event.deleted) and event.phase is not PodPhase.SUCCEEDED:
        # podrunner deletes a pod only after its result is recorded: this was someone else
        code = f" (exit {event.exit_code})" if event.exit_code is not None else ""
        return f"pod deleted externally{code}"
    if event.phase is PodPhase.FAILED:
        return _failed_reason(event)
    return None


def _failed_reason(event: PodEvent) -> str:
    if event.reason:
        return _with_message(event.reason, event.message)
    if event.terminated_reason == "OOMKilled":
        return f"OOMKilled (exit {event.exit_code})"
    terminated = event.terminated_reason or "Error"
    return f"{_with_message(terminated, event.terminated_message)} (exit {event.exit_code})"


def _lost_before_start(row: Row, event: PodEvent) -> bool:
    """The pod went away or was killed before its task ever ran: not the task's fault."""
    if row.started_at is not None or event.started_at is not None:
        return False
    if event.reason == DEADLINE_EXCEEDED:
        return False
    going = event.deleted or event.deletion_requested
    if going and event.phase in (PodPhase.PENDING, PodPhase.FAILED, PodPhase.UNKNOWN):
        return not _fast_failed(event)
    if event.phase is PodPhase.FAILED and event.reason == "Evicted":
        return True
    return event.phase is PodPhase.FAILED and event.terminated_reason == "ContainerStatusUnknown"


def _fast_failed(event: PodEvent) -> bool:
    return event.phase is PodPhase.PENDING and event.waiting_reason in FAST_FAIL_REASONS


def _loss_reason(event: PodEvent) -> str:
    if event.reason == "Evicted":
        return _with_message("evicted before the task started", event.message)
    return "pod deleted before the task started"


def apply_vanished(row: Row, rules: Rules, *, at: datetime) -> Decision:
    """The row's pod is gone and no event said how (the drift scan, after a grace period)."""
    if _terminal(row):
        return Decision(row)
    if row.started_at is None:
        return _reschedule(row, "pod vanished without a trace", rules, at=at)
    failed = _fail(row, "pod vanished without a trace after the task started", at=at)
    return Decision(failed, frozenset({FollowUp.FREE_SLOT}))


def apply_abandoned(row: Row, reason: str, *, at: datetime) -> Decision:
    """The row's pod waited too long to start (a pending timeout, an image that never comes):
    the task fails with `reason`, and the pod goes."""
    if _terminal(row) or row.started_at is not None:
        return Decision(row)
    return Decision(_fail(row, reason, at=at), _FINISHED | {FollowUp.DELETE_POD})


def apply_stuck(row: Row, *, max_republishes: int, waited_s: float, at: datetime) -> Decision:
    """No launcher took the row's job in time: publish it again (the row is the outbox), a
    bounded number of times. Only a row waiting for its current try's pod that no launcher
    reported and no watcher saw: a pod seen means a launcher took the job (its launch event is
    merely late), and publishing again would only be refused as a duplicate."""
    if not _waiting_for_a_pod(row) or row.launched_at is not None:
        return Decision(row)
    if row.republish_count >= max_republishes:
        reason = (
            f"stuck in {row.state.value}: no launcher took the job after "
            f"{row.republish_count} republishes ({waited_s:.0f}s)"
        )
        return Decision(_fail(row, reason, at=at))
    again = structs.replace(row, republish_count=row.republish_count + 1)
    return Decision(again, frozenset({FollowUp.RELAUNCH}))


def _waiting_for_a_pod(row: Row) -> bool:
    """Whether no pod of the row's current try (or, once lost, of its relaunch) was seen yet.

    A row `up_for_reschedule` still holds its lost pod's uid: the relaunched pod's first event
    moves it back to `queued` with the new uid (see `_for_pod`)."""
    if row.state is TaskState.UP_FOR_RESCHEDULE:
        return True
    if row.state is not TaskState.QUEUED:
        return False
    return row.pod_uid is None and row.started_at is None and row.pod_phase is None


def _reschedule(row: Row, reason: str, rules: Rules, *, at: datetime) -> Decision:
    history = f"{row.failure_reason}; {reason}" if row.failure_reason else reason
    if row.relaunch_count >= rules.max_relaunches:
        final = f"gave up after {row.relaunch_count} relaunches: {history}"
        return Decision(_fail(row, final, at=at), _FINISHED)
    again = structs.replace(
        row,
        state=TaskState.UP_FOR_RESCHEDULE,
        relaunch_count=row.relaunch_count + 1,
        failure_reason=history,
        launched_at=None,
        started_at=None,
        exit_code=None,
    )
    return Decision(again, frozenset({FollowUp.RELEASE_POD, FollowUp.FREE_SLOT, FollowUp.RELAUNCH}))


def _fail(row: Row, reason: str, *, at: datetime) -> Row:
    return structs.replace(row, state=TaskState.FAILED, failure_reason=reason, ended_at=at)


def _forward(row: Row, state: TaskState) -> Row:
    if STATE_RANK[state] > STATE_RANK[row.state]:
        return structs.replace(row, state=state)
    return row


def _terminal(row: Row) -> bool:
    return row.state.is_terminal


def _with_message(reason: str, message: str) -> str:
    return f"{reason}: {message}" if message else reason


_FINISHED = frozenset({FollowUp.RELEASE_POD, FollowUp.FREE_SLOT})
