"""Intake writes the row before publishing the job, and refuses repeats of a try."""

from __future__ import annotations

from typing import Any

import pytest
import redis
import sqlalchemy

from services import cli
from shared import admission, intake
from shared.messaging.jobqueue import JobQueue
from tests.support import builders
from tests.support.kubesim import free_port


def row(db: sqlalchemy.Engine) -> Any:
    with db.connect() as connection:
        return connection.execute(sqlalchemy.text("SELECT * FROM task_instance")).mappings().one()


def test_a_submitted_job_is_a_queued_row_and_a_message_on_its_queue(
    db: sqlalchemy.Engine, jobs: JobQueue, redis_client: redis.Redis
) -> None:
    job = builders.job(priority=5)
    submitted = intake.submit(db, jobs, job, default_namespace="jobs")
    stored = row(db)
    assert (stored["state"], stored["namespace"], stored["priority"]) == ("queued", "jobs", 5)
    assert stored["job"] == job.to_dict()
    assert submitted.namespace == "jobs"
    assert jobs.depth("jobs") == 1


def test_the_same_try_again_is_refused_with_the_current_state(
    db: sqlalchemy.Engine, jobs: JobQueue
) -> None:
    job = builders.job()
    intake.submit(db, jobs, job, default_namespace="jobs")
    with pytest.raises(intake.AlreadySubmitted) as refused:
        intake.submit(db, jobs, job, default_namespace="jobs")
    assert refused.value.current["state"] == "queued"
    assert jobs.depth("jobs") == 1, "no second message"


def test_a_later_try_starts_afresh(db: sqlalchemy.Engine, jobs: JobQueue) -> None:
    intake.submit(db, jobs, builders.job(try_number=1), default_namespace="jobs")
    with db.begin() as connection:
        connection.execute(
            sqlalchemy.text(
                "UPDATE task_instance SET state='failed', failure_reason='Error (exit 1)'"
            )
        )
    intake.submit(db, jobs, builders.job(try_number=2), default_namespace="jobs")
    stored = row(db)
    assert (stored["try_number"], stored["state"], stored["failure_reason"]) == (2, "queued", None)
    with pytest.raises(intake.AlreadySubmitted):
        intake.submit(db, jobs, builders.job(try_number=1), default_namespace="jobs")


def test_podrunner_submit_records_and_publishes_and_refuses_a_repeat(
    db: sqlalchemy.Engine,
    jobs: JobQueue,
    cli_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = [
        "submit",
        "--dag-id",
        "etl",
        "--task-id",
        "load",
        "--run-id",
        "r1",
        "--",
        "python",
        "-c",
        "1",
    ]
    assert cli.main(argv) == 0
    assert "submitted etl.load.r1 try 1 to jobs" in capsys.readouterr().out
    assert row(db)["job"]["command"] == ["python", "-c", "1"]
    assert cli.main(argv) == 1
    assert "task already has try 1 in state queued" in capsys.readouterr().err
    assert jobs.depth("jobs") == 1


def test_a_job_its_row_cannot_hold_is_refused_before_anything_is_written(
    db: sqlalchemy.Engine, jobs: JobQueue
) -> None:
    with pytest.raises(admission.Unfit) as refused:
        intake.submit(db, jobs, builders.job(command=["echo", "a\x00b"]), default_namespace="jobs")
    assert (refused.value.field, refused.value.reason) == (
        "command.1",
        "text cannot contain NUL characters",
    )
    with pytest.raises(admission.Unfit, match="priority: must be between"):
        intake.submit(db, jobs, builders.job(priority=2**40), default_namespace="jobs")
    with db.connect() as connection:
        assert (
            connection.execute(sqlalchemy.text("SELECT count(*) FROM task_instance")).scalar() == 0
        )
    assert jobs.depth("jobs") == 0


def test_podrunner_submit_while_the_broker_is_down_records_the_row_and_says_so(
    db: sqlalchemy.Engine,
    database_url: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PODRUNNER_REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    monkeypatch.setenv("PODRUNNER_DATABASE_URL", database_url.render_as_string(hide_password=False))
    monkeypatch.setenv("PODRUNNER_NAMESPACE", "jobs")
    argv = ["submit", "--dag-id", "etl", "--task-id", "load", "--run-id", "r1", "--", "true"]

    assert cli.main(argv) == 0
    error = capsys.readouterr().err
    assert error.startswith("recorded etl.load.r1 try 1, published later: publishing jobs failed")
    assert row(db)["state"] == "queued"
