"""The dashboard's routes on real Postgres, Redis and kubesim, and rows written for them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
import sqlalchemy
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from services.reconciler.dashboard import routing as dashboard
from shared import health
from shared.db.keys import TABLE
from shared.k8s.pods import PodApi
from shared.messaging import replicas
from shared.messaging.jobqueue import JobQueue
from shared.messaging.keys import RedisKeys
from shared.messaging.pod_history import PodHistory
from shared.messaging.slots import SlotPool
from tests.support.testclient import TestClient

TOKEN = "dashboard-token-0123456789"
AUTHORIZATION = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def history(redis_client: redis.Redis, keys: RedisKeys) -> PodHistory:
    return PodHistory(redis_client, keys)


@pytest.fixture
def client(
    db: sqlalchemy.Engine,
    jobs: JobQueue,
    pods: PodApi,
    history: PodHistory,
    redis_client: redis.Redis,
    keys: RedisKeys,
) -> Iterator[TestClient]:
    """The dashboard behind `TOKEN` (sent by default), serving the namespaces `jobs` and `idle`."""
    slots = SlotPool(redis_client, keys=keys, holder="test")
    sources = dashboard.Sources(
        engine=db,
        jobs=jobs,
        pods=pods,
        history=history,
        active_pods=slots.count,
        dead_letters=lambda: int(redis_client.xlen(keys.dead_letters)),
        replicas=lambda: replicas.read(redis_client, keys),
        namespaces=lambda: ["idle", "jobs"],
        max_active_pods=5,
        log_lines=3,
    )
    app = health.make_health_app(
        service="reconciler",
        heartbeats=[],
        readiness=health.Readiness({}),
        registry=CollectorRegistry(),
        status=dict,
        routers=[dashboard.make_router(sources, api_token=SecretStr(TOKEN))],
    )
    with TestClient(app, headers=AUTHORIZATION) as client:
        yield client


def insert(db: sqlalchemy.Engine, task_id: str, **values: Any) -> None:
    """A row of dag `etl`, run `r1`, queued a minute ago, with `values` over that."""
    at = datetime.now(UTC) - timedelta(minutes=1)
    row = {
        "dag_id": "etl",
        "task_id": task_id,
        "run_id": "r1",
        "map_index": -1,
        "try_number": 1,
        "state": "queued",
        "namespace": "jobs",
        "job": {},
        "queued_at": at,
        "updated_at": at,
        **values,
    }
    with db.begin() as connection:
        connection.execute(sqlalchemy.insert(TABLE).values(row))
