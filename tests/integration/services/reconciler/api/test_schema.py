"""The API describes itself in OpenAPI (with Swagger UI at `/docs`), and requests generated from
that description, valid and invalid alike, never make it answer with a 5xx.

schemathesis generates the requests and checks every answer against the description (status codes,
content types, bodies, headers; no 5xx). They run in this process, against the app as the service
serves it (`HealthServer`, uvicorn on a loopback port), on the real Postgres and Redis, with the
token, so later examples meet the rows earlier ones created (repeats are 409s, lists have items);
and once more with the API closed for want of a token, whose refusals must be declared too.
schemathesis' own ASGI transport is not used: it keeps one event loop for the whole process, and
its idle worker threads (where sync endpoints run) outlive the test, tripping the thread guard.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

from shared import health
from shared.settings import ApiAuth
from tests.support.testclient import MakeApp, TestClient

TOKEN = "s3cret-s3cret-s3cret"
AUTHORIZATION = {"Authorization": f"Bearer {TOKEN}"}
#: Requests generated per operation and mode (positive, negative).
EXAMPLES = 25


@pytest.fixture(params=["with-token", "closed"])
def app(make_app: MakeApp, request: pytest.FixtureRequest) -> FastAPI:
    return make_app(
        token=TOKEN if request.param == "with-token" else None,
        api_auth=ApiAuth.TOKEN,
        template_dir=Path("/etc/podrunner/templates"),
    )


@pytest.fixture
def api_schema(app: FastAPI) -> Iterator[schemathesis.BaseSchema]:
    server = health.HealthServer(app, host="127.0.0.1", port=0)
    server.start()
    yield schemathesis.openapi.from_url(f"http://127.0.0.1:{server.port}/openapi.json")
    server.stop()


def test_swagger_ui_and_the_job_schema_are_served(app: FastAPI) -> None:
    with TestClient(app) as client:
        docs = client.get("/docs")
        spec = client.get("/openapi.json").json()

    assert docs.status_code == 200
    assert "swagger-ui" in docs.text
    submit = spec["paths"]["/api/v1/jobs"]["post"]
    job = submit["requestBody"]["content"]["application/json"]["schema"]
    assert set(job["required"]) >= {"version", "dag_id", "task_id", "run_id", "try_number"}
    assert set(submit["responses"]) >= {"201", "202", "401", "409", "413", "415", "422"}
    page = spec["paths"]["/api/v1/tasks"]["get"]["responses"]["200"]["content"]
    assert page["application/json"]["schema"] == {"$ref": "#/components/schemas/TaskPage"}


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/tasks/a%2Fb/t/r/-1",
        "/api/v1/tasks/a/t/r%2Fx/-1/logs",
        "/api/v1/tasks/a/b/c/d/e/f",
    ],
)
def test_a_task_path_with_a_slash_in_a_key_part_is_a_declared_404(app: FastAPI, path: str) -> None:
    with TestClient(app) as client:
        response = client.get(path, headers=AUTHORIZATION)

    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == "not_found"
    assert "'/'" in response.json()["error"]["message"]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_generated_request_makes_the_api_fail(
    api_schema: schemathesis.BaseSchema, mode: GenerationMode
) -> None:
    operations = [operation for methods in api_schema.values() for operation in methods.values()]
    assert len(operations) == 8
    for operation in operations:
        takes_input = len(operation.body) > 0 or any(True for _ in operation.iter_parameters())
        if mode is GenerationMode.NEGATIVE and not takes_input:
            continue  # nothing to make invalid

        @given(case=operation.as_strategy(mode, headers=AUTHORIZATION))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=[
                HealthCheck.function_scoped_fixture,
                HealthCheck.too_slow,
                HealthCheck.filter_too_much,  # negative generation discards what stays valid
            ],
        )
        def call(case: schemathesis.Case[Any]) -> None:
            # A job is stricter than JSON Schema can say (`1.0` is no integer to it, text holds no
            # NUL, labels have a syntax): a schema-valid job may rightly be refused with a 422.
            case.call_and_validate(excluded_checks=[positive_data_acceptance])

        call()
