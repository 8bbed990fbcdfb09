"""Raw watch lines into small typed structs, and those into `PodEvent`s.

The official client turns every watch line into a full `V1Pod` model, field by field, which is
most of a watcher's time at thousands of events a second. These msgspec structs declare only the
fields a pod event needs; everything else in the line is skipped by the decoder without being
built. A pod that is not ours (another instance's label, missing or garbled key annotations) is
reported as `Foreign` with the reason, to be counted and ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import msgspec

from shared.k8s import naming
from shared.messages import EventSource, PodEvent, PodPhase


class Metadata(msgspec.Struct, frozen=True):
    name: str = ""
    namespace: str = ""
    resourceVersion: str = ""  # noqa: N815 - the API's field name
    uid: str = ""
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
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


class ContainerStatus(msgspec.Struct, frozen=True):
    name: str = ""
    state: State = State()


class Status(msgspec.Struct, frozen=True):
    phase: str = ""
    reason: str = ""
    message: str = ""
    containerStatuses: list[ContainerStatus] = []  # noqa: N815


class Pod(msgspec.Struct, frozen=True):
    metadata: Metadata = Metadata()
    status: Status = Status()


class WatchEvent(msgspec.Struct, frozen=True):
    type: str
    object: msgspec.Raw


class PodList(msgspec.Struct, frozen=True):
    metadata: dict[str, object]
    items: list[Pod]


EVENT_DECODER = msgspec.json.Decoder(WatchEvent)
POD_DECODER = msgspec.json.Decoder(Pod)
LIST_DECODER = msgspec.json.Decoder(PodList)
_PHASES = {phase.value: phase for phase in PodPhase}


@dataclass(frozen=True)
class Foreign:
    """A pod event that is not one of ours, and why."""

    reason: str


def to_event(
    pod: Pod, *, instance: str, deleted: bool, observed_at: datetime, source: EventSource
) -> PodEvent | Foreign:
    """The `PodEvent` for one observed state of `pod`, or `Foreign` when it is not ours."""
    metadata = pod.metadata
    if metadata.labels.get(naming.INSTANCE_LABEL) != instance:
        return Foreign("another instance")
    try:
        key, try_number = naming.key_from_annotations(metadata.annotations)
    except naming.AnnotationError:
        return Foreign("unreadable key annotations")
    base = _base_container(pod.status.containerStatuses)
    waiting = base.state.waiting if base else None
    terminated = base.state.terminated if base else None
    running = base.state.running if base else None
    return PodEvent(
        key=key,
        try_number=try_number,
        namespace=metadata.namespace,
        pod=metadata.name,
        phase=_PHASES.get(pod.status.phase, PodPhase.UNKNOWN),
        reason=pod.status.reason,
        message=pod.status.message,
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
