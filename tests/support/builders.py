"""Builders for test data: valid by default, changed by keyword."""

from __future__ import annotations

from typing import Any

from shared.messages import EventKey, Job, TaskKey


def job_dict(**changes: Any) -> dict[str, Any]:
    """A valid job as JSON-ready values, with `changes` applied (a value of ... removes the key)."""
    data: dict[str, Any] = {
        "version": 1,
        "dag_id": "etl",
        "task_id": "load",
        "run_id": "manual__2026-11-23T00:00:00",
        "map_index": -1,
        "try_number": 1,
        "command": ["python", "-c", "print('hello')"],
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not ...}


def job(**changes: Any) -> Job:
    return Job.decode(job_dict(**changes))


def event_key(key: TaskKey) -> EventKey:
    """`key` as pod events carry it."""
    return EventKey(
        dag_id=key.dag_id, task_id=key.task_id, run_id=key.run_id, map_index=key.map_index
    )
