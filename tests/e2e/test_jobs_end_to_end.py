"""Jobs submitted end to end: every row ends in the right state with the right reason."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy

from tests.e2e.conftest import Stack
from tests.support.kubesim import KubesimProcess

pytestmark = pytest.mark.timeout(120)

#: task → (kubesim behaviour, final state, start of the failure reason)
CASES: dict[str, tuple[dict[str, str], str, str | None]] = {
    "ok": ({}, "success", None),
    "exit3": ({"exit-code": "3"}, "failed", "Error (exit 3)"),
    "oom": ({"oom": "true"}, "failed", "OOMKilled (exit 137)"),
    "pull": ({"pull": "fail"}, "failed", "ErrImagePull: "),
}


def submit(env: dict[str, str], directory: Path, task_id: str, behaviour: dict[str, str]) -> None:
    override = directory / f"{task_id}.json"
    notes = {f"kubesim.podrunner.io/{k}": v for k, v in behaviour.items()}
    override.write_text(json.dumps({"metadata": {"annotations": notes}}))
    argv = [
        sys.executable,
        "-m",
        "services.cli",
        "submit",
        "--dag-id",
        "e2e",
        "--task-id",
        task_id,
        "--run-id",
        "r1",
        "--pod-override",
        str(override),
        "--",
        "true",
    ]
    subprocess.run(argv, env=env, check=True, capture_output=True, timeout=60)


def final_rows(db: sqlalchemy.Engine, *, timeout_s: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    rows: dict[str, Any] = {}
    while time.monotonic() < deadline:
        with db.connect() as connection:
            query = sqlalchemy.text("SELECT task_id, state, failure_reason FROM task_instance")
            rows = {row.task_id: row for row in connection.execute(query)}
        if len(rows) == len(CASES) and all(r.state in ("success", "failed") for r in rows.values()):
            break
        time.sleep(0.2)
    return rows


def leftovers(kubesim: KubesimProcess, *, timeout_s: float) -> list[str]:
    """Pods that should be gone (succeeded) or still carry the result finalizer."""
    deadline = time.monotonic() + timeout_s
    names: list[str] = []
    while time.monotonic() < deadline:
        pods = httpx.get(f"{kubesim.url}/api/v1/namespaces/jobs/pods").json()["items"]
        names = [
            p["metadata"]["name"]
            for p in pods
            if p["status"].get("phase") == "Succeeded"
            or "podrunner.io/result" in (p["metadata"].get("finalizers") or [])
        ]
        if not names:
            break
        time.sleep(0.2)
    return names


def test_mixed_jobs_all_end_right_and_leave_no_pods_or_finalizers(
    services: Stack,
    stack_env: dict[str, str],
    db: sqlalchemy.Engine,
    kubesim: KubesimProcess,
    tmp_path: Path,
) -> None:
    services("reconciler", "watcher", "launcher")
    for task_id, (behaviour, _, _) in CASES.items():
        submit(stack_env, tmp_path, task_id, behaviour)
    rows = final_rows(db, timeout_s=60)
    for task_id, (_, state, reason) in CASES.items():
        assert rows[task_id].state == state, (task_id, rows[task_id])
        if reason is not None:
            assert rows[task_id].failure_reason.startswith(reason), (task_id, rows[task_id])
    assert leftovers(kubesim, timeout_s=20) == []
