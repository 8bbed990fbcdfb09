"""Without `PODRUNNER_API_TOKEN` the API refuses writes, unless `PODRUNNER_API_AUTH=none` opens it
on purpose; reads stay as they were."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
import sqlalchemy
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from services.reconciler import api
from shared import health
from shared.k8s import clients
from shared.k8s.pods import PodApi
from shared.messaging.jobqueue import BrokerSettings, JobQueue
from shared.settings import ApiAuth
from tests.support import builders
from tests.support.cluster import Cluster

with warnings.catch_warnings():  # starlette asks for httpx2; the project installs httpx
    from starlette.exceptions import StarletteDeprecationWarning

    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient


@pytest.fixture
def pods(cluster: Cluster) -> Iterator[PodApi]:
    api_client = clients.make_api_client(cluster.sim.kubeconfig)
    yield PodApi(api_client)
    api_client.close()


def make_app(db: sqlalchemy.Engine, redis_url: str, pods: PodApi, api_auth: ApiAuth) -> FastAPI:
    router = api.make_router(
        engine=db,
        jobs=JobQueue(BrokerSettings(url=redis_url)),
        pods=pods,
        default_namespace="jobs",
        api_token=None,
        api_auth=api_auth,
    )
    return health.make_health_app(
        service="reconciler",
        heartbeats=[],
        readiness=health.Readiness({}),
        registry=CollectorRegistry(),
        status=dict,
        routers=[router],
    )


def test_a_job_is_refused_with_a_401_saying_no_token_is_set(
    db: sqlalchemy.Engine, redis_url: str, pods: PodApi
) -> None:
    with TestClient(make_app(db, redis_url, pods, ApiAuth.TOKEN)) as client:
        response = client.post("/api/v1/jobs", json=builders.job_dict())
        listed = client.get("/api/v1/tasks")

    assert response.status_code == 401, response.text
    error = response.json()["error"]
    assert error["code"] == "api_closed"
    assert "PODRUNNER_API_TOKEN is not set" in error["message"]
    assert "\n" not in error["message"]
    assert listed.json()["items"] == [], "nothing was recorded"


def test_the_openapi_declares_the_401_of_a_closed_api(
    db: sqlalchemy.Engine, redis_url: str, pods: PodApi
) -> None:
    with TestClient(make_app(db, redis_url, pods, ApiAuth.TOKEN)) as client:
        spec = client.get("/openapi.json").json()

    assert "401" in spec["paths"]["/api/v1/jobs"]["post"]["responses"]


def test_auth_none_opens_the_api_on_purpose(
    db: sqlalchemy.Engine, redis_url: str, pods: PodApi
) -> None:
    with TestClient(make_app(db, redis_url, pods, ApiAuth.NONE)) as client:
        response = client.post("/api/v1/jobs", json=builders.job_dict())
        spec = client.get("/openapi.json").json()

    assert response.status_code == 201, response.text
    assert "securitySchemes" not in spec["components"]
