"""Builders for test data: valid by default, changed by keyword."""

from __future__ import annotations

from typing import Any

from shared.messages import Job


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


def hardened_pod(**spec: Any) -> dict[str, Any]:
    """A pod that meets the restricted Pod Security Standard, with `spec` fields laid over it (a
    value of ... removes the field)."""
    base = {
        "name": "base",
        "image": "python:3.11-slim",
        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
    }
    data: dict[str, Any] = {
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [base],
    }
    data.update(spec)
    return {
        "metadata": {"name": "p"},
        "spec": {key: value for key, value in data.items() if value is not ...},
    }


def hardened_container(name: str, **fields: Any) -> dict[str, Any]:
    """A container that meets the restricted standard on its own, with `fields` laid over it."""
    return {
        "name": name,
        "image": "python:3.11-slim",
        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
        **fields,
    }
