"""kubesim's HTTP surface: the core/v1 pod API, discovery, and the `/kubesim` admin hooks.

One ASGI app (Starlette) dispatches by path. Every pod request passes, in order: authentication
(when tokens are configured), authorisation (a restricted token gets the RBAC 403), injected
latency and faults, then the handler, which negotiates the answer's representation from `Accept`
(`negotiation`, `representing`). Handlers raise `ApiError` and the dispatcher answers with its
Status (or the plain-text 429), in YAML when that is what was negotiated; nothing a client sends
can produce an unhandled 500.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from services.kubesim import (
    admin,
    configs,
    createwarnings,
    deleting,
    listing,
    namespaces,
    negotiation,
    podlogs,
    pods,
    representing,
    statuses,
)
from services.kubesim.faults import Faults
from services.kubesim.logs import LogStore
from services.kubesim.pods import Cluster
from services.kubesim.statuses import ApiError
from services.kubesim.store import Stored
from services.kubesim.watching import Watch, WatchOptions

JSON = "application/json"
log = structlog.get_logger()
VERSION = {
    "major": "1",
    "minor": "34",
    "gitVersion": "v1.34.0-kubesim",
    "gitCommit": "kubesim",
    "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z",
    "goVersion": "go1.24",
    "compiler": "gc",
    "platform": "linux/amd64",
}
#: What kubesim serves of Secrets and ConfigMaps (a real server also updates, patches, watches).
_CONFIG_VERBS = ["create", "delete", "get", "list"]
_POD_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


@dataclass
class Simulator:
    """Everything the API serves: the cluster, logs, faults, auth and the open watches."""

    cluster: Cluster
    logs: LogStore = field(default_factory=LogStore)
    faults: Faults = field(default_factory=Faults)
    tokens: dict[str, bool] = field(default_factory=dict)
    require_token: bool = False
    bookmark_interval_s: float = 60.0
    watches: set[Watch] = field(default_factory=set)
    kubelet_paused: bool = False
    on_write: Callable[[], None] = lambda: None


Handler = Callable[[Request, Simulator, dict[str, str]], Awaitable[Response]]


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    return Response(content, status_code=status, media_type=JSON, headers=headers)


def error_response(
    error: ApiError, encoding: negotiation.Encoding = negotiation.Encoding.JSON
) -> Response:
    if error.plain_text:
        return Response(
            error.message,
            status_code=error.code,
            media_type="text/plain; charset=utf-8",
            headers=error.response_headers(),
        )
    response = representing.encode(error.status(), encoding, error.code)
    response.headers.update(error.response_headers())
    return response


def make_app(sim: Simulator) -> Starlette:
    async def dispatch(request: Request) -> Response:
        try:
            return await _route(request, sim)
        except ApiError as error:
            accept = request.headers.get("accept")
            return error_response(error, negotiation.error_encoding(accept))
        except Exception as error:  # the API server's own last resort: a logged 500 Status
            log.exception("kubesim_internal_error", path=request.url.path)
            return error_response(statuses.internal_error(f"{type(error).__name__}: {error}"))

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    app = Starlette(routes=[Route("/{path:path}", dispatch, methods=methods)])
    app.state.simulator = sim
    return app


async def _route(request: Request, sim: Simulator) -> Response:
    parts = [p for p in request.url.path.split("/") if p]
    if parts[:1] == ["kubesim"]:
        return await admin.handle(request, sim, parts[1:])
    _authenticate(request, sim)
    if parts in (["version"], ["api"], ["api", "v1"], ["apis"], ["healthz"], ["readyz"], ["livez"]):
        return _discovery(parts)
    if parts[:2] != ["api", "v1"]:
        raise statuses.unknown_path()
    rest = parts[2:]
    if rest[:1] == ["watch"]:
        request.scope["query_string"] += b"&watch=1"
        rest = rest[1:]
    return await _core(request, sim, rest)


async def _core(request: Request, sim: Simulator, rest: list[str]) -> Response:
    if rest == ["pods"]:
        return await _pod_collection(request, sim, None)
    if rest[:1] == ["namespaces"]:
        return await _namespaced(request, sim, rest[1:])
    raise statuses.unknown_path()


async def _namespaced(request: Request, sim: Simulator, rest: list[str]) -> Response:
    if not rest:
        if request.method == "POST":
            created = namespaces.create(sim.cluster, await _body(request))
            return json_response(created, 201)
        negotiated = negotiation.negotiate(request.headers.get("accept"))
        return _negotiated(sim, namespaces.listed(sim.cluster), negotiated, _query(request))
    namespace = rest[0]
    if len(rest) == 1:
        negotiated = negotiation.negotiate(request.headers.get("accept"))
        return _negotiated(sim, namespaces.get(sim.cluster, namespace), negotiated, _query(request))
    if rest[1] in configs.KINDS:
        verb, name = configs.verb_of(request.method, rest[2:])
        await _guard(request, sim, verb, namespace, name)
        body = await _body(request) if verb == "create" else None
        answer, code = configs.serve(
            sim.cluster, verb, namespace=namespace, resource=rest[1], name=name, body=body
        )
        return json_response(answer, code)
    if rest[1] != "pods":
        raise statuses.unknown_path()
    if len(rest) == 2:
        return await _pod_collection(request, sim, namespace)
    name = rest[2]
    sub = rest[3] if len(rest) == 4 else None
    if len(rest) > 4 or sub not in (None, "status", "log", "binding"):
        raise statuses.unknown_path()
    return await _pod(request, sim, namespace, name, sub)


def _query(request: Request) -> dict[str, str]:
    return dict(request.query_params)


def _is_watch(query: dict[str, str]) -> bool:
    return "watch" in query and query["watch"].lower() not in ("0", "false")


async def _body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        message = f"couldn't get version/kind; json parse error: {error}"
        raise statuses.bad_request(message) from error


async def _guard(
    request: Request, sim: Simulator, verb: str, namespace: str, name: str = ""
) -> None:
    """Authorisation, latency and faults for one pod request."""
    token = _token(request)
    if token is not None and sim.tokens.get(token):
        user = "system:serviceaccount:default:restricted"
        rbac_verb = "list" if verb == "watch" else verb
        raise statuses.forbidden_rbac(
            user=user, verb=rbac_verb, namespace=namespace, name=name or None
        )
    delay = sim.faults.delay_s(verb)
    if delay:
        await asyncio.sleep(delay)
    error = sim.faults.pick(verb, name)
    if error is not None:
        sim.faults.record(verb, error.code)
        raise error
    sim.faults.record(verb, 0)


async def _pod_collection(request: Request, sim: Simulator, namespace: str | None) -> Response:
    query = _query(request)
    if request.method == "GET":
        verb = "watch" if _is_watch(query) else "list"
        await _guard(request, sim, verb, namespace or "")
        # a watch is negotiated as a list first, then (its options parsed) for a stream
        negotiated = negotiation.negotiate(request.headers.get("accept"))
        parsed = listing.ListRequest.parse(namespace, query)
        if verb == "watch":
            streamed = negotiation.negotiate_stream(request.headers.get("accept"))
            return _watch(sim, parsed, query, streamed)
        return _negotiated(
            sim, listing.list_pods(sim.cluster.store, parsed, query), negotiated, query
        )
    if namespace is None:
        raise statuses.method_not_allowed(request.method)
    if request.method == "POST":
        body = await _body(request)
        await _guard(request, sim, "create", namespace, _name_in(body))
        warnings = createwarnings.unknown_fields(body, query)
        created = pods.create(sim.cluster, namespace, body, dry_run=query.get("dryRun") == "All")
        sim.on_write()
        await _slow_answer(sim, "create")
        warnings += createwarnings.for_name(created.name)
        return json_response(created.full(), 201, createwarnings.header(warnings))
    if request.method == "DELETE":
        await _guard(request, sim, "delete", namespace)
        return await _delete_collection(request, sim, namespace, query)
    raise statuses.method_not_allowed(request.method)


async def _slow_answer(sim: Simulator, verb: str) -> None:
    """Latency after the work is done: the write happened, its answer is late."""
    delay = sim.faults.delay_s(verb, after=True)
    if delay:
        await asyncio.sleep(delay)


def _name_in(body: Any) -> str:
    metadata = body.get("metadata") if isinstance(body, dict) else None
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return name if isinstance(name, str) else ""


def _negotiated(
    sim: Simulator, body: bytes, negotiated: negotiation.Negotiated, query: dict[str, str]
) -> Response:
    now = sim.cluster.wall_clock()
    return representing.respond(
        body, negotiated, now=now, include_object=query.get("includeObject")
    )


async def _pod(
    request: Request, sim: Simulator, namespace: str, name: str, sub: str | None
) -> Response:
    method = request.method
    if sub == "log" and method == "GET":
        await _guard(request, sim, "get", namespace, name)
        # negotiated like any get, although the answer is plain text: `text/plain` alone is a 406
        negotiation.negotiate(request.headers.get("accept"))
        return await podlogs.serve(request, sim.cluster, sim.logs, namespace, name)
    if sub == "binding" and method == "POST":
        await _guard(request, sim, "create", namespace, name)
        body = await _body(request) or {}
        node = str(((body.get("target") or {}) if isinstance(body, dict) else {}).get("name") or "")
        pods.bind(sim.cluster, namespace, name, node)
        sim.on_write()
        return json_response(
            {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Success",
                "code": 201,
            },
            201,
        )
    verb = {"GET": "get", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}.get(method)
    if verb is None or (sub == "status" and method == "DELETE") or sub in ("log", "binding"):
        raise statuses.method_not_allowed(method)
    await _guard(request, sim, verb, namespace, name)
    if verb == "get":
        negotiated = negotiation.negotiate(request.headers.get("accept"))
        stored = sim.cluster.require(namespace, name)
        return _negotiated(sim, stored.full(), negotiated, _query(request))
    result = await _pod_verb(request, sim, namespace, name, verb, status=sub == "status")
    if verb != "get":
        sim.on_write()
    await _slow_answer(sim, verb)
    return json_response(result.full())


async def _pod_verb(
    request: Request, sim: Simulator, namespace: str, name: str, verb: str, *, status: bool
) -> Stored:
    cluster = sim.cluster
    if verb == "get":
        return cluster.require(namespace, name)
    body = await _body(request)
    if verb == "update":
        if status:
            return pods.replace_status(cluster, namespace, name, body)
        return pods.replace(cluster, namespace, name, body)
    if verb == "patch":
        content_type = request.headers.get("content-type", "").split(";")[0].strip()
        return pods.patch(cluster, namespace, name, body, content_type=content_type, status=status)
    options = deleting.DeleteOptions.parse(body, _query(request))
    return deleting.delete(cluster, namespace, name, options)


async def _delete_collection(
    request: Request, sim: Simulator, namespace: str, query: dict[str, str]
) -> Response:
    parsed = listing.ListRequest.parse(namespace, query)
    options = deleting.DeleteOptions.parse(await _body(request), query)
    targets = [
        s
        for s in sim.cluster.store.keys_from((namespace, ""))
        if s.namespace == namespace and parsed.selects(s)
    ]
    deleted = [deleting.delete(sim.cluster, namespace, s.name, options) for s in targets]
    sim.on_write()
    meta = orjson.dumps({"resourceVersion": str(sim.cluster.store.rv)})
    body = (
        b'{"kind":"PodList","apiVersion":"v1","metadata":'
        + meta
        + b',"items":['
        + b",".join(d.data for d in deleted)
        + b"]}"
    )
    return json_response(body)


def _watch(
    sim: Simulator,
    request: listing.ListRequest,
    query: dict[str, str],
    negotiated: negotiation.Negotiated,
) -> Response:
    timeout = query.get("timeoutSeconds")
    options = WatchOptions(
        namespace=request.namespace,
        labels=request.labels,
        fields=request.fields,
        bookmarks=listing._flag(query.get("allowWatchBookmarks")) is True,
        timeout_s=float(timeout) if timeout and timeout.isdigit() and int(timeout) > 0 else None,
        bookmark_interval_s=sim.bookmark_interval_s,
        transform=representing.event_transform(negotiated),
    )
    watch, first = listing.open_watch(sim.cluster.store, request, options, query)
    sim.watches.add(watch)

    async def stream() -> AsyncIterator[bytes]:
        try:
            async for line in watch.lines(first):
                yield line
        finally:
            sim.watches.discard(watch)

    return StreamingResponse(stream(), media_type=JSON)


def _discovery(parts: list[str]) -> Response:
    if parts == ["version"]:
        return json_response(VERSION)
    if parts == ["api"]:
        return json_response(
            {
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [
                    {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}
                ],
            }
        )
    if parts == ["apis"]:
        return json_response({"kind": "APIGroupList", "apiVersion": "v1", "groups": []})
    if parts in (["healthz"], ["readyz"], ["livez"]):
        return Response(b"ok", media_type="text/plain")
    resources = [
        {
            "name": "namespaces",
            "singularName": "namespace",
            "namespaced": False,
            "kind": "Namespace",
            "verbs": ["get", "list"],
            "shortNames": ["ns"],
        },
        {
            "name": "configmaps",
            "singularName": "configmap",
            "namespaced": True,
            "kind": "ConfigMap",
            "verbs": _CONFIG_VERBS,
            "shortNames": ["cm"],
        },
        {
            "name": "pods",
            "singularName": "pod",
            "namespaced": True,
            "kind": "Pod",
            "verbs": _POD_VERBS,
            "shortNames": ["po"],
            "categories": ["all"],
        },
        {
            "name": "pods/binding",
            "singularName": "",
            "namespaced": True,
            "kind": "Binding",
            "verbs": ["create"],
        },
        {
            "name": "pods/log",
            "singularName": "",
            "namespaced": True,
            "kind": "Pod",
            "verbs": ["get"],
        },
        {
            "name": "pods/status",
            "singularName": "",
            "namespaced": True,
            "kind": "Pod",
            "verbs": ["get", "patch", "update"],
        },
    ]
    resources.append(
        {
            "name": "secrets",
            "singularName": "secret",
            "namespaced": True,
            "kind": "Secret",
            "verbs": _CONFIG_VERBS,
        }
    )
    return json_response({"kind": "APIResourceList", "groupVersion": "v1", "resources": resources})


def _token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    return header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else None


def _authenticate(request: Request, sim: Simulator) -> None:
    if sim.require_token and _token(request) not in sim.tokens:
        raise statuses.unauthorized()
