"""`intake.submit_many`: a batch recorded in one transaction and published in one round; each
refused job answered with its reason while the rest go on."""

from __future__ import annotations

import sqlalchemy

from shared import admission, intake
from shared.messaging.jobqueue import JobQueue
from tests.support import builders

WHERE = intake.Where(default_namespace="jobs")


def states(db: sqlalchemy.Engine) -> dict[str, tuple[int, str]]:
    query = sqlalchemy.text("SELECT task_id, try_number, state FROM task_instance")
    with db.connect() as connection:
        return {row[0]: (row[1], row[2]) for row in connection.execute(query)}


def test_a_batch_is_recorded_and_published_together(db: sqlalchemy.Engine, jobs: JobQueue) -> None:
    batch = [builders.job(task_id=f"t{n}") for n in range(50)]

    answers = intake.submit_many(db, jobs, batch, where=WHERE)

    assert all(answer.submitted is not None for answer in answers.answers)
    assert answers.publish_error is None
    assert len(states(db)) == 50
    assert jobs.depth("jobs") == 50


def test_refused_jobs_are_answered_alone_and_in_order(
    db: sqlalchemy.Engine, jobs: JobQueue
) -> None:
    intake.submit(db, jobs, builders.job(task_id="done", try_number=2), default_namespace="jobs")
    batch = [
        builders.job(task_id="fine"),
        builders.job(task_id="done", try_number=1),  # an earlier try than the row's
        builders.job(task_id="elsewhere", namespace="other"),  # not served
        builders.job(task_id="fine", try_number=2),  # the same task twice in one batch
    ]

    answers = intake.submit_many(db, jobs, batch, where=WHERE).answers

    assert answers[0].submitted is not None
    assert isinstance(answers[1].refused, intake.AlreadySubmitted)
    assert answers[1].refused.current["try_number"] == 2
    assert isinstance(answers[2].refused, admission.Unserved)
    assert isinstance(answers[3].refused, intake.AlreadySubmitted)
    assert states(db) == {"fine": (1, "queued"), "done": (2, "queued")}
    assert jobs.depth("jobs") == 2


def test_a_later_try_replaces_an_ended_one(db: sqlalchemy.Engine, jobs: JobQueue) -> None:
    intake.submit(db, jobs, builders.job(task_id="again"), default_namespace="jobs")
    with db.begin() as connection:
        connection.execute(sqlalchemy.text("UPDATE task_instance SET state = 'failed'"))

    answers = intake.submit_many(
        db, jobs, [builders.job(task_id="again", try_number=2)], where=WHERE
    )

    assert answers.answers[0].submitted is not None
    assert states(db) == {"again": (2, "queued")}
