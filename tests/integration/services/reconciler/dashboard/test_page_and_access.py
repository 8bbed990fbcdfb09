"""The page and its files are served to anyone (they hold no data) with a strict policy; the data
behind them answers only with the API's token, and, like the API's reads, to anyone when no token
is configured."""

from __future__ import annotations

import pytest
import sqlalchemy
from prometheus_client import CollectorRegistry

from services.reconciler.dashboard import routing as dashboard
from shared import health
from shared.k8s.pods import PodApi
from shared.messaging.jobqueue import JobQueue
from shared.messaging.pod_history import PodHistory
from tests.support.testclient import TestClient


def test_the_root_leads_to_the_page_and_its_files_with_a_strict_policy(client: TestClient) -> None:
    root = client.get("/", follow_redirects=False)
    page = client.get("/ui/", headers={"Authorization": ""})
    script = client.get("/ui/static/app.js", headers={"Authorization": ""})
    style = client.get("/ui/static/app.css", headers={"Authorization": ""})

    assert root.status_code == 307
    assert root.headers["location"] == "/ui/"
    assert page.status_code == 200
    assert '<script src="/ui/static/app.js"' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert script.headers["content-type"].startswith("text/javascript")
    assert style.headers["content-type"].startswith("text/css")
    assert client.get("/ui/static/app.py").status_code == 404


@pytest.mark.parametrize("path", ["now", "flow", "failures", "tasks"])
@pytest.mark.parametrize("authorization", ["", "Bearer wrong-token"])
def test_the_data_needs_the_token(client: TestClient, path: str, authorization: str) -> None:
    answer = client.get(f"/ui/data/{path}", headers={"Authorization": authorization})

    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthorized"


def test_without_a_configured_token_the_data_is_read_as_the_api_is(
    db: sqlalchemy.Engine, jobs: JobQueue, pods: PodApi, history: PodHistory
) -> None:
    sources = dashboard.Sources(
        engine=db,
        jobs=jobs,
        pods=pods,
        history=history,
        active_pods=lambda _: 0,
        dead_letters=lambda: 0,
        replicas=list,
        namespaces=list,
        max_active_pods=1,
    )
    app = health.make_health_app(
        service="reconciler",
        heartbeats=[],
        readiness=health.Readiness({}),
        registry=CollectorRegistry(),
        status=dict,
        routers=[dashboard.make_router(sources, api_token=None)],
    )
    with TestClient(app) as client:
        assert client.get("/ui/data/tasks").status_code == 200
