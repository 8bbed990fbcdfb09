"""The health app every service serves: `/healthz`, `/readyz`, `/metrics`, `/status`.

* `/healthz` — liveness: every work loop has beaten its heartbeat within its deadline. A loop that
  hangs (a silent watch, a stuck consumer) fails it, and Kubernetes restarts the pod.
* `/readyz` — readiness: every dependency check passes (Redis, Postgres, the broker, the API
  server). Checks run concurrently with a timeout and their result is cached briefly, so probes
  and scrapes cannot flood the dependencies.
* `/metrics` — the service's own Prometheus registry (never the process-global default one).
* `/status` — what the service is doing, as JSON. The caller redacts its settings, and the app
  scrubs the whole answer again (`redaction.scrub`): no URL in it shows a password, whatever
  string it hides in (an error message quoting a URL included).

A service may add routers of its own to the same app and port (the reconciler's HTTP API); the app
then also serves Swagger UI at `/docs`, over the OpenAPI description every app has at
`/openapi.json`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from shared import http_limits, redaction
from shared.http_limits import HttpLimits

#: A readiness check: returns when the dependency answers, raises (with a reason) when not.
Check = Callable[[], None]


@dataclass
class Heartbeat:
    """Liveness of one work loop: `beat()` on every pass; silent past `deadline_s` means stuck.

    `clock` (seconds, `time.monotonic` by default) is an argument so tests can move it by hand.
    """

    name: str
    deadline_s: float
    clock: Callable[[], float] = time.monotonic
    _last: float = field(init=False)

    def __post_init__(self) -> None:
        self._last = self.clock()

    def beat(self) -> None:
        self._last = self.clock()

    def age_s(self) -> float:
        return self.clock() - self._last

    def is_alive(self) -> bool:
        return self.age_s() <= self.deadline_s


class Readiness:
    """Runs the checks concurrently with a timeout and remembers the answer for `cache_s`."""

    def __init__(
        self, checks: Mapping[str, Check], *, timeout_s: float = 2.0, cache_s: float = 1.0
    ) -> None:
        self._checks = dict(checks)
        self._timeout_s = timeout_s
        self._cache_s = cache_s
        self._lock = threading.Lock()
        self._answer: tuple[float, dict[str, str]] | None = None
        self._pool = ThreadPoolExecutor(max_workers=max(1, len(self._checks)))

    def results(self) -> dict[str, str]:
        """`ok` or the failure reason, per check."""
        with self._lock:
            if self._answer and time.monotonic() - self._answer[0] < self._cache_s:
                return self._answer[1]
            results = self._run_all()
            self._answer = (time.monotonic(), results)
            return results

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _run_all(self) -> dict[str, str]:
        futures = {name: self._pool.submit(check) for name, check in self._checks.items()}
        deadline = time.monotonic() + self._timeout_s
        return {name: _outcome(future, deadline) for name, future in futures.items()}


def _outcome(future: Any, deadline: float) -> str:
    try:
        future.result(timeout=max(0.0, deadline - time.monotonic()))
    except FutureTimeout:
        return "error: no answer in time"
    except Exception as error:  # noqa: BLE001 - a check may fail any way; report, never raise
        return f"error: {error}"
    return "ok"


def make_health_app(
    *,
    service: str,
    heartbeats: Sequence[Heartbeat],
    readiness: Readiness,
    registry: CollectorRegistry,
    status: Callable[[], Mapping[str, Any]],
    routers: Sequence[APIRouter] = (),
) -> FastAPI:
    """The FastAPI app serving the four health endpoints of `service`, and `routers` beside them.

    A service with an API of its own (the reconciler) passes its routers; the app then also serves
    Swagger UI at `/docs`. Health endpoints stay outside the routers, so whatever the routers
    require (a bearer token) never stands between a probe and `/healthz`.
    """
    docs_url = "/docs" if routers else None
    app = FastAPI(title=f"podrunner {service}", docs_url=docs_url, redoc_url=None)

    unavailable: dict[int | str, dict[str, Any]] = {503: {"description": "Not live or not ready"}}

    @app.get("/healthz", responses=unavailable)
    def healthz() -> JSONResponse:
        loops = {beat.name: round(beat.age_s(), 3) for beat in heartbeats}
        stalled = [beat.name for beat in heartbeats if not beat.is_alive()]
        body = {"status": "stalled" if stalled else "ok", "stalled": stalled, "loop_age_s": loops}
        return JSONResponse(body, status_code=503 if stalled else 200)

    @app.get("/readyz", responses=unavailable)
    def readyz() -> JSONResponse:
        checks = readiness.results()
        ready = all(result == "ok" for result in checks.values())
        body = {"status": "ready" if ready else "not ready", "checks": checks}
        return JSONResponse(body, status_code=200 if ready else 503)

    @app.get("/metrics", response_class=PlainTextResponse)  # documented as text, as it is
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/status")
    def status_endpoint() -> JSONResponse:
        return JSONResponse({"service": service, **redaction.scrub(dict(status()))})

    def describe() -> dict[str, Any]:
        checks = readiness.results()
        return {
            "stalled": [beat.name for beat in heartbeats if not beat.is_alive()],
            "failing": {name: result for name, result in checks.items() if result != "ok"},
        }

    app.state.describe = describe  # what the replica reports of itself (`HealthServer.describe`)
    for router in routers:  # after the health endpoints, so no router can shadow one
        app.include_router(router)
    return app


class HealthServer:
    """Serves a health app with uvicorn on a background thread, so work loops own the main one.

    Clients too slow to send a request are cut (`http_limits`): probes must not queue behind them.
    """

    def __init__(
        self, app: FastAPI, *, host: str, port: int, limits: HttpLimits | None = None
    ) -> None:
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            lifespan="off",
            **http_limits.uvicorn_options(limits or HttpLimits()),
        )
        self._app = app
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="health-server", daemon=True)

    def start(self, *, timeout_s: float = 10.0) -> None:
        """Start serving; return once the socket listens (raise if it never does)."""
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the health server did not start (is the port in use?)")
            time.sleep(0.01)

    @property
    def port(self) -> int:
        """The port actually bound (useful when asked for port 0)."""
        sockets = self._server.servers[0].sockets
        return int(sockets[0].getsockname()[1])

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def describe(self) -> dict[str, Any]:
        """The service's health in brief (stalled loops, failing checks) and where it serves."""
        describe: Callable[[], dict[str, Any]] | None = getattr(self._app.state, "describe", None)
        return {**(describe() if describe is not None else {}), "port": self.port}

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
