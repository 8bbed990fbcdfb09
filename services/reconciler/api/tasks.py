"""`GET /api/v1/tasks…`: task rows, filtered and paged, one row in full, and a task's log.

Rows come from `rows` (keyset pages in primary-key order). A task's log is read live from its pod
while the pod exists, since it is the freshest and the only one a running task has, and from the
row's stored `log_tail` once the pod is gone (the reconciler keeps a failed pod's tail there). The
`X-Podrunner-Log-Source` header says which (`pod` or `stored`); when the pod could not be asked,
the stored tail is served and `X-Podrunner-Log-Pod-Error` names the kind of failure.

Parameters are constrained to what the table can hold (text without NUL, 32-bit map indexes), so
FastAPI refuses the rest with a 422 before any query runs.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Path, Query
from fastapi.responses import PlainTextResponse

from services.reconciler.api.schemas import (
    ApiError,
    ErrorDetail,
    Responses,
    TaskDetail,
    TaskPage,
    TaskSummary,
    error_answer,
)
from shared.admission import INT_MAX
from shared.db import rows
from shared.db.engines import Engine
from shared.db.models import TaskState
from shared.db.rows import STORABLE_TEXT, TaskFilter
from shared.k8s import errors
from shared.messages import TaskKey

#: Page sizes of `GET /tasks`.
DEFAULT_PAGE, MAX_PAGE = 100, 1000
#: Most log lines one request may ask for.
MAX_LOG_LINES = 10_000
SOURCE_HEADER = "X-Podrunner-Log-Source"
POD_ERROR_HEADER = "X-Podrunner-Log-Pod-Error"

_Text = Annotated[str, Path(min_length=1, max_length=250, pattern=STORABLE_TEXT)]
_MapIndex = Annotated[int, Path(ge=-1, le=INT_MAX)]
_Filter = Annotated[str | None, Query(min_length=1, max_length=250, pattern=STORABLE_TEXT)]
_TASK = "/tasks/{dag_id}/{task_id}/{run_id}/{map_index}"
_NOT_FOUND: Responses = {404: error_answer("No such task")}


class Pods(Protocol):
    """What the log endpoint needs of the pod API (`shared.k8s.pods.PodApi` provides it)."""

    def get(self, namespace: str, name: str) -> dict[str, Any]: ...

    def log_tail(
        self, namespace: str, name: str, *, lines: int, container: str = "base"
    ) -> str: ...


class LogSource(enum.StrEnum):
    POD = "pod"
    STORED = "stored"


@dataclass(frozen=True)
class TaskLog:
    text: str
    source: LogSource
    pod_error: str | None = None

    def headers(self) -> dict[str, str]:
        headers = {SOURCE_HEADER: self.source.value}
        if self.pod_error is not None:
            headers[POD_ERROR_HEADER] = self.pod_error
        return headers


class TaskEndpoints:
    def __init__(self, *, engine: Engine, pods: Pods, log_lines: int) -> None:
        self._engine = engine
        self._pods = pods
        self._log_lines = log_lines

    def register(self, router: APIRouter) -> None:
        invalid: Responses = {422: error_answer("Invalid parameters")}
        router.add_api_route("/tasks", self.list_tasks, summary="List tasks", responses=invalid)
        router.add_api_route(
            _TASK, self.get_task, summary="One task", responses={**invalid, **_NOT_FOUND}
        )
        router.add_api_route(
            f"{_TASK}/logs",
            self.get_log,
            summary="A task's log",
            response_class=PlainTextResponse,
            responses={**invalid, **_NOT_FOUND, 200: _LOG_RESPONSE},
        )
        # last, so it answers only paths no route above matched: a key part holding `/`
        router.add_api_route(
            "/tasks/{rest:path}", no_such_path, methods=["GET"], include_in_schema=False
        )

    def list_tasks(
        self,
        dag_id: _Filter = None,
        run_id: _Filter = None,
        state: Annotated[TaskState | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
        cursor: Annotated[str | None, Query(max_length=2048)] = None,
    ) -> TaskPage:
        """Tasks in key order, `limit` at a time; pass `next_cursor` back as `cursor`."""
        where = TaskFilter(dag_id=dag_id, run_id=run_id, state=state)
        try:
            page = rows.page(self._engine, where=where, limit=limit, cursor=cursor)
        except rows.InvalidCursor as error:
            detail = ErrorDetail(
                code="invalid_request", message=str(error), field="cursor", reason=str(error)
            )
            raise ApiError(422, detail) from error
        items = [TaskSummary.model_validate(row) for row in page.rows]
        return TaskPage(items=items, next_cursor=page.next_cursor)

    def get_task(
        self, dag_id: _Text, task_id: _Text, run_id: _Text, map_index: _MapIndex
    ) -> TaskDetail:
        """The task's row in full, with the job that created it."""
        return TaskDetail.model_validate(self._row(dag_id, task_id, run_id, map_index))

    def get_log(
        self,
        dag_id: _Text,
        task_id: _Text,
        run_id: _Text,
        map_index: _MapIndex,
        lines: Annotated[int | None, Query(ge=1, le=MAX_LOG_LINES)] = None,
    ) -> PlainTextResponse:
        """The last `lines` lines of the task's log: from its pod, or stored once it is gone."""
        row = self._row(dag_id, task_id, run_id, map_index)
        log = read_log(self._pods, row, lines or self._log_lines)
        return PlainTextResponse(log.text, headers=log.headers())

    def _row(self, dag_id: str, task_id: str, run_id: str, map_index: int) -> dict[str, Any]:
        row = rows.one(self._engine, TaskKey(dag_id, task_id, run_id, map_index))
        if row is None:
            message = f"no task {dag_id}/{task_id}/{run_id}/{map_index}"
            raise ApiError(404, ErrorDetail(code="not_found", message=message))
        return row


def read_log(pods: Pods, row: dict[str, Any], lines: int) -> TaskLog:
    """The last `lines` lines of the log of the task in `row`: live from its pod while the pod
    exists, else the tail stored in the row (also when the pod could not be asked, saying why)."""
    stored = TaskLog(_last_lines(row["log_tail"] or "", lines), LogSource.STORED)
    namespace, pod = row["namespace"], row["pod_name"]
    if pod is None:
        return stored
    try:
        pods.get(namespace, pod)
        return TaskLog(pods.log_tail(namespace, pod, lines=lines), LogSource.POD)
    except errors.NotFound:
        return stored
    except errors.KubeError as error:
        return TaskLog(stored.text, stored.source, pod_error=type(error).__name__)


def no_such_path(rest: str) -> None:  # noqa: ARG001 - the part matched, never echoed
    """The declared 404 for a task path of the wrong shape (a key part holding `/`, say)."""
    message = (
        "no task at this path: a task is /tasks/{dag_id}/{task_id}/{run_id}/{map_index}, and a "
        "key part holding '/' cannot be read by path (list with ?dag_id= and ?run_id= instead)"
    )
    raise ApiError(404, ErrorDetail(code="not_found", message=message))


def _last_lines(text: str, count: int) -> str:
    return "".join(text.splitlines(keepends=True)[-count:])


_LOG_RESPONSE: dict[str, Any] = {
    "description": "The log's last lines",
    "content": {"text/plain": {"schema": {"type": "string"}}},
    "headers": {
        SOURCE_HEADER: {
            "description": "`pod` (read live) or `stored` (kept in the row)",
            "schema": {"type": "string", "enum": [source.value for source in LogSource]},
        },
        POD_ERROR_HEADER: {
            "description": "Why the pod's log could not be read, when it could not",
            "schema": {"type": "string"},
        },
    },
}
