"""The HTTP API's wire shapes: what it answers, and the one error it raises to answer badly.

Responses are pydantic models so `/openapi.json` describes them exactly and clients can generate
code from it. Every error of the API has one shape, `{"error": {"code", "message", ...}}`: `field`
and `reason` say what was wrong with a request, `current` says where a task already stands when a
job repeats a try. Handlers raise `ApiError`; the API's route class renders it (see `routing`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from pydantic import BaseModel, PlainSerializer, PlainValidator, WithJsonSchema

from shared.db.models import TaskState
from shared.messages import TaskKey

#: Where the API's routes live; the version changes only with a breaking change.
PREFIX = "/api/v1"

#: Extra answers of a route, by status, as FastAPI's `responses=` takes them.
Responses = dict[int | str, dict[str, Any]]


def _as_key(value: Any) -> TaskKey:
    return value if isinstance(value, TaskKey) else msgspec.convert(value, TaskKey, strict=True)


#: The task key in an answer: the record itself, described in OpenAPI by its own JSON schema.
KeyField = Annotated[
    TaskKey,
    PlainValidator(_as_key),
    PlainSerializer(msgspec.to_builtins, return_type=dict[str, Any]),
    WithJsonSchema(msgspec.json.schema(TaskKey)["$defs"]["TaskKey"]),
]


class CurrentTry(BaseModel):
    """Where a task stands: the answer to a job that repeats (or predates) its latest try."""

    try_number: int
    state: TaskState
    pod_name: str | None
    failure_reason: str | None


class ErrorDetail(BaseModel):
    code: str
    """Stable, machine-readable name of the error (e.g. `invalid_job`, `already_submitted`)."""
    message: str
    """One line for people."""
    field: str | None = None
    """The request field at fault (`(body)` when the body as a whole is)."""
    reason: str | None = None
    """What is wrong with `field`."""
    current: CurrentTry | None = None
    """The task's current try, when a job was refused as a repeat."""


class ErrorBody(BaseModel):
    error: ErrorDetail

    @classmethod
    def of(cls, detail: ErrorDetail) -> dict[str, Any]:
        """The body as JSON values; `detail`'s optional parts appear only when set."""
        unset = {name for name in ("field", "reason", "current") if getattr(detail, name) is None}
        return {"error": detail.model_dump(mode="json", exclude=unset)}


def error_answer(description: str) -> dict[str, Any]:
    """An error response for a route's `responses=`, as JSON even where the route answers text.

    (FastAPI documents a `model` response in the route's own media type, which for the log route
    is text.) The reference resolves because the JSON routes declare `ErrorBody` as a model.
    """
    schema = {"$ref": "#/components/schemas/ErrorBody"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


class ApiError(Exception):
    """An error answer: `status` with `detail` as its body, and `headers` if any."""

    def __init__(
        self, status: int, detail: ErrorDetail, *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail.message)
        self.status = status
        self.detail = detail
        self.headers = headers or {}


class JobAccepted(BaseModel):
    """A job recorded as its task's queued row; `published` says whether it is on its queue yet."""

    key: KeyField
    try_number: int
    namespace: str
    state: TaskState
    published: bool
    message: str


class TaskSummary(BaseModel):
    """A task row as listed: every column but the stored job and log tail."""

    dag_id: str
    task_id: str
    run_id: str
    map_index: int
    try_number: int
    state: TaskState
    namespace: str
    pod_name: str | None
    priority: int
    queued_at: datetime
    launched_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    updated_at: datetime
    pod_phase: str | None
    exit_code: int | None
    failure_reason: str | None
    relaunch_count: int


class TaskDetail(TaskSummary):
    """One task row in full, with the job that created it and the log tail kept after a failure."""

    pod_uid: str | None
    resource_version: str | None
    republish_count: int
    job: dict[str, Any]
    log_tail: str | None


class TaskPage(BaseModel):
    """One page of tasks in key order; pass `next_cursor` as `cursor` for the next (null: done)."""

    items: list[TaskSummary]
    next_cursor: str | None
