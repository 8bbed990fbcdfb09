"""Raw pod JSON (watch lines, list pages) into small typed structs, and those into `PodEvent`s.

The official client turns every watch line into a full `V1Pod` model, field by field, which is
most of a watcher's time at thousands of events a second. These msgspec structs declare only the
fields a pod event needs; everything else in the line is skipped by the decoder without being
built. Lists and watches select this instance's label, so other instances' pods never arrive; a
pod of ours whose key annotations are missing or garbled is reported as `Foreign`, to be counted
and ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import msgspec

from shared.k8s import naming
from shared.messages import SCHEMA_VERSION, EventSource, PodEvent, PodPhase, TaskKey


class Metadata(msgspec.Struct, frozen=True):
    name: str = ""
    namespace: str = ""
    uid: str = ""
    resourceVersion: str = ""  # noqa: N815 - the API's field name
    creationTimestamp: datetime | None = None  # noqa: N815
    annotations: dict[str, str] | None = None
    #: Left undecoded (a slice of the line, nearly free): only the sweep reads a label, of few pods.
    labels: msgspec.Raw = msgspec.Raw(b"null")
    finalizers: list[str] | None = None
    deletionTimestamp: str | None = None  # noqa: N815


class Waiting(msgspec.Struct, frozen=True):
    reason: str = ""
    message: str = ""


class Terminated(msgspec.Struct, frozen=True):
    exitCode: int = 0  # noqa: N815
    reason: str = ""
    message: str = ""
    startedAt: datetime | None = None  # noqa: N815
    finishedAt: datetime | None = None  # noqa: N815


class Running(msgspec.Struct, frozen=True):
    startedAt: datetime | None = None  # noqa: N815


class State(msgspec.Struct, frozen=True):
    waiting: Waiting | None = None
    running: Running | None = None
    terminated: Terminated | None = None


# Absent nested objects decode to None rather than to default instances: building defaults for
# every line made decoding several times slower.


class ContainerStatus(msgspec.Struct, frozen=True):
    name: str = ""
    state: State | None = None


class Condition(msgspec.Struct, frozen=True):
    type: str = ""
    status: str = ""
    reason: str = ""
    message: str = ""


class Status(msgspec.Struct, frozen=True):
    phase: str = ""
    reason: str = ""
    message: str = ""
    conditions: list[Condition] | None = None
    containerStatuses: list[ContainerStatus] | None = None  # noqa: N815


class Pod(msgspec.Struct, frozen=True):
    metadata: Metadata | None = None
    status: Status | None = None


class WatchEvent(msgspec.Struct, frozen=True):
    """One watch line. BOOKMARK objects decode as a pod with only a resourceVersion; ERROR lines
    never get here (the Kubernetes helpers raise them as errors)."""

    type: str
    object: Pod | None = None


class PodList(msgspec.Struct, frozen=True):
    metadata: dict[str, object]
    items: list[Pod]


_NO_METADATA = Metadata()
_NO_STATUS = Status()
_NO_STATE = State()
EVENT_DECODER = msgspec.json.Decoder(WatchEvent)
LIST_DECODER = msgspec.json.Decoder(PodList)
_LABELS_DECODER = msgspec.json.Decoder(dict[str, str] | None)
_PHASES = {phase.value: phase for phase in PodPhase}


@dataclass(frozen=True)
class Foreign:
    """A pod event that is not one of ours, and why."""

    reason: str


def to_event(
    pod: Pod, *, deleted: bool, observed_at: datetime, source: EventSource
) -> PodEvent | Foreign:
    """The event for one observed state of `pod`, or `Foreign` when its key cannot be read.

    Pods of other instances never get here: lists and watches select this instance's label."""
    metadata = pod.metadata or _NO_METADATA
    status = pod.status or _NO_STATUS
    annotations = metadata.annotations or {}
    try:
        key = TaskKey(
            dag_id=annotations[naming.DAG_ID],
            task_id=annotations[naming.TASK_ID],
            run_id=annotations[naming.RUN_ID],
            map_index=int(annotations[naming.MAP_INDEX]),
        )
        try_number = int(annotations[naming.TRY_NUMBER])
    except (KeyError, ValueError):
        return Foreign("unreadable key annotations")
    if try_number < 1 or key.map_index < -1 or not (key.dag_id and key.task_id and key.run_id):
        return Foreign("unreadable key annotations")
    base = _base_container(status.containerStatuses or [])
    state = (base.state if base else None) or _NO_STATE
    waiting, terminated, running = state.waiting, state.terminated, state.running
    return PodEvent(
        version=SCHEMA_VERSION,
        key=key,
        try_number=try_number,
        namespace=metadata.namespace,
        pod=metadata.name,
        pod_uid=metadata.uid,
        phase=_PHASES.get(status.phase, PodPhase.UNKNOWN),
        reason=status.reason,
        message=status.message,
        waiting_reason=waiting.reason if waiting else "",
        waiting_message=waiting.message if waiting else "",
        terminated_reason=terminated.reason if terminated else "",
        terminated_message=terminated.message if terminated else "",
        exit_code=terminated.exitCode if terminated else None,
        started_at=(terminated.startedAt if terminated else None)
        or (running.startedAt if running else None),
        finished_at=terminated.finishedAt if terminated else None,
        deletion_requested=metadata.deletionTimestamp is not None,
        deleted=deleted,
        resource_version=metadata.resourceVersion,
        observed_at=observed_at,
        source=source,
    )


def _base_container(statuses: list[ContainerStatus]) -> ContainerStatus | None:
    """The task's own container: `base` when present, else the first."""
    for status in statuses:
        if status.name == "base":
            return status
    return statuses[0] if statuses else None


def label(pod: Pod, name: str) -> str | None:
    """The value of the pod's label `name`, if it has that label."""
    labels = _LABELS_DECODER.decode(pod.metadata.labels) if pod.metadata else None
    return labels.get(name) if labels else None


def pending_reason(pod: Pod) -> str:
    """What holds a Pending pod, in words: the scheduler's verdict, else the task container's
    waiting reason, else just that it is pending."""
    status = pod.status or _NO_STATUS
    for condition in status.conditions or []:
        if condition.type == "PodScheduled" and condition.status == "False":
            return _with_message(condition.reason or "Unschedulable", condition.message)
    base = _base_container(status.containerStatuses or [])
    waiting = ((base.state if base else None) or _NO_STATE).waiting
    if waiting is not None and waiting.reason:
        return _with_message(waiting.reason, waiting.message)
    return "Pending"


def _with_message(reason: str, message: str) -> str:
    return f"{reason}: {message}" if message else reason
