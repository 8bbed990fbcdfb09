"""A write must declare `Content-Type: application/json`: a cross-site form or `text/plain` post
(which a browser sends without asking) is a 415, documented in the OpenAPI."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import orjson
import pytest
import sqlalchemy
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
def client(db: sqlalchemy.Engine, redis_url: str, cluster: Cluster) -> Iterator[TestClient]:
    api_client = clients.make_api_client(cluster.sim.kubeconfig)
    router = api.make_router(
        engine=db,
        jobs=JobQueue(BrokerSettings(url=redis_url)),
        pods=PodApi(api_client),
        default_namespace="jobs",
        api_token=None,
        api_auth=ApiAuth.NONE,
    )
    app = health.make_health_app(
        service="reconciler",
        heartbeats=[],
        readiness=health.Readiness({}),
        registry=CollectorRegistry(),
        status=dict,
        routers=[router],
    )
    with TestClient(app) as client:
        yield client
    api_client.close()


@pytest.mark.parametrize(
    "content_type",
    [
        pytest.param(None, id="none"),
        pytest.param("text/plain", id="text-plain"),
        pytest.param("application/x-www-form-urlencoded", id="form"),
        pytest.param("multipart/form-data; boundary=x", id="multipart"),
        pytest.param("application/jsonx", id="lookalike"),
    ],
)
def test_a_job_sent_as_anything_but_json_is_a_415(
    client: TestClient, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}

    response = client.post(
        "/api/v1/jobs", content=orjson.dumps(builders.job_dict()), headers=headers
    )

    assert response.status_code == 415, response.text
    error = response.json()["error"]
    assert error["code"] == "unsupported_media_type"
    assert error["message"].startswith("Content-Type must be application/json")
    assert client.get("/api/v1/tasks").json()["items"] == [], "nothing was recorded"


def test_json_with_a_charset_is_accepted(client: TestClient) -> None:
    headers = {"content-type": "Application/JSON; charset=utf-8"}

    response = client.post(
        "/api/v1/jobs", content=orjson.dumps(builders.job_dict()), headers=headers
    )

    assert response.status_code == 201, response.text


def test_the_openapi_declares_the_415(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()

    assert "415" in spec["paths"]["/api/v1/jobs"]["post"]["responses"]
