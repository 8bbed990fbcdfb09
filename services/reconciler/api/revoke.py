"""`POST /api/v1/tasks/{dag_id}/{task_id}/{run_id}/{map_index}/revoke`: stop a task's try.

The same operation as the Airflow executor's `revoke_task` (`shared.revoking`): the try fails
with the given reason and its pod is deleted by the reconciler, whatever the deletion policy.
The body names the try (`try_number`; the task's current one when left out) and a `reason`.
Answers 202 once the revocation is on its way; 409 when the try is not live (it ended, was
replaced by a later one, or the task has no such try); 404 when the task has no row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Body, Path, params
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from services.reconciler.api.schemas import (
    ApiError,
    ErrorDetail,
    KeyField,
    Responses,
    error_answer,
)
from shared import revoking
from shared.admission import INT_MAX
from shared.db import rows
from shared.db.engines import Engine
from shared.db.keys import key_values
from shared.db.rows import STORABLE_TEXT
from shared.messages import TaskKey

_Text = Annotated[str, Path(min_length=1, max_length=250, pattern=STORABLE_TEXT)]
_MapIndex = Annotated[int, Path(ge=-1, le=INT_MAX)]
#: The reason when a request gives none.
DEFAULT_REASON = "revoked through the API"


class Revocation(BaseModel):
    """What to revoke: one try of the task (its current one when not given), and why."""

    try_number: int | None = Field(default=None, ge=1, le=INT_MAX)
    reason: str = Field(default=DEFAULT_REASON, min_length=1, max_length=1000)


class RevocationAccepted(BaseModel):
    key: KeyField
    try_number: int
    pod: str
    message: str


class RevokeEndpoints:
    def __init__(self, *, engine: Engine, publish: revoking.Publish) -> None:
        self._engine = engine
        self._publish = publish

    def register(
        self,
        router: APIRouter,
        *,
        dependencies: Sequence[params.Depends] = (),
        responses: Responses | None = None,
    ) -> None:
        router.add_api_route(
            "/tasks/{dag_id}/{task_id}/{run_id}/{map_index}/revoke",
            self.revoke,
            methods=["POST"],
            status_code=202,
            summary="Revoke a task's try: it fails and its pod is deleted",
            responses={
                404: error_answer("No such task"),
                409: error_answer("The try is not live"),
                **(responses or {}),
            },
            dependencies=list(dependencies),
        )

    async def revoke(
        self,
        dag_id: _Text,
        task_id: _Text,
        run_id: _Text,
        map_index: _MapIndex,
        revocation: Annotated[Revocation, Body()],
    ) -> RevocationAccepted:
        """Fail the try with `reason` and delete its pod (by the reconciler)."""
        key = TaskKey(dag_id, task_id, run_id, map_index)
        return await run_in_threadpool(self._revoke, key, revocation)

    def _revoke(self, key: TaskKey, revocation: Revocation) -> RevocationAccepted:
        row = rows.one(self._engine, key)
        if row is None:
            message = f"no task {'/'.join(map(str, key_values(key)))}"
            raise ApiError(404, ErrorDetail(code="not_found", message=message))
        try_number = revocation.try_number or row["try_number"]
        done = revoking.revoke(
            self._engine, self._publish, [(key, try_number)], reason=revocation.reason
        )
        if not done:
            message = f"try {try_number} is not live (the task is at try {row['try_number']}, "
            message += f"{row['state']})"
            raise ApiError(409, ErrorDetail(code="not_live", message=message))
        return RevocationAccepted(
            key=key, try_number=try_number, pod=done[0].pod, message="revoking"
        )
