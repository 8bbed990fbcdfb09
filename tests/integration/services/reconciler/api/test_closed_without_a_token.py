"""Without `PODRUNNER_API_TOKEN` the API refuses writes, unless `PODRUNNER_API_AUTH=none` opens it
on purpose; reads stay as they were."""

from __future__ import annotations

from shared.settings import ApiAuth
from tests.support import builders
from tests.support.testclient import MakeApp, TestClient


def test_a_job_is_refused_with_a_401_saying_no_token_is_set(make_app: MakeApp) -> None:
    with TestClient(make_app(api_auth=ApiAuth.TOKEN)) as client:
        response = client.post("/api/v1/jobs", json=builders.job_dict())
        listed = client.get("/api/v1/tasks")

    assert response.status_code == 401, response.text
    error = response.json()["error"]
    assert error["code"] == "api_closed"
    assert "PODRUNNER_API_TOKEN is not set" in error["message"]
    assert "\n" not in error["message"]
    assert listed.json()["items"] == [], "nothing was recorded"


def test_the_openapi_declares_the_401_of_a_closed_api(make_app: MakeApp) -> None:
    with TestClient(make_app(api_auth=ApiAuth.TOKEN)) as client:
        spec = client.get("/openapi.json").json()

    assert "401" in spec["paths"]["/api/v1/jobs"]["post"]["responses"]


def test_auth_none_opens_the_api_on_purpose(make_app: MakeApp) -> None:
    with TestClient(make_app(api_auth=ApiAuth.NONE)) as client:
        response = client.post("/api/v1/jobs", json=builders.job_dict())
        spec = client.get("/openapi.json").json()

    assert response.status_code == 201, response.text
    assert "securitySchemes" not in spec["components"]
