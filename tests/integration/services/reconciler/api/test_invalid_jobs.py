"""`POST /api/v1/jobs` answers anything that is not a valid job with a 422 naming the field and the
reason, whatever the body holds, and never records or publishes it."""

from __future__ import annotations

import json

import pytest
import sqlalchemy

from shared.messaging.jobqueue import JobQueue
from tests.support import builders
from tests.support.testclient import TestClient

#: The media type every write must declare.
JSON = {"content-type": "application/json"}


def with_(**changes: object) -> bytes:
    return json.dumps(builders.job_dict(**changes)).encode()


BODIES = [
    pytest.param(b"", "(body)", "EOF", id="empty"),
    pytest.param(b'{"version": 1, "dag_id": ', "(body)", "Invalid JSON", id="truncated-json"),
    pytest.param(b"\xff\xfe{}", "(body)", "Invalid JSON", id="not-utf8"),
    pytest.param(b"null", "(body)", "object", id="null"),
    pytest.param(b"[1, 2]", "(body)", "object", id="array"),
    pytest.param(b'"a job"', "(body)", "object", id="string"),
    pytest.param(b"1e999", "(body)", "object", id="huge-number"),
    pytest.param(with_(version=...), "version", "Input should be 1", id="no-version"),
    pytest.param(with_(version=2), "version", "Input should be 1", id="future-version"),
    pytest.param(with_(dag_id=None), "dag_id", "string", id="null-dag"),
    pytest.param(with_(task_id=...), "task_id", "required", id="no-task"),
    pytest.param(with_(try_number="1"), "try_number", "integer", id="try-as-text"),
    pytest.param(with_(try_number=0), "try_number", "greater than or equal to 1", id="try-0"),
    pytest.param(with_(try_number=2**63), "try_number", "between", id="try-huge"),
    pytest.param(with_(map_index=-2), "map_index", "greater than or equal to -1", id="index"),
    pytest.param(with_(map_index=2**31), "map_index", "between", id="index-past-int32"),
    pytest.param(with_(priority=-(2**40)), "priority", "between", id="priority-huge"),
    pytest.param(with_(priority=10**400), "priority", "between", id="priority-400-digits"),
    pytest.param(with_(command=[]), "command", "at least 1", id="empty-command"),
    pytest.param(with_(command="echo hi"), "command", "array", id="command-as-text"),
    pytest.param(with_(namespace="Team_A"), "namespace", "DNS-1123", id="bad-namespace"),
    pytest.param(with_(labels={"a": "x" * 64}), "labels", "label value", id="long-label"),
    pytest.param(with_(extra=1), "extra", "Extra inputs", id="unknown-field"),
    pytest.param(with_(dag_id="etl\x00"), "dag_id", "NUL", id="nul-in-key"),
    pytest.param(with_(command=["echo", "\x00"]), "command.1", "NUL", id="nul-in-command"),
    pytest.param(
        with_(pod_override={"metadata": {"la\x00bels": {}}}),
        "pod_override.metadata.la\x00bels",
        "NUL",
        id="nul-in-override-key",
    ),
    pytest.param(
        with_(pod_override={"spec": {"x": float("nan")}}),
        "pod_override.spec.x",
        "finite",
        id="nan-in-override",
    ),
    pytest.param(b'{"version": 1, "dag_id": "\\ud800"}', "(body)", "Invalid JSON", id="surrogate"),
    *(
        pytest.param(with_(pod_override=override), field, reason, id=f"override-{field}")
        for override, field, reason in [
            ({"spec": "x"}, "pod_override.spec", "must be an object"),
            ({"metadata": {"labels": "x"}}, "pod_override.metadata.labels", "of strings"),
            ({"spec": {"containers": "x"}}, "pod_override.spec.containers", "list of objects"),
        ]
    ),
]


@pytest.mark.parametrize(("body", "field", "reason"), BODIES)
def test_an_invalid_job_is_a_422_naming_the_field_and_the_reason(
    client: TestClient,
    db: sqlalchemy.Engine,
    jobs: JobQueue,
    body: bytes,
    field: str,
    reason: str,
) -> None:
    response = client.post(
        "/api/v1/jobs", content=body, headers={"content-type": "application/json"}
    )

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_job"
    assert error["field"] == field
    assert reason in error["reason"]
    assert field in error["message"]
    with db.connect() as connection:
        assert (
            connection.execute(sqlalchemy.text("SELECT count(*) FROM task_instance")).scalar() == 0
        )
    assert jobs.depth("jobs") == 0


def test_unicode_everywhere_is_a_valid_job(client: TestClient) -> None:
    body = with_(dag_id="étl-数据", run_id="run 🚀", command=["echo", "naïve ☃"])

    response = client.post("/api/v1/jobs", content=body, headers=JSON)

    assert response.status_code == 201, response.text
    assert response.json()["key"]["dag_id"] == "étl-数据"


def test_a_body_past_the_size_limit_is_a_413(client: TestClient) -> None:
    body = with_(command=["echo", "x" * 2_000_000])

    response = client.post("/api/v1/jobs", content=body, headers=JSON)

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
