"""`podrunner status` shows the rows, filtered, as a table or as JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy

from services import cli
from shared import intake
from shared.messaging.jobqueue import BrokerSettings, JobQueue
from tests.support import builders


@pytest.fixture
def three_tasks(
    db: sqlalchemy.Engine, redis_url: str, database_url: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    jobs = JobQueue(BrokerSettings(url=redis_url))
    for dag, task in (("etl", "load"), ("etl", "check"), ("ml", "train")):
        intake.submit(db, jobs, builders.job(dag_id=dag, task_id=task), default_namespace="jobs")
    with db.begin() as connection:
        connection.execute(
            sqlalchemy.text(
                "UPDATE task_instance SET state='failed', failure_reason='OOMKilled (exit 137)' "
                "WHERE task_id='check'"
            )
        )
    monkeypatch.setenv("PODRUNNER_DATABASE_URL", database_url.render_as_string(hide_password=False))


@pytest.mark.usefixtures("three_tasks")
def test_the_table_lists_every_task_with_its_state(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["status"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:6] == ["dag_id", "task_id", "run_id", "map_index", "try_number", "state"]
    assert len(out) == 4
    assert any("OOMKilled (exit 137)" in line for line in out)


@pytest.mark.usefixtures("three_tasks")
def test_json_output_with_filters(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["status", "--dag-id", "etl", "--state", "failed", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["task_id"], r["failure_reason"]) for r in rows] == [
        ("check", "OOMKilled (exit 137)")
    ]
