"""A write must declare `Content-Type: application/json`: a cross-site form or `text/plain` post
(which a browser sends without asking) is a 415, documented in the OpenAPI."""

from __future__ import annotations

import orjson
import pytest

from tests.support import builders
from tests.support.testclient import TestClient


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
