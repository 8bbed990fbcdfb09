"""With `PODRUNNER_API_TOKEN` set, every `/api/v1` route wants `Authorization: Bearer <token>`;
the health endpoints stay open for kubelet probes and Prometheus."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy

from tests.support import builders
from tests.support.testclient import MakeApp, TestClient

TOKEN = "s3cret-tøken-of-some-length"
ROUTES = [
    pytest.param("GET", "/api/v1/tasks", id="list"),
    pytest.param("GET", "/api/v1/tasks/etl/load/r1/-1", id="one"),
    pytest.param("GET", "/api/v1/tasks/etl/load/r1/-1/logs", id="logs"),
    pytest.param("POST", "/api/v1/jobs", id="submit"),
]


@pytest.fixture
def client(make_app: MakeApp) -> Iterator[TestClient]:
    with TestClient(make_app(token=TOKEN)) as client:
        yield client


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="no-header"),
        pytest.param("Bearer wrong", id="wrong-token"),
        pytest.param(f"Bearer {TOKEN}x", id="token-with-suffix"),
        pytest.param("Bearer", id="no-token"),
        pytest.param(f"Basic {TOKEN}", id="wrong-scheme"),
        pytest.param(TOKEN, id="no-scheme"),
    ],
)
def test_a_missing_or_wrong_token_is_a_401_with_a_bearer_challenge(
    client: TestClient, method: str, path: str, authorization: str | None
) -> None:
    headers = {"authorization": authorization.encode()} if authorization else {}

    response = client.request(method, path, headers=headers, json=builders.job_dict())

    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"]["code"] == "unauthorized"


def test_the_right_token_is_let_in(client: TestClient, db: sqlalchemy.Engine) -> None:
    headers = {"authorization": f"Bearer {TOKEN}".encode()}

    submitted = client.post("/api/v1/jobs", json=builders.job_dict(), headers=headers)
    listed = client.get("/api/v1/tasks", headers=headers)

    assert submitted.status_code == 201, submitted.text
    assert listed.status_code == 200, listed.text
    assert [task["task_id"] for task in listed.json()["items"]] == ["load"]


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics", "/status"])
def test_health_endpoints_need_no_token(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 200


def test_openapi_declares_the_bearer_scheme_on_api_routes_only(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()

    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert spec["paths"]["/api/v1/tasks"]["get"]["security"] == [{"bearer": []}]
    assert "security" not in spec["paths"]["/healthz"]["get"]


def test_an_empty_token_is_refused_when_the_router_is_built(make_app: MakeApp) -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        make_app(token="")
