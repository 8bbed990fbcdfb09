"""The `/kubesim/*` admin endpoints: faults, latency, watch drops, compaction, kubelet, quota, auth.

These are kubesim's own test hooks, not part of the Kubernetes API, and the README documents each
with its body. They change the simulator at run time so tests can provoke every failure mode of a
real cluster deterministically.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from services.kubesim import statuses
from services.kubesim.statuses import ApiError
from services.kubesim.watching import Ending

if TYPE_CHECKING:
    from services.kubesim.api import Simulator


async def handle(request: Request, sim: Simulator, parts: list[str]) -> Response:
    """Dispatch one admin request (`parts` is the path below /kubesim)."""
    body = await _body(request)
    route = (request.method, "/".join(parts))
    handler = _ROUTES.get(route)
    if handler is None:
        if route[0] in ("PUT", "DELETE") and route[1].startswith("quota/"):
            return _quota(sim, route[0], route[1].removeprefix("quota/"), body)
        raise statuses.unknown_path()
    try:
        return _json(handler(sim, body))
    except (ValueError, TypeError, KeyError) as error:
        raise ApiError(400, "BadRequest", f"kubesim admin: {error}") from error


def _add_fault(sim: Simulator, body: dict[str, Any]) -> dict[str, Any]:
    rule = sim.faults.add(
        verb=str(body.get("verb", "*")),
        error=str(body["error"]),
        count=int(body["count"]) if "count" in body else None,
        rate=float(body["rate"]) if "rate" in body else None,
        retry_after_s=int(body.get("retry_after", 1)),
    )
    return {"id": rule.id}


def _clear_faults(sim: Simulator, _body: dict[str, Any]) -> dict[str, Any]:
    sim.faults.clear()
    return {"cleared": True}


def _latency(sim: Simulator, body: dict[str, Any]) -> dict[str, Any]:
    table = sim.faults.after_ms if body.get("after") else sim.faults.latency_ms
    table[str(body.get("verb", "*"))] = float(body["ms"])
    return {"latency_ms": sim.faults.latency_ms, "after_ms": sim.faults.after_ms}


def _requests(sim: Simulator, _body: dict[str, Any]) -> dict[str, Any]:
    """Recent requests (clock seconds, verb, status): what tests check pacing with."""
    return {"now": time.monotonic(), "requests": list(sim.faults.requests)}


def _drop(sim: Simulator, body: dict[str, Any]) -> dict[str, Any]:
    """End every open watch: cleanly (with the final chunk) or by cutting the connection."""
    how = Ending.CLOSE if body.get("final_chunk", True) else Ending.DROP
    for watch in list(sim.watches):
        watch.end(how)
    return {"dropped": len(sim.watches)}


def _expire(sim: Simulator, _body: dict[str, Any]) -> dict[str, Any]:
    """Send ERROR 410 Expired on every open watch, which then closes."""
    current = sim.cluster.store.rv
    for watch in list(sim.watches):
        watch.end(statuses.expired(f"too old resource version: {watch.sent_rv} ({current})"))
    return {"expired": len(sim.watches)}


def _compact(sim: Simulator, _body: dict[str, Any]) -> dict[str, Any]:
    sim.cluster.store.compact()
    return {"compacted_to": sim.cluster.store.rv}


def _advance(sim: Simulator, body: dict[str, Any]) -> dict[str, Any]:
    sim.cluster.store.advance(int(body.get("count", 1)))
    return {"resource_version": sim.cluster.store.rv}


def _pause(sim: Simulator, _body: dict[str, Any]) -> dict[str, Any]:
    sim.kubelet_paused = True
    return {"kubelet": "paused"}


def _resume(sim: Simulator, _body: dict[str, Any]) -> dict[str, Any]:
    sim.kubelet_paused = False
    sim.on_write()
    return {"kubelet": "running"}


def _token(sim: Simulator, body: dict[str, Any]) -> dict[str, Any]:
    sim.tokens[str(body["token"])] = bool(body.get("restricted", False))
    return {"tokens": len(sim.tokens)}


def _bookmarks(sim: Simulator, body: dict[str, Any]) -> dict[str, Any]:
    interval = float(body["interval_s"])
    if interval <= 0:
        raise ValueError("interval_s must be positive")
    sim.bookmark_interval_s = interval
    return {"interval_s": interval}


def _stats(sim: Simulator, _body: dict[str, Any]) -> dict[str, Any]:
    store = sim.cluster.store
    return {
        "pods": len(store),
        "resource_version": store.rv,
        "history_start": store.history_start,
        "watches": len(sim.watches),
        "faults_injected": sim.faults.injected,
        "kubelet_paused": sim.kubelet_paused,
    }


def _quota(sim: Simulator, method: str, namespace: str, body: dict[str, Any]) -> Response:
    if method == "DELETE":
        sim.cluster.pod_quota.pop(namespace, None)
    else:
        sim.cluster.pod_quota[namespace] = int(body["pods"])
    return _json({"namespace": namespace, "pods": sim.cluster.pod_quota.get(namespace)})


_ROUTES = {
    ("POST", "faults"): _add_fault,
    ("DELETE", "faults"): _clear_faults,
    ("PUT", "latency"): _latency,
    ("POST", "watches/drop"): _drop,
    ("POST", "watches/expire"): _expire,
    ("POST", "compact"): _compact,
    ("POST", "advance"): _advance,
    ("POST", "kubelet/pause"): _pause,
    ("POST", "kubelet/resume"): _resume,
    ("POST", "tokens"): _token,
    ("PUT", "bookmarks"): _bookmarks,
    ("GET", "stats"): _stats,
    ("GET", "requests"): _requests,
}


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise statuses.bad_request(f"kubesim admin: body is not JSON: {error}") from error
    if not isinstance(parsed, dict):
        raise statuses.bad_request("kubesim admin: body must be a JSON object")
    return parsed


def _json(body: Any) -> Response:
    return Response(orjson.dumps(body), media_type="application/json")
