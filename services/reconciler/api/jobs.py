"""`POST /api/v1/jobs`: a job in, its queued row recorded, the job on its queue.

The body is read raw and decoded by `Job.decode`, the same strict decoder the launcher uses, so the
API accepts exactly what the queue does and a rejection names the field and the reason. A job must
also fit its row: Postgres `integer` columns hold 32 bits and text can hold no NUL character, so
either is refused here as a 422 rather than failing at the insert as a 500. So is a namespace
(the job's, else the default) that is not one of `PODRUNNER_NAMESPACES`: no launcher would take
its job; and a `pod_template_file` that is not a plain name in `PODRUNNER_POD_TEMPLATE_DIR`.
The job's schema is published in OpenAPI from the record itself, with the 32-bit bounds of its
integer columns.

Answers: 201 recorded and published; 202 recorded but not published (the broker failed; the row is
the outbox and the stuck-queued sweep publishes it); 409 when the task already has this try or a
later one, with where it stands; 413 past `MAX_JOB_BYTES`; 422 for anything else wrong with it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import msgspec
import structlog
from fastapi import APIRouter, Request, Response, params
from starlette.concurrency import run_in_threadpool

from services.reconciler.api.schemas import (
    PREFIX,
    ApiError,
    CurrentTry,
    ErrorBody,
    ErrorDetail,
    JobAccepted,
    Responses,
)
from shared import admission, intake
from shared.db.engines import Engine
from shared.db.models import TaskState
from shared.messages import DecodeError, Job
from shared.messaging.connections import MessagingError
from shared.messaging.jobqueue import JobQueue

log = structlog.get_logger()

#: Largest job body accepted, in bytes (a pod override is a few KiB; this is generous).
MAX_JOB_BYTES = 1024 * 1024


class JobEndpoints:
    def __init__(
        self,
        *,
        engine: Engine,
        jobs: JobQueue,
        default_namespace: str,
        served: Collection[str] | None = None,
        template_dir: Path | None = None,
    ) -> None:
        self._engine = engine
        self._template_dir = template_dir
        self._jobs = jobs
        self._default_namespace = default_namespace
        self._served = tuple(served or (default_namespace,))

    def register(
        self,
        router: APIRouter,
        *,
        dependencies: Sequence[params.Depends] = (),
        responses: Responses | None = None,
    ) -> None:
        """Add the route to `router`, behind `dependencies` (what a write needs), which may answer
        `responses` too."""
        router.add_api_route(
            "/jobs",
            self.submit,
            methods=["POST"],
            status_code=201,
            response_model=JobAccepted,
            summary="Submit a job",
            responses={
                202: {"model": JobAccepted, "description": "Recorded; published later"},
                409: {"model": ErrorBody, "description": "The task has this try or a later one"},
                413: {"model": ErrorBody, "description": "The body is too large"},
                422: {"model": ErrorBody, "description": "Not a valid job"},
                **(responses or {}),
            },
            dependencies=list(dependencies),
            openapi_extra={"requestBody": {"required": True, "content": _job_content()}},
        )

    async def submit(self, request: Request, response: Response) -> JobAccepted:
        """Record the job as its task's queued row, then publish it to its namespace's queue."""
        job = decode_job(await read_body(request, limit=MAX_JOB_BYTES))
        namespace = job.namespace or self._default_namespace
        response.headers["Location"] = task_path(job)  # where its row is read, once recorded
        try:
            await run_in_threadpool(
                intake.submit,
                self._engine,
                self._jobs,
                job,
                default_namespace=self._default_namespace,
                served=self._served,
                template_dir=self._template_dir,
            )
        except admission.Refused as refused:
            raise _invalid(refused.field, refused.reason) from refused
        except intake.AlreadySubmitted as refused:
            raise ApiError(409, _conflict(refused)) from refused
        except MessagingError as error:
            log.warning("job recorded, not published", task=str(job.key), error=str(error))
            response.status_code = 202
            return _accepted(job, namespace, published=False)
        return _accepted(job, namespace, published=True)


def decode_job(raw: bytes) -> Job:
    """The job in `raw`, if it is one that its row can hold.

    Raises:
        ApiError: 422 naming the first field at fault.
    """
    try:
        job = Job.decode(raw)
    except DecodeError as error:
        raise _invalid(error.field, error.reason) from error
    try:
        admission.check_fits(job)
    except admission.Unfit as unfit:
        raise _invalid(unfit.field, unfit.reason) from unfit
    return job


async def read_body(request: Request, *, limit: int) -> bytes:
    """The request body, refused with a 413 as soon as it grows past `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            message = f"the body is larger than {limit} bytes"
            detail = ErrorDetail(code="too_large", message=message, field="(body)")
            raise ApiError(413, detail)
        chunks.append(chunk)
    return b"".join(chunks)


def task_path(job: Job) -> str:
    """Where the job's task row is read (`GET`), each key part quoted as one path segment."""
    parts = (job.dag_id, job.task_id, job.run_id, str(job.map_index))
    return f"{PREFIX}/tasks/" + "/".join(quote(part, safe="") for part in parts)


def _accepted(job: Job, namespace: str, *, published: bool) -> JobAccepted:
    message = "recorded and published" if published else "recorded; it will be published later"
    return JobAccepted(
        key=job.key,
        try_number=job.try_number,
        namespace=namespace,
        state=TaskState.QUEUED,
        published=published,
        message=message,
    )


def _conflict(refused: intake.AlreadySubmitted) -> ErrorDetail:
    return ErrorDetail(
        code="already_submitted",
        message=str(refused),
        current=CurrentTry.model_validate(refused.current),
    )


def _invalid(field: str, reason: str) -> ApiError:
    message = f"invalid job: {field}: {reason}"
    return ApiError(
        422, ErrorDetail(code="invalid_job", message=message, field=field, reason=reason)
    )


def _job_content() -> dict[str, Any]:
    """The job's JSON schema for OpenAPI: the record's own, with the bounds its row adds."""
    schema: dict[str, Any] = msgspec.json.schema(Job)["$defs"]["Job"]
    properties = schema["properties"]
    for field in msgspec.structs.fields(Job):  # defaults that are always written out
        if field.default_factory is not msgspec.NODEFAULT:
            properties[field.encode_name]["default"] = field.default_factory()
    for name in admission.INTEGER_FIELDS:
        properties[name]["maximum"] = admission.INT_MAX
    properties["priority"]["minimum"] = admission.INT_MIN
    return {"application/json": {"schema": schema}}
