"""A job for a namespace no launcher serves is refused at intake, by the API with a 422 naming
`namespace` and by `podrunner submit` with exit 2, before anything is written: no launcher would
ever take it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy

from services import cli
from shared.messaging.jobqueue import JobQueue
from tests.support import builders
from tests.support.testclient import MakeApp, TestClient

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def client(make_app: MakeApp) -> Iterator[TestClient]:
    with TestClient(make_app(served=("jobs", "team-a"))) as client:
        yield client


def count_rows(db: sqlalchemy.Engine) -> int:
    with db.connect() as connection:
        return int(
            connection.execute(sqlalchemy.text("SELECT count(*) FROM task_instance")).scalar_one()
        )


def test_the_api_refuses_a_job_for_a_namespace_not_served_naming_the_served_ones(
    client: TestClient, db: sqlalchemy.Engine, jobs: JobQueue
) -> None:
    response = client.post("/api/v1/jobs", json=builders.job_dict(namespace="team-b"))

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == "namespace"
    assert error["reason"] == "'team-b' is not served here (served: jobs, team-a)"
    assert count_rows(db) == 0
    assert jobs.depth("team-b") == 0


def test_the_api_takes_a_job_for_any_served_namespace(client: TestClient) -> None:
    response = client.post("/api/v1/jobs", json=builders.job_dict(namespace="team-a"))
    assert response.status_code == 201, response.text


def test_podrunner_submit_refuses_a_namespace_not_served_with_exit_2(
    db: sqlalchemy.Engine, cli_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cli_env.setenv("PODRUNNER_NAMESPACES", "jobs,team-a")
    argv = ["submit", "--dag-id", "etl", "--task-id", "load", "--run-id", "r1"]

    assert cli.main([*argv, "--namespace", "team-b", "--", "true"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.endswith(
        "invalid job: namespace: 'team-b' is not served here (served: jobs, team-a)"
    )
    assert len(error.splitlines()) == 1
    assert count_rows(db) == 0


def test_podrunner_submit_refuses_the_default_namespace_when_it_is_not_served(
    db: sqlalchemy.Engine, cli_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cli_env.setenv("PODRUNNER_NAMESPACES", "team-a")

    argv = ["submit", "--dag-id", "etl", "--task-id", "load", "--run-id", "r1", "--", "true"]
    assert cli.main(argv) == 2
    assert "namespace: 'jobs' is not served here (served: team-a)" in capsys.readouterr().err
    assert count_rows(db) == 0
