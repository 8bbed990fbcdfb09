"""With podrunner's database out of reach, the executor loses nothing: its tasks wait in its
queue and go at the first heartbeat after, and `sync` skips a beat instead of failing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.airflow.executor import PodrunnerExecutor
from tests.integration.services.airflow.conftest import Tasks, queue
from tests.support.kubesim import free_port

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def cut_off(redis_server_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[PodrunnerExecutor]:
    """An executor whose Postgres is a port nobody listens on."""
    dead = f"postgresql://postgres@127.0.0.1:{free_port()}/gone"
    monkeypatch.setenv("AIRFLOW__PODRUNNER__DATABASE_URL", dead)
    monkeypatch.setenv("AIRFLOW__PODRUNNER__REDIS_URL", redis_server_url)
    executor = PodrunnerExecutor()
    executor.start()
    yield executor
    executor.terminate()


def test_tasks_stay_queued_while_the_database_is_out_of_reach(
    cut_off: PodrunnerExecutor, tasks: Tasks
) -> None:
    task = tasks.task("waits")

    queue(cut_off, task)

    assert task.ti.key in cut_off.queued_tasks
    assert task.ti.key not in cut_off.running
    assert not cut_off.event_buffer


def test_sync_skips_a_beat_while_the_database_is_out_of_reach(
    cut_off: PodrunnerExecutor, tasks: Tasks
) -> None:
    key = tasks.task("adopted").ti.key
    cut_off.running.add(key)

    cut_off.sync()

    assert key in cut_off.running
    assert not cut_off.event_buffer
