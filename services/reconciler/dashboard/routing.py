"""The dashboard's routes: the page at `/ui/` (and `/` leading there), its files, its data.

The page and its two files (`static/`) are the same for everyone and hold no data, so they are
served without a token (a browser cannot send one when it opens a URL); the script then asks for
the token once, keeps it in the tab's session storage and sends it as `Authorization: Bearer` with
every request for data. The data routes (`/ui/data/*`) stand behind exactly the guards of the
API's routes (`api.auth.guards`), so the page shows nothing to anyone the API would not answer.
The page's Content-Security-Policy allows only its own files and its own origin's data.

The data routes are the page's own and stay out of the OpenAPI description; their answers are
JSON documents shaped for the page, built by `figures`, `listing` and `one_task`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from importlib import resources
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import SecretStr

from services.reconciler.api import auth
from services.reconciler.api.routing import ApiRoute
from services.reconciler.api.schemas import ApiError, ErrorDetail
from services.reconciler.api.tasks import Pods
from services.reconciler.dashboard import one_task
from shared.admission import INT_MAX
from shared.db import figures, listing
from shared.db.engines import Engine
from shared.db.models import TaskState
from shared.db.rows import STORABLE_TEXT
from shared.messages import TaskKey
from shared.messaging.connections import MessagingError
from shared.messaging.jobqueue import JobQueue
from shared.messaging.pod_history import PodHistory
from shared.settings import ApiAuth

#: Files of the page, by the name it asks for them, and their media types.
FILES = {"app.js": "text/javascript", "app.css": "text/css"}
#: Only this origin's files and data, no inline script, no framing.
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)

_Text = Annotated[str | None, Query(min_length=1, max_length=250, pattern=STORABLE_TEXT)]
_Key = Annotated[str, Query(min_length=1, max_length=250, pattern=STORABLE_TEXT)]


@dataclass(frozen=True)
class Sources:
    """Where the dashboard reads what it shows; the reconciler builds these anyway."""

    engine: Engine
    jobs: JobQueue
    pods: Pods
    history: PodHistory
    active_pods: Callable[[str], int]
    dead_letters: Callable[[], int]
    replicas: Callable[[], list[dict[str, Any]]]
    namespaces: Callable[[], list[str]]
    max_active_pods: int
    log_lines: int = 100


def make_router(
    sources: Sources, *, api_token: SecretStr | None, api_auth: ApiAuth = ApiAuth.TOKEN
) -> APIRouter:
    """The page, its files, and its data behind the API's guards."""
    router = APIRouter(route_class=ApiRoute, include_in_schema=False)
    page = (resources.files(__package__) / "static" / "index.html").read_text("utf-8")
    files = {name: (resources.files(__package__) / "static" / name).read_bytes() for name in FILES}

    @router.get("/")
    def root() -> RedirectResponse:
        return RedirectResponse("/ui/", status_code=307)

    @router.get("/ui/")
    def index() -> HTMLResponse:
        return HTMLResponse(page, headers=_headers())

    @router.get("/ui/static/{name}")
    def static(name: str) -> Response:
        if name not in files:
            raise ApiError(404, ErrorDetail(code="not_found", message="no such file"))
        return Response(files[name], media_type=FILES[name], headers=_headers())

    data = APIRouter(
        prefix="/ui/data",
        route_class=ApiRoute,
        dependencies=auth.guards(api_auth=api_auth, api_token=api_token).every_route,
    )
    _DataRoutes(sources).register(data)
    router.include_router(data)
    return router


class _DataRoutes:
    def __init__(self, sources: Sources) -> None:
        self._sources = sources

    def register(self, router: APIRouter) -> None:
        router.add_api_route("/now", self.now)
        router.add_api_route("/flow", self.flow)
        router.add_api_route("/failures", self.failures)
        router.add_api_route("/tasks", self.tasks)
        router.add_api_route("/task", self.task)

    def now(self) -> Response:
        """Counts by namespace and state, slots, queues, dead letters and every replica."""
        s = self._sources
        with s.engine.connect() as connection:
            counts = figures.counts(connection)
        names = sorted(set(s.namespaces()) | set(counts))
        queued = _read(partial(s.jobs.depths, names))
        namespaces = [
            {
                "namespace": name,
                "states": counts.get(name, {}),
                "active_pods": _read(partial(s.active_pods, name)),
                "max_active_pods": s.max_active_pods,
                "queued_jobs": _one_of(queued, name),
            }
            for name in names
        ]
        return _json(
            {
                "namespaces": namespaces,
                "dead_letters": _read(s.dead_letters),
                "replicas": _read(s.replicas),
            }
        )

    def flow(self) -> Response:
        return _json(figures.flow(self._sources.engine))

    def failures(self) -> Response:
        return _json({"reasons": figures.failures(self._sources.engine)})

    def tasks(
        self,
        *,
        dag_id: _Text = None,
        run_id: _Text = None,
        state: Annotated[TaskState | None, Query()] = None,
        namespace: _Text = None,
        reason: _Text = None,
        since: Annotated[datetime | None, Query()] = None,
        until: Annotated[datetime | None, Query()] = None,
        sort: Annotated[str, Query(pattern="^(" + "|".join(listing.SORTABLE) + ")$")] = "queued_at",
        order: Annotated[listing.Order, Query()] = listing.Order.DESC,
        page: Annotated[int, Query(ge=1, le=100_000)] = 1,
        page_size: Annotated[int, Query(ge=1, le=listing.MAX_PAGE_SIZE)] = 50,
    ) -> Response:
        query = listing.Query(
            dag_id=dag_id,
            run_id=run_id,
            state=state,
            namespace=namespace,
            reason=reason,
            since=since,
            until=until,
            sort=sort,
            order=order,
            page=page,
            page_size=page_size,
        )
        found = listing.page(self._sources.engine, query)
        return _json(
            {"rows": found.rows, "total": found.total, "page": page, "page_size": page_size}
        )

    def task(
        self,
        dag_id: _Key,
        task_id: _Key,
        run_id: _Key,
        map_index: Annotated[int, Query(ge=-1, le=INT_MAX)],
    ) -> Response:
        s = self._sources
        key = TaskKey(dag_id, task_id, run_id, map_index)
        shown = one_task.read(s.engine, key, pods=s.pods, history=s.history, log_lines=s.log_lines)
        if shown is None:
            message = f"no task {dag_id}/{task_id}/{run_id}/{map_index}"
            raise ApiError(404, ErrorDetail(code="not_found", message=message))
        return _json(shown)


def _read(source: Callable[[], Any]) -> dict[str, Any]:
    """`{"value": ...}`, or `{"error": ...}` when Redis or the broker could not answer."""
    try:
        return {"value": source()}
    except MessagingError as error:
        return {"error": str(error)}


def _one_of(read: dict[str, Any], key: str) -> dict[str, Any]:
    """One namespace's part of a read covering them all (or the read's error)."""
    return {"value": read["value"][key]} if "value" in read else read


def _json(document: Any) -> Response:
    return Response(orjson.dumps(document), media_type="application/json", headers=_headers())


def _headers() -> dict[str, str]:
    return {
        "Content-Security-Policy": POLICY,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }
