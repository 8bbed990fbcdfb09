"""`POST /api/v1/tasks/…/revoke` hands the same revocation as the Airflow executor to the
reconcilers: a launch event `revoked` for the task's live try, or a 409 when none is live."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
import sqlalchemy
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from starlette.exceptions import StarletteDeprecationWarning

from services.reconciler import api
from shared import health
from shared.k8s.stub import StubPodApi
from shared.messages import LaunchEvent, LaunchOutcome
from shared.messaging.jobqueue import BrokerSettings, JobQueue
from shared.settings import ApiAuth
from tests.support import builders

with warnings.catch_warnings():  # starlette asks for httpx2; the project installs httpx
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient


@pytest.fixture
def published() -> list[LaunchEvent]:
    return []


def make_app(db: sqlalchemy.Engine, redis_url: str, published: list[LaunchEvent]) -> FastAPI:
    router = api.make_router(
        engine=db,
        jobs=JobQueue(BrokerSettings(url=redis_url)),
        pods=StubPodApi(),
        default_namespace="jobs",
        api_token=None,
        api_auth=ApiAuth.NONE,
        publish_launches=published.extend,
    )
    return health.make_health_app(
        service="reconciler",
        heartbeats=[],
        readiness=health.Readiness({}),
        registry=CollectorRegistry(),
        status=dict,
        routers=[router],
    )


@pytest.fixture
def client(
    db: sqlalchemy.Engine, redis_url: str, published: list[LaunchEvent]
) -> Iterator[TestClient]:
    with TestClient(make_app(db, redis_url, published)) as client:
        yield client


def test_a_live_try_is_revoked_with_the_reason_given(
    client: TestClient, published: list[LaunchEvent]
) -> None:
    client.post("/api/v1/jobs", json=builders.job_dict(run_id="r1", try_number=2))

    response = client.post(
        "/api/v1/tasks/etl/load/r1/-1/revoke", json={"reason": "no longer needed"}
    )

    assert response.status_code == 202, response.text
    assert response.json()["try_number"] == 2
    [event] = published
    assert (event.outcome, event.try_number, event.namespace) == (LaunchOutcome.REVOKED, 2, "jobs")
    assert event.reason == "no longer needed"


def test_a_try_that_is_not_live_is_a_409(client: TestClient, published: list[LaunchEvent]) -> None:
    client.post("/api/v1/jobs", json=builders.job_dict(run_id="r1", try_number=2))

    response = client.post("/api/v1/tasks/etl/load/r1/-1/revoke", json={"try_number": 1})

    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "not_live"
    assert not published


def test_an_unknown_task_is_a_404(client: TestClient) -> None:
    response = client.post("/api/v1/tasks/etl/load/r9/-1/revoke", json={})
    assert response.status_code == 404
