"""The records the services exchange: jobs, launch events and pod events.

Each record is frozen, typed and carries a schema `version`, so the three services can be upgraded
one at a time: a reader refuses a version it does not know instead of guessing. Records travel as
JSON (jobs through kombu, events as the `event` field of a Redis stream entry) so programs outside
podrunner can produce jobs and subscribe to events.

All of them are msgspec structs, defined one way: the reconciler decodes every pod event and the
launcher every job, and msgspec reads a record in a few microseconds where a validating model took
tens. `version` has no default, in code as on the wire: msgspec leaves fields at their defaults out
of what it encodes, and a version must never be left out. Jobs and launch events are written with
every field that is not empty (`None`), as they always were; pod events, the bulk of the traffic,
leave out every field at its default.

Decoding is strict: no coercion of `"1"` to `1`, no unknown fields. Anything malformed raises one
`DecodeError` that names the offending field, which callers turn into a one-line rejection reason;
`shared.struct_faults` finds that field, and says what is wrong, in podrunner's own words.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal, Self, cast

import msgspec

from shared import pod_shapes, struct_faults, syntax

SCHEMA_VERSION: Literal[1] = 1

Identifier = Annotated[str, msgspec.Meta(min_length=1, max_length=250)]
#: Non-negative or -1 (not mapped); strict, so `"1"` and `true` are refused, not coerced.
MapIndex = Annotated[int, msgspec.Meta(ge=-1)]
TryNumber = Annotated[int, msgspec.Meta(ge=1)]
NonEmpty = Annotated[str, msgspec.Meta(min_length=1)]


def _written(default: Any) -> Any:
    """A default that is still written out: msgspec leaves out a field equal to a plain default,
    but a job keeps its `map_index` and `priority` on the wire and in its row, as decoded."""
    return msgspec.field(default_factory=lambda: default)


class DecodeError(ValueError):
    """A message could not be decoded; `field` names where (`(body)` when it is not JSON at all)."""

    def __init__(self, *, record: str, field: str, reason: str, raw: bytes = b"") -> None:
        super().__init__(f"invalid {record}: {field}: {reason}")
        self.record = record
        self.field = field
        self.reason = reason
        self.raw = raw


class Record(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """Base of every message: frozen, strict, closed, versioned, with encode/decode."""

    version: Literal[1]

    @classmethod
    def decode(cls, raw: bytes | str | Mapping[str, Any]) -> Self:
        """Parse `raw` (JSON text or an already-parsed mapping) into a record.

        Raises:
            DecodeError: naming the first field that is missing, of the wrong type or invalid.
        """
        if not isinstance(raw, (bytes, str)):  # a tuple: `bytes | str` is built at every call
            return cls._from_values(dict(raw), b"")
        decoder, has_rules = _READING.get(cls) or _reading(cls)
        try:
            record: Self = decoder.decode(raw)
        except msgspec.DecodeError:
            return cls._refused(raw.encode() if isinstance(raw, str) else raw)
        return record._checked(raw) if has_rules else record

    @classmethod
    def _refused(cls, raw: bytes) -> Self:
        """What JSON `raw` that msgspec did not decode holds: a record after all when it is JSON
        msgspec does not read (`NaN`), else the `DecodeError` that says why not."""
        try:
            data = struct_faults.parse_body(raw)
        except ValueError as error:
            raise DecodeError(
                record=cls.__name__, field=struct_faults.BODY, reason=str(error), raw=raw
            ) from None
        return cls._from_values(data, raw)

    @classmethod
    def _from_values(cls, data: Any, raw: bytes) -> Self:
        """The record in JSON values `data` (what JSON msgspec does not read, like `NaN`, or a
        mapping built in code)."""
        try:
            record = msgspec.convert(data, cls, strict=True)
        except msgspec.ValidationError:
            field, reason = struct_faults.first_fault(cls, data) or _unexplained(cls)
            raise DecodeError(record=cls.__name__, field=field, reason=reason, raw=raw) from None
        return record._checked(raw)

    def _checked(self, raw: bytes | str) -> Self:
        fault = struct_faults.record_fault(self)
        if fault is not None:
            raw_bytes = raw.encode() if isinstance(raw, str) else raw
            raise DecodeError(
                record=type(self).__name__, field=fault[0], reason=fault[1], raw=raw_bytes
            )
        return self

    def encode(self) -> bytes:
        """The record as compact JSON bytes (fields at their defaults left out)."""
        return _ENCODER.encode(self)

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready Python values (what kombu's json serializer is given)."""
        return cast(dict[str, Any], msgspec.to_builtins(self))


#: Each record's decoder, and whether it has rules of its own to check once decoded: looked up
#: per message, so a plain dict rather than a cache (the reconciler reads every pod event).
_READING: dict[type[Record], tuple[msgspec.json.Decoder[Any], bool]] = {}


def _reading(kind: type[Record]) -> tuple[msgspec.json.Decoder[Any], bool]:
    reading = _READING[kind] = (msgspec.json.Decoder(kind), struct_faults.has_rules(kind))
    return reading


def _unexplained(kind: type[Record]) -> tuple[str, str]:
    """For a fault msgspec found and the walk did not: a reason that still says where to look."""
    return struct_faults.BODY, f"does not match the {kind.__name__} schema"


_ENCODER = msgspec.json.Encoder()


class TaskKey(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What identifies a task instance; the try number says which attempt of it."""

    dag_id: Identifier
    task_id: Identifier
    run_id: Identifier
    map_index: MapIndex = -1

    def __str__(self) -> str:
        return describe_key(self.dag_id, self.task_id, self.run_id, self.map_index)


def describe_key(dag_id: str, task_id: str, run_id: str, map_index: int) -> str:
    """A task key as people read it: `dag.task.run`, and `[n]` for a mapped task."""
    suffix = "" if map_index < 0 else f"[{map_index}]"
    return f"{dag_id}.{task_id}.{run_id}{suffix}"


def _namespace_fault(value: str) -> struct_faults.Fault | None:
    if syntax.is_dns_label(value):
        return None
    return "", f"{value!r} is not a valid namespace name (DNS-1123 label)"


def _labels_fault(value: dict[str, str]) -> struct_faults.Fault | None:
    for name, label in value.items():
        if not syntax.is_qualified_name(name):
            return "", f"{name!r} is not a valid label name"
        if not syntax.is_label_value(label):
            return "", f"label {name}: {label!r} is not a valid label value"
    return None


def _annotations_fault(value: dict[str, str]) -> struct_faults.Fault | None:
    for name in value:
        if not syntax.is_qualified_name(name):
            return "", f"{name!r} is not a valid annotation name"
    return None


def _pod_override_fault(value: dict[str, Any]) -> struct_faults.Fault | None:
    for where, reason in pod_shapes.faults(value):
        return f".{where}", reason
    return None


class Job(Record, frozen=True, kw_only=True):
    """A request to run one try of one task as a pod (a contract: its fields are the job format)."""

    __field_checks__: ClassVar[Mapping[str, struct_faults.Check]] = {
        "namespace": _namespace_fault,
        "pod_override": _pod_override_fault,
        "labels": _labels_fault,
        "annotations": _annotations_fault,
    }

    dag_id: Identifier
    task_id: Identifier
    run_id: Identifier
    map_index: MapIndex = _written(-1)
    try_number: TryNumber
    command: Annotated[list[str], msgspec.Meta(min_length=1)]
    namespace: str | None = None
    image: NonEmpty | None = None
    pod_template_file: NonEmpty | None = None
    pod_override: dict[str, Any] | None = None
    priority: int = _written(0)
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None

    @property
    def key(self) -> TaskKey:
        return TaskKey(self.dag_id, self.task_id, self.run_id, self.map_index)


class LaunchOutcome(enum.StrEnum):
    CREATED = "created"
    EXISTS = "exists"
    REJECTED = "rejected"
    REVOKED = "revoked"
    """Not the launcher's: the job was withdrawn (`shared.revoking`); its pod, if any, goes."""


class LaunchEvent(Record, frozen=True, kw_only=True):
    """The launcher's word on one job: its pod was created, already existed, or was rejected;
    or a client's word that the job is revoked.

    `job` is absent only when the job itself was malformed; the row is then found by `key`.
    """

    key: TaskKey
    try_number: TryNumber
    namespace: str
    pod: str
    outcome: LaunchOutcome
    reason: str = _written("")
    job: Job | None = None
    at: datetime


class PodPhase(enum.StrEnum):
    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    UNKNOWN = "Unknown"


class EventSource(enum.StrEnum):
    """Where a pod was seen: on the watch stream, while re-listing after a gap, or by the
    reconciler's drift sweep (a final state whose events were missed)."""

    WATCH = "watch"
    RELIST = "relist"
    SWEEP = "sweep"


class PodEvent(Record, frozen=True, kw_only=True):
    """A transition of one of our pods, as the watcher observed it (phase, reasons, deletion)."""

    key: TaskKey
    try_number: TryNumber
    namespace: str
    pod: str
    pod_uid: str = ""
    phase: PodPhase
    reason: str = ""
    message: str = ""
    waiting_reason: str = ""
    waiting_message: str = ""
    terminated_reason: str = ""
    terminated_message: str = ""
    exit_code: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    deletion_requested: bool = False
    deleted: bool = False
    resource_version: str
    observed_at: datetime
    source: EventSource = EventSource.WATCH
