"""The records the services exchange: jobs, launch events and pod events.

Each record is frozen, typed and carries a schema `version`, so the three services can be upgraded
one at a time: a reader refuses a version it does not know instead of guessing. Records travel as
JSON (jobs through kombu, events as the `event` field of a Redis stream entry) so programs outside
podrunner can produce jobs and subscribe to events.

Decoding is strict: no coercion of `"1"` to `1`, no unknown fields. Anything malformed raises one
`DecodeError` that names the offending field, which callers turn into a one-line rejection reason.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from shared.k8s import syntax

SCHEMA_VERSION: Literal[1] = 1

_ID_MAX = 250

Identifier = Annotated[str, Field(min_length=1, max_length=_ID_MAX)]


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

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    version: Literal[1] = SCHEMA_VERSION

    @classmethod
    def decode(cls, raw: bytes | str | Mapping[str, Any]) -> Self:
        """Parse `raw` (JSON text or an already-parsed mapping) into a record.

        Raises:
            DecodeError: naming the first field that is missing, of the wrong type or invalid.
        """
        record = cls.__name__
        raw_bytes = raw.encode() if isinstance(raw, str) else raw
        try:
            if isinstance(raw_bytes, bytes):
                return cls.model_validate_json(raw_bytes)
            return cls.model_validate(raw_bytes)
        except ValidationError as error:
            first = error.errors(include_url=False)[0]
            field = ".".join(str(part) for part in first["loc"]) or "(body)"
            raw_text = raw_bytes if isinstance(raw_bytes, bytes) else b""
            raise DecodeError(
                record=record, field=field, reason=first["msg"], raw=raw_text
            ) from error

    def encode(self) -> bytes:
        """The record as compact JSON bytes."""
        return self.model_dump_json(exclude_none=True).encode()

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready Python values (what kombu's json serializer is given)."""
        return self.model_dump(mode="json", exclude_none=True)


class TaskKey(BaseModel):
    """What identifies a task instance; the try number says which attempt of it."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    dag_id: Identifier
    task_id: Identifier
    run_id: Identifier
    map_index: int = Field(default=-1, ge=-1)

    def __str__(self) -> str:
        suffix = "" if self.map_index < 0 else f"[{self.map_index}]"
        return f"{self.dag_id}.{self.task_id}.{self.run_id}{suffix}"


class Job(_Record):
    """A request to run one try of one task as a pod (the brief's §5; a contract)."""

    dag_id: Identifier
    task_id: Identifier
    run_id: Identifier
    map_index: int = Field(default=-1, ge=-1)
    try_number: int = Field(ge=1)
    command: list[Annotated[str, Field(max_length=1_000_000)]] = Field(min_length=1)
    namespace: str | None = None
    image: str | None = Field(default=None, min_length=1)
    pod_template_file: str | None = Field(default=None, min_length=1)
    pod_override: dict[str, Any] | None = None
    priority: int = 0
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None

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


class LaunchEvent(_Record):
    """The launcher's word on one job: its pod was created, already existed, or was rejected.

    `job` is absent only when the job itself was malformed; the row is then found by `key`.
    """

    key: TaskKey
    try_number: int = Field(ge=1)
    namespace: str
    pod: str
    outcome: LaunchOutcome
    reason: str = ""
    job: Job | None = None
    at: datetime


class PodPhase(enum.StrEnum):
    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    UNKNOWN = "Unknown"


class EventSource(enum.StrEnum):
    """Where the watcher saw a pod: on the watch stream or while re-listing after a gap."""

    WATCH = "watch"
    RELIST = "relist"


class PodEvent(_Record):
    """A transition of one of our pods, as the watcher observed it (phase, reasons, deletion)."""

    key: TaskKey
    try_number: int = Field(ge=1)
    namespace: str
    pod: str
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

