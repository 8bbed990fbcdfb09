"""The API as the reconciler serves it, built from real parts: Postgres, Redis and kubesim.

`make_app(...)` builds the health app with the `/api/v1` router on it, taking `make_router`'s
options (the default namespace is `jobs`, the API open to writes unless a token or `api_auth`
says otherwise); `client` is a test client of the default one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from services.reconciler.api import routing
from shared import health
from shared.k8s.pods import PodApi
from shared.messaging.jobqueue import JobQueue
from shared.settings import ApiAuth
from tests.support.testclient import MakeApp, TestClient


@pytest.fixture
def make_app(db: sqlalchemy.Engine, jobs: JobQueue, pods: PodApi) -> MakeApp:
    """Builds an app: `token` (a string, or `None` for none) and `make_router`'s options."""

    def make(
        *, token: str | None = None, api_auth: ApiAuth = ApiAuth.NONE, **options: Any
    ) -> FastAPI:
        if token is not None and api_auth is ApiAuth.NONE:
            api_auth = ApiAuth.TOKEN
        router = routing.make_router(
            engine=db,
            jobs=options.pop("jobs", jobs),
            pods=pods,
            default_namespace="jobs",
            api_token=SecretStr(token) if token is not None else None,
            api_auth=api_auth,
            **options,
        )
        return health.make_health_app(
            service="reconciler",
            heartbeats=[],
            readiness=health.Readiness({}),
            registry=CollectorRegistry(),
            status=dict,
            routers=[router],
        )

    return make


@pytest.fixture
def client(make_app: MakeApp) -> Iterator[TestClient]:
    with TestClient(make_app()) as client:
        yield client
