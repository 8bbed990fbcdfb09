"""A job naming a pod template outside the template directory (or any template while none is
set) is refused at intake, before anything is written: a 422 from the API, exit 2 from
`podrunner submit`, each naming `pod_template_file` and the rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy

from services import cli
from tests.support import builders
from tests.support.testclient import MakeApp, TestClient

TEMPLATES = Path("/etc/podrunner/templates")
REFUSED = [
    pytest.param("/proc/self/status", "not an absolute path", id="absolute"),
    pytest.param("../../etc/passwd", "must not contain '..'", id="parent"),
    pytest.param(".hidden.yaml", "no part starting with '.'", id="hidden"),
]


def rows(db: sqlalchemy.Engine) -> int:
    with db.connect() as connection:
        return int(
            connection.execute(sqlalchemy.text("SELECT count(*) FROM task_instance")).scalar_one()
        )


@pytest.fixture
def client_for(make_app: MakeApp) -> Any:
    def make(template_dir: Path | None) -> TestClient:
        return TestClient(make_app(template_dir=template_dir))

    return make


@pytest.mark.parametrize(("name", "reason"), REFUSED)
def test_the_api_answers_422_naming_the_field_and_records_nothing(
    client_for: Any, db: sqlalchemy.Engine, name: str, reason: str
) -> None:
    with client_for(TEMPLATES) as client:
        response = client.post("/api/v1/jobs", json=builders.job_dict(pod_template_file=name))

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == "pod_template_file"
    assert reason in error["reason"]
    assert rows(db) == 0


def test_the_api_refuses_any_template_while_no_directory_is_set(
    client_for: Any, db: sqlalchemy.Engine
) -> None:
    with client_for(None) as client:
        response = client.post("/api/v1/jobs", json=builders.job_dict(pod_template_file="a.yaml"))

    assert response.status_code == 422, response.text
    assert "PODRUNNER_POD_TEMPLATE_DIR is not set" in response.json()["error"]["reason"]
    assert rows(db) == 0


def test_the_api_takes_a_plain_name_when_a_directory_is_set(client_for: Any) -> None:
    with client_for(TEMPLATES) as client:
        response = client.post(
            "/api/v1/jobs", json=builders.job_dict(pod_template_file="team/gpu.yaml")
        )

    assert response.status_code == 201, response.text


@pytest.mark.parametrize(("name", "reason"), REFUSED)
def test_podrunner_submit_exits_2_with_one_line_and_records_nothing(
    redis_url: str,
    database_url: Any,
    db: sqlalchemy.Engine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    reason: str,
) -> None:
    monkeypatch.setenv("PODRUNNER_REDIS_URL", redis_url)
    monkeypatch.setenv("PODRUNNER_DATABASE_URL", database_url.render_as_string(hide_password=False))
    monkeypatch.setenv("PODRUNNER_POD_TEMPLATE_DIR", str(TEMPLATES))
    job = ["--dag-id", "d", "--task-id", "t", "--run-id", "r", "--pod-template-file", name]

    code = cli.main(["submit", *job, "--", "true"])

    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert "pod_template_file" in err
    assert reason in err
    assert rows(db) == 0
