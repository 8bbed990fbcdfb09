"""The health app: liveness from heartbeats, readiness from real checks, metrics, status."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter

from shared.health import Check, HealthServer, Heartbeat, Readiness, make_health_app
from shared.messaging import connections
from tests.support.clocks import ManualClock


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


def serve(
    heartbeats: list[Heartbeat], checks: Mapping[str, Check], registry: CollectorRegistry
) -> Iterator[httpx.Client]:
    """The app served by real uvicorn on a loopback port, and a client for it (one iteration)."""
    readiness = Readiness(checks, timeout_s=0.5, cache_s=0.0)
    app = make_health_app(
        service="launcher",
        heartbeats=heartbeats,
        readiness=readiness,
        registry=registry,
        status=lambda: {"namespaces": ["ns"], "in_flight": 3},
    )
    server = HealthServer(app, host="127.0.0.1", port=0)
    server.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=5) as client:
            yield client
    finally:
        server.stop()
        readiness.close()


def test_healthz_is_ok_while_every_loop_beats(registry: CollectorRegistry) -> None:
    beat = Heartbeat("consume", deadline_s=5)
    for client in serve([beat], {}, registry):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_healthz_fails_naming_the_loop_that_stopped_beating(registry: CollectorRegistry) -> None:
    clock = ManualClock()
    alive = Heartbeat("consume", deadline_s=5, clock=clock)
    stuck = Heartbeat("create", deadline_s=0.05, clock=clock)
    clock.advance(0.1)
    alive.beat()
    for client in serve([alive, stuck], {}, registry):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["stalled"] == ["create"]


def test_readyz_passes_when_redis_answers(redis_url: str, registry: CollectorRegistry) -> None:
    client_ = connections.connect_redis(redis_url)
    for client in serve([], {"redis": lambda: connections.ping(client_)}, registry):
        response = client.get("/readyz")
    client_.close()
    assert response.status_code == 200
    assert response.json()["checks"] == {"redis": "ok"}


def test_readyz_fails_naming_the_dependency_that_does_not_answer(
    redis_url: str, registry: CollectorRegistry
) -> None:
    good = connections.connect_redis(redis_url)
    dead = connections.connect_redis("redis://127.0.0.1:1/0", timeout_s=0.2)
    checks = {"redis": lambda: connections.ping(good), "broker": lambda: connections.ping(dead)}
    for client in serve([], checks, registry):
        response = client.get("/readyz")
    good.close()
    dead.close()
    assert response.status_code == 503
    body = response.json()["checks"]
    assert body["redis"] == "ok"
    assert body["broker"].startswith("error: Redis does not answer")


def test_a_hung_check_fails_readiness_in_time(registry: CollectorRegistry) -> None:
    answers = threading.Event()  # the dependency answers only when the test is over

    def hung() -> None:
        answers.wait(5)

    started = time.monotonic()
    try:
        for client in serve([], {"api": hung}, registry):
            response = client.get("/readyz")
            assert time.monotonic() - started < 1.4
    finally:
        answers.set()
    assert response.json()["checks"]["api"] == "error: no answer in time"


def test_metrics_serves_the_services_own_registry(registry: CollectorRegistry) -> None:
    Counter("podrunner_jobs_consumed", "Jobs consumed", registry=registry).inc(7)
    for client in serve([], {}, registry):
        response = client.get("/metrics")
    assert response.status_code == 200
    assert "podrunner_jobs_consumed_total 7.0" in response.text


def test_status_reports_the_service_and_its_state(registry: CollectorRegistry) -> None:
    for client in serve([], {}, registry):
        response = client.get("/status")
    assert response.json() == {"service": "launcher", "namespaces": ["ns"], "in_flight": 3}


def test_readiness_answers_are_cached_so_probes_cannot_flood() -> None:
    calls = []
    readiness = Readiness({"count": lambda: calls.append(1)}, cache_s=60)
    for _ in range(5):
        assert readiness.results() == {"count": "ok"}
    readiness.close()
    assert len(calls) == 1
