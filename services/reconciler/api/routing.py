"""The reconciler's HTTP API: submit jobs, list and read task rows, read a task's log, revoke.

The API lives on the reconciler's health app (same port as `/healthz`), as one router under
`/api/v1` built by `make_router` from its dependencies; nothing is global, so tests build as many
as they like. Job intake goes through `intake.submit`, the same path as `podrunner submit`: the row
first (the outbox), then the queue. Rows are read with `rows`, logs through the pod API while the
pod exists and from the row once it is gone.

Every error answer has one JSON shape (`schemas.ErrorBody`), request validation errors included:
`ApiRoute` renders `ApiError` and FastAPI's `RequestValidationError` alike, so a client reads
`error.field` and `error.reason` whatever went wrong, and no request body can cause a 500.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Coroutine
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import SecretStr

from services.reconciler.api import auth
from services.reconciler.api.jobs import JobEndpoints
from services.reconciler.api.revoke import RevokeEndpoints
from services.reconciler.api.schemas import (
    PREFIX,
    ApiError,
    ErrorBody,
    ErrorDetail,
)
from services.reconciler.api.tasks import Pods, TaskEndpoints
from shared import revoking
from shared.db.engines import Engine
from shared.messaging.jobqueue import JobQueue
from shared.settings import ApiAuth


def make_router(
    *,
    engine: Engine,
    jobs: JobQueue,
    pods: Pods,
    default_namespace: str,
    api_token: SecretStr | None,
    api_auth: ApiAuth = ApiAuth.TOKEN,
    log_lines: int = 100,
    served: Collection[str] | None = None,
    template_dir: Path | None = None,
    publish_launches: revoking.Publish | None = None,
) -> APIRouter:
    """The `/api/v1` router: jobs, tasks and logs, behind the bearer token when one is given.

    `services.reconciler.service` wires it into the reconciler's health app from the settings,
    next to the health endpoints (`health.make_health_app(..., routers=[router])`).

    The app then serves `/docs` and `/openapi.json` as well. `log_lines` is how many lines
    `…/logs` returns when the request does not say. `served` are the namespaces jobs may name
    (`PODRUNNER_NAMESPACES`; the default namespace alone when not given); `template_dir`, the
    directory a job's `pod_template_file` names a file of (`PODRUNNER_POD_TEMPLATE_DIR`).
    `publish_launches` appends to the launches stream; with it, `…/revoke` is served.
    Without `api_token`, writes are refused unless `api_auth` is `none` (see `auth`); every
    write needs a JSON body.

    Raises:
        ValueError: `api_token` is set but empty.
    """
    guards = auth.guards(api_auth=api_auth, api_token=api_token)
    router = APIRouter(
        prefix=PREFIX,
        route_class=ApiRoute,
        dependencies=guards.every_route,
        responses=guards.every_route_answers,
    )
    JobEndpoints(
        engine=engine,
        jobs=jobs,
        default_namespace=default_namespace,
        served=served,
        template_dir=template_dir,
    ).register(router, dependencies=guards.writes, responses=guards.write_answers)
    TaskEndpoints(engine=engine, pods=pods, log_lines=log_lines).register(router)
    if publish_launches is not None:
        revocations = RevokeEndpoints(engine=engine, publish=publish_launches)
        revocations.register(router, dependencies=guards.writes, responses=guards.write_answers)
    return router


class ApiRoute(APIRoute):
    """A route answering `ApiError` and request validation errors with an `ErrorBody`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_errors(request: Request) -> Response:
            try:
                return await handle(request)
            except ApiError as error:
                return error_response(error)
            except RequestValidationError as error:
                return error_response(invalid_request(error))

        return handle_errors


def error_response(error: ApiError) -> JSONResponse:
    return JSONResponse(ErrorBody.of(error.detail), status_code=error.status, headers=error.headers)


def invalid_request(error: RequestValidationError) -> ApiError:
    """The first problem FastAPI found with a parameter, as a 422 naming it."""
    first = error.errors()[0]
    where, *path = first["loc"]
    field = ".".join(str(part) for part in path) or str(where)
    reason = str(first["msg"])
    message = f"invalid {where} parameter {field}: {reason}"
    return ApiError(
        422, ErrorDetail(code="invalid_request", message=message, field=field, reason=reason)
    )
