"""`podrunner submit --wait` reads the task's row by its key and exits with how the task ended."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy
from sqlalchemy.engine import URL

from services.reconciler import waiting
from shared.db import queueing
from shared.db.keys import TABLE
from shared.messages import Job
from tests.support import builders

pytestmark = pytest.mark.timeout(30)


def recorded(db: sqlalchemy.Engine, job: Job, **values: object) -> None:
    row = {**queueing.queued_row(job, "jobs", at=datetime.now(UTC)), **values}
    with db.begin() as connection:
        connection.execute(sqlalchemy.insert(TABLE), [row])


def test_waiting_on_a_succeeded_task_exits_0_and_shows_its_state(
    db: sqlalchemy.Engine, database_url: URL, capsys: pytest.CaptureFixture[str]
) -> None:
    job = builders.job(task_id="done", map_index=4)
    recorded(db, builders.job(task_id="done", map_index=5), state="failed")
    recorded(db, job, state="success")
    assert waiting.wait_for(database_url.render_as_string(hide_password=False), job) == 0
    assert "success" in capsys.readouterr().out


def test_waiting_on_a_failed_task_exits_1_and_gives_the_reason(
    db: sqlalchemy.Engine, database_url: URL, capsys: pytest.CaptureFixture[str]
) -> None:
    job = builders.job(task_id="broken")
    recorded(db, job, state="failed", failure_reason="exit code 3")
    assert waiting.wait_for(database_url.render_as_string(hide_password=False), job) == 1
    assert "failed: exit code 3" in capsys.readouterr().err
