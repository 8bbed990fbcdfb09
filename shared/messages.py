"""The records the services exchange: jobs, launch events and pod events.

Each record is frozen, typed and carries a schema `version`, so the three services can be upgraded
one at a time: a reader refuses a version it does not know instead of guessing. Records travel as
JSON (jobs through kombu, events as the `event` field of a Redis stream entry) so programs outside
podrunner can produce jobs and subscribe to events.

Decoding is strict: no coercion of `"1"` to `1`, no unknown fields. Anything malformed raises one
`DecodeError` that names the offending field, which callers turn into a one-line rejection reason.

The wire's one extra rule, that a record (and a record inside it) states its `version`, is checked
after validation rather than by a validator on the model: a model validator makes pydantic build
the JSON as Python objects before validating them, which doubles the cost of decoding, and the
reconciler decodes every event. Only a record that does not decode is looked at again: the input,
with each record in it that left its version out marked so, is validated once more by the same
model, so the fault named is the first one in field order, a missing version included.

`PodEvent`, decoded once per event by every reconciler, is a msgspec struct (a pydantic model is
several times slower to decode, build and encode, and the watcher and the reconciler spend their
time on little else). msgspec reports a fault as text only, so a pod event that does not decode is
walked field by field here to name where it went wrong; msgspec's own words say what.
"""

from __future__ import annotations

import enum
import functools
import json
import typing
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal, Self, cast

import msgspec
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
)
from pydantic_core import PydanticCustomError

from shared import pod_shapes, struct_faults, syntax

SCHEMA_VERSION: Literal[1] = 1

_ID_MAX = 250

Identifier = Annotated[StrictStr, Field(min_length=1, max_length=_ID_MAX)]
#: Non-negative or -1 (not mapped); strict, so `"1"` and `true` are refused, not coerced.
MapIndex = Annotated[StrictInt, Field(ge=-1)]
_WireIdentifier = Annotated[str, msgspec.Meta(min_length=1, max_length=_ID_MAX)]
TryNumber = Annotated[StrictInt, Field(ge=1)]


class DecodeError(ValueError):
    """A message could not be decoded; `field` names where (`(body)` when it is not JSON at all)."""

    def __init__(self, *, record: str, field: str, reason: str, raw: bytes = b"") -> None:
        super().__init__(f"invalid {record}: {field}: {reason}")
        self.record = record
        self.field = field
        self.reason = reason
        self.raw = raw


class _Record(BaseModel):
    """Base of every message: frozen, strict, closed, with encode/decode."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Records built in code get the current version; records read from outside must say.
    version: Literal[1] = SCHEMA_VERSION

    @classmethod
    def decode(cls, raw: bytes | str | Mapping[str, Any]) -> Self:
        """Parse `raw` (JSON text or an already-parsed mapping) into a record.

        Raises:
            DecodeError: naming the first field that is missing, of the wrong type or invalid.
        """
        raw_bytes = raw.encode() if isinstance(raw, str) else raw
        failure: ValidationError | None = None
        try:
            record = cls._validate(raw_bytes)
        except ValidationError as error:
            failure = error
        else:
            if _versions_given(record):
                return record
        marked = _versions_marked(cls, raw_bytes)
        if marked is not None:  # a version was left out: the marked input fails where it was
            try:
                cls._validate(marked)
            except ValidationError as error:
                failure = error
        assert failure is not None, "a record that left out its version fails once marked"
        raise _decode_error(cls.__name__, failure, raw_bytes)

    @classmethod
    def _validate(cls, raw: bytes | Mapping[str, Any]) -> Self:
        if isinstance(raw, bytes):
            return cls.model_validate_json(raw)
        return cls.model_validate(raw)

    def encode(self) -> bytes:
        """The record as compact JSON bytes."""
        return self.model_dump_json(exclude_none=True).encode()

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready Python values (what kombu's json serializer is given)."""
        return self.model_dump(mode="json", exclude_none=True)


@functools.cache
def _nested_records(record: type[_Record]) -> dict[str, type[_Record]]:
    """The fields of `record` holding a record (`Job` or `Job | None`), which must state their
    version on the wire too."""
    nested: dict[str, type[_Record]] = {}
    for name, info in record.model_fields.items():
        for kind in (info.annotation, *typing.get_args(info.annotation)):
            if isinstance(kind, type) and issubclass(kind, _Record):
                nested[name] = kind
    return nested


def _versions_given(record: _Record) -> bool:
    """Whether `record`, and every record inside it, stated its `version` when decoded."""
    if "version" not in record.model_fields_set:
        return False
    for name in _nested_records(type(record)):
        inner = getattr(record, name)
        if inner is not None and not _versions_given(inner):
            return False
    return True


def _versions_marked(
    record: type[_Record], raw: bytes | Mapping[str, Any]
) -> bytes | dict[str, Any] | None:
    """`raw` with the version of each record in it that left it out marked absent (null), so that
    validating it names that fault in its place; None when nothing was left out (or `raw` is no
    JSON object)."""
    if isinstance(raw, bytes):
        try:
            data = json.loads(raw)
        except ValueError:
            return None
        marked = _mark(record, data)
        return None if marked is data else json.dumps(marked).encode()
    marked = _mark(record, raw)
    return None if marked is raw else dict(marked)


def _mark(record: type[_Record], data: Any) -> Any:
    if not isinstance(data, Mapping):
        return data
    changes: dict[str, Any] = {} if "version" in data else {"version": None}
    for name, inner in _nested_records(record).items():
        if name in data and (marked := _mark(inner, data[name])) is not data[name]:
            changes[name] = marked
    return {**data, **changes} if changes else data


def _decode_error(
    record: str, error: ValidationError, raw: bytes | Mapping[str, Any]
) -> DecodeError:
    first = error.errors(include_url=False)[0]
    field = ".".join(str(part) for part in first["loc"]) or "(body)"
    if first["type"] == "pod_shape":  # the fault lies deeper than the field
        field = f"{field}.{first['ctx']['where']}"
    raw_text = raw if isinstance(raw, bytes) else b""
    return DecodeError(record=record, field=field, reason=first["msg"], raw=raw_text)


class TaskKey(BaseModel):
    """What identifies a task instance; the try number says which attempt of it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

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


class Job(_Record):
    """A request to run one try of one task as a pod (a contract: its fields are the job format)."""

    dag_id: Identifier
    task_id: Identifier
    run_id: Identifier
    map_index: MapIndex = -1
    try_number: TryNumber
    command: list[StrictStr] = Field(min_length=1)
    namespace: StrictStr | None = None
    image: StrictStr | None = Field(default=None, min_length=1)
    pod_template_file: StrictStr | None = Field(default=None, min_length=1)
    pod_override: dict[StrictStr, Any] | None = None
    priority: StrictInt = 0
    labels: dict[StrictStr, StrictStr] | None = None
    annotations: dict[StrictStr, StrictStr] | None = None

    @property
    def key(self) -> TaskKey:
        return TaskKey(
            dag_id=self.dag_id, task_id=self.task_id, run_id=self.run_id, map_index=self.map_index
        )

    @field_validator("namespace")
    @classmethod
    def _namespace_is_dns_label(cls, value: str | None) -> str | None:
        if value is not None and not syntax.is_dns_label(value):
            raise ValueError(f"{value!r} is not a valid namespace name (DNS-1123 label)")
        return value

    @field_validator("labels")
    @classmethod
    def _labels_are_valid(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for name, label in (value or {}).items():
            if not syntax.is_qualified_name(name):
                raise ValueError(f"{name!r} is not a valid label name")
            if not syntax.is_label_value(label):
                raise ValueError(f"label {name}: {label!r} is not a valid label value")
        return value

    @field_validator("pod_override")
    @classmethod
    def _pod_override_has_a_pods_shape(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            try:
                pod_shapes.check_pod(value)
            except pod_shapes.ShapeError as error:
                context = {"where": error.where, "reason": error.reason}
                raise PydanticCustomError("pod_shape", "{reason}", context) from error
        return value

    @field_validator("annotations")
    @classmethod
    def _annotation_names_are_valid(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for name in value or {}:
            if not syntax.is_qualified_name(name):
                raise ValueError(f"{name!r} is not a valid annotation name")
        return value


class LaunchOutcome(enum.StrEnum):
    CREATED = "created"
    EXISTS = "exists"
    REJECTED = "rejected"
    REVOKED = "revoked"
    """Not the launcher's: the job was withdrawn (`shared.revoking`); its pod, if any, goes."""


class LaunchEvent(_Record):
    """The launcher's word on one job: its pod was created, already existed, or was rejected;
    or a client's word that the job is revoked.

    `job` is absent only when the job itself was malformed; the row is then found by `key`.
    """

    key: TaskKey
    try_number: TryNumber
    namespace: StrictStr
    pod: StrictStr
    outcome: LaunchOutcome
    reason: StrictStr = ""
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


class EventKey(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The task key as a pod event carries it: `TaskKey`'s fields and rules, read by msgspec."""

    dag_id: _WireIdentifier
    task_id: _WireIdentifier
    run_id: _WireIdentifier
    map_index: Annotated[int, msgspec.Meta(ge=-1)] = -1

    def task_key(self) -> TaskKey:
        return TaskKey(
            dag_id=self.dag_id, task_id=self.task_id, run_id=self.run_id, map_index=self.map_index
        )

    def __str__(self) -> str:
        return describe_key(self.dag_id, self.task_id, self.run_id, self.map_index)


class PodEvent(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """A transition of one of our pods, as the watcher observed it (phase, reasons, deletion).

    The one record decoded once per event by every reconciler, so it is a msgspec struct, read
    in a few microseconds where a pydantic model took tens (a third of the reconciler's time).
    The rules are the other records' ones: strict types, no unknown fields, `version` required
    on the wire, and in code too, since a default would be left out when encoding."""

    version: Literal[1]
    key: EventKey
    try_number: Annotated[int, msgspec.Meta(ge=1)]
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

    @classmethod
    def decode(cls, raw: bytes | str) -> PodEvent:
        """Parse JSON `raw` into an event.

        Raises:
            DecodeError: naming the first field that is missing, of the wrong type or invalid.
        """
        try:
            return _POD_EVENT_DECODER.decode(raw)
        except msgspec.DecodeError as error:
            raw_bytes = raw.encode() if isinstance(raw, str) else raw
            field, reason = struct_faults.locate(PodEvent, raw_bytes) or ("(body)", str(error))
            raise DecodeError(
                record="PodEvent", field=field, reason=reason, raw=raw_bytes
            ) from None

    def encode(self) -> bytes:
        """The event as compact JSON bytes (fields at their defaults left out)."""
        return _POD_EVENT_ENCODER.encode(self)

    def to_dict(self) -> dict[str, Any]:
        """The event as JSON-ready Python values."""
        return cast(dict[str, Any], msgspec.to_builtins(self))


_POD_EVENT_DECODER = msgspec.json.Decoder(PodEvent)
_POD_EVENT_ENCODER = msgspec.json.Encoder()
